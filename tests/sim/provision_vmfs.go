// provision_vmfs.go: the VMFS methods vcsim's HostDatastoreSystem lacks: which disks can take a
// VMFS (QueryAvailableDisksForVmfs), the whole-disk GPT option (QueryVmfsDatastoreCreateOptions)
// and CreateVmfsDatastore.
package main

import (
	"fmt"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

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
