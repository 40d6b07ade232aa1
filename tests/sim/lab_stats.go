// lab_stats.go: the counters and write log of GET /stats (SOAP calls, esxcli commands,
// state-changing writes).
package main

import (
	"fmt"
	"log"
	"os"
	"syscall"
)

// crashAfterWrites (POST /crash, under lab.mu): once the write log holds this many writes the
// process kills itself (SIGKILL), right after the last one landed and before it is answered:
// vCenter dying in the middle of a run. 0: never. /reset and /load clear it.
var crashAfterWrites int

// SetCrash arms (n > 0) or disarms (0) the crash after n writes in the log.
func (l *Lab) SetCrash(n int) error {
	if n < 0 {
		return badRequest{fmt.Errorf("after_writes must be >= 0")}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > 0 && len(l.writes) >= n {
		return badRequest{fmt.Errorf("the write log already holds %d writes", len(l.writes))}
	}
	crashAfterWrites = n
	return nil
}

// RecordWrite appends to the write log shown by GET /stats. Lab mutators (SetPSP, SetRR,
// AddSatpRule) record their own writes; other files call this for datastores, VMs, ...
func (l *Lab) RecordWrite(host, device, what, value string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordWrite(host, device, what, value)
}

func (l *Lab) recordWrite(host, device, what, value string) {
	l.writes = append(l.writes, Write{Host: host, Device: device, What: what, Value: value})
	if h := l.byName[host]; h != nil {
		h.version++
	}
	if crashAfterWrites > 0 && len(l.writes) >= crashAfterWrites {
		log.Printf("crash: %d writes landed; killing the process (POST /crash)", len(l.writes))
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal ends the process; nothing more is answered
	}
}

// CountCall counts one SOAP call (the middleware does this).
func (l *Lab) CountCall(method string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[method]++
}

// CountEsxcli counts one esxcli command such as "storage nmp device list".
func (l *Lab) CountEsxcli(cmd string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.esxcli[cmd]++
}

// Stats is the body of GET /stats.
type Stats struct {
	Calls  map[string]int `json:"calls"`
	Esxcli map[string]int `json:"esxcli"`
	Writes []Write        `json:"writes"`
	Events EventStats     `json:"events"` // events.go: posted, collectors, pages read, events returned
}

// Stats returns a copy of the counters and the write log.
func (l *Lab) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{Calls: map[string]int{}, Esxcli: map[string]int{}, Writes: append([]Write{}, l.writes...),
		Events: eventStats()}
	for k, v := range l.calls {
		s.Calls[k] = v
	}
	for k, v := range l.esxcli {
		s.Esxcli[k] = v
	}
	return s
}

// ResetStats clears counters and the write log.
func (l *Lab) ResetStats() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = map[string]int{}
	l.esxcli = map[string]int{}
	l.writes = nil
}
