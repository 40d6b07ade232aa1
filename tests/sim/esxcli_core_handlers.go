// esxcli_core_handlers.go: the handlers of `storage core device list`, `storage core path list`,
// `storage nmp satp list` and `storage nmp psp list` (esxcli_core_commands.go). They answer from
// the same lab state as the typed view (view.go), so both agree: size, SSD, queue depth, path
// state, vml id.
package main

import (
	"fmt"
	"strings"
)

// Fixed values of every simulated device, as view.go publishes them in the typed API.
const (
	coreRevision   = "0001"
	coreSCSILevel  = "6"
	coreQueueDepth = "64"
	// maxIOSize is "Maximum IO Size" of a path: what FC HBA drivers (qlnativefc, lpfc) report.
	maxIOSize = "33553920"
)

// coreStatus is the device's "Status" (on, off when detached, dead after a permanent device
// loss) from ScsiLun.operationalState.
func coreStatus(d *Device) string {
	for _, s := range opState(d) {
		switch s {
		case "off":
			return "off"
		case "lostCommunication":
			return "dead"
		}
	}
	return "on"
}

func boolStr(b bool) string { return fmt.Sprint(b) }

func runCoreDeviceList(c *esxcliCall) (*esxcliResult, *cliFault) {
	name := c.str("device")
	excludeOffline, peOnly := c.flag("excludeoffline"), c.flag("peonly")
	c.lab.Lock()
	defer c.lab.Unlock()
	devs, fault := narrowed(name, c.host.Devices, c.host.Device)
	if fault != nil {
		return nil, fault
	}
	res := &esxcliResult{}
	if peOnly { // no VVol protocol endpoints in the lab
		return res, nil
	}
	for _, d := range devs {
		status := coreStatus(d)
		if excludeOffline && status != "on" {
			continue
		}
		boot := d.Local // the lab's local devices are the hosts' boot disks
		res.Rows = append(res.Rows, esxcliRow{
			"Device": {d.Canonical}, "DisplayName": {d.DisplayName},
			"HasSettableDisplayName": {boolStr(!strings.HasPrefix(d.Canonical, "mpx."))},
			"Size":                   {fmt.Sprint(d.Capacity / (1 << 20))}, // MB
			"DeviceType":             {"Direct-Access"}, "MultipathPlugin": {d.MPP},
			"DevfsPath": {"/vmfs/devices/disks/" + d.Canonical},
			"Vendor":    {d.Vendor}, "Model": {d.Model}, "Revision": {coreRevision}, "SCSILevel": {coreSCSILevel},
			"IsPseudo": {"false"}, "Status": {status}, "IsRDMCapable": {boolStr(!d.Local)},
			"IsLocal": {boolStr(d.Local)}, "IsRemovable": {"false"}, "IsSSD": {"true"}, "IsVVOLPE": {"false"},
			"IsOffline": {boolStr(status == "off")}, "IsPerenniallyReserved": {"false"},
			"QueueFullSampleSize": {"0"}, "QueueFullThreshold": {"0"},
			"ThinProvisioningStatus": {"unknown"}, "AttachedFilters": {""}, "VAAIStatus": {"unknown"},
			"OtherUIDs": {"vml." + d.UUID}, "IsSharedClusterwide": {boolStr(!d.Local)},
			"IsLocalSASDevice": {"false"}, "IsSAS": {"false"}, "IsUSB": {"false"}, "IsBootUSBDevice": {"false"},
			"IsBootDevice": {boolStr(boot)}, "DeviceMaxQueueDepth": {coreQueueDepth},
			"NoofoutstandingIOswithcompetingworlds": {"32"},
			"DriveType":                             {"unknown"}, "RAIDLevel": {"unknown"}, "NumberofPhysicalDrives": {"unknown"},
			"ProtectionEnabled": {"false"}, "PIActivated": {"false"}, "PIType": {"0"},
			"PIProtectionMask": {"NO PROTECTION"}, "SupportedGuardTypes": {"NO GUARD SUPPORT"},
			"DIXEnabled": {"false"}, "DIXGuardType": {"NO GUARD SUPPORT"}, "EmulatedDIXDIFEnabled": {"false"},
		})
	}
	return res, nil
}

// corePathRow is one `storage core path list` record (caller holds the lab lock).
func corePathRow(h *Host, d *Device, p *Path) esxcliRow {
	row := esxcliRow{
		"UID": {p.Name}, "RuntimeName": {p.Runtime}, "Device": {d.Canonical},
		"DeviceDisplayName": {d.DisplayName}, "Adapter": {p.Adapter},
		"Channel": {"0"}, "Target": {fmt.Sprint(p.Target)}, "LUN": {fmt.Sprint(d.LUN)},
		"Plugin": {d.MPP}, "State": {h.PathState(p)}, "MaximumIOSize": {maxIOSize},
	}
	if a := h.HBA(p.Adapter); a != nil && a.IsFC() {
		row["Transport"] = []string{"fc"}
		row["AdapterIdentifier"] = []string{fmt.Sprintf("fc.%s:%s", wwnHex(a.NodeWWN), wwnHex(a.PortWWN))}
		row["TargetIdentifier"] = []string{fmt.Sprintf("fc.%s:%s", wwnHex(p.TargetWWNN), wwnHex(p.TargetWWPN))}
		row["AdapterTransportDetails"] = []string{fmt.Sprintf("WWNN: %s WWPN: %s", colonWWN(a.NodeWWN), colonWWN(a.PortWWN))}
		row["TargetTransportDetails"] = []string{fmt.Sprintf("WWNN: %s WWPN: %s", colonWWN(p.TargetWWNN), colonWWN(p.TargetWWPN))}
		return row
	}
	// a local (SATA) boot device
	row["Transport"] = []string{"sata"}
	row["AdapterIdentifier"] = []string{"sata." + p.Adapter}
	row["TargetIdentifier"] = []string{fmt.Sprintf("sata.0:%d", p.Target)}
	row["AdapterTransportDetails"] = []string{"Unavailable or path is not SATA"}
	row["TargetTransportDetails"] = []string{"Unavailable or path is not SATA"}
	return row
}

func runCorePathList(c *esxcliCall) (*esxcliResult, *cliFault) {
	devName, pathName := c.str("device"), c.str("path")
	c.lab.Lock()
	defer c.lab.Unlock()
	// NMP and HPP: the core layer lists every plugin's paths
	devs, fault := narrowed(devName, c.host.Devices, c.host.Device)
	if fault != nil {
		return nil, fault
	}
	res := &esxcliResult{}
	for _, d := range devs {
		for _, p := range d.Paths {
			if !pathNamed(p, pathName) {
				continue
			}
			res.Rows = append(res.Rows, corePathRow(c.host, d, p))
		}
	}
	if pathName != "" && len(res.Rows) == 0 {
		return nil, cliError("Unknown path %s", pathName)
	}
	return res, nil
}

// nmpSATPs is `esxcli storage nmp satp list` of an ESXi 6.x host: the SATPs the lab knows
// with their descriptions when loaded (satpLoaded), and the placeholders ESXi lists for plugins
// it has not loaded. Default PSPs of the SATPs the lab knows come from satpDefaultPSP.
var nmpSATPs = [][3]string{
	{SATPALUA, "", "Supports non-specific arrays that use the ALUA protocol"},
	{"VMW_SATP_MSA", PSPMRU, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_DEFAULT_AP", PSPMRU, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_SVC", PSPFixed, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_EQL", PSPFixed, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_INV", PSPFixed, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_EVA", PSPFixed, "Placeholder (plugin not loaded)"},
	{SATPALUACX, "", "Supports EMC CX that use the ALUA protocol"},
	{"VMW_SATP_SYMM", PSPRR, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_CX", PSPMRU, "Placeholder (plugin not loaded)"},
	{"VMW_SATP_LSI", PSPMRU, "Placeholder (plugin not loaded)"},
	{SATPAA, "", "Supports non-specific active/active arrays"},
	{SATPLocal, "", "Supports direct attached devices"},
}

func runSatpList(c *esxcliCall) (*esxcliResult, *cliFault) {
	c.lab.Lock()
	defer c.lab.Unlock()
	res := &esxcliResult{}
	for _, s := range nmpSATPs {
		psp, desc := s[1], s[2]
		if def, known := satpDefaultPSP[s[0]]; known {
			psp = def
			if !satpLoaded(c.host, s[0]) {
				desc = "Placeholder (plugin not loaded)"
			}
		}
		res.Rows = append(res.Rows, esxcliRow{"Name": {s[0]}, "DefaultPSP": {psp}, "Description": {desc}})
	}
	return res, nil
}

// nmpPSPs is `esxcli storage nmp psp list`: the three PSPs the hosts know (ValidPSPs).
var nmpPSPs = [][2]string{
	{PSPMRU, "Most Recently Used Path Selection"},
	{PSPRR, "Round Robin Path Selection"},
	{PSPFixed, "Fixed Path Selection"},
}

func runPspList(c *esxcliCall) (*esxcliResult, *cliFault) {
	res := &esxcliResult{}
	for _, p := range nmpPSPs {
		res.Rows = append(res.Rows, esxcliRow{"Name": {p[0]}, "Description": {p[1]}})
	}
	return res, nil
}
