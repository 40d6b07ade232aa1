// events.go: the ESXi storage events vCenter records (EventEx with an esx.* eventTypeId), posted
// the way hosts post them when paths die and come back, on a simulated clock.
//
// Every publish of a host's view (lab_mutate.go PublishCtx) calls observeHost, which compares the
// number of live paths (esxcli Group State not "dead") per device with the last count seen and
// posts, stamped with the simulated clock:
//
//	live paths drop to >= 2            esx.problem.storage.redundancy.degraded
//	live paths drop to 1               esx.problem.storage.redundancy.lost
//	live paths drop to 0               (redundancy.lost when they were > 1,) esx.problem.storage.connectivity.lost,
//	                                   esx.problem.storage.apd.start
//	                                   (+ esx.problem.vmfs.heartbeat.timedout when the LUN holds a VMFS)
//	still 0 after the APD timeout      esx.problem.storage.apd.timeout (default 140 s, /Misc/APDTimeout)
//	live paths back from 0             esx.clear.storage.apd.exit, esx.clear.storage.connectivity.restored
//	                                   (+ esx.problem.vmfs.heartbeat.recovered)
//	back to >= 2 after a loss          esx.clear.storage.redundancy.restored
//	device gone or lostCommunication   esx.problem.scsi.device.state.permanentloss
//
// Arguments are positional ("1", "2", "3"), as vCenter shows the esx.* events hosts send (see
// README.md, Events). The simulated clock is the real clock plus an offset that POST /clock
// advances; timers (APD timeout, a slow host's recovery) fire when the clock passes them, on the
// next SOAP call or control call, and their events carry the due time, not the time they ran
// (events_clock.go).
package main

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// DefaultAPDTimeout is ESXi's /Misc/APDTimeout.
const DefaultAPDTimeout = 140 * time.Second

// Storage event type ids.
const (
	evAPDStart         = "esx.problem.storage.apd.start"
	evAPDTimeout       = "esx.problem.storage.apd.timeout"
	evAPDExit          = "esx.clear.storage.apd.exit"
	evHBTimedOut       = "esx.problem.vmfs.heartbeat.timedout"
	evHBRecovered      = "esx.problem.vmfs.heartbeat.recovered"
	evConnLost         = "esx.problem.storage.connectivity.lost"
	evConnRestored     = "esx.clear.storage.connectivity.restored"
	evRedundancyLost   = "esx.problem.storage.redundancy.lost"
	evRedundancyDegr   = "esx.problem.storage.redundancy.degraded"
	evRedundancyRestor = "esx.clear.storage.redundancy.restored"
	evPermanentLoss    = "esx.problem.scsi.device.state.permanentloss"
)

// devWatch is what the event code remembers of one device on one host.
type devWatch struct {
	live       int
	lostComm   bool
	apdSince   time.Time // zero: not in APD
	apdTimeout bool      // the timeout event was posted for this APD
	redundancy bool      // a redundancy/connectivity loss is open
	deadPath   string    // runtime name of the last path seen dying
}

// slowHost is a host whose paths a failover keeps dead until due (POST /failover slow_hosts).
type slowHost struct {
	due   time.Time
	paths []*Path // overrides this recovery clears (were "" before)
}

type eventState struct {
	mu         sync.Mutex
	offset     time.Duration // simulated clock = real clock + offset
	apdTimeout time.Duration
	history    []types.BaseEvent // every event, by ascending key
	key        int32
	hosts      map[string]map[string]*devWatch // host -> device -> watch
	slow       map[string]*slowHost
	stamp      time.Time // non-zero while a timer runs: the time its events carry
	stats      EventStats
}

// EventStats are the event counters of GET /stats.
type EventStats struct {
	Posted     int `json:"posted"`     // events in the history (preloaded ones included)
	Collectors int `json:"collectors"` // CreateCollectorForEvents (and QueryEvents) calls
	Pages      int `json:"pages"`      // ReadNextEvents/ReadPreviousEvents calls
	Returned   int `json:"returned"`   // events returned by them (and by QueryEvents)
}

var events = &eventState{apdTimeout: DefaultAPDTimeout, hosts: map[string]map[string]*devWatch{},
	slow: map[string]*slowHost{}}

func init() {
	OnReset(resetEvents)
	OnSDKRequest(func(body []byte) []byte {
		tickEvents()
		return body
	})
}

// simNow is the simulated clock.
func simNow() time.Time {
	events.mu.Lock()
	defer events.mu.Unlock()
	return time.Now().Add(events.offset)
}

// now is the time an event posted now carries (caller holds events.mu).
func (e *eventState) now() time.Time {
	if !e.stamp.IsZero() {
		return e.stamp
	}
	return time.Now().Add(e.offset)
}

// resetEvents empties the history and the clock offset and takes the lab's current path counts
// as the baseline (no events for the state a /reset or /load installs).
func resetEvents() {
	events.mu.Lock()
	events.offset, events.apdTimeout = 0, DefaultAPDTimeout
	events.history, events.key = nil, 0
	events.hosts = map[string]map[string]*devWatch{}
	events.slow = map[string]*slowHost{}
	events.stats = EventStats{}
	events.mu.Unlock()
	lab.Lock()
	hosts := append([]*Host{}, lab.Hosts...)
	lab.Unlock()
	for _, h := range hosts {
		observeHost(h)
	}
}

// deviceCounts are a host's live path counts per device, its operational states and a dead
// path name per device (taken under the lab lock).
type deviceCount struct {
	live     int
	lostComm bool
	dead     string
	alive    string
}

func countPaths(h *Host) map[string]deviceCount {
	lab.Lock()
	defer lab.Unlock()
	out := map[string]deviceCount{}
	for _, d := range h.Devices {
		c := deviceCount{}
		for _, p := range d.Paths {
			if h.GroupState(p) == "dead" {
				c.dead = p.Runtime
			} else {
				c.live++
				c.alive = p.Runtime
			}
		}
		for _, s := range d.OpState {
			if s == "lostCommunication" {
				c.lostComm = true
			}
		}
		out[d.Canonical] = c
	}
	return out
}

// observeHost posts the events of what changed on h since it was last observed. A host seen for
// the first time only records its baseline.
func observeHost(h *Host) {
	counts := countPaths(h)
	events.mu.Lock()
	defer events.mu.Unlock()
	seen := events.hosts[h.Name]
	if seen == nil {
		seen = map[string]*devWatch{}
		for name, c := range counts {
			seen[name] = &devWatch{live: c.live, lostComm: c.lostComm}
		}
		events.hosts[h.Name] = seen
		return
	}
	if events.stamp.IsZero() { // one change, one time: all its events carry the same
		events.stamp = events.now()
		defer func() { events.stamp = time.Time{} }()
	}
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := counts[name]
		w := seen[name]
		if w == nil { // a new LUN: its baseline
			seen[name] = &devWatch{live: c.live, lostComm: c.lostComm}
			continue
		}
		events.deviceChanged(h, name, w, c)
	}
	for name := range seen {
		if _, ok := counts[name]; !ok { // the LUN vanished from the host
			events.post(h, evPermanentLoss, "error", []string{name, datastoreOf(name)},
				fmt.Sprintf("Device: %s has been removed or is permanently inaccessible. Affected datastores (if any): %s.", name, datastoreOf(name)))
			delete(seen, name)
		}
	}
}

// deviceChanged posts the events of one device's change (caller holds events.mu).
func (e *eventState) deviceChanged(h *Host, dev string, w *devWatch, c deviceCount) {
	ds := datastoreOf(dev)
	if c.lostComm && !w.lostComm {
		e.post(h, evPermanentLoss, "error", []string{dev, ds},
			fmt.Sprintf("Device: %s has been removed or is permanently inaccessible. Affected datastores (if any): %s.", dev, ds))
	}
	w.lostComm = c.lostComm
	switch {
	case c.live < w.live:
		path := c.dead
		switch {
		case c.live == 0:
			if w.live > 1 && !w.redundancy { // all at once: redundancy went first
				e.post(h, evRedundancyLost, "warning", []string{dev, path, ds},
					fmt.Sprintf("Lost path redundancy to storage device %s. Path %s is down. Affected datastores: %s.", dev, path, ds))
			}
			e.post(h, evConnLost, "error", []string{dev, path, ds},
				fmt.Sprintf("Lost connectivity to storage device %s. Path %s is down. Affected datastores: %s.", dev, path, ds))
			e.post(h, evAPDStart, "warning", []string{dev},
				fmt.Sprintf("Device or filesystem with identifier %s has entered the All Paths Down state.", dev))
			w.apdSince, w.apdTimeout = e.now(), false
			if vol, name := vmfsOf(dev); name != "" {
				e.post(h, evHBTimedOut, "info", []string{vol, name},
					fmt.Sprintf("Lost access to volume %s (%s) due to connectivity issues. Recovery attempt is in progress and outcome will be reported shortly.", vol, name))
			}
		case c.live == 1:
			e.post(h, evRedundancyLost, "warning", []string{dev, path, ds},
				fmt.Sprintf("Lost path redundancy to storage device %s. Path %s is down. Affected datastores: %s.", dev, path, ds))
		default:
			e.post(h, evRedundancyDegr, "warning", []string{dev, path, ds},
				fmt.Sprintf("Path redundancy to storage device %s degraded. Path %s is down. Affected datastores: %s.", dev, path, ds))
		}
		w.redundancy = true
	case c.live > w.live:
		path := c.alive
		if w.live == 0 {
			if !w.apdSince.IsZero() {
				e.post(h, evAPDExit, "info", []string{dev},
					fmt.Sprintf("Device or filesystem with identifier %s has exited the All Paths Down state.", dev))
				w.apdSince = time.Time{}
				if vol, name := vmfsOf(dev); name != "" {
					e.post(h, evHBRecovered, "info", []string{vol, name},
						fmt.Sprintf("Successfully restored access to volume %s (%s) following connectivity issues.", vol, name))
				}
			}
			e.post(h, evConnRestored, "info", []string{dev, ds, path},
				fmt.Sprintf("Connectivity to storage device %s (Datastores: %s) restored. Path %s is active again.", dev, ds, path))
		}
		if c.live >= 2 && w.redundancy {
			e.post(h, evRedundancyRestor, "info", []string{dev, ds, path},
				fmt.Sprintf("Path redundancy to storage device %s (Datastores: %s) restored. Path %s is active again.", dev, ds, path))
			w.redundancy = false
		}
	}
	w.live = c.live
}

// post appends one EventEx (caller holds events.mu).
func (e *eventState) post(h *Host, typeID, severity string, args []string, message string) {
	e.appendEvent(newStorageEvent(h.Name, h.Moid, typeID, severity, args, message, e.now()))
}

func (e *eventState) appendEvent(ev *types.EventEx) {
	e.key++
	ev.Key, ev.ChainId = e.key, e.key
	e.history = append(e.history, ev)
	e.stats.Posted++
	collectors.add(ev)
}

// newStorageEvent builds an EventEx as vCenter records an esx.* event of a host.
func newStorageEvent(host, moid, typeID, severity string, args []string, message string, at time.Time) *types.EventEx {
	ref := types.ManagedObjectReference{Type: "HostSystem", Value: moid}
	ev := &types.EventEx{EventTypeId: typeID, Severity: severity, ObjectId: moid,
		ObjectType: "HostSystem", ObjectName: host}
	ev.CreatedTime = at.UTC()
	ev.FullFormattedMessage = message
	ev.Host = &types.HostEventArgument{EntityEventArgument: types.EntityEventArgument{Name: host}, Host: ref}
	if vc.dc != nil {
		ev.Datacenter = &types.DatacenterEventArgument{
			EntityEventArgument: types.EntityEventArgument{Name: scenario.Datacenter}, Datacenter: vc.dc.Reference()}
	}
	for i, a := range args {
		ev.Arguments = append(ev.Arguments, types.KeyAnyValue{Key: strconv.Itoa(i + 1), Value: a})
	}
	return ev
}

// datastoreOf names the datastore on a LUN ("" when none), as the events' "Affected datastores".
func datastoreOf(canonical string) string {
	_, name := vmfsOf(canonical)
	return name
}

// vmfsOf returns the VMFS volume UUID and datastore name on a LUN ("", "" when none).
func vmfsOf(canonical string) (string, string) {
	prov.mu.Lock()
	use, ok := prov.luns[canonical]
	prov.mu.Unlock()
	if !ok || use.Name == "" {
		return "", ""
	}
	vol := use.Name
	if ds, ok := simulator.Map.Get(use.Datastore).(*simulator.Datastore); ok {
		if info, ok := ds.Info.(*types.VmfsDatastoreInfo); ok && info.Vmfs != nil {
			vol = info.Vmfs.Uuid
		}
	}
	return vol, use.Name
}
