// events_collector.go: EventManager.CreateCollectorForEvents / QueryEvents and the
// EventHistoryCollector as vCenter serves them, over the storage events of events.go.
//
// vcsim 0.24's collector keeps only the newest 1000 events in a ring and its collectors only
// their page (default 10): a client paging with ReadNextEvents never gets past one page, the
// time range of the filter is ignored (a TODO there), and eventTypeId matches Go type names
// only, so no EventEx id such as esx.problem.storage.apd.start ever matches. vCenter's collector
// covers the whole history that matches the filter (time range, entity, eventTypeId), starts at
// the oldest matching event (clients page forward with ReadNextEvents until an empty page, as
// PowerCLI's widely used Get-VIEventPlus does), ReadPreviousEvents goes back, RewindCollector
// goes to the oldest, ResetCollector to just before the latest page.
//
// vcsim's own EventManager stays registered (vcsim posts its events through a type assertion on
// it); calls to it are routed here by rewriting the request's _this type, as esxcli_exec.go does.
// ServiceInstance.CurrentTime answers the simulated clock, so that a client's window, read from
// the server's clock as a client of a real vCenter must, matches the events' createdTime.
package main

import (
	"bytes"
	"regexp"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	eventManagerProxyType    = "EsxsimEventManager"
	serviceInstanceProxyType = "EsxsimServiceInstance"
	maxEventPage             = 1000 // vCenter refuses larger maxCount values
	defaultEventPage         = 10
)

// eventManagerProxy answers the EventManager methods routed to it.
type eventManagerProxy struct {
	mo.EventManager
}

// serviceInstanceProxy answers ServiceInstance.CurrentTime from the simulated clock.
type serviceInstanceProxy struct {
	mo.ServiceInstance
}

// eventCollector is one EventHistoryCollector: the matching events (ascending key), a position.
type eventCollector struct {
	mo.EventHistoryCollector

	mu      sync.Mutex
	spec    types.EventFilterSpec
	matched []types.BaseEvent
	pos     int // index of the next event ReadNextEvents returns
	page    int // latestPage size
}

// collectors are the live collectors, which new matching events are appended to.
var collectors = &collectorSet{live: map[*eventCollector]bool{}}

type collectorSet struct {
	mu   sync.Mutex
	live map[*eventCollector]bool
}

func (s *collectorSet) add(ev types.BaseEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.live {
		if c.matches(ev) {
			c.mu.Lock()
			c.matched = append(c.matched, ev)
			c.mu.Unlock()
		}
	}
}

var installEventProxies sync.Once

var (
	eventManagerThis    = regexp.MustCompile(`(<(?:[\w-]+:)?_this\b[^>]*\btype=")EventManager(")`)
	serviceInstanceThis = regexp.MustCompile(`(<(?:[\w-]+:)?_this\b[^>]*\btype=")ServiceInstance(")`)
	currentTimeCall     = regexp.MustCompile(`<(?:[\w-]+:)?CurrentTime[\s>]`)
)

func init() {
	OnHost(func(*Host, *simulator.HostSystem) {
		installEventProxies.Do(func() {
			m := &eventManagerProxy{}
			m.Self = types.ManagedObjectReference{Type: eventManagerProxyType, Value: "EventManager"}
			simulator.Map.Put(m)
			si := &serviceInstanceProxy{}
			si.Self = types.ManagedObjectReference{Type: serviceInstanceProxyType, Value: "ServiceInstance"}
			simulator.Map.Put(si)
		})
	})
	OnSDKRequest(eventsRewriteRequest)
}

// eventsRewriteRequest routes EventManager calls and ServiceInstance.CurrentTime here.
func eventsRewriteRequest(body []byte) []byte {
	if bytes.Contains(body, []byte("CreateCollectorForEvents")) || bytes.Contains(body, []byte("QueryEvents")) {
		return eventManagerThis.ReplaceAll(body, []byte("${1}"+eventManagerProxyType+"${2}"))
	}
	if currentTimeCall.Match(body) {
		return serviceInstanceThis.ReplaceAll(body, []byte("${1}"+serviceInstanceProxyType+"${2}"))
	}
	return body
}

// CurrentTime is ServiceInstance.CurrentTime on the simulated clock.
func (si *serviceInstanceProxy) CurrentTime(req *types.CurrentTime) soap.HasFault {
	return &methods.CurrentTimeBody{Res: &types.CurrentTimeResponse{Returnval: simNow().UTC()}}
}

func pageSize(n int32) (int, *soap.Fault) {
	switch {
	case n == 0:
		return defaultEventPage, nil
	case n < 0 || n > maxEventPage:
		return 0, simulator.Fault("", &types.InvalidArgument{InvalidProperty: "maxCount"})
	}
	return int(n), nil
}

// newCollector selects the matching history.
func newCollector(spec types.EventFilterSpec) (*eventCollector, *soap.Fault) {
	size, fault := pageSize(spec.MaxCount)
	if fault != nil {
		return nil, fault
	}
	c := &eventCollector{spec: spec, page: size}
	c.Self.Type = "EventHistoryCollector"
	c.Filter = spec
	events.mu.Lock()
	events.stats.Collectors++
	for _, ev := range events.history {
		if c.matches(ev) {
			c.matched = append(c.matched, ev)
		}
	}
	events.mu.Unlock()
	return c, nil
}

// CreateCollectorForEvents is EventManager.CreateCollectorForEvents.
func (m *eventManagerProxy) CreateCollectorForEvents(ctx *simulator.Context, req *types.CreateCollectorForEvents) soap.HasFault {
	c, fault := newCollector(req.Filter)
	if fault != nil {
		return &methods.CreateCollectorForEventsBody{Fault_: fault}
	}
	ref := ctx.Session.Put(c).Reference()
	collectors.mu.Lock()
	collectors.live[c] = true
	collectors.mu.Unlock()
	return &methods.CreateCollectorForEventsBody{Res: &types.CreateCollectorForEventsResponse{Returnval: ref}}
}

// QueryEvents is EventManager.QueryEvents: every matching event at once (what esxpath never
// calls: it is unbounded on a vCenter with a long history), newest first as vCenter answers.
func (m *eventManagerProxy) QueryEvents(ctx *simulator.Context, req *types.QueryEvents) soap.HasFault {
	spec := req.Filter
	spec.MaxCount = 0
	c, fault := newCollector(spec)
	if fault != nil {
		return &methods.QueryEventsBody{Fault_: fault}
	}
	out := make([]types.BaseEvent, 0, len(c.matched))
	for i := len(c.matched) - 1; i >= 0; i-- {
		out = append(out, c.matched[i])
	}
	events.mu.Lock()
	events.stats.Returned += len(out)
	events.mu.Unlock()
	return &methods.QueryEventsBody{Res: &types.QueryEventsResponse{Returnval: out}}
}

// matches applies the filter: time range (inclusive), entity, eventTypeId (an EventEx's id or a
// typed event's class name), type (class names).
func (c *eventCollector) matches(ev types.BaseEvent) bool {
	e := ev.GetEvent()
	if t := c.spec.Time; t != nil {
		if t.BeginTime != nil && e.CreatedTime.Before(*t.BeginTime) {
			return false
		}
		if t.EndTime != nil && e.CreatedTime.After(*t.EndTime) {
			return false
		}
	}
	if len(c.spec.EventTypeId) > 0 && !containsString(c.spec.EventTypeId, eventTypeID(ev)) {
		return false
	}
	if len(c.spec.Type) > 0 && !containsString(c.spec.Type, className(ev)) {
		return false
	}
	return entityMatches(c.spec.Entity, e)
}

func eventTypeID(ev types.BaseEvent) string {
	if x, ok := ev.(*types.EventEx); ok {
		return x.EventTypeId
	}
	return className(ev)
}

func className(ev types.BaseEvent) string {
	if _, ok := ev.(*types.EventEx); ok {
		return "EventEx"
	}
	return "Event"
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// entityMatches: a host matches itself; the root folder and a datacenter hold every host of this
// one-datacenter inventory (recursion all/children); a cluster holds its hosts.
func entityMatches(f *types.EventFilterSpecByEntity, e *types.Event) bool {
	if f == nil {
		return true
	}
	if e.Host == nil {
		return false
	}
	self := f.Recursion == types.EventFilterSpecRecursionOptionSelf
	switch f.Entity.Type {
	case "HostSystem":
		return f.Entity.Value == e.Host.Host.Value && f.Recursion != types.EventFilterSpecRecursionOptionChildren
	case "Folder", "Datacenter":
		return !self || (e.Datacenter != nil && e.Datacenter.Datacenter == f.Entity)
	case "ClusterComputeResource", "ComputeResource":
		if self {
			return false
		}
		obj, ok := simulator.Map.Get(f.Entity).(mo.Entity)
		h := lab.HostByName(e.Host.Name)
		if !ok || h == nil {
			return false
		}
		lab.Lock()
		cluster := h.Cluster
		lab.Unlock()
		return cluster != "" && obj.Entity().Name == cluster
	}
	return false
}

func (c *eventCollector) read(n int32, forward bool) ([]types.BaseEvent, *soap.Fault) {
	if n <= 0 || n > maxEventPage {
		return nil, simulator.Fault("", &types.InvalidArgument{InvalidProperty: "maxCount"})
	}
	c.mu.Lock()
	var out []types.BaseEvent
	if forward {
		end := c.pos + int(n)
		if end > len(c.matched) {
			end = len(c.matched)
		}
		out = append(out, c.matched[c.pos:end]...)
		c.pos = end
	} else {
		start := c.pos - int(n)
		if start < 0 {
			start = 0
		}
		for i := c.pos - 1; i >= start; i-- { // newest first, going back
			out = append(out, c.matched[i])
		}
		c.pos = start
	}
	c.mu.Unlock()
	events.mu.Lock()
	events.stats.Pages++
	events.stats.Returned += len(out)
	events.mu.Unlock()
	return out, nil
}

// ReadNextEvents is EventHistoryCollector.ReadNextEvents.
func (c *eventCollector) ReadNextEvents(req *types.ReadNextEvents) soap.HasFault {
	out, fault := c.read(req.MaxCount, true)
	if fault != nil {
		return &methods.ReadNextEventsBody{Fault_: fault}
	}
	return &methods.ReadNextEventsBody{Res: &types.ReadNextEventsResponse{Returnval: out}}
}

// ReadPreviousEvents is EventHistoryCollector.ReadPreviousEvents.
func (c *eventCollector) ReadPreviousEvents(req *types.ReadPreviousEvents) soap.HasFault {
	out, fault := c.read(req.MaxCount, false)
	if fault != nil {
		return &methods.ReadPreviousEventsBody{Fault_: fault}
	}
	return &methods.ReadPreviousEventsBody{Res: &types.ReadPreviousEventsResponse{Returnval: out}}
}

// RewindCollector moves to the oldest event.
func (c *eventCollector) RewindCollector(req *types.RewindCollector) soap.HasFault {
	c.mu.Lock()
	c.pos = 0
	c.mu.Unlock()
	return &methods.RewindCollectorBody{Res: new(types.RewindCollectorResponse)}
}

// ResetCollector moves to just before the latest page.
func (c *eventCollector) ResetCollector(req *types.ResetCollector) soap.HasFault {
	c.mu.Lock()
	c.pos = len(c.matched) - c.page
	if c.pos < 0 {
		c.pos = 0
	}
	c.mu.Unlock()
	return &methods.ResetCollectorBody{Res: new(types.ResetCollectorResponse)}
}

// SetCollectorPageSize sets the latest page's size.
func (c *eventCollector) SetCollectorPageSize(req *types.SetCollectorPageSize) soap.HasFault {
	size, fault := pageSize(req.MaxCount)
	if fault != nil || req.MaxCount == 0 {
		if fault == nil {
			fault = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "maxCount"})
		}
		return &methods.SetCollectorPageSizeBody{Fault_: fault}
	}
	c.mu.Lock()
	c.page = size
	c.mu.Unlock()
	return &methods.SetCollectorPageSizeBody{Res: new(types.SetCollectorPageSizeResponse)}
}

// DestroyCollector is HistoryCollector.DestroyCollector.
func (c *eventCollector) DestroyCollector(ctx *simulator.Context, req *types.DestroyCollector) soap.HasFault {
	collectors.mu.Lock()
	delete(collectors.live, c)
	collectors.mu.Unlock()
	ctx.Session.Remove(req.This)
	return &methods.DestroyCollectorBody{Res: new(types.DestroyCollectorResponse)}
}

// Get fills latestPage for property reads: the newest `page` matching events.
func (c *eventCollector) Get() mo.Reference {
	c.mu.Lock()
	defer c.mu.Unlock()
	clone := &eventCollector{EventHistoryCollector: c.EventHistoryCollector}
	start := len(c.matched) - c.page
	if start < 0 {
		start = 0
	}
	clone.LatestPage = append([]types.BaseEvent{}, c.matched[start:]...)
	return clone
}
