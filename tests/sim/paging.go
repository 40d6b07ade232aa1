// paging.go: PropertyCollector paging as vCenter does it. vcsim's RetrievePropertiesEx ignores
// RetrieveOptions.maxObjects and has no ContinueRetrievePropertiesEx, so a client's paging loop
// would never run against it; vCenter returns at most maxObjects objects and a token for the
// rest, served page by page by ContinueRetrievePropertiesEx until the last page (no token) or
// CancelRetrievePropertiesEx.
package main

import (
	"fmt"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// pagingCollector embeds vcsim's collector by value: vcsim makes each session's view of the
// root collector with reflect.New of the registered type, so its zero value must work.
type pagingCollector struct {
	simulator.PropertyCollector

	pagesMu sync.Mutex
	pages   map[string]*pendingPages // by token
	serial  int
}

type pendingPages struct {
	objects []types.ObjectContent
	max     int
}

var installPaging sync.Once

func init() {
	OnHost(func(*Host, *simulator.HostSystem) {
		installPaging.Do(func() {
			ref := types.ManagedObjectReference{Type: "PropertyCollector", Value: "propertyCollector"}
			if inner, ok := simulator.Map.Get(ref).(*simulator.PropertyCollector); ok {
				pc := &pagingCollector{}
				pc.Self = inner.Self
				simulator.Map.Put(pc)
			}
		})
	})
}

// CreatePropertyCollector makes a collector that pages too.
func (pc *pagingCollector) CreatePropertyCollector(ctx *simulator.Context, c *types.CreatePropertyCollector) soap.HasFault {
	created := &pagingCollector{}
	created.Self.Type = "PropertyCollector" // not the Go type's name
	return &methods.CreatePropertyCollectorBody{Res: &types.CreatePropertyCollectorResponse{
		Returnval: ctx.Session.Put(created).Reference(),
	}}
}

// RetrievePropertiesEx is vcsim's, cut to the first maxObjects objects (unreadable storage
// properties moved to missingSet first, see unreadable.go).
func (pc *pagingCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Res == nil || body.Res.Returnval == nil {
		return res
	}
	filterUnreadable(body.Res.Returnval.Objects) // unreadable.go, before the answer is paged
	max := int(r.Options.MaxObjects)
	result := body.Res.Returnval
	if max <= 0 || len(result.Objects) <= max {
		return res
	}
	pending := &pendingPages{objects: result.Objects[max:], max: max}
	result.Objects = result.Objects[:max]
	pc.pagesMu.Lock()
	if pc.pages == nil {
		pc.pages = map[string]*pendingPages{}
	}
	pc.serial++
	result.Token = fmt.Sprintf("%s-page-%d", pc.Self.Value, pc.serial)
	pc.pages[result.Token] = pending
	pc.pagesMu.Unlock()
	return res
}

// ContinueRetrievePropertiesEx serves the next page of a token; the last one carries no token.
func (pc *pagingCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pc.pagesMu.Lock()
	defer pc.pagesMu.Unlock()
	pending := pc.pages[r.Token]
	if pending == nil {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	delete(pc.pages, r.Token)
	page := types.RetrieveResult{Objects: pending.objects}
	if len(pending.objects) > pending.max {
		page.Objects = pending.objects[:pending.max]
		pc.serial++
		page.Token = fmt.Sprintf("%s-page-%d", pc.Self.Value, pc.serial)
		pc.pages[page.Token] = &pendingPages{objects: pending.objects[pending.max:], max: pending.max}
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: page}
	return body
}

// CancelRetrievePropertiesEx drops the rest of a retrieval.
func (pc *pagingCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	body := &methods.CancelRetrievePropertiesExBody{}
	pc.pagesMu.Lock()
	defer pc.pagesMu.Unlock()
	if pc.pages[r.Token] == nil {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	delete(pc.pages, r.Token)
	body.Res = &types.CancelRetrievePropertiesExResponse{}
	return body
}
