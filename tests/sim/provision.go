// provision.go: VMFS on SAN LUNs (HostDatastoreSystem.QueryAvailableDisksForVmfs,
// QueryVmfsDatastoreCreateOptions, CreateVmfsDatastore, RemoveDatastore), which vcsim lacks.
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
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
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

// hostsSeeing returns the lab hosts that have the device, in lab order.
func hostsSeeing(canonical string) []*Host {
	lab.Lock()
	defer lab.Unlock()
	var out []*Host
	for _, h := range lab.Hosts {
		if h.Device(canonical) != nil {
			out = append(out, h)
		}
	}
	return out
}

// hostSystemOf returns the vcsim HostSystem of a lab host.
func hostSystemOf(h *Host) *simulator.HostSystem {
	lab.Lock()
	moid := h.Moid
	lab.Unlock()
	obj, _ := simulator.Map.Get(types.ManagedObjectReference{Type: "HostSystem", Value: moid}).(*simulator.HostSystem)
	return obj
}

func datastoreSystemOf(h *Host) *provDatastoreSystem {
	hs := hostSystemOf(h)
	if hs == nil || hs.ConfigManager.DatastoreSystem == nil {
		return nil
	}
	d, _ := simulator.Map.Get(*hs.ConfigManager.DatastoreSystem).(*provDatastoreSystem)
	return d
}

// provDatastoreSystem adds the VMFS methods to vcsim's HostDatastoreSystem.
type provDatastoreSystem struct {
	*simulator.HostDatastoreSystem
}

// Get lets vcsim's property collector see the wrapped object (vcsim 0.24 pitfall).
func (s *provDatastoreSystem) Get() mo.Reference { return s.HostDatastoreSystem }

func (s *provDatastoreSystem) hostName() string { return s.Host.Name }

func (s *provDatastoreSystem) labHost() *Host {
	if h := lab.HostByMoid(s.Host.Self.Value); h != nil {
		return h
	}
	return lab.HostByName(s.Host.Name)
}

// scsiDisk returns the host's published HostScsiDisk for a device (so keys match
// config.storageDevice), else one built from the lab device.
func (s *provDatastoreSystem) scsiDisk(d *Device) types.HostScsiDisk {
	var found *types.HostScsiDisk
	simulator.Map.WithLock(s.Host, func() {
		if s.Host.Config == nil || s.Host.Config.StorageDevice == nil {
			return
		}
		for _, l := range s.Host.Config.StorageDevice.ScsiLun {
			if disk, ok := l.(*types.HostScsiDisk); ok && disk.CanonicalName == d.Canonical {
				c := *disk
				found = &c
				return
			}
		}
	})
	if found != nil {
		return *found
	}
	blocks := d.Capacity / int64(d.BlockSize)
	return types.HostScsiDisk{
		ScsiLun: types.ScsiLun{
			HostDevice:    types.HostDevice{DeviceName: "/vmfs/devices/disks/" + d.Canonical, DeviceType: "disk"},
			Key:           "key-vim.host.ScsiDisk-" + d.UUID,
			Uuid:          d.UUID,
			CanonicalName: d.Canonical,
			DisplayName:   d.DisplayName,
			LunType:       "disk",
			Vendor:        d.Vendor,
			Model:         d.Model,
		},
		Capacity:   types.HostDiskDimensionsLba{BlockSize: d.BlockSize, Block: blocks},
		DevicePath: "/vmfs/devices/disks/" + d.Canonical,
		LocalDisk:  types.NewBool(d.Local),
	}
}

// devices returns copies of the host's devices (lab state is guarded by lab's mutex).
func (s *provDatastoreSystem) devices() []Device {
	h := s.labHost()
	if h == nil {
		return nil
	}
	lab.Lock()
	defer lab.Unlock()
	out := make([]Device, 0, len(h.Devices))
	for _, d := range h.Devices {
		out = append(out, *d)
	}
	return out
}

// inUse tells why a LUN cannot take a new VMFS, or "".
func inUse(d Device) string {
	if d.Local {
		return "holds partitions (boot disk)"
	}
	prov.mu.Lock()
	defer prov.mu.Unlock()
	u, ok := prov.luns[d.Canonical]
	switch {
	case !ok:
		return ""
	case u.Name != "":
		return "holds VMFS datastore " + u.Name
	default:
		return "holds partitions"
	}
}

func (s *provDatastoreSystem) QueryAvailableDisksForVmfs(ctx *simulator.Context, req *types.QueryAvailableDisksForVmfs) soap.HasFault {
	body := &methods.QueryAvailableDisksForVmfsBody{Res: &types.QueryAvailableDisksForVmfsResponse{}}
	for _, d := range s.devices() {
		if inUse(d) == "" {
			body.Res.Returnval = append(body.Res.Returnval, s.scsiDisk(&d))
		}
	}
	return body
}

func (s *provDatastoreSystem) device(devicePath string) (Device, bool) {
	name := strings.TrimPrefix(devicePath, "/vmfs/devices/disks/")
	for _, d := range s.devices() {
		if d.Canonical == name {
			return d, true
		}
	}
	return Device{}, false
}

// vmfsLayout is the one-partition GPT layout ESXi proposes for a whole-disk VMFS.
func vmfsLayout(d Device) (types.HostDiskPartitionSpec, types.HostDiskPartitionBlockRange, types.HostDiskPartitionLayout) {
	total := d.Capacity / int64(d.BlockSize)
	const start = 2048
	end := total - 1
	attrs := types.HostDiskPartitionAttributes{
		Partition: 1, StartSector: start, EndSector: end,
		Type: "vmfs", Guid: "AA31E02A400F11DB9590000C2911D1B8", Logical: false, Attributes: 0,
	}
	spec := types.HostDiskPartitionSpec{PartitionFormat: "gpt", TotalSectors: total,
		Partition: []types.HostDiskPartitionAttributes{attrs}}
	dims := &types.HostDiskDimensionsLba{BlockSize: d.BlockSize, Block: total}
	rng := types.HostDiskPartitionBlockRange{Partition: 1, Type: "vmfs",
		Start: types.HostDiskDimensionsLba{BlockSize: d.BlockSize, Block: start},
		End:   types.HostDiskDimensionsLba{BlockSize: d.BlockSize, Block: end}}
	layout := types.HostDiskPartitionLayout{Total: dims, Partition: []types.HostDiskPartitionBlockRange{rng}}
	return spec, rng, layout
}

func (s *provDatastoreSystem) QueryVmfsDatastoreCreateOptions(ctx *simulator.Context, req *types.QueryVmfsDatastoreCreateOptions) soap.HasFault {
	body := &methods.QueryVmfsDatastoreCreateOptionsBody{}
	d, ok := s.device(req.DevicePath)
	if !ok {
		body.Fault_ = simulator.Fault("device "+req.DevicePath+" not found", &types.NotFound{})
		return body
	}
	if why := inUse(d); why != "" {
		body.Fault_ = simulator.Fault(fmt.Sprintf("%s %s", d.Canonical, why),
			&types.HostConfigFault{})
		return body
	}
	major := int32(6)
	if req.VmfsMajorVersion != 0 {
		major = req.VmfsMajorVersion
	}
	pspec, rng, layout := vmfsLayout(d)
	extent := types.HostScsiDiskPartition{DiskName: d.Canonical, Partition: 1}
	body.Res = &types.QueryVmfsDatastoreCreateOptionsResponse{Returnval: []types.VmfsDatastoreOption{{
		Info: &types.VmfsDatastoreAllExtentOption{VmfsDatastoreSingleExtentOption: types.VmfsDatastoreSingleExtentOption{
			VmfsDatastoreBaseOption: types.VmfsDatastoreBaseOption{Layout: layout},
			VmfsExtent:              rng,
		}},
		Spec: &types.VmfsDatastoreCreateSpec{
			VmfsDatastoreSpec: types.VmfsDatastoreSpec{DiskUuid: d.UUID},
			Partition:         pspec,
			Vmfs:              types.HostVmfsSpec{Extent: extent, MajorVersion: major, BlockSizeMb: 1},
		},
	}}}
	return body
}

func (s *provDatastoreSystem) CreateVmfsDatastore(ctx *simulator.Context, req *types.CreateVmfsDatastore) soap.HasFault {
	body := &methods.CreateVmfsDatastoreBody{}
	spec := req.Spec
	ref, fault := s.createVmfs(ctx, spec.Vmfs.Extent.DiskName, spec.Vmfs.VolumeName, true)
	if fault != nil {
		body.Fault_ = fault
		return body
	}
	body.Res = &types.CreateVmfsDatastoreResponse{Returnval: ref}
	return body
}

// createVmfs formats a LUN and mounts the datastore on every host seeing it. Caller holds the
// lock of s (vcsim locks the handler of a SOAP call).
func (s *provDatastoreSystem) createVmfs(ctx *simulator.Context, canonical, name string, record bool) (types.ManagedObjectReference, *soap.Fault) {
	var none types.ManagedObjectReference
	d, ok := s.device(canonical)
	if !ok {
		return none, simulator.Fault("device "+canonical+" not found on "+s.hostName(), &types.NotFound{})
	}
	if name == "" {
		return none, simulator.Fault("volume name", &types.InvalidArgument{InvalidProperty: "spec.vmfs.volumeName"})
	}
	if why := inUse(d); why != "" {
		return none, simulator.Fault(fmt.Sprintf("Failed to create VMFS datastore %s - %s %s", name, canonical, why),
			&types.PlatformConfigFault{Text: canonical + " " + why})
	}
	for _, e := range simulator.Map.All("Datastore") {
		if e.Entity().Name == name {
			return none, simulator.Fault("", &types.DuplicateName{Name: name, Object: e.Reference()})
		}
	}
	dir, err := os.MkdirTemp(prov.dir, "vmfs-"+canonical+"-")
	if err != nil {
		return none, simulator.Fault(err.Error(), &types.HostConfigFault{})
	}
	dc := datacenterOf(s.Host.Parent)
	if dc == nil {
		return none, simulator.Fault("host without datacenter", &types.HostConfigFault{})
	}
	folder, ok := simulator.Map.Get(dc.DatastoreFolder).(*simulator.Folder)
	if !ok {
		return none, simulator.Fault("datacenter without datastore folder", &types.HostConfigFault{})
	}
	volUUID := strings.ReplaceAll(uuid.New().String(), "-", "")[:24]
	capacity := d.Capacity - 2048*int64(d.BlockSize)
	// Built here rather than through vcsim's CreateLocalDatastore, whose moid would be the
	// directory path: this one gets a vCenter-like "datastore-NN". vcsim keeps VM files in Url.
	ds := &simulator.Datastore{}
	ds.Self.Type = "Datastore"
	ds.Name = name
	ds.Info = &types.VmfsDatastoreInfo{
		DatastoreInfo: types.DatastoreInfo{Name: name, Url: dir, FreeSpace: capacity,
			MaxFileSize: 62 << 40, MaxVirtualDiskCapacity: 62 << 40},
		MaxPhysicalRDMFileSize: 64 << 40, MaxVirtualRDMFileSize: 62 << 40,
		Vmfs: &types.HostVmfsVolume{
			HostFileSystemVolume: types.HostFileSystemVolume{Type: "VMFS", Name: name, Capacity: capacity},
			BlockSizeMb:          1, BlockSize: 1024, MaxBlocks: 63963136, MajorVersion: 6, Version: "6.82",
			Uuid:   volUUID,
			Extent: []types.HostScsiDiskPartition{{DiskName: canonical, Partition: 1}},
			Ssd:    types.NewBool(true), Local: types.NewBool(false),
		},
	}
	ds.Summary = types.DatastoreSummary{Name: name, Url: dir, Capacity: capacity, FreeSpace: capacity,
		Type: "VMFS", Accessible: true, MultipleHostAccess: types.NewBool(true),
		MaintenanceMode: string(types.DatastoreSummaryMaintenanceModeStateNormal)}
	ds.Capability = types.DatastoreCapability{DirectoryHierarchySupported: true,
		PerFileThinProvisioningSupported: true, RawDiskMappingsSupported: true,
		StorageIORMSupported: types.NewBool(true), TopLevelDirectoryCreateSupported: types.NewBool(true)}
	simulator.Map.WithLock(folder, func() {
		ds.Parent = &folder.Self
		simulator.Map.Put(ds) // assigns datastore-NN
		folder.ChildEntity = append(folder.ChildEntity, ds.Self)
	})
	ref := ds.Self
	ds.Summary.Datastore = &ref
	simulator.Map.AddReference(dc, &dc.Datastore, ref)
	browser := &simulator.HostDatastoreBrowser{}
	browser.Datastore = []types.ManagedObjectReference{ref}
	ds.Browser = simulator.Map.Put(browser).Reference()
	prov.mu.Lock()
	prov.luns[canonical] = lunUse{Datastore: ref, Name: name}
	prov.dsLUN[ref.Value] = canonical
	prov.mu.Unlock()
	for _, h := range hostsSeeing(canonical) {
		mountOn(h, ds)
	}
	if record {
		lab.RecordWrite(s.hostName(), canonical, "datastore", "create "+name)
	}
	return ref, nil
}

// datacenterOf walks up from an inventory object to its datacenter.
func datacenterOf(ref *types.ManagedObjectReference) *simulator.Datacenter {
	for i := 0; ref != nil && i < 64; i++ {
		switch o := simulator.Map.Get(*ref).(type) {
		case *simulator.Datacenter:
			return o
		case mo.Entity:
			ref = o.Entity().Parent
		default:
			return nil
		}
	}
	return nil
}

// mountOn adds a datastore to a host: its datastore list, its compute resource's, and
// the datastore's host mounts.
func mountOn(h *Host, ds *simulator.Datastore) {
	hs := hostSystemOf(h)
	dss := datastoreSystemOf(h)
	if hs == nil || dss == nil {
		return
	}
	// only the host's lock: two hosts creating datastores at once must not deadlock on each
	// other's datastore system
	simulator.Map.WithLock(hs, func() {
		if simulator.FindReference(hs.Datastore, ds.Self) == nil {
			hs.Datastore = append(hs.Datastore, ds.Self)
		}
		dss.Datastore = append([]types.ManagedObjectReference{}, hs.Datastore...)
	})
	if cr := computeResourceOf(hs); cr != nil {
		simulator.Map.AddReference(simulator.Map.Get(cr.Self), &cr.Datastore, ds.Self)
	}
	simulator.Map.WithLock(ds, func() {
		ds.Host = append(ds.Host, types.DatastoreHostMount{Key: hs.Self, MountInfo: types.HostMountInfo{
			AccessMode: string(types.HostMountModeReadWrite), Mounted: types.NewBool(true),
			Accessible: types.NewBool(true)}})
	})
}

func computeResourceOf(hs *simulator.HostSystem) *mo.ComputeResource {
	if hs.Parent == nil {
		return nil
	}
	switch p := simulator.Map.Get(*hs.Parent).(type) {
	case *mo.ComputeResource:
		return p
	case *simulator.ClusterComputeResource:
		return &p.ComputeResource
	}
	return nil
}

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
