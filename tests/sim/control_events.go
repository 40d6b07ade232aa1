// control_events.go: the control API of the storage events (events.go): POST /events, POST
// /clock, and the slow hosts of POST /failover.
package main

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// postEvents: {"old": N} preloads N storage events dated a day and more ago; {"apd_timeout": S}
// sets the simulated /Misc/APDTimeout in seconds.
func postEvents(r *http.Request) (interface{}, error) {
	var req struct {
		Old        int      `json:"old"`
		APDTimeout *float64 `json:"apd_timeout"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if req.APDTimeout != nil {
		if *req.APDTimeout <= 0 {
			return nil, badRequest{fmt.Errorf("apd_timeout must be > 0")}
		}
		events.mu.Lock()
		events.apdTimeout = time.Duration(*req.APDTimeout * float64(time.Second))
		events.mu.Unlock()
	}
	if err := preloadOldEvents(req.Old); err != nil {
		return nil, err
	}
	v := eventsView()
	delete(v, "events")
	return v, nil
}

// postClock: {"advance": S} moves the simulated clock S seconds on and runs what became due
// (APD timeouts, slow hosts' recoveries); answers GET /events without the list.
func postClock(r *http.Request) (interface{}, error) {
	var req struct {
		Advance float64 `json:"advance"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if err := advanceClock(req.Advance); err != nil {
		return nil, err
	}
	v := eventsView()
	delete(v, "events")
	return v, nil
}

// checkSlowHosts validates POST /failover's slow_hosts before anything changes.
func checkSlowHosts(slow map[string]float64) error {
	for name, secs := range slow {
		if lab.HostByName(name) == nil {
			return errf("host", "slow_hosts: unknown host %q", name)
		}
		if secs <= 0 {
			return badRequest{fmt.Errorf("slow_hosts %s: seconds must be > 0", name)}
		}
	}
	return nil
}

// slowHostsFailover: after the failover, each slow host is without live paths for its seconds.
func slowHostsFailover(active string, slow map[string]float64) error {
	lab.Lock()
	group := ""
	if n := lab.NodeByName(active); n != nil {
		group = n.Group
	}
	lab.Unlock()
	names := make([]string, 0, len(slow))
	for n := range slow {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := slowFailover(n, group, slow[n]); err != nil {
			return err
		}
	}
	return nil
}
