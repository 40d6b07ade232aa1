// scenario.go: the JSON scenario format (documented in README.md) and building lab state from it.
package main

import (
	"encoding/hex"
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
	State string   `json:"state"` // AO | ANO | STBY | UNAV
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
	VMFS          string   `json:"vmfs,omitempty"`       // already holds this VMFS datastore (provision.go)
	Partitions    bool     `json:"partitions,omitempty"` // has partitions but no VMFS (provision.go)
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
	seen := map[string]bool{}
	for _, h := range sc.Hosts {
		if h.Name == "" || seen[h.Name] {
			return fmt.Errorf("host name %q empty or duplicate", h.Name)
		}
		seen[h.Name] = true
		for _, a := range h.HBAs {
			if _, err := parseWWN(a.WWNN); err != nil {
				return fmt.Errorf("host %s %s: %w", h.Name, a.Device, err)
			}
			if _, err := parseWWN(a.WWPN); err != nil {
				return fmt.Errorf("host %s %s: %w", h.Name, a.Device, err)
			}
		}
	}
	nodes := map[string]bool{}
	for _, n := range sc.StorageNodes {
		if !validTPGState(n.State) {
			return fmt.Errorf("node %s: state %q not AO|ANO|STBY|UNAV", n.Name, n.State)
		}
		for _, p := range n.Ports {
			if _, err := parseWWN(p); err != nil {
				return fmt.Errorf("node %s: %w", n.Name, err)
			}
		}
		nodes[n.Name] = true
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

func (l LUNSpec) validate(nodes map[string]bool) error {
	if l.Canonical == "" {
		return fmt.Errorf("LUN without canonical name")
	}
	for _, n := range l.Nodes {
		if !nodes[n] {
			return fmt.Errorf("LUN %s: unknown storage node %q", l.Canonical, n)
		}
	}
	if l.PSP != "" && !ValidPSP(l.PSP) {
		return fmt.Errorf("LUN %s: invalid psp %q", l.Canonical, l.PSP)
	}
	if len(l.Nodes) == 0 && l.Adapter == "" {
		return fmt.Errorf("LUN %s: needs nodes (SAN) or adapter (local)", l.Canonical)
	}
	return nil
}

func validTPGState(s string) bool {
	switch s {
	case "AO", "ANO", "STBY", "UNAV":
		return true
	}
	return false
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

// Load (re)builds the lab state from a scenario. Host moids and host-owned object moids survive,
// so /reset can reload the scenario under the same vcsim inventory.
func (l *Lab) Load(sc *Scenario) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Nodes = nil
	for _, n := range sc.StorageNodes {
		node := &StorageNode{Name: n.Name, Group: n.Group, TPG: n.TPGID, State: n.State}
		for _, p := range n.Ports {
			wwpn, _ := parseWWN(p)
			node.Ports = append(node.Ports, TargetPort{WWNN: targetWWNN(wwpn), WWPN: wwpn})
		}
		l.Nodes = append(l.Nodes, node)
	}
	old := l.byName
	l.Hosts = nil
	l.byName = map[string]*Host{}
	l.byMoid = map[string]*Host{}
	for _, hs := range sc.Hosts {
		h := &Host{Name: hs.Name, Cluster: hs.Cluster, DNSName: hs.Name, Domain: sc.Domain,
			IP: hs.IP, Connected: true}
		if prev := old[hs.Name]; prev != nil {
			h.Moid = prev.Moid
			h.version = prev.version + 1
		}
		for _, a := range hs.HBAs {
			nwwn, _ := parseWWN(a.WWNN)
			pwwn, _ := parseWWN(a.WWPN)
			zone := sc.Zoning[a.Device]
			if z, ok := hs.Zoning[a.Device]; ok {
				zone = z
			}
			hba := &HBA{Device: a.Device, NodeWWN: nwwn, PortWWN: pwwn}
			for _, t := range zone {
				v, err := parseWWN(t)
				if err != nil {
					return fmt.Errorf("zoning %s: %w", a.Device, err)
				}
				hba.Targets = append(hba.Targets, v)
			}
			h.HBAs = append(h.HBAs, hba)
		}
		for _, r := range sc.SatpRules {
			if r.RuleGroup == "" {
				r.RuleGroup = "system"
			}
			h.SatpRules = append(h.SatpRules, r)
		}
		l.Hosts = append(l.Hosts, h)
		l.byName[h.Name] = h
		if h.Moid != "" {
			l.byMoid[h.Moid] = h
		}
	}
	for _, spec := range sc.LocalDevices {
		for _, h := range l.Hosts {
			if spec.onHost(h.Name) {
				h.Devices = append(h.Devices, l.newDevice(h, spec))
			}
		}
	}
	for _, spec := range sc.LUNs {
		for _, h := range l.Hosts {
			if spec.onHost(h.Name) {
				h.Devices = append(h.Devices, l.newDevice(h, spec))
			}
		}
	}
	return nil
}

func (s LUNSpec) onHost(name string) bool {
	if len(s.Hosts) == 0 {
		return true
	}
	for _, n := range s.Hosts {
		if n == name {
			return true
		}
	}
	return false
}

// newDevice builds a host's view of a LUN: paths from the host's zoning, policy from the
// spec or, where the spec leaves it out, from the host's SATP rules. Caller holds l.mu.
func (l *Lab) newDevice(h *Host, s LUNSpec) *Device {
	capacity := s.CapacityBytes
	if capacity == 0 {
		capacity = s.SizeGiB << 30
	}
	d := &Device{Canonical: s.Canonical, Vendor: s.Vendor, Model: s.Model, Capacity: capacity,
		BlockSize: 512, LUN: s.LUN, Local: s.Adapter != ""}
	d.UUID = deviceUUID(s)
	if d.Local {
		d.DisplayName = fmt.Sprintf("Local %s Disk (%s)", s.Vendor, s.Canonical)
		if h.HBA(s.Adapter) == nil {
			h.HBAs = append(h.HBAs, &HBA{Device: s.Adapter})
		}
		rt := fmt.Sprintf("%s:C0:T0:L%d", s.Adapter, s.LUN)
		d.Paths = []*Path{{Name: rt, Runtime: rt, Adapter: s.Adapter}}
	} else {
		d.DisplayName = fmt.Sprintf("%s Fibre Channel Disk (%s)", s.Vendor, s.Canonical)
		exported := map[string]bool{}
		for _, n := range s.Nodes {
			exported[n] = true
		}
		for _, a := range h.HBAs {
			for t, wwpn := range a.Targets {
				n := l.nodeOfPort(wwpn)
				if n == nil || !exported[n.Name] {
					continue
				}
				tw := targetWWNN(wwpn)
				d.Paths = append(d.Paths, &Path{
					Name: fmt.Sprintf("fc.%s:%s-fc.%s:%s-%s", wwnHex(a.NodeWWN), wwnHex(a.PortWWN),
						wwnHex(tw), wwnHex(wwpn), s.Canonical),
					Runtime:    fmt.Sprintf("%s:C0:T%d:L%d", a.Device, t, s.LUN),
					Adapter:    a.Device,
					TargetWWNN: tw, TargetWWPN: wwpn, Target: t, TPG: n.TPG,
				})
			}
		}
	}
	satp, psp, rr := h.ClaimPolicy(s.Vendor, s.Model, s.Canonical, len(s.Nodes) > 0)
	if s.SATP != "" {
		satp = s.SATP
		if s.PSP == "" {
			psp = satpDefaultPSP[satp]
		}
	}
	if s.PSP != "" {
		psp = s.PSP
	}
	if s.RR != nil {
		rr = DefaultRR()
		if s.RR.LimitType != "" {
			rr.LimitType = s.RR.LimitType
		}
		if s.RR.IOPS != 0 {
			rr.IOPS = s.RR.IOPS
		}
		if s.RR.Bytes != 0 {
			rr.Bytes = s.RR.Bytes
		}
		rr.UseANO = s.RR.UseANO
	}
	d.SATP, d.PSP, d.RR = satp, psp, rr
	return d
}

// deviceUUID mimics ESXi's ScsiLun.uuid: 02 00 <lun> 00 00 00 + device id + model bytes.
// It is the same on every host for the same LUN, like on ESXi.
func deviceUUID(s LUNSpec) string {
	id := s.Canonical
	if i := strings.IndexByte(id, '.'); i >= 0 {
		id = id[i+1:]
	}
	if _, err := hex.DecodeString(id); err != nil {
		id = hex.EncodeToString([]byte(id))
	}
	model := (s.Model + "      ")[:6]
	return fmt.Sprintf("0200%02x0000%s%s", s.LUN&0xff, id, hex.EncodeToString([]byte(model)))
}

// AddLUN adds a LUN to every host it is on (POST /lun add) and publishes those hosts.
func (l *Lab) AddLUN(s LUNSpec) error {
	l.mu.Lock()
	nodes := map[string]bool{}
	for _, n := range l.Nodes {
		nodes[n.Name] = true
	}
	if err := s.validate(nodes); err != nil {
		l.mu.Unlock()
		return errf("argument", "%v", err)
	}
	var changed []*Host
	for _, h := range l.Hosts {
		if !s.onHost(h.Name) {
			continue
		}
		if h.Device(s.Canonical) != nil {
			l.mu.Unlock()
			return errf("argument", "LUN %s already exists on %s", s.Canonical, h.Name)
		}
		if other := l.lunNumberUser(h, s); other != "" {
			l.mu.Unlock()
			return errf("argument", "LUN number %d is already used by %s on %s", s.LUN, other, h.Name)
		}
	}
	for _, h := range l.Hosts {
		if s.onHost(h.Name) {
			h.Devices = append(h.Devices, l.newDevice(h, s))
			h.version++
			changed = append(changed, h)
		}
	}
	l.mu.Unlock()
	for _, h := range changed {
		l.Publish(h)
	}
	if len(changed) == 0 {
		return errf("argument", "LUN %s matches no host", s.Canonical)
	}
	return nil
}

// lunNumberUser names the SAN device on h that has s's LUN number on one of s's nodes, or "".
// Caller holds l.mu.
func (l *Lab) lunNumberUser(h *Host, s LUNSpec) string {
	tpgs := map[int]bool{}
	for _, name := range s.Nodes {
		if n := l.NodeByName(name); n != nil {
			tpgs[n.TPG] = true
		}
	}
	for _, d := range h.Devices {
		if d.Local || d.LUN != s.LUN {
			continue
		}
		for _, p := range d.Paths {
			if tpgs[p.TPG] {
				return d.Canonical
			}
		}
	}
	return ""
}

// RemoveLUN removes a LUN from every host (POST /lun remove).
func (l *Lab) RemoveLUN(canonical string) error {
	l.mu.Lock()
	var changed []*Host
	for _, h := range l.Hosts {
		for i, d := range h.Devices {
			if d.Canonical == canonical {
				h.Devices = append(h.Devices[:i:i], h.Devices[i+1:]...)
				h.version++
				changed = append(changed, h)
				break
			}
		}
	}
	l.mu.Unlock()
	if len(changed) == 0 {
		return errf("device", "unknown LUN %s", canonical)
	}
	for _, h := range changed {
		l.Publish(h)
	}
	return nil
}
