// unreadable.go: storage properties vCenter cannot read (Host.StorageUnreadable).
//
// When vCenter cannot fetch a property of an object, a PropertyCollector read still answers:
// the object comes back with that property in missingSet (a MissingProperty with the fault)
// instead of propSet, and the other properties as usual. For a host whose storage is unreadable
// this applies to config.storageDevice and every path under it (HostSystem), and to
// storageDeviceInfo and the paths under it (its HostStorageSystem). A read of the whole
// `config` returns it without storageDevice. Reads: RetrievePropertiesEx and its continuation
// pages (paging.go filters before it pages), RetrieveProperties, and Fetch (pyVmomi's
// attribute access), which answers the fault itself. WaitForUpdatesEx is not filtered.
package main

import (
	"reflect"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const unreadableReason = "storage unreadable"

// unreadableFault is the fault of a storage property that cannot be read.
func unreadableFault() types.LocalizedMethodFault {
	return types.LocalizedMethodFault{
		Fault:            &types.SystemError{Reason: unreadableReason},
		LocalizedMessage: "A general system error occurred: " + unreadableReason,
	}
}

// storageProp classifies a property path of obj: missing (it is storage device info, or under
// it) or strip (it contains storage device info: HostSystem's whole config).
func storageProp(objType, path string) (missing, strip bool) {
	under := func(root string) bool { return path == root || strings.HasPrefix(path, root+".") }
	switch objType {
	case "HostSystem":
		return under("config.storageDevice"), path == "config"
	case "HostStorageSystem":
		return under("storageDeviceInfo"), false
	}
	return false, false
}

// storageUnreadableObject tells whether obj belongs to a host whose storage is unreadable.
func (l *Lab) storageUnreadableObject(obj types.ManagedObjectReference) bool {
	if obj.Type != "HostSystem" && obj.Type != "HostStorageSystem" {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byName[l.objHost[obj.Value]]
	return h != nil && h.StorageUnreadable
}

// anyStorageUnreadable is the fast path: no host unreadable, nothing to filter.
func (l *Lab) anyStorageUnreadable() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.Hosts {
		if h.StorageUnreadable {
			return true
		}
	}
	return false
}

// filterUnreadable moves unreadable storage properties of objs into their missingSet.
func filterUnreadable(objs []types.ObjectContent) {
	if !lab.anyStorageUnreadable() {
		return
	}
	for i := range objs {
		o := &objs[i]
		if !lab.storageUnreadableObject(o.Obj) {
			continue
		}
		kept := make([]types.DynamicProperty, 0, len(o.PropSet))
		for _, p := range o.PropSet {
			missing, strip := storageProp(o.Obj.Type, p.Name)
			switch {
			case missing:
				o.MissingSet = append(o.MissingSet, types.MissingProperty{Path: p.Name, Fault: unreadableFault()})
			case strip:
				p.Val = withoutStorage(p.Val)
				kept = append(kept, p)
			default:
				kept = append(kept, p)
			}
		}
		o.PropSet = kept
	}
}

// withoutStorage returns a copy of a HostConfigInfo without storageDevice (the live object
// stays untouched); other values are returned as they are.
func withoutStorage(v interface{}) interface{} {
	switch c := v.(type) {
	case types.HostConfigInfo:
		c.StorageDevice = nil
		return c
	case *types.HostConfigInfo:
		cp := *c
		cp.StorageDevice = nil
		return &cp
	}
	return v
}

// RetrieveProperties is vcsim's, with unreadable storage properties in missingSet.
func (pc *pagingCollector) RetrieveProperties(ctx *simulator.Context, r *types.RetrieveProperties) soap.HasFault {
	res := pc.PropertyCollector.RetrieveProperties(ctx, r)
	if body, ok := res.(*methods.RetrievePropertiesBody); ok && body.Res != nil {
		filterUnreadable(body.Res.Returnval)
	}
	return res
}

// Fetch (one property of one object; vcsim routes every Fetch to the collector) answers a
// SystemError for an unreadable storage property. The request type is vcsim-internal, so it
// is taken as interface{} and read by reflection.
func (pc *pagingCollector) Fetch(ctx *simulator.Context, req interface{}) soap.HasFault {
	var this types.ManagedObjectReference
	var prop string
	if rv := reflect.ValueOf(req); rv.Kind() == reflect.Ptr && !rv.IsNil() {
		if f := rv.Elem().FieldByName("This"); f.IsValid() {
			this, _ = f.Interface().(types.ManagedObjectReference)
		}
		if f := rv.Elem().FieldByName("Prop"); f.IsValid() && f.Kind() == reflect.String {
			prop = f.String()
		}
	}
	missing, strip := false, false
	if lab.storageUnreadableObject(this) {
		missing, strip = storageProp(this.Type, prop)
	}
	if missing {
		f := unreadableFault()
		return &methods.RetrievePropertiesExBody{Fault_: simulator.Fault(f.LocalizedMessage, f.Fault)}
	}
	out := reflect.ValueOf(&pc.PropertyCollector).MethodByName("Fetch").Call(
		[]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)})
	res := out[0].Interface().(soap.HasFault)
	if strip && res.Fault() == nil {
		if b := reflect.ValueOf(res).Elem().FieldByName("Res"); b.IsValid() && !b.IsNil() {
			if v := b.Elem().FieldByName("Returnval"); v.IsValid() && v.CanSet() && !v.IsNil() {
				v.Set(reflect.ValueOf(withoutStorage(v.Interface())))
			}
		}
	}
	return res
}
