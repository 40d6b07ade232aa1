// scenario_load.go: building lab state from a scenario (start, POST /reset, POST /load) and
// adding or removing LUNs at run time (POST /lun).
package main

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Load (re)builds the lab state from a scenario. The new state is built aside and swapped in
// at the end, so a scenario that fails here (a path override naming no path) leaves the lab
// as it was. Host moids and host-owned object moids survive, so /reset and /load reuse the
// vcsim inventory.
func (l *Lab) Load(sc *Scenario) error {
	next := &Lab{}
	for _, n := range sc.StorageNodes {
		node := &StorageNode{Name: n.Name, Group: n.Group, TPG: n.TPGID, State: n.State}
		for _, p := range n.Ports {
			wwpn, _ := parseWWN(p)
			node.Ports = append(node.Ports, TargetPort{WWNN: targetWWNN(wwpn), WWPN: wwpn})
		}
		next.Nodes = append(next.Nodes, node)
	}
	for _, hs := range sc.Hosts {
		h, err := hostFromSpec(sc, hs)
		if err != nil {
			return err
		}
		next.Hosts = append(next.Hosts, h)
	}
	for _, specs := range [][]LUNSpec{sc.LocalDevices, sc.LUNs} {
		for _, spec := range specs {
			for _, h := range next.Hosts {
				if spec.onHost(h.Name) {
					h.Devices = append(h.Devices, next.newDevice(h, spec))
				}
			}
		}
	}
	for i, hs := range sc.Hosts {
		h := next.Hosts[i]
		for _, ps := range hs.Paths {
			override, _ := pathOverride(ps.State) // checked by Validate
			if len(h.overridePaths(ps.Path, ps.Device, override)) == 0 {
				return fmt.Errorf("host %s: paths: no path %q (device %q)", h.Name, ps.Path, ps.Device)
			}
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.byName
	l.Nodes, l.Hosts = next.Nodes, next.Hosts
	l.byName = map[string]*Host{}
	l.byMoid = map[string]*Host{}
	for _, h := range l.Hosts {
		if prev := old[h.Name]; prev != nil {
			h.Moid = prev.Moid
			h.version = prev.version + 1
		}
		l.byName[h.Name] = h
		if h.Moid != "" {
			l.byMoid[h.Moid] = h
		}
	}
	return nil
}

// hostFromSpec builds one host's HBAs, rules and state (no devices yet).
func hostFromSpec(sc *Scenario, hs HostSpec) (*Host, error) {
	h := &Host{Name: hs.Name, Cluster: hs.Cluster, DNSName: hs.Name, Domain: sc.Domain,
		IP: hs.IP, Connection: ConnConnected, Maintenance: hs.Maintenance,
		StorageUnreadable: hs.StorageUnreadable}
	if hs.Connection != "" {
		h.Connection = hs.Connection
	}
	if len(hs.ALUA) > 0 {
		h.ALUA = map[string]string{}
		for node, state := range hs.ALUA {
			h.ALUA[node] = state
		}
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
				return nil, fmt.Errorf("zoning %s: %w", a.Device, err)
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
	return h, nil
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
		BlockSize: 512, LUN: s.LUN, Local: s.Adapter != "", MPP: MPPNMP}
	if len(s.OperationalState) > 0 {
		d.OpState = append([]string{}, s.OperationalState...)
	}
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
					TargetWWNN: tw, TargetWWPN: wwpn, Target: t, Node: n,
				})
			}
		}
	}
	if s.MPP == MPPHPP { // no SATP, no NMP PSP: the spec's satp, rr and VMW_PSP_* psp are ignored
		d.MPP, d.PSP, d.RR = MPPHPP, HPPLBRR, DefaultRR()
		if validHPPScheme(s.PSP) {
			d.PSP = s.PSP
		}
		return d
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
	return scstSync() // the SCST nodes export it too (scst_control.go)
}

// lunNumberUser names the SAN device on h that has s's LUN number on one of s's nodes, or "".
// Caller holds l.mu.
func (l *Lab) lunNumberUser(h *Host, s LUNSpec) string {
	nodes := map[string]bool{}
	for _, name := range s.Nodes {
		nodes[name] = true
	}
	for _, d := range h.Devices {
		if d.Local || d.LUN != s.LUN {
			continue
		}
		for _, p := range d.Paths {
			if p.ALUA() && nodes[p.Node.Name] {
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
	return scstSync() // and no longer export it (scst_control.go)
}
