// scst_failover.go: what a failover does when a node's SCST side disagrees with the lab.
//
// POST /scst changes only what a node reports; the hosts see nothing until the next
// /failover. The move (alua.go Failover) then honours each SCST view of the failover group,
// the node taking over and the one giving up alike, as the real SAN would:
//   - a node stopped (POST /scst stopped, or its Pacemaker role stopped) serves nothing: every
//     host path to its ports is dead;
//   - a path to one of its ports is dead when the node no longer reports that port as its own
//     target (rename_target), the target is disabled, or the target does not export, under the
//     path's LUN number in the default group, a device whose ESXi id is the path's device
//     (unexported; exported to an initiator group only, whose initiators the hosts are not;
//     another setup_id or t10_dev_id gives the LUN another id: the hosts' LUN is gone there);
//   - the hosts see the state the node reports for its own (local) target group, not the one
//     the move would set: a node whose group_state override keeps its group nonoptimized,
//     standby, ... after it took over leaves the hosts without AO paths on that group, one
//     still claiming active keeps its paths AO. What a node says of its peer's group is not
//     used (a host takes each group's state from the node owning its targets).
//
// Dead paths get a "dead" path override (POST /path "active" revives one); a node's state
// (nodes of /state) becomes the one its view reports.
package main

import (
	"encoding/hex"
	"strings"
)

// tpgStateOf maps SCST's ALUA state names back to the lab's TPG states.
var tpgStateOf = map[string]string{
	"active": StateAO, "nonoptimized": StateANO, "standby": StateSTBY,
	"unavailable": StateUNAV, "transitioning": StateTRANS, "offline": StateOFFL,
}

// scstESXiID is the id ESXi shows for a device as SCST reports it (scst_vdisk.c, page 0x83):
// eui64_id, else naa_id, else the first 8 bytes of t10_dev_id.
func scstESXiID(d scstDevice) string {
	switch {
	case d.EUI64 != "":
		return "eui." + strings.ToLower(d.EUI64)
	case d.NAA != "":
		return "naa." + strings.ToLower(d.NAA)
	}
	return "eui." + hex.EncodeToString([]byte(cut(d.T10DevID, 8)))
}

// scstFailoverLocked applies the SCST views of group's nodes to the hosts after a move.
// Caller holds scst.mu and l.mu; the nodes' states are already the move's.
func (l *Lab) scstFailoverLocked(group string) {
	luns := l.scstLUNs()
	for _, n := range l.scstNodes(luns) {
		if n.Group != group {
			continue
		}
		o := scst.over[n.Name]
		if o == nil {
			o = newSCSTOverride()
		}
		v := o.frozen
		if v == nil {
			v = l.buildSCSTView(n, luns, o)
		}
		stopped := v.Stopped || v.Role == RoleStopped
		if s := tpgStateOf[v.DGs[0].TGs[0].State]; s != "" && !stopped {
			n.State = s // the hosts see what the node reports for its own group
		}
		ids := map[string]string{} // device name -> ESXi id
		for _, d := range v.Devices {
			ids[d.Name] = scstESXiID(d)
		}
		targets := map[string]scstTarget{}
		for _, t := range v.Targets {
			targets[t.Name] = t
		}
		serves := func(p *Path, d *Device) bool {
			t, ok := targets[colonWWN(p.TargetWWPN)]
			if stopped || !ok || !t.Enabled {
				return false
			}
			for _, m := range t.LUNs {
				if m.LUN == d.LUN && m.IniGroup == "" && strings.EqualFold(ids[m.Device], d.Canonical) {
					return true
				}
			}
			return false
		}
		for _, h := range l.Hosts {
			for _, d := range h.Devices {
				for _, p := range d.Paths {
					// only SCST LUNs are in the view (scstLUNs); another vendor's LUN on
					// these ports is not SCST's to serve or drop
					if p.Node == n && scstVendor(d.Vendor) && !d.Local && !serves(p, d) {
						p.Override = "dead"
					}
				}
			}
		}
	}
}
