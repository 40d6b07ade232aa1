// events_clock.go: the simulated clock of the storage events (events.go) and what runs on it:
// APD timeouts, slow hosts' recoveries (POST /failover slow_hosts), POST /clock; and the
// preloaded old events, GET /events and the event counters of GET /stats.
package main

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// tickEvents runs the timers the simulated clock has passed: APD timeouts and slow hosts'
// recoveries, in time order, each stamping its events with its due time.
func tickEvents() {
	for {
		events.mu.Lock()
		now := time.Now().Add(events.offset)
		var dueHost string
		var due time.Time
		for name, s := range events.slow {
			if !s.due.After(now) && (dueHost == "" || s.due.Before(due)) {
				dueHost, due = name, s.due
			}
		}
		// APD timeouts due before that recovery (or now)
		limit := now
		if dueHost != "" {
			limit = due
		}
		events.fireAPDTimeouts(limit)
		if dueHost == "" {
			events.mu.Unlock()
			return
		}
		s := events.slow[dueHost]
		delete(events.slow, dueHost)
		events.stamp = due
		events.mu.Unlock()
		recoverSlowHost(dueHost, s)
		events.mu.Lock()
		events.stamp = time.Time{}
		events.mu.Unlock()
	}
}

// fireAPDTimeouts posts the APD timeout of every device in APD since apdTimeout before limit
// (caller holds events.mu).
func (e *eventState) fireAPDTimeouts(limit time.Time) {
	type due struct {
		host, dev string
		at        time.Time
	}
	var list []due
	for host, devs := range e.hosts {
		for dev, w := range devs {
			if !w.apdSince.IsZero() && !w.apdTimeout && !w.apdSince.Add(e.apdTimeout).After(limit) {
				list = append(list, due{host, dev, w.apdSince.Add(e.apdTimeout)})
			}
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if !list[i].at.Equal(list[j].at) {
			return list[i].at.Before(list[j].at)
		}
		return list[i].host+list[i].dev < list[j].host+list[j].dev
	})
	for _, d := range list {
		h := lab.HostByName(d.host)
		if h == nil {
			continue
		}
		e.hosts[d.host][d.dev].apdTimeout = true
		secs := strconv.Itoa(int(e.apdTimeout / time.Second))
		e.appendEvent(newStorageEvent(h.Name, h.Moid, evAPDTimeout, "warning", []string{d.dev, secs},
			fmt.Sprintf("Device or filesystem with identifier %s has entered the All Paths Down Timeout state after being in the All Paths Down state for %s seconds. I/Os will now be fast failed.", d.dev, secs),
			d.at))
	}
}

// slowFailover kills host's paths to the nodes of group (those without an override) until the
// simulated clock is `seconds` further: the host spends that long without live paths to the
// array that failed over (POST /failover slow_hosts). The paths come back by themselves once the
// clock passes.
func slowFailover(host, group string, seconds float64) error {
	if seconds <= 0 {
		return badRequest{fmt.Errorf("slow_hosts %s: seconds must be > 0", host)}
	}
	lab.Lock()
	h := lab.byName[host]
	if h == nil {
		lab.Unlock()
		return errf("host", "unknown host %q", host)
	}
	var killed []*Path
	for _, d := range h.Devices {
		for _, p := range d.Paths {
			if p.ALUA() && p.Node.Group == group && p.Override == "" {
				p.Override = "dead"
				killed = append(killed, p)
			}
		}
	}
	h.version++
	lab.Unlock()
	events.mu.Lock()
	start := time.Now().Add(events.offset)
	due := start.Add(time.Duration(seconds * float64(time.Second)))
	if old := events.slow[host]; old != nil {
		killed = append(killed, old.paths...)
	}
	events.slow[host] = &slowHost{due: due, paths: killed}
	events.stamp = start // the loss carries the time the recovery is counted from
	events.mu.Unlock()
	lab.Publish(h)
	events.mu.Lock()
	events.stamp = time.Time{}
	events.mu.Unlock()
	return nil
}

// recoverSlowHost clears the overrides a slow failover set (unless changed since).
func recoverSlowHost(host string, s *slowHost) {
	lab.Lock()
	h := lab.byName[host]
	if h == nil {
		lab.Unlock()
		return
	}
	for _, p := range s.paths {
		if p.Override == "dead" {
			p.Override = ""
		}
	}
	h.version++
	lab.Unlock()
	lab.Publish(h)
}

// advanceClock moves the simulated clock forward and runs what became due.
func advanceClock(seconds float64) error {
	if seconds < 0 {
		return badRequest{fmt.Errorf("advance must not be negative")}
	}
	events.mu.Lock()
	events.offset += time.Duration(seconds * float64(time.Second))
	events.mu.Unlock()
	tickEvents()
	return nil
}

// preloadOldEvents adds n storage events dated a day and more ago, spread over the hosts and the
// storage event types, so that only a time filter keeps a read away from them.
func preloadOldEvents(n int) error {
	if n < 0 || n > 1000000 {
		return badRequest{fmt.Errorf("old: want 0..1000000")}
	}
	lab.Lock()
	hosts := append([]*Host{}, lab.Hosts...)
	lab.Unlock()
	if len(hosts) == 0 {
		return nil
	}
	kinds := []string{evRedundancyDegr, evRedundancyLost, evRedundancyRestor, evAPDStart, evAPDExit,
		evConnLost, evConnRestored}
	events.mu.Lock()
	defer events.mu.Unlock()
	base := time.Now().Add(events.offset).Add(-24 * time.Hour)
	// older first: the history stays in ascending key and time order
	old := make([]types.BaseEvent, 0, n)
	for i := 0; i < n; i++ {
		h := hosts[i%len(hosts)]
		t := kinds[i%len(kinds)]
		at := base.Add(-time.Duration(n-i) * time.Second)
		old = append(old, newStorageEvent(h.Name, h.Moid, t, "info", []string{"eui.0000000000000000"},
			"Old event "+t, at))
	}
	// keys: renumber the whole history so that keys stay ascending with time
	all := append(old, events.history...)
	for i, ev := range all {
		e := ev.GetEvent()
		e.Key, e.ChainId = int32(i+1), int32(i+1)
	}
	events.history = all
	events.key = int32(len(all))
	events.stats.Posted += n
	return nil
}

// eventsView is GET /events: the history (newest last) and the clock.
func eventsView() map[string]interface{} {
	events.mu.Lock()
	defer events.mu.Unlock()
	list := []map[string]interface{}{}
	start := 0
	if len(events.history) > 2000 {
		start = len(events.history) - 2000
	}
	for _, ev := range events.history[start:] {
		x, ok := ev.(*types.EventEx)
		if !ok {
			continue
		}
		args := []string{}
		for _, a := range x.Arguments {
			args = append(args, fmt.Sprint(a.Value))
		}
		list = append(list, map[string]interface{}{"key": x.Key, "type": x.EventTypeId,
			"host": x.ObjectName, "time": x.CreatedTime.Format(time.RFC3339Nano),
			"arguments": args, "message": x.FullFormattedMessage})
	}
	slow := map[string]string{}
	for h, s := range events.slow {
		slow[h] = s.due.UTC().Format(time.RFC3339Nano)
	}
	return map[string]interface{}{"now": time.Now().Add(events.offset).UTC().Format(time.RFC3339Nano),
		"offset_seconds": events.offset.Seconds(), "apd_timeout": events.apdTimeout.Seconds(),
		"total": len(events.history), "events": list, "slow_hosts": slow}
}

// eventStats is the "events" part of GET /stats.
func eventStats() EventStats {
	events.mu.Lock()
	defer events.mu.Unlock()
	return events.stats
}

// resetEventStats clears the read counters (POST /stats/reset); the history stays.
func resetEventStats() {
	events.mu.Lock()
	defer events.mu.Unlock()
	events.stats = EventStats{Posted: events.stats.Posted}
}
