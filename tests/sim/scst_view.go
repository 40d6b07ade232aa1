// scst_view.go: what each SCST storage node reports about itself (its SCST configuration and
// Pacemaker role), derived from the lab state plus the node's POST /scst overrides.
//
// A node is an SCST node when it is in a failover group one of whose nodes exports an
// SCST_BIO/SCST_FIO LUN. Each SCST node reports, as ESOS's alua resource agent sets it up:
// one device group (named after the failover group) holding its SCST LUNs, a target group
// "local" with its own targets (group_id = its tpg_id, state = its ALUA state) and one "remote"
// target group per peer ("remote" with one peer, else "remote-<peer>") listing the peer's
// targets with their rel_tgt_id only. rel_tgt_id is l.rtpID(wwpn), the RTP_id the hosts see.
// Each LUN is exported on every target of the node under its LUN number. Pacemaker role:
// AO -> promoted, OFFL -> stopped, else unpromoted.
package main

import (
	"fmt"
	"sort"
)

// SCST ALUA state names for the lab's TPG states.
var scstStateOf = map[string]string{
	StateAO: "active", StateANO: "nonoptimized", StateSTBY: "standby",
	StateUNAV: "unavailable", StateTRANS: "transitioning", StateOFFL: "offline",
}

var scstStates = []string{"active", "nonoptimized", "standby", "unavailable", "offline", "transitioning"}

// Pacemaker roles of a node (role of its instance of the promotable clone).
const (
	RolePromoted   = "promoted"
	RoleUnpromoted = "unpromoted"
	RoleStopped    = "stopped"
)

type scstDevice struct {
	Name      string `json:"name"`
	Canonical string `json:"canonical,omitempty"` // the LUN it is ("" for extra devices)
	Handler   string `json:"handler"`
	T10DevID  string `json:"t10_dev_id"`
	T10Set    bool   `json:"t10_dev_id_set"` // explicit (written with [key]) vs generated
	EUI64     string `json:"eui64_id"`       // hex without 0x, "" = not set
	NAA       string `json:"naa_id"`
	VendID    string `json:"t10_vend_id"`
	ProdID    string `json:"prod_id"`
	ProdSet   bool   `json:"prod_id_set"`
	USN       string `json:"usn"`
}

type scstTGTarget struct {
	Name     string `json:"name"`
	RelTgtID int    `json:"rel_tgt_id"`
	Local    bool   `json:"local"`
}

type scstTG struct {
	Name      string         `json:"name"`
	GroupID   int            `json:"group_id"`
	State     string         `json:"state"`
	Preferred bool           `json:"preferred"`
	Targets   []scstTGTarget `json:"targets"`
	origID    int            // the scenario tpg_id (key of group_state / group_id overrides)
}

type scstDG struct {
	Name    string   `json:"name"`
	Devices []string `json:"devices"`
	TGs     []scstTG `json:"target_groups"`
}

type scstLUNMap struct {
	LUN      int    `json:"lun"`
	Device   string `json:"device"`
	IniGroup string `json:"ini_group,omitempty"` // "": the default group (every initiator)
}

type scstTarget struct {
	Driver   string       `json:"driver"`
	Name     string       `json:"name"`
	Enabled  bool         `json:"enabled"`
	RelTgtID int          `json:"rel_tgt_id"`
	LUNs     []scstLUNMap `json:"luns"`
}

// scstView is one node's SCST state and Pacemaker role.
type scstView struct {
	Node    string       `json:"node"`
	Group   string       `json:"group"` // failover group: the nodes of one Pacemaker cluster
	SetupID uint32       `json:"setup_id"`
	Role    string       `json:"role"`
	Stopped bool         `json:"stopped"` // POST /scst stopped: view frozen
	Devices []scstDevice `json:"devices"`
	DGs     []scstDG     `json:"device_groups"`
	Targets []scstTarget `json:"targets"`
	ports   []uint64     // the node's own ports as the lab has them (before rename_target)
}

// scstLUN is one SCST LUN of the lab, gathered from the hosts' devices.
type scstLUN struct {
	Canonical, Vendor, Model string
	LUN                      int
	Nodes                    map[string]bool
}

func scstVendor(v string) bool { return v == "SCST_BIO" || v == "SCST_FIO" }

// scstLUNs lists the lab's SCST LUNs by LUN number (caller holds l.mu).
func (l *Lab) scstLUNs() []*scstLUN {
	byName := map[string]*scstLUN{}
	var out []*scstLUN
	for _, h := range l.Hosts {
		for _, d := range h.Devices {
			if d.Local || !scstVendor(d.Vendor) {
				continue
			}
			s := byName[d.Canonical]
			if s == nil {
				s = &scstLUN{Canonical: d.Canonical, Vendor: d.Vendor, Model: d.Model, LUN: d.LUN,
					Nodes: map[string]bool{}}
				byName[d.Canonical] = s
				out = append(out, s)
			}
			for _, p := range d.Paths {
				if p.Node != nil {
					s.Nodes[p.Node.Name] = true
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].LUN != out[j].LUN {
			return out[i].LUN < out[j].LUN
		}
		return out[i].Canonical < out[j].Canonical
	})
	return out
}

// scstNodes returns the SCST nodes, by name (caller holds l.mu).
func (l *Lab) scstNodes(luns []*scstLUN) []*StorageNode {
	groups := map[string]bool{}
	for _, s := range luns {
		for _, n := range l.Nodes {
			if s.Nodes[n.Name] {
				groups[n.Group] = true
			}
		}
	}
	var out []*StorageNode
	for _, n := range l.Nodes {
		if groups[n.Group] {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func scstHandler(vendor string) string {
	if vendor == "SCST_FIO" {
		return "vdisk_fileio"
	}
	return "vdisk_blockio"
}

func scstDefaultVendor(handler string) string {
	if handler == "vdisk_fileio" {
		return "SCST_FIO"
	}
	return "SCST_BIO"
}

// scstNewDevice builds a device as SCST shows it on a node with setupID.
func scstNewDevice(id scstIdentity, canonical, vendor string, setupID uint32) scstDevice {
	h := scstHandler(vendor)
	d := scstDevice{Name: id.Name, Canonical: canonical, Handler: h, EUI64: id.EUI64, NAA: id.NAA,
		VendID: scstDefaultVendor(h), ProdID: cut(id.Name, 16),
		USN: fmt.Sprintf("%x", scstDevIDNum(setupID, id.Name))}
	d.T10DevID = scstGenT10DevID(setupID, id.Name)
	if id.T10DevID != "" {
		d.T10DevID, d.T10Set = id.T10DevID, true
	}
	if id.ProdID != "" {
		d.ProdID, d.ProdSet = id.ProdID, true
	}
	return d
}

// buildSCSTView computes node n's view from the lab and its overrides (caller holds l.mu).
func (l *Lab) buildSCSTView(n *StorageNode, luns []*scstLUN, o *scstOverride) *scstView {
	v := &scstView{Node: n.Name, Group: n.Group, SetupID: o.setupID()}
	lunOf := map[string]int{}
	groupOf := map[string]string{} // device name -> its only initiator group (POST /scst ini_group)
	var exported []string          // device names, in LUN order
	for _, s := range luns {
		if !s.Nodes[n.Name] {
			continue
		}
		id := scstIdentityFor(s.Canonical, s.Model, s.LUN)
		d := scstNewDevice(id, s.Canonical, s.Vendor, v.SetupID)
		if t, ok := o.T10DevID[s.Canonical]; ok {
			d.T10DevID, d.T10Set = t, true
		}
		v.Devices = append(v.Devices, d)
		if !o.Unexport[s.Canonical] {
			lunOf[d.Name] = s.LUN
			groupOf[d.Name] = o.IniGroup[s.Canonical]
			exported = append(exported, d.Name)
		}
	}
	next := 0
	for _, num := range lunOf {
		if num >= next {
			next = num + 1
		}
	}
	for _, name := range o.Extra {
		v.Devices = append(v.Devices, scstNewDevice(scstIdentity{Name: name}, "", "SCST_BIO", v.SetupID))
		lunOf[name] = next
		exported = append(exported, name)
		next++
	}
	relTgt := func(wwpn uint64) int {
		if r, ok := o.RelTgtID[wwpn]; ok {
			return r
		}
		return l.rtpID(wwpn)
	}
	// rename_target: the WWPN this node reports for one of its own ports
	ownName := func(wwpn uint64) string {
		if to, ok := o.Rename[wwpn]; ok {
			return colonWWN(to)
		}
		return colonWWN(wwpn)
	}
	for _, p := range n.Ports {
		v.ports = append(v.ports, p.WWPN)
		t := scstTarget{Driver: "qla2x00t", Name: ownName(p.WWPN), Enabled: !o.Disabled[p.WWPN],
			RelTgtID: relTgt(p.WWPN), LUNs: []scstLUNMap{}}
		for _, name := range exported {
			t.LUNs = append(t.LUNs, scstLUNMap{LUN: lunOf[name], Device: name, IniGroup: groupOf[name]})
		}
		v.Targets = append(v.Targets, t)
	}
	tg := func(name string, node *StorageNode, local bool) scstTG {
		g := scstTG{Name: name, GroupID: node.TPG, State: scstStateOf[node.State], origID: node.TPG}
		if id, ok := o.GroupID[node.TPG]; ok {
			g.GroupID = id
		}
		if s, ok := o.GroupState[node.TPG]; ok {
			g.State = s
		}
		for _, p := range node.Ports {
			name := colonWWN(p.WWPN)
			if local {
				name = ownName(p.WWPN)
			}
			g.Targets = append(g.Targets, scstTGTarget{Name: name, RelTgtID: relTgt(p.WWPN), Local: local})
		}
		return g
	}
	dg := scstDG{Name: n.Group, Devices: []string{}, TGs: []scstTG{tg("local", n, true)}}
	for _, d := range v.Devices {
		dg.Devices = append(dg.Devices, d.Name)
	}
	var peers []*StorageNode
	for _, p := range l.Nodes {
		if p.Group == n.Group && p != n {
			peers = append(peers, p)
		}
	}
	sort.SliceStable(peers, func(i, j int) bool { return peers[i].TPG < peers[j].TPG })
	for _, p := range peers {
		name := "remote"
		if len(peers) > 1 {
			name = "remote-" + p.Name
		}
		dg.TGs = append(dg.TGs, tg(name, p, false))
	}
	v.DGs = []scstDG{dg}
	switch {
	case o.Role != "":
		v.Role = o.Role
	case n.State == StateAO:
		v.Role = RolePromoted
	case n.State == StateOFFL:
		v.Role = RoleStopped
	default:
		v.Role = RoleUnpromoted
	}
	return v
}
