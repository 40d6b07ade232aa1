// scst_control.go: the SCST view's state (per-node overrides), keeping it in step with the lab
// (scstSync after every change that can alter it), POST /scst and the "scst" part of GET /state.
//
// POST /scst changes only what one node's SCST (or Pacemaker) reports, not what the hosts
// see, so the two sides disagree (until the next /failover: scst_failover.go). Overrides add
// up until /reset or /load clears them.
package main

import (
	"fmt"
	"log"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
)

// scstOverride is what POST /scst changed on one node. Group keys are the scenario tpg_ids.
type scstOverride struct {
	SetupID    *uint32
	GroupState map[int]string
	GroupID    map[int]int
	Unexport   map[string]bool // canonical names
	Disabled   map[uint64]bool // own target WWPNs
	T10DevID   map[string]string
	Extra      []string
	Role       string
	RelTgtID   map[uint64]int
	Rename     map[uint64]uint64 // own target WWPN -> the WWPN the node reports instead
	IniGroup   map[string]string // canonical name -> the only initiator group it is exported to
	frozen     *scstView         // stopped: the view as it was when stopped
}

func (o *scstOverride) setupID() uint32 {
	if o.SetupID != nil {
		return *o.SetupID
	}
	return 0
}

func newSCSTOverride() *scstOverride {
	return &scstOverride{GroupState: map[int]string{}, GroupID: map[int]int{}, Unexport: map[string]bool{},
		Disabled: map[uint64]bool{}, T10DevID: map[string]string{}, RelTgtID: map[uint64]int{},
		Rename: map[uint64]uint64{}, IniGroup: map[string]string{}}
}

// scst holds the overrides and the last views; mu is taken before lab.mu, never after.
var scst = struct {
	mu    sync.Mutex
	dir   string // --scst-dir; "" keeps the view in memory only
	over  map[string]*scstOverride
	views map[string]*scstView
	w     *scstWriter
}{over: map[string]*scstOverride{}}

func init() {
	OnReset(func() { // /reset and /load: back to a consistent SAN
		scst.mu.Lock()
		scst.over = map[string]*scstOverride{}
		scst.mu.Unlock()
		if err := scstSync(); err != nil {
			log.Printf("scst: %v", err)
		}
	})
}

// scstSetDir sets --scst-dir (before the first scstSync).
func scstSetDir(dir string) {
	scst.mu.Lock()
	defer scst.mu.Unlock()
	scst.dir = dir
	if dir != "" {
		scst.w = newSCSTWriter(dir)
	}
}

// scstSync recomputes every SCST node's view and rewrites the files that changed.
func scstSync() error {
	scst.mu.Lock()
	defer scst.mu.Unlock()
	return scstSyncLocked()
}

func scstSyncLocked() error {
	lab.Lock()
	luns := lab.scstLUNs()
	views := map[string]*scstView{}
	for _, n := range lab.scstNodes(luns) {
		o := scst.over[n.Name]
		if o == nil {
			o = newSCSTOverride()
		}
		if o.frozen != nil {
			views[n.Name] = o.frozen
			continue
		}
		views[n.Name] = lab.buildSCSTView(n, luns, o)
	}
	lab.Unlock()
	scst.views = views
	if scst.w == nil {
		return nil
	}
	return scst.w.write(views)
}

// scstState is the "scst" part of GET /state: node -> view.
func scstState() map[string]interface{} {
	scst.mu.Lock()
	defer scst.mu.Unlock()
	nodes := map[string]*scstView{}
	for k, v := range scst.views {
		nodes[k] = v
	}
	return map[string]interface{}{"dir": scst.dir, "nodes": nodes}
}

// scstRequest is POST /scst's body: one node, any of the controls (see README.md).
type scstRequest struct {
	Node          string            `json:"node"`
	SetupID       *uint32           `json:"setup_id"`
	GroupState    map[string]string `json:"group_state"`
	Stopped       *bool             `json:"stopped"`
	Unexport      []string          `json:"unexport"`
	DisableTarget []string          `json:"disable_target"`
	T10DevID      map[string]string `json:"t10_dev_id"`
	ExtraDevice   *string           `json:"extra_device"`
	Role          *string           `json:"role"`
	RelTgtID      map[string]int    `json:"rel_tgt_id"`
	GroupID       map[string]int    `json:"group_id"`
	RenameTarget  map[string]string `json:"rename_target"`
	IniGroup      map[string]string `json:"ini_group"`
}

var scstNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,49}$`)

func postSCST(r *http.Request) (interface{}, error) {
	var req scstRequest
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	scst.mu.Lock()
	defer scst.mu.Unlock()
	cur := scst.views[req.Node]
	if cur == nil {
		var names []string
		for n := range scst.views {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, badRequest{fmt.Errorf("node %q is not an SCST storage node (SCST nodes: %v)", req.Node, names)}
	}
	old := scst.over[req.Node]
	if old == nil {
		old = newSCSTOverride()
	}
	o, err := applySCSTRequest(old, cur, req)
	if err != nil {
		return nil, badRequest{err}
	}
	scst.over[req.Node] = o
	if req.Stopped != nil {
		if *req.Stopped {
			// freeze what the node reports now (after this request's other changes)
			o.frozen = nil
			if err := scstSyncLocked(); err != nil {
				return nil, err
			}
			frozen := *scst.views[req.Node]
			frozen.Stopped, frozen.Role = true, RoleStopped
			o.frozen = &frozen
		} else {
			o.frozen = nil
		}
	}
	if err := scstSyncLocked(); err != nil {
		return nil, err
	}
	return scst.views[req.Node], nil
}

// applySCSTRequest returns a copy of o with req applied, checked against the node's current
// view cur. It changes nothing on error.
func applySCSTRequest(old *scstOverride, cur *scstView, req scstRequest) (*scstOverride, error) {
	o := copySCSTOverride(old)
	changed := false
	if old.frozen != nil && (req.Stopped == nil || *req.Stopped) {
		return nil, fmt.Errorf("node %s is stopped (its view is frozen): send {\"stopped\": false} first", cur.Node)
	}
	groups := map[int]bool{}
	targets := map[string]bool{}
	for _, g := range cur.DGs[0].TGs {
		groups[g.origID] = true
		for _, t := range g.Targets {
			targets[t.Name] = true
		}
	}
	devices := map[string]string{} // canonical -> name
	names := map[string]bool{}
	for _, d := range cur.Devices {
		names[d.Name] = true
		if d.Canonical != "" {
			devices[d.Canonical] = d.Name
		}
	}
	groupKey := func(k string) (int, error) {
		id, err := strconv.Atoi(k)
		if err != nil || !groups[id] {
			return 0, fmt.Errorf("node %s has no target group with group_id %q (keys are the scenario's tpg_ids)", cur.Node, k)
		}
		return id, nil
	}
	if req.SetupID != nil {
		v := *req.SetupID
		o.SetupID, changed = &v, true
	}
	for k, s := range req.GroupState {
		id, err := groupKey(k)
		if err != nil {
			return nil, err
		}
		if !contains(scstStates, s) {
			return nil, fmt.Errorf("group_state %s: %q is not one of %v", k, s, scstStates)
		}
		o.GroupState[id], changed = s, true
	}
	for k, v := range req.GroupID {
		id, err := groupKey(k)
		if err != nil {
			return nil, err
		}
		if v < 0 || v > 0xffff {
			return nil, fmt.Errorf("group_id %s: %d out of 0..65535", k, v)
		}
		o.GroupID[id], changed = v, true
	}
	for _, c := range req.Unexport {
		if devices[c] == "" {
			return nil, fmt.Errorf("node %s exports no SCST LUN %q", cur.Node, c)
		}
		o.Unexport[c], changed = true, true
	}
	for _, t := range req.DisableTarget {
		w, err := parseWWN(t)
		own := false
		for _, tg := range cur.Targets {
			own = own || tg.Name == colonWWN(w)
		}
		if err != nil || !own {
			return nil, fmt.Errorf("%q is not a target of node %s", t, cur.Node)
		}
		o.Disabled[w], changed = true, true
	}
	for c, v := range req.T10DevID {
		if devices[c] == "" {
			return nil, fmt.Errorf("node %s has no SCST device for %q", cur.Node, c)
		}
		if v == "" || len(v) > 25 || !scstNameRE.MatchString(v) {
			return nil, fmt.Errorf("t10_dev_id %q: want 1..25 characters [A-Za-z0-9_.-]", v)
		}
		o.T10DevID[c], changed = v, true
	}
	if req.ExtraDevice != nil {
		name := *req.ExtraDevice
		if !scstNameRE.MatchString(name) || names[name] {
			return nil, fmt.Errorf("extra_device %q: not a valid SCST device name or already used on %s", name, cur.Node)
		}
		o.Extra, changed = append(o.Extra, name), true
	}
	if req.Role != nil {
		switch *req.Role {
		case RolePromoted, RoleUnpromoted, RoleStopped:
		default:
			return nil, fmt.Errorf("role %q is not promoted, unpromoted or stopped", *req.Role)
		}
		o.Role, changed = *req.Role, true
	}
	for k, v := range req.RelTgtID {
		w, err := parseWWN(k)
		if err != nil || !targets[colonWWN(w)] {
			return nil, fmt.Errorf("node %s has no target %q in its target groups", cur.Node, k)
		}
		if v < 1 || v > 0xffff {
			return nil, fmt.Errorf("rel_tgt_id %s: %d out of 1..65535", k, v)
		}
		o.RelTgtID[w], changed = v, true
	}
	for k, v := range req.RenameTarget {
		w, err := parseWWN(k)
		own := false
		for _, p := range cur.ports {
			own = own || p == w
		}
		if err != nil || !own {
			return nil, fmt.Errorf("rename_target: %q is not a port of node %s", k, cur.Node)
		}
		to, err := parseWWN(v)
		if err != nil {
			return nil, fmt.Errorf("rename_target %s: %q is not a WWPN", k, v)
		}
		o.Rename[w], changed = to, true
	}
	for c, g := range req.IniGroup {
		if devices[c] == "" {
			return nil, fmt.Errorf("node %s exports no SCST LUN %q", cur.Node, c)
		}
		if !scstNameRE.MatchString(g) {
			return nil, fmt.Errorf("ini_group %q: not a valid SCST group name", g)
		}
		o.IniGroup[c], changed = g, true
	}
	if req.Stopped != nil {
		changed = true
	}
	if !changed {
		return nil, fmt.Errorf("nothing to change: give one of setup_id, group_state, stopped, unexport, " +
			"disable_target, t10_dev_id, extra_device, role, rel_tgt_id, group_id, rename_target, ini_group")
	}
	return o, nil
}

// copyInto copies every entry of src into dst.
func copyInto[K comparable, V any](dst, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}

func copySCSTOverride(o *scstOverride) *scstOverride {
	c := newSCSTOverride()
	c.SetupID, c.Role, c.frozen = o.SetupID, o.Role, o.frozen
	copyInto(c.GroupState, o.GroupState)
	copyInto(c.GroupID, o.GroupID)
	copyInto(c.Unexport, o.Unexport)
	copyInto(c.Disabled, o.Disabled)
	copyInto(c.T10DevID, o.T10DevID)
	copyInto(c.RelTgtID, o.RelTgtID)
	copyInto(c.Rename, o.Rename)
	copyInto(c.IniGroup, o.IniGroup)
	c.Extra = append([]string{}, o.Extra...)
	return c
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
