// view.go: the typed vSphere storage view (config.storageDevice) generated from lab state.
package main

import (
	"fmt"

	"github.com/vmware/govmomi/vim25/types"
)

func hbaKey(a *HBA) string {
	if a.IsFC() {
		return "key-vim.host.FibreChannelHba-" + a.Device
	}
	return "key-vim.host.BlockHba-" + a.Device
}

func scsiLunKey(d *Device) string     { return "key-vim.host.ScsiDisk-" + d.UUID }
func logicalUnitKey(d *Device) string { return "key-vim.host.MultipathInfo.LogicalUnit-" + d.UUID }

// buildView returns a fresh HostStorageDeviceInfo for h: its own copy, shared with no other
// host (vcsim's template is one global struct). Caller holds l.mu.
func (l *Lab) buildView(h *Host) *types.HostStorageDeviceInfo {
	info := &types.HostStorageDeviceInfo{
		ScsiTopology:  &types.HostScsiTopology{},
		MultipathInfo: &types.HostMultipathInfo{},
	}
	for _, a := range h.HBAs {
		base := types.HostHostBusAdapter{Key: hbaKey(a), Device: a.Device, Status: "online"}
		if a.IsFC() {
			base.Model, base.Driver = "Emulex LightPulse LPe32000 PCIe Fibre Channel Adapter", "lpfc"
			info.HostBusAdapter = append(info.HostBusAdapter, &types.HostFibreChannelHba{
				HostHostBusAdapter: base,
				PortWorldWideName:  int64(a.PortWWN),
				NodeWorldWideName:  int64(a.NodeWWN),
				PortType:           "fabric",
				Speed:              16,
			})
		} else {
			base.Model, base.Driver, base.Status = "SATA AHCI Controller", "vmw_ahci", "unknown"
			info.HostBusAdapter = append(info.HostBusAdapter, &types.HostBlockHba{HostHostBusAdapter: base})
		}
	}
	for _, d := range h.Devices {
		info.ScsiLun = append(info.ScsiLun, scsiDisk(d))
		info.MultipathInfo.Lun = append(info.MultipathInfo.Lun, l.multipathLun(h, d))
	}
	info.ScsiTopology.Adapter = topology(h)
	return info
}

func scsiDisk(d *Device) *types.HostScsiDisk {
	block := d.BlockSize
	if block == 0 {
		block = 512
	}
	return &types.HostScsiDisk{
		ScsiLun: types.ScsiLun{
			HostDevice: types.HostDevice{
				DeviceName: "/vmfs/devices/disks/" + d.Canonical,
				DeviceType: "disk",
			},
			Key:  scsiLunKey(d),
			Uuid: d.UUID,
			Descriptor: []types.ScsiLunDescriptor{
				{Quality: "highQuality", Id: d.Canonical},
				{Quality: "highQuality", Id: "vml." + d.UUID},
			},
			CanonicalName:    d.Canonical,
			DisplayName:      d.DisplayName,
			LunType:          "disk",
			Vendor:           fmt.Sprintf("%-8.8s", d.Vendor),
			Model:            fmt.Sprintf("%-16.16s", d.Model),
			Revision:         "0001",
			ScsiLevel:        6,
			SerialNumber:     "unavailable",
			OperationalState: opState(d),
			QueueDepth:       64,
			Capabilities:     &types.ScsiLunCapabilities{},
			VStorageSupport:  "vStorageUnsupported",
			ProtocolEndpoint: types.NewBool(false),
		},
		Capacity:     types.HostDiskDimensionsLba{BlockSize: block, Block: d.Capacity / int64(block)},
		DevicePath:   "/vmfs/devices/disks/" + d.Canonical,
		Ssd:          types.NewBool(true),
		LocalDisk:    types.NewBool(d.Local),
		ScsiDiskType: "native512",
	}
}

// opState is ScsiLun.operationalState: the device's, ["ok"] when unset.
func opState(d *Device) []string {
	if len(d.OpState) == 0 {
		return []string{string(types.ScsiLunStateOk)}
	}
	return append([]string{}, d.OpState...)
}

// multipathLun is HostMultipathInfoLogicalUnit: path state and isWorkingPath follow the PSP and
// the ALUA states as h sees them (see Host.PathState and Host.WorkingPaths). Caller holds l.mu.
func (l *Lab) multipathLun(h *Host, d *Device) types.HostMultipathInfoLogicalUnit {
	lu := types.HostMultipathInfoLogicalUnit{
		Key: logicalUnitKey(d),
		Id:  d.UUID,
		Lun: scsiLunKey(d),
	}
	if d.IsNMP() {
		lu.StorageArrayTypePolicy = &types.HostMultipathInfoLogicalUnitStorageArrayTypePolicy{Policy: d.SATP}
	}
	working := map[*Path]bool{}
	for _, p := range h.WorkingPaths(d) {
		working[p] = true
	}
	for _, p := range d.Paths {
		state := h.PathState(p)
		mp := types.HostMultipathInfoPath{
			Key:           "key-vim.host.MultipathInfo.Path-" + p.Name,
			Name:          p.Name,
			PathState:     state,
			State:         state,
			IsWorkingPath: types.NewBool(working[p]),
			Lun:           lu.Key,
		}
		if a := h.HBA(p.Adapter); a != nil {
			mp.Adapter = hbaKey(a)
			if a.IsFC() {
				mp.Transport = &types.HostFibreChannelTargetTransport{
					PortWorldWideName: int64(p.TargetWWPN),
					NodeWorldWideName: int64(p.TargetWWNN),
				}
			} else {
				mp.Transport = &types.HostBlockAdapterTargetTransport{}
			}
		}
		lu.Path = append(lu.Path, mp)
	}
	base := types.HostMultipathInfoLogicalUnitPolicy{Policy: d.PSP}
	if !d.IsNMP() {
		lu.Policy = hppPolicy(d)
	} else if d.PSP == PSPFixed && len(d.Paths) > 0 {
		lu.Policy = &types.HostMultipathInfoFixedLogicalUnitPolicy{
			HostMultipathInfoLogicalUnitPolicy: base, Prefer: d.Paths[0].Name,
		}
	} else {
		lu.Policy = &base
	}
	return lu
}

// topology is config.storageDevice.scsiTopology: adapter -> target -> LUN.
func topology(h *Host) []types.HostScsiTopologyInterface {
	var out []types.HostScsiTopologyInterface
	for _, a := range h.HBAs {
		iface := types.HostScsiTopologyInterface{
			Key:     "key-vim.host.ScsiTopology.Interface-" + a.Device,
			Adapter: hbaKey(a),
		}
		targets := map[int]*types.HostScsiTopologyTarget{}
		var order []int
		for _, d := range h.Devices {
			for _, p := range d.Paths {
				if p.Adapter != a.Device {
					continue
				}
				t := targets[p.Target]
				if t == nil {
					t = &types.HostScsiTopologyTarget{
						Key:    fmt.Sprintf("key-vim.host.ScsiTopology.Target-%s:0:%d", a.Device, p.Target),
						Target: int32(p.Target),
					}
					if a.IsFC() {
						t.Transport = &types.HostFibreChannelTargetTransport{
							PortWorldWideName: int64(p.TargetWWPN), NodeWorldWideName: int64(p.TargetWWNN),
						}
					} else {
						t.Transport = &types.HostBlockAdapterTargetTransport{}
					}
					targets[p.Target] = t
					order = append(order, p.Target)
				}
				t.Lun = append(t.Lun, types.HostScsiTopologyLun{
					Key:     "key-vim.host.ScsiTopology.Lun-" + d.UUID,
					Lun:     int32(d.LUN),
					ScsiLun: scsiLunKey(d),
				})
			}
		}
		for _, n := range order {
			iface.Target = append(iface.Target, *targets[n])
		}
		out = append(out, iface)
	}
	return out
}
