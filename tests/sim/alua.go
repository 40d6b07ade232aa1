// alua.go: ALUA states as a host sees them (path, per-host view, node), the working paths they
// give, and the control operations that change them (failover, node state, host view, path
// override).
//
// Precedence for one path on one host: the path's override (POST /path) > the host's own view
// of the node (Host.ALUA, POST /host-alua) > the node's state (POST /node, /failover).
package main

import (
	"sort"
)

// ALUA target port group states, as esxcli prints them in TPG_state.
const (
	StateAO    = "AO"
	StateANO   = "ANO"
	StateSTBY  = "STBY"
	StateUNAV  = "UNAV"
	StateTRANS = "TRANS" // transitioning
	StateOFFL  = "OFFL"  // offline (ESOS sets it on a stopped node; ESXi takes the path as dead)
)

func validTPGState(s string) bool {
	switch s {
	case StateAO, StateANO, StateSTBY, StateUNAV, StateTRANS, StateOFFL:
		return true
	}
	return false
}

const tpgStates = "AO|ANO|STBY|UNAV|TRANS|OFFL"

// overrideTPG maps a path override to the TPG state it shows ("" for dead: a dead path keeps
// showing its group's state, only its Group State is dead).
var overrideTPG = map[string]string{
	"standby": StateSTBY, "unavailable": StateUNAV, "transitioning": StateTRANS, "offline": StateOFFL,
}

const pathStates = "dead|standby|unavailable|transitioning|offline|active"

// pathOverride turns a POST /path state into an override ("" clears).
func pathOverride(state string) (string, error) {
	switch state {
	case "active":
		return "", nil
	case "dead", "standby", "unavailable", "transitioning", "offline":
		return state, nil
	}
	return "", errf("argument", "state %q not %s", state, pathStates)
}

// groupStates is esxcli's Group State of a path for each TPG state.
var groupStates = map[string]string{
	StateAO: "active", StateANO: "active unoptimized", StateSTBY: "standby",
	StateUNAV: "unavailable", StateTRANS: "transitioning", StateOFFL: "dead",
}

// NodeState is the state h sees node n in: its own view when it has one, else the node's.
// Caller holds l.mu.
func (h *Host) NodeState(n *StorageNode) string {
	if s := h.ALUA[n.Name]; s != "" {
		return s
	}
	return n.State
}

// TPGState returns the ALUA state of p's target port group as h sees it (AO, ANO, STBY, UNAV,
// TRANS, OFFL); a standby/unavailable/transitioning/offline override of the path wins. ""
// for non-ALUA paths. Caller holds l.mu.
func (h *Host) TPGState(p *Path) string {
	if !p.ALUA() {
		return ""
	}
	if s := overrideTPG[p.Override]; s != "" {
		return s
	}
	return h.NodeState(p.Node)
}

// GroupState is esxcli's "Group State" of a path: active, active unoptimized, standby,
// unavailable, transitioning, or dead (a dead or offline path, an OFFL group). Caller holds l.mu.
func (h *Host) GroupState(p *Path) string {
	if p.Override == "dead" || p.Override == "offline" {
		return "dead"
	}
	if !p.ALUA() {
		if p.Override != "" {
			return p.Override // standby | unavailable | transitioning
		}
		return "active"
	}
	if g := groupStates[h.TPGState(p)]; g != "" {
		return g
	}
	return "unavailable"
}

// PathState is the typed API's HostMultipathInfoPath.state: active for paths that can carry
// I/O (AO and ANO groups), dead (dead, offline), standby for the rest (STBY, UNAV, TRANS).
// Caller holds l.mu.
func (h *Host) PathState(p *Path) string {
	switch h.GroupState(p) {
	case "active", "active unoptimized":
		return "active"
	case "dead":
		return "dead"
	default:
		return "standby"
	}
}

// WorkingPaths returns the paths the PSP sends I/O down (caller holds l.mu):
// RR: every AO path (plus ANO paths when useANO), falling back to ANO when no AO path is live;
// MRU: the first AO path, else the first ANO; FIXED: the first path (preferred) when usable,
// else as MRU. HPP schemes: LB-* as RR without useANO, FIXED as FIXED (hpp.go).
// Standby, unavailable, transitioning, offline and dead paths never work.
func (h *Host) WorkingPaths(d *Device) []*Path {
	var ao, ano []*Path
	for _, p := range d.Paths {
		switch h.GroupState(p) {
		case "active":
			ao = append(ao, p)
		case "active unoptimized":
			ano = append(ano, p)
		}
	}
	first := func() []*Path {
		if len(ao) > 0 {
			return ao[:1]
		}
		if len(ano) > 0 {
			return ano[:1]
		}
		return nil
	}
	switch d.selection() {
	case PSPRR:
		if d.RR.UseANO && d.MPP != MPPHPP {
			return append(append([]*Path{}, ao...), ano...)
		}
		if len(ao) > 0 {
			return ao
		}
		return ano
	case PSPFixed:
		if len(d.Paths) > 0 {
			switch h.GroupState(d.Paths[0]) {
			case "active", "active unoptimized":
				return d.Paths[:1]
			}
		}
		return first()
	default:
		return first()
	}
}

// IsWorking tells whether p is one of d's working paths (caller holds l.mu).
func (h *Host) IsWorking(d *Device, p *Path) bool {
	for _, w := range h.WorkingPaths(d) {
		if w == p {
			return true
		}
	}
	return false
}

// TPGNodes returns the distinct nodes (target port groups) of a device's ALUA paths, by
// ascending TPG id (caller holds l.mu).
func (d *Device) TPGNodes() []*StorageNode {
	seen := map[*StorageNode]bool{}
	var nodes []*StorageNode
	for _, p := range d.Paths {
		if p.ALUA() && !seen[p.Node] {
			seen[p.Node] = true
			nodes = append(nodes, p.Node)
		}
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].TPG < nodes[j].TPG })
	return nodes
}

// bumpAll marks every host's view stale (caller holds l.mu).
func (l *Lab) bumpAll() {
	for _, h := range l.Hosts {
		h.version++
	}
}

// Failover makes node AO and every other node of its failover group ANO, whatever state they
// were in (STBY, UNAV, TRANS, OFFL included), as a Pacemaker master move does. Path overrides
// and per-host views (Host.ALUA) are left alone: a host whose view is stuck keeps it.
// What each node's SCST side reports then decides what the hosts see (scst_failover.go).
func (l *Lab) Failover(node string) error {
	scst.mu.Lock() // taken before l.mu (scst_control.go)
	defer scst.mu.Unlock()
	l.mu.Lock()
	n := l.NodeByName(node)
	if n == nil {
		l.mu.Unlock()
		return errf("argument", "unknown storage node %q", node)
	}
	for _, o := range l.Nodes {
		if o.Group != n.Group {
			continue
		}
		if o == n {
			o.State = StateAO
		} else {
			o.State = StateANO
		}
	}
	l.scstFailoverLocked(n.Group)
	l.bumpAll()
	l.mu.Unlock()
	l.PublishAll()
	return scstSyncLocked() // the nodes' SCST view and Pacemaker roles follow (scst_control.go)
}

// SetNodeState sets one node's ALUA state (AO|ANO|STBY|UNAV|TRANS|OFFL) on every host.
func (l *Lab) SetNodeState(node, state string) error {
	if !validTPGState(state) {
		return errf("argument", "state %q not %s", state, tpgStates)
	}
	l.mu.Lock()
	n := l.NodeByName(node)
	if n == nil {
		l.mu.Unlock()
		return errf("argument", "unknown storage node %q", node)
	}
	n.State = state
	l.bumpAll()
	l.mu.Unlock()
	l.PublishAll()
	return scstSync() // the nodes' SCST view and Pacemaker roles follow (scst_control.go)
}

// SetHostALUA sets the state one host sees a node in (state "" clears the view; the host then
// follows the node again). The view survives /failover until cleared.
func (l *Lab) SetHostALUA(host, node, state string) error {
	if state != "" && !validTPGState(state) {
		return errf("argument", "state %q not %s or \"\"", state, tpgStates)
	}
	l.mu.Lock()
	h := l.byName[host]
	if h == nil {
		l.mu.Unlock()
		return errf("host", "unknown host %q", host)
	}
	if l.NodeByName(node) == nil {
		l.mu.Unlock()
		return errf("argument", "unknown storage node %q", node)
	}
	if state == "" {
		delete(h.ALUA, node)
	} else {
		if h.ALUA == nil {
			h.ALUA = map[string]string{}
		}
		h.ALUA[node] = state
	}
	h.version++
	l.mu.Unlock()
	l.Publish(h)
	return nil
}

// SetPathState overrides one path's state on one host: dead, standby, unavailable,
// transitioning or offline, or active to clear the override (the path then follows its TPG
// again). path is a path name or a runtime name; device, when given, restricts the search to
// that device. It returns the names of the changed paths.
func (l *Lab) SetPathState(host, path, device, state string) ([]string, error) {
	override, err := pathOverride(state)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	h := l.byName[host]
	if h == nil {
		l.mu.Unlock()
		return nil, errf("host", "unknown host %q", host)
	}
	changed := h.overridePaths(path, device, override)
	if len(changed) == 0 {
		l.mu.Unlock()
		return nil, errf("argument", "no path %q on %s", path, host)
	}
	h.version++
	l.mu.Unlock()
	l.Publish(h)
	return changed, nil
}

// overridePaths sets the override of every path of h named path (path or runtime name), on
// device when given, and returns their names (caller holds l.mu, or h is not shared yet).
func (h *Host) overridePaths(path, device, override string) []string {
	var changed []string
	for _, d := range h.Devices {
		if device != "" && d.Canonical != device {
			continue
		}
		for _, p := range d.Paths {
			if p.Name == path || p.Runtime == path {
				p.Override = override
				changed = append(changed, p.Name)
			}
		}
	}
	return changed
}
