// provision_state.go: VMFS on SAN LUNs and VMs, which vcsim lacks: the SAN-wide bookkeeping of
// what each LUN holds, installing the wrappers, /reset, and the datastores/VMs of GET /state.
// The SOAP methods are in provision_vmfs.go (HostDatastoreSystem.QueryAvailableDisksForVmfs,
// QueryVmfsDatastoreCreateOptions, CreateVmfsDatastore), provision_datastore.go (building and
// mounting a datastore), provision_remove.go (RemoveDatastore, removals) and provision_vm.go
// (CreateVM_Task with eager zeroing).
//
// Which LUN holds what is shared state of the SAN, not of a host: a LUN formatted through one
// host is unavailable on all. A new VMFS datastore is mounted at once on every host that sees
// the LUN, as vCenter does with its automatic host rescan after a datastore is created
// (config.vpxd.filter.hostRescanFilter, on by default); RescanVmfs on the other hosts is then a
// no-op, as on a real estate.
//
// A scenario LUN with "vmfs": "<name>" already holds that datastore; "partitions": true marks
// a LUN with a partition table but no VMFS (both never offered, never formatted). Local boot
// disks count as partitioned, as ESXi's installed boot disk is.
//
// Hooks for main.go/control.go: installProvision(sc) once the vcsim inventory exists and the lab
// is published, resetProvision(sc) on POST /reset, provisionLUNAdded(spec) after POST /lun add,
// postConfig/getConfig for /config, provisionStateView for GET /state.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// lunUse is what a LUN holds, keyed by canonical name (the same on every host).
type lunUse struct {
	Datastore  types.ManagedObjectReference // zero when only partitioned
	Name       string
	Partitions bool
}

// provisionState is the SAN-wide datastore/VM bookkeeping of this process.
type provisionState struct {
	mu       sync.Mutex
	dir      string             // temp root holding one directory per datastore (vcsim needs one)
	luns     map[string]lunUse  // canonical -> use
	dsLUN    map[string]string  // datastore moid -> canonical
	vms      map[string]vmEntry // VM moid -> what CreateVM made (for writes on removal, reset)
	zeroRate float64            // MiB/s of eager zeroing
	rate0    float64            // the rate at start (--zero-rate-mbps); /reset restores it
	tasks    map[string]*zeroTask
	removing map[string]bool // datastore moids being removed by RemoveDatastore
	inited   bool
}

type vmEntry struct {
	Name, Datastore, Host string
}

var prov = &provisionState{
	luns: map[string]lunUse{}, dsLUN: map[string]string{}, vms: map[string]vmEntry{},
	tasks: map[string]*zeroTask{}, removing: map[string]bool{}, zeroRate: 512,
}

// internalContext is a vcsim call context for work done outside a SOAP request (reset,
// completion of asynchronous tasks): vcsim's event code needs a session user name.
func internalContext() *simulator.Context {
	return &simulator.Context{
		Map:     simulator.Map,
		Context: context.Background(),
		Session: &simulator.Session{
			UserSession: types.UserSession{UserName: "esxsim", Key: "esxsim-internal"},
			Registry:    simulator.NewRegistry(),
		},
	}
}

// installProvision wraps every host's HostDatastoreSystem and every datacenter's VM folder,
// registers the removal hook, and adds the guest ids newer than vcsim 0.24.2 knows.
func installProvision(sc *Scenario) error {
	prov.mu.Lock()
	if prov.dir == "" {
		d, err := os.MkdirTemp("", "esxsim-datastores-")
		if err != nil {
			prov.mu.Unlock()
			return err
		}
		prov.dir = d
	}
	first := !prov.inited
	prov.inited = true
	if first {
		prov.rate0 = prov.zeroRate
	}
	prov.mu.Unlock()
	if first {
		simulator.GuestID = append(simulator.GuestID, "debian12_64Guest", "debian12Guest",
			"debian13_64Guest", "debian13Guest", "rhel9_64Guest", "ubuntu64Guest")
		simulator.Map.AddHandler(removalWatcher{})
	}
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		ref := *h.ConfigManager.DatastoreSystem
		switch obj := simulator.Map.Get(ref).(type) {
		case *simulator.HostDatastoreSystem:
			simulator.Map.Put(&provDatastoreSystem{HostDatastoreSystem: obj})
			lab.RegisterHostObject(ref.Value, h.Name)
		case *provDatastoreSystem:
		default:
			return fmt.Errorf("host %s: unexpected datastore system %T", h.Name, obj)
		}
	}
	for _, e := range simulator.Map.All("Datacenter") {
		dc := e.(*simulator.Datacenter)
		switch f := simulator.Map.Get(dc.VmFolder).(type) {
		case *simulator.Folder:
			simulator.Map.Put(&provFolder{Folder: *f})
		case *provFolder:
		default:
			return fmt.Errorf("datacenter %s: unexpected vm folder %T", dc.Name, f)
		}
	}
	return applyScenarioVmfs(sc)
}

// applyScenarioVmfs marks the scenario's pre-existing datastores and partitions.
func applyScenarioVmfs(sc *Scenario) error {
	if sc == nil {
		return nil
	}
	for _, l := range sc.LUNs {
		if err := provisionLUNAdded(l); err != nil {
			return err
		}
	}
	return nil
}

// provisionLUNAdded records what a newly added LUN already holds ("vmfs", "partitions").
func provisionLUNAdded(spec LUNSpec) error {
	if spec.Partitions && spec.VMFS == "" {
		prov.mu.Lock()
		prov.luns[spec.Canonical] = lunUse{Partitions: true}
		prov.mu.Unlock()
		return nil
	}
	if spec.VMFS == "" {
		return nil
	}
	hosts := hostsSeeing(spec.Canonical)
	if len(hosts) == 0 {
		return fmt.Errorf("LUN %s with vmfs %q is on no host", spec.Canonical, spec.VMFS)
	}
	dss := datastoreSystemOf(hosts[0])
	if dss == nil {
		return fmt.Errorf("host %s has no datastore system", hosts[0].Name)
	}
	var fault *soap.Fault
	simulator.Map.WithLock(dss, func() {
		_, fault = dss.createVmfs(internalContext(), spec.Canonical, spec.VMFS, false)
	})
	if fault != nil {
		return fmt.Errorf("vmfs %s on %s: %s", spec.VMFS, spec.Canonical, fault.String)
	}
	return nil
}

// resetProvision destroys every VM and datastore made since start (or the last reset), then
// re-applies the scenario's existing datastores. Called by POST /reset after the lab reload.
func resetProvision(sc *Scenario) error {
	prov.mu.Lock()
	for _, t := range prov.tasks {
		t.cancel()
	}
	prov.tasks = map[string]*zeroTask{}
	prov.zeroRate = prov.rate0
	var vms, dss []types.ManagedObjectReference
	for moid := range prov.vms {
		vms = append(vms, types.ManagedObjectReference{Type: "VirtualMachine", Value: moid})
	}
	for moid := range prov.dsLUN {
		dss = append(dss, types.ManagedObjectReference{Type: "Datastore", Value: moid})
	}
	prov.mu.Unlock()
	ctx := internalContext()
	for _, ref := range vms {
		if vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
			vm.Runtime.PowerState = types.VirtualMachinePowerStatePoweredOff
			var body soap.HasFault
			simulator.Map.WithLock(vm, func() { body = vm.DestroyTask(ctx, &types.Destroy_Task{This: ref}) })
			if err := taskError(body.(*methods.Destroy_TaskBody).Res.Returnval); err != "" {
				log.Printf("reset: destroy %s: %s", ref.Value, err)
			}
		}
	}
	for _, ref := range dss {
		if err := removeDatastore(ctx, ref); err != nil {
			log.Printf("reset: remove datastore %s: %s", ref.Value, err.String)
		}
	}
	prov.mu.Lock()
	prov.luns = map[string]lunUse{}
	prov.dsLUN = map[string]string{}
	prov.vms = map[string]vmEntry{}
	prov.mu.Unlock()
	return applyScenarioVmfs(sc)
}

// taskError returns a finished vcsim task's fault as text ("" on success).
func taskError(ref types.ManagedObjectReference) string {
	t, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok || t.Info.Error == nil {
		return ""
	}
	return fmt.Sprintf("%T", t.Info.Error.Fault)
}

// provisionState for GET /state: datastores with their LUN and hosts, VMs made by CreateVM.
type stateDatastore struct {
	Name  string   `json:"name"`
	Moid  string   `json:"moid"`
	LUN   string   `json:"lun"`
	Hosts []string `json:"hosts"`
	VMs   int      `json:"vms"`
}

type stateVM struct {
	Name      string `json:"name"`
	Moid      string `json:"moid"`
	Datastore string `json:"datastore"`
	Host      string `json:"host"`
}

// provisionStateView returns datastores and VMs for GET /state, sorted by name.
func provisionStateView() ([]stateDatastore, []stateVM) {
	prov.mu.Lock()
	dsLUN := map[string]string{}
	for k, v := range prov.dsLUN {
		dsLUN[k] = v
	}
	vms := []stateVM{}
	for moid, e := range prov.vms {
		vms = append(vms, stateVM{Name: e.Name, Moid: moid, Datastore: e.Datastore, Host: e.Host})
	}
	prov.mu.Unlock()
	dss := []stateDatastore{}
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		sd := stateDatastore{Name: ds.Name, Moid: ds.Self.Value, LUN: dsLUN[ds.Self.Value], Hosts: []string{}}
		simulator.Map.WithLock(ds, func() {
			sd.VMs = len(ds.Vm)
			for _, m := range ds.Host {
				if hs, ok := simulator.Map.Get(m.Key).(*simulator.HostSystem); ok {
					sd.Hosts = append(sd.Hosts, hs.Name)
				}
			}
		})
		sort.Strings(sd.Hosts)
		dss = append(dss, sd)
	}
	sort.Slice(dss, func(i, j int) bool { return dss[i].Name < dss[j].Name })
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
	return dss, vms
}
