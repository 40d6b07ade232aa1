// provision_datastore.go: formatting a LUN as a vCenter-like datastore-NN and mounting it on
// every host that sees the LUN, with the inventory look-ups this needs.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

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
