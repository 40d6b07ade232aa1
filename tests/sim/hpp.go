// hpp.go: devices claimed by the High Performance Plugin (HPP) instead of NMP.
//
// On ESXi an HPP device is a SCSI disk like any other in config.storageDevice.scsiLun, but NMP
// does not know it: `esxcli storage nmp device|path list` leave it out, `-d` on it is "Unknown
// device", and its multipathInfo LogicalUnit carries a HostMultipathInfoHppLogicalUnitPolicy
// whose policy is an HPP path selection scheme (FIXED, LB-RR, LB-IOPS, LB-BYTES, LB-Latency;
// the vSphere API reference of HostMultipathInfoLogicalUnitPolicy lists these for HPP), not a
// VMW_PSP_*. It has no SATP (storageArrayTypePolicy is unset). SetMultipathLunPolicy refuses it
// (HostConfigFault): HPP takes its scheme through UpdateHppMultipathLunPolicy, which the
// simulator does not implement.
package main

import (
	"github.com/vmware/govmomi/vim25/types"
)

// Multipath plugins.
const (
	MPPNMP = "NMP"
	MPPHPP = "HPP"
)

// HPP path selection schemes.
const (
	HPPFixed   = "FIXED"
	HPPLBRR    = "LB-RR" // ESXi's default scheme for HPP-claimed devices
	HPPLBIOPS  = "LB-IOPS"
	HPPLBBytes = "LB-BYTES"
	HPPLBLat   = "LB-Latency"
)

// ValidHPPSchemes are the schemes a scenario may give an HPP LUN ("psp").
var ValidHPPSchemes = []string{HPPFixed, HPPLBRR, HPPLBIOPS, HPPLBBytes, HPPLBLat}

func validHPPScheme(s string) bool {
	for _, v := range ValidHPPSchemes {
		if v == s {
			return true
		}
	}
	return false
}

// selection is the path choice a device's policy amounts to: PSPRR (load balancing over the
// AO paths), PSPFixed (preferred path) or PSPMRU.
func (d *Device) selection() string {
	if d.MPP == MPPHPP {
		if d.PSP == HPPFixed {
			return PSPFixed
		}
		return PSPRR
	}
	return d.PSP
}

// IsNMP tells whether NMP (and so esxcli storage nmp) manages the device.
func (d *Device) IsNMP() bool { return d.MPP != MPPHPP }

// NMPDevices returns h's devices that NMP claims, in order (caller holds l.mu).
func (h *Host) NMPDevices() []*Device {
	out := make([]*Device, 0, len(h.Devices))
	for _, d := range h.Devices {
		if d.IsNMP() {
			out = append(out, d)
		}
	}
	return out
}

// NMPDevice returns h's NMP device by canonical name, or nil (HPP devices included).
func (h *Host) NMPDevice(canonical string) *Device {
	if d := h.Device(canonical); d != nil && d.IsNMP() {
		return d
	}
	return nil
}

// lookupNMP is lookup for NMP operations: an HPP device is an unknown device to them.
func (l *Lab) lookupNMP(host, dev string) (*Host, *Device, error) {
	h, d, err := l.lookup(host, dev)
	if err == nil && !d.IsNMP() {
		return h, nil, errf("device", "Unknown device %s", dev)
	}
	return h, d, err
}

// hppPolicy is the typed multipath policy of an HPP device.
func hppPolicy(d *Device) *types.HostMultipathInfoHppLogicalUnitPolicy {
	p := &types.HostMultipathInfoHppLogicalUnitPolicy{
		HostMultipathInfoLogicalUnitPolicy: types.HostMultipathInfoLogicalUnitPolicy{Policy: d.PSP},
	}
	switch d.PSP {
	case HPPFixed:
		if len(d.Paths) > 0 {
			p.Path = d.Paths[0].Name
		}
	case HPPLBIOPS:
		p.Iops = int64(d.RR.IOPS)
	case HPPLBBytes:
		p.Bytes = d.RR.Bytes
	case HPPLBLat:
		p.LatencyEvalTime, p.SamplingIosPerPath = 30000, 16
	}
	return p
}
