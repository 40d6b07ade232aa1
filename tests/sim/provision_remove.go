// provision_remove.go: RemoveDatastore, and what any removal of a datastore or VM does: the LUN
// is freed, the hosts' lists fixed, the write recorded.
package main

import (
	"os"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// RemoveDatastore unmounts and deletes a VMFS datastore from every host (vSphere removes the
// VMFS volume when the last host drops it). Refused while VMs live on it.
func (s *provDatastoreSystem) RemoveDatastore(ctx *simulator.Context, req *types.RemoveDatastore) soap.HasFault {
	body := &methods.RemoveDatastoreBody{}
	prov.mu.Lock()
	canonical := prov.dsLUN[req.Datastore.Value]
	prov.mu.Unlock()
	name := req.Datastore.Value
	if ds, ok := simulator.Map.Get(req.Datastore).(*simulator.Datastore); ok {
		name = ds.Name
	}
	if f := removeDatastore(ctx, req.Datastore); f != nil {
		body.Fault_ = f
		return body
	}
	lab.RecordWrite(s.hostName(), canonical, "datastore", "remove "+name)
	body.Res = &types.RemoveDatastoreResponse{}
	return body
}

// removeDatastore destroys a datastore through vcsim and frees its LUN.
func removeDatastore(ctx *simulator.Context, ref types.ManagedObjectReference) *soap.Fault {
	ds, ok := simulator.Map.Get(ref).(*simulator.Datastore)
	if !ok {
		return simulator.Fault("", &types.ManagedObjectNotFound{Obj: ref})
	}
	if len(ds.Vm) != 0 {
		return simulator.Fault("", &types.ResourceInUse{Type: "Datastore", Name: ds.Name})
	}
	prov.mu.Lock()
	prov.removing[ref.Value] = true
	prov.mu.Unlock()
	var res soap.HasFault
	simulator.Map.WithLock(ds, func() { res = ds.DestroyTask(ctx, &types.Destroy_Task{This: ref}) })
	prov.mu.Lock()
	delete(prov.removing, ref.Value)
	prov.mu.Unlock()
	if e := taskError(res.(*methods.Destroy_TaskBody).Res.Returnval); e != "" {
		return simulator.Fault(e, &types.HostConfigFault{})
	}
	return nil
}

// forgetDatastore frees a removed datastore's LUN and fixes what vcsim's Datastore.Destroy
// leaves stale (the HostDatastoreSystems' own lists). Only host locks are taken: the caller's
// datastore system may be locked by vcsim already. Returns the LUN and whether the removal
// came through RemoveDatastore (which records its own write).
func forgetDatastore(ds *simulator.Datastore) (canonical string, explicit, ours bool) {
	prov.mu.Lock()
	canonical, ours = prov.dsLUN[ds.Self.Value]
	explicit = prov.removing[ds.Self.Value]
	if ours {
		delete(prov.luns, canonical)
		delete(prov.dsLUN, ds.Self.Value)
	}
	prov.mu.Unlock()
	if !ours {
		return "", false, false
	}
	for _, m := range ds.Host {
		hs, ok := simulator.Map.Get(m.Key).(*simulator.HostSystem)
		if !ok || hs.ConfigManager.DatastoreSystem == nil {
			continue
		}
		if d, ok := simulator.Map.Get(*hs.ConfigManager.DatastoreSystem).(*provDatastoreSystem); ok {
			simulator.Map.WithLock(hs, func() {
				simulator.RemoveReference(&hs.Datastore, ds.Self)
				d.Datastore = append([]types.ManagedObjectReference{}, hs.Datastore...)
			})
		}
	}
	_ = os.RemoveAll(ds.Info.GetDatastoreInfo().Url)
	return canonical, explicit, true
}

// removalWatcher records VM removals (Destroy_Task, UnregisterVM) as writes and frees the LUN
// of a removed datastore.
type removalWatcher struct{}

func (removalWatcher) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "esxsim", Value: "provision-removal-watcher"}
}
func (removalWatcher) PutObject(mo.Reference)                            {}
func (removalWatcher) UpdateObject(mo.Reference, []types.PropertyChange) {}
func (removalWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if ref.Type == "Datastore" {
		// also a plain Datastore.Destroy_Task, which vcsim implements without us
		if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok {
			if lun, explicit, ours := forgetDatastore(ds); ours && !explicit {
				lab.RecordWrite("", lun, "datastore", "destroy "+ds.Name)
			}
		}
		return
	}
	if ref.Type != "VirtualMachine" {
		return
	}
	prov.mu.Lock()
	e, ok := prov.vms[ref.Value]
	delete(prov.vms, ref.Value)
	prov.mu.Unlock()
	if ok {
		lab.RecordWrite(e.Host, "", "vm", "destroy "+e.Name)
	}
}
