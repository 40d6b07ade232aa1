// esxcli_alua_cx.go: VMW_SATP_ALUA_CX, the SATP of EMC CLARiiON/VNX arrays in ALUA mode, kept
// for the one thing real output shows it does differently from VMW_SATP_ALUA: the path's
// "Array Priority". A VMW_SATP_ALUA host prints 0 on active and active unoptimized paths alike;
// a VMW_SATP_ALUA_CX host prints 0 on the paths of the optimized group and 1 on the others (real
// output quoted in tests/sim/README.md, "esxcli: sources"). Its device config carries the CX
// settings before the ALUA ones, as on a real VNX.
package main

import "strings"

// SATPALUACX is EMC's ALUA SATP; a LUN gets it from its scenario "satp" or an SATP rule.
const SATPALUACX = "VMW_SATP_ALUA_CX"

func init() {
	satpDefaultPSP[SATPALUACX] = PSPRR // ESXi 6.x `satp list`
}

// isALUASATP tells whether the SATP handles target port groups (TPG device and path config).
func isALUASATP(satp string) bool { return satp == SATPALUA || satp == SATPALUACX }

// arrayPriority is the path's "Array Priority" in `esxcli storage nmp path list` (caller holds
// the lab lock).
func arrayPriority(h *Host, d *Device, p *Path) int {
	if d.SATP == SATPALUACX && p.ALUA() && h.TPGState(p) != "AO" {
		return 1
	}
	return 0
}

// aluaCXDeviceConfig is a VMW_SATP_ALUA_CX "Storage Array Type Device Config"; tpgs is the
// {TPG_id=..,TPG_state=..} list.
func aluaCXDeviceConfig(tpgs string) string {
	return "{navireg=on, ipfilter=on}{implicit_support=on;explicit_support=on;explicit_allow=on;" +
		"alua_followover=on;" + tpgs + "}"
}

// satpLoaded tells whether `satp list` shows the SATP as loaded on h: the generic ones always,
// VMW_SATP_ALUA_CX once a device of h is claimed by it (ESXi loads such plugins on demand and
// lists them as "Placeholder (plugin not loaded)" until then). Caller holds the lab lock.
func satpLoaded(h *Host, satp string) bool {
	switch satp {
	case SATPALUA, SATPAA, SATPLocal:
		return true
	}
	for _, d := range h.Devices {
		if strings.EqualFold(d.SATP, satp) {
			return true
		}
	}
	return false
}
