// scenario.go: the JSON scenario format (documented in README.md) and building lab state from it.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Scenario describes a whole estate: vCenter inventory, fabric, storage nodes and LUNs.
type Scenario struct {
	Datacenter   string              `json:"datacenter"`
	Domain       string              `json:"domain"`
	Hosts        []HostSpec          `json:"hosts"`
	Zoning       map[string][]string `json:"zoning"` // HBA device -> target WWPNs, in target-number order
	StorageNodes []NodeSpec          `json:"storage_nodes"`
	LocalDevices []LUNSpec           `json:"local_devices"` // on every host, one path via Adapter
	LUNs         []LUNSpec           `json:"luns"`
	SatpRules    []SatpRule          `json:"satp_rules"` // system rules on every host
}

// HostSpec is one ESXi host.
type HostSpec struct {
	Name    string              `json:"name"`
	Cluster string              `json:"cluster,omitempty"` // "" = standalone
	IP      string              `json:"ip"`
	HBAs    []HBASpec           `json:"hbas"`
	Zoning  map[string][]string `json:"zoning,omitempty"` // overrides Scenario.Zoning per HBA
	// Host state at load (hoststate.go, alua.go).
	Maintenance       bool              `json:"maintenance,omitempty"`
	Connection        string            `json:"connection,omitempty"` // connected (default) | disconnected | notResponding
	StorageUnreadable bool              `json:"storage_unreadable,omitempty"`
	ALUA              map[string]string `json:"alua,omitempty"`  // node name -> state this host sees
	Paths             []PathSpec        `json:"paths,omitempty"` // path overrides, as POST /path
}

// PathSpec overrides one host's path at load: Path is a path or runtime name, State as POST
// /path (dead|standby|unavailable|transitioning|offline|active).
type PathSpec struct {
	Device string `json:"device,omitempty"`
	Path   string `json:"path"`
	State  string `json:"state"`
}

// HBASpec is one FC HBA.
type HBASpec struct {
	Device string `json:"device"`
	WWNN   string `json:"wwnn"`
	WWPN   string `json:"wwpn"`
}

// NodeSpec is a storage node (controller) with its target port group.
type NodeSpec struct {
	Name  string   `json:"name"`
	Group string   `json:"group,omitempty"`
	TPGID int      `json:"tpg_id"`
	State string   `json:"state"` // AO | ANO | STBY | UNAV | TRANS | OFFL
	Ports []string `json:"ports"` // target WWPNs; WWNN = WWPN with its first two bytes set to 20:00
}

// RRSpec is an initial Round Robin configuration.
type RRSpec struct {
	LimitType string `json:"limit_type,omitempty"`
	IOPS      int    `json:"iops,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
	UseANO    bool   `json:"use_ano,omitempty"`
}

// LUNSpec is one device: a SAN LUN exported by Nodes, or a local device on Adapter.
type LUNSpec struct {
	Canonical     string   `json:"canonical"`
	Vendor        string   `json:"vendor"`
	Model         string   `json:"model"`
	LUN           int      `json:"lun"`
	SizeGiB       int64    `json:"size_gib,omitempty"`
	CapacityBytes int64    `json:"capacity_bytes,omitempty"`
	Nodes         []string `json:"nodes,omitempty"`   // storage nodes exporting it (SAN LUNs)
	Adapter       string   `json:"adapter,omitempty"` // local devices: the block HBA
	SATP          string   `json:"satp,omitempty"`    // omitted: chosen by the host's SATP rules
	PSP           string   `json:"psp,omitempty"`
	RR            *RRSpec  `json:"rr,omitempty"`
	Hosts         []string `json:"hosts,omitempty"`      // omitted: every host
	VMFS          string   `json:"vmfs,omitempty"`       // already holds this VMFS datastore (provision_state.go)
	Partitions    bool     `json:"partitions,omitempty"` // has partitions but no VMFS (provision_state.go)
	// MPP is the multipath plugin: "NMP" (default) or "HPP" (hpp.go; psp is then an HPP path
	// selection scheme, default LB-RR; satp, rr and a VMW_PSP_* psp are ignored).
	MPP string `json:"mpp,omitempty"`
	// OperationalState is ScsiLun.operationalState on every host (default ["ok"]).
	OperationalState []string `json:"operational_state,omitempty"`
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sc Scenario
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sc, nil
}

// Validate checks names and WWNs so that mistakes fail at start, not as odd behaviour later.
func (sc *Scenario) Validate() error {
	if sc.Datacenter == "" {
		sc.Datacenter = "DC0"
	}
	if len(sc.Hosts) == 0 {
		return fmt.Errorf("no hosts")
	}
	nodes := map[string]bool{}
	for _, n := range sc.StorageNodes {
		if n.Name == "" || nodes[n.Name] {
			return fmt.Errorf("storage node name %q empty or duplicate", n.Name)
		}
		if !validTPGState(n.State) {
			return fmt.Errorf("node %s: state %q not %s", n.Name, n.State, tpgStates)
		}
		for _, p := range n.Ports {
			if _, err := parseWWN(p); err != nil {
				return fmt.Errorf("node %s: %w", n.Name, err)
			}
		}
		nodes[n.Name] = true
	}
	seen := map[string]bool{}
	for _, h := range sc.Hosts {
		if h.Name == "" || seen[h.Name] {
			return fmt.Errorf("host name %q empty or duplicate", h.Name)
		}
		seen[h.Name] = true
		if err := h.validate(nodes); err != nil {
			return err
		}
	}
	canonical := map[string]bool{}
	for _, l := range append(append([]LUNSpec{}, sc.LocalDevices...), sc.LUNs...) {
		if err := l.validate(nodes); err != nil {
			return err
		}
		if canonical[l.Canonical] {
			return fmt.Errorf("LUN %s defined twice", l.Canonical)
		}
		canonical[l.Canonical] = true
	}
	// Two LUNs with one number on one node would share runtime names (vmhba2:C0:T0:L1).
	numbers := map[string]string{}
	for _, l := range sc.LUNs {
		for _, n := range l.Nodes {
			key := fmt.Sprintf("%s/%d", n, l.LUN)
			if other, dup := numbers[key]; dup {
				return fmt.Errorf("LUNs %s and %s both use LUN number %d on node %s", other, l.Canonical, l.LUN, n)
			}
			numbers[key] = l.Canonical
		}
	}
	return nil
}

func (h HostSpec) validate(nodes map[string]bool) error {
	for _, a := range h.HBAs {
		if _, err := parseWWN(a.WWNN); err != nil {
			return fmt.Errorf("host %s %s: %w", h.Name, a.Device, err)
		}
		if _, err := parseWWN(a.WWPN); err != nil {
			return fmt.Errorf("host %s %s: %w", h.Name, a.Device, err)
		}
	}
	switch h.Connection {
	case "", ConnConnected, ConnDisconnected, ConnNotResponding:
	default:
		return fmt.Errorf("host %s: connection %q not %s", h.Name, h.Connection, connections)
	}
	for node, state := range h.ALUA {
		if !nodes[node] {
			return fmt.Errorf("host %s: alua: unknown storage node %q", h.Name, node)
		}
		if !validTPGState(state) {
			return fmt.Errorf("host %s: alua %s: state %q not %s", h.Name, node, state, tpgStates)
		}
	}
	for _, p := range h.Paths {
		if p.Path == "" {
			return fmt.Errorf("host %s: paths: entry without path", h.Name)
		}
		if _, err := pathOverride(p.State); err != nil {
			return fmt.Errorf("host %s: path %s: %v", h.Name, p.Path, err)
		}
	}
	return nil
}

func (l LUNSpec) validate(nodes map[string]bool) error {
	if l.Canonical == "" {
		return fmt.Errorf("LUN without canonical name")
	}
	for _, n := range l.Nodes {
		if !nodes[n] {
			return fmt.Errorf("LUN %s: unknown storage node %q", l.Canonical, n)
		}
	}
	switch l.MPP {
	case "", MPPNMP:
		if l.PSP != "" && !ValidPSP(l.PSP) {
			return fmt.Errorf("LUN %s: invalid psp %q", l.Canonical, l.PSP)
		}
	case MPPHPP: // satp, rr and an NMP psp are ignored (hpp.go), so a LUN spec can flip to HPP
		if l.PSP != "" && !validHPPScheme(l.PSP) && !ValidPSP(l.PSP) {
			return fmt.Errorf("LUN %s: psp %q is not an HPP path selection scheme (%s)", l.Canonical,
				l.PSP, strings.Join(ValidHPPSchemes, ", "))
		}
	default:
		return fmt.Errorf("LUN %s: mpp %q not NMP or HPP", l.Canonical, l.MPP)
	}
	if err := validOpState(l.OperationalState); err != nil {
		return fmt.Errorf("LUN %s: %v", l.Canonical, err)
	}
	if len(l.Nodes) == 0 && l.Adapter == "" {
		return fmt.Errorf("LUN %s: needs nodes (SAN) or adapter (local)", l.Canonical)
	}
	return nil
}

// parseWWN parses "21:00:00:24:ff:54:09:80" (colons optional).
func parseWWN(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.ReplaceAll(s, ":", ""), 16, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("bad WWN %q", s)
	}
	return v, nil
}

// targetWWNN derives a port's node name: the WWPN with its first two bytes set to 20:00.
func targetWWNN(wwpn uint64) uint64 { return 0x2000<<48 | wwpn&(1<<48-1) }

// wwnHex prints a WWN as esxcli path names do: 16 hex digits, no colons.
func wwnHex(v uint64) string { return fmt.Sprintf("%016x", v) }
