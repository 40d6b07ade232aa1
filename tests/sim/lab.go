// lab.go: the simulated SAN and the per-host storage state it is seen through.
//
// State model (everything below is guarded by Lab.mu; take it through the exported methods):
//
//	Lab
//	  Nodes      storage nodes (SCST controllers, other arrays): name, failover group, TPG id
//	             (any int, 0 included), ALUA state (AO|ANO|STBY|UNAV|TRANS|OFFL), target ports
//	             (WWNN/WWPN). Shared by all hosts: a failover changes the state every host sees,
//	             except where a host has its own view of the node (Host.ALUA).
//	  Hosts      by name and by moid (host-NN); each Host holds
//	    Name, Moid, Cluster ("" = standalone), DNS name/domain, vnic IP,
//	    Connection (connected|disconnected|notResponding), Maintenance, StorageUnreadable,
//	    ALUA       node name -> ALUA state this host sees ("stuck" view; wins over Node.State)
//	    HBAs       device (vmhba2), FC node/port WWN (0 for local block HBAs)
//	    Devices    ordered; canonical name, vendor, model, display name, uuid, capacity, local,
//	               LUN number, MPP (NMP|HPP), SATP, PSP (HPP: path selection scheme), RR config
//	               {LimitType default|iops|bytes|latency, IOPS, Bytes, UseANO}, OpState
//	               (ScsiLun.operationalState), Paths (name, runtime name, adapter, target
//	               WWNN/WWPN, target number, Node (nil = not ALUA), Override "" or
//	               dead|standby|unavailable|transitioning|offline)
//	    SatpRules  claim rules (system + user), consulted when a LUN appears
//	  writes / calls / esxcli counters for GET /stats
//
// Derived views, always computed from that state (alua.go): Host.TPGState(path) with the
// precedence path override > host view > node state; Host.GroupState(path) ("active", "active
// unoptimized", "standby", "unavailable", "transitioning", "dead"); Host.WorkingPaths(dev) (MRU:
// one AO path; RR: the AO paths, plus ANO with useANO; FIXED: the preferred path); and the typed
// vSphere view (types.HostStorageDeviceInfo, view.go) that Publish installs on the host.
//
// Locking: vcsim locks one managed object per SOAP call, then our code takes Lab.mu. So Lab.mu is
// never held while taking a vcsim object lock: mutators change state under Lab.mu, build the new
// typed view, release Lab.mu, then publish it (see publish in inventory.go).
package main

import (
	"fmt"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
)

// PSP and SATP names the simulated hosts know.
const (
	PSPRR    = "VMW_PSP_RR"
	PSPMRU   = "VMW_PSP_MRU"
	PSPFixed = "VMW_PSP_FIXED"

	SATPALUA  = "VMW_SATP_ALUA"
	SATPLocal = "VMW_SATP_LOCAL"
	SATPAA    = "VMW_SATP_DEFAULT_AA"
)

// RR defaults of ESXi's VMW_PSP_RR.
const (
	DefaultRRIOPS  = 1000
	DefaultRRBytes = 10485760
)

// ValidPSPs are the path selection plugins a host accepts.
var ValidPSPs = []string{PSPRR, PSPMRU, PSPFixed}

// satpDefaultPSP is the PSP a SATP claims with when no rule names one.
var satpDefaultPSP = map[string]string{
	SATPALUA:  PSPMRU,
	SATPLocal: PSPFixed,
	SATPAA:    PSPFixed,
}

// TargetPort is one FC port of a storage node.
type TargetPort struct {
	WWNN uint64
	WWPN uint64
}

// StorageNode is one controller (or array) with its target port group.
type StorageNode struct {
	Name  string
	Group string // failover group: /failover flips the states of nodes in one group
	TPG   int    // target port group id; 0 is a valid id
	State string // AO | ANO | STBY | UNAV | TRANS | OFFL
	Ports []TargetPort
}

// HBA is one host bus adapter. Local (block) HBAs have zero WWNs.
type HBA struct {
	Device  string
	NodeWWN uint64
	PortWWN uint64
	// Targets lists the target WWPNs this HBA reaches, in target-number order (T0, T1, ...).
	Targets []uint64
}

// IsFC tells a fibre channel HBA from a local one.
func (a *HBA) IsFC() bool { return a.PortWWN != 0 }

// RRConfig is VMW_PSP_RR's per-device configuration.
type RRConfig struct {
	LimitType string // default | iops | bytes | latency
	IOPS      int
	Bytes     int64
	UseANO    bool
}

// DefaultRR is the configuration RR starts with on a device.
func DefaultRR() RRConfig {
	return RRConfig{LimitType: "default", IOPS: DefaultRRIOPS, Bytes: DefaultRRBytes}
}

// String renders the config the way esxcli's "Path Selection Policy Device Config" begins.
func (c RRConfig) String() string {
	policy := c.LimitType
	if policy == "default" {
		policy = "rr"
	}
	ano := 0
	if c.UseANO {
		ano = 1
	}
	return fmt.Sprintf("policy=%s,iops=%d,bytes=%d,useANO=%d", policy, c.IOPS, c.Bytes, ano)
}

// Path is one path from a host HBA to a device.
type Path struct {
	Name       string // fc.<hba wwnn>:<hba wwpn>-fc.<tgt wwnn>:<tgt wwpn>-<device>
	Runtime    string // vmhba2:C0:T0:L1
	Adapter    string // vmhba2
	TargetWWNN uint64
	TargetWWPN uint64
	Target     int
	Node       *StorageNode // the node (target port group) behind the port; nil: not ALUA (local disk)
	Override   string       // "" or dead | standby | unavailable | transitioning | offline (POST /path)
}

// ALUA tells whether the path belongs to a target port group.
func (p *Path) ALUA() bool { return p.Node != nil }

// Device is one SCSI device as one host sees it.
type Device struct {
	Canonical   string
	Vendor      string
	Model       string
	DisplayName string
	UUID        string
	Capacity    int64 // bytes
	BlockSize   int32
	Local       bool
	LUN         int
	MPP         string // MPPNMP or MPPHPP (hpp.go)
	SATP        string // "" for HPP devices
	PSP         string // NMP: VMW_PSP_*; HPP: path selection scheme (FIXED, LB-RR, ...)
	RR          RRConfig
	OpState     []string // ScsiLun.operationalState; nil = ["ok"]
	Paths       []*Path
}

// SatpRule is one `esxcli storage nmp satp rule` entry.
type SatpRule struct {
	SATP        string `json:"satp"`
	Vendor      string `json:"vendor,omitempty"`
	Model       string `json:"model,omitempty"`
	PSP         string `json:"psp,omitempty"`
	PSPOption   string `json:"pspoption,omitempty"`
	ClaimOption string `json:"claimoption,omitempty"`
	Options     string `json:"options,omitempty"`
	Description string `json:"description,omitempty"`
	Transport   string `json:"transport,omitempty"`
	Driver      string `json:"driver,omitempty"`
	Device      string `json:"device,omitempty"`
	RuleGroup   string `json:"rule_group,omitempty"` // system | user
}

// Host is one ESXi host with its own storage view.
type Host struct {
	Name    string
	Moid    string
	Cluster string
	DNSName string
	Domain  string
	IP      string
	// Connection is vCenter's runtime.connectionState: ConnConnected, ConnDisconnected or
	// ConnNotResponding (hoststate.go).
	Connection        string
	Maintenance       bool
	StorageUnreadable bool              // config.storageDevice* reads come back in missingSet
	ALUA              map[string]string // node name -> state this host sees (POST /host-alua)
	HBAs              []*HBA
	Devices           []*Device
	SatpRules         []SatpRule

	// version is bumped on every change, and carried over (+1) when /reset or /load replaces the
	// Host, so publish installs only newer views (vcHost keeps the installed versions).
	version uint64
}

// Write is one state-changing call, for GET /stats.
type Write struct {
	Host   string `json:"host"`
	Device string `json:"device"`
	What   string `json:"what"`
	Value  string `json:"value"`
}

// Lab is the whole simulated estate.
type Lab struct {
	mu      sync.Mutex
	Nodes   []*StorageNode
	Hosts   []*Host
	byName  map[string]*Host
	byMoid  map[string]*Host
	objHost map[string]string // moid of a host-owned object (storage system, MME, ...) -> host name
	writes  []Write
	calls   map[string]int
	esxcli  map[string]int
}

// lab is the one Lab of this process; other files use it.
var lab = NewLab()

// NewLab returns an empty lab.
func NewLab() *Lab {
	return &Lab{
		byName:  map[string]*Host{},
		byMoid:  map[string]*Host{},
		objHost: map[string]string{},
		calls:   map[string]int{},
		esxcli:  map[string]int{},
	}
}

// Lock and Unlock expose the lab mutex for callers that read several fields at once.
// Never call an exported mutator while holding it, and never take a vcsim lock while holding it.
func (l *Lab) Lock()   { l.mu.Lock() }
func (l *Lab) Unlock() { l.mu.Unlock() }

// AddHost registers a host (lab building only).
func (l *Lab) AddHost(h *Host) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Hosts = append(l.Hosts, h)
	l.byName[h.Name] = h
	if h.Moid != "" {
		l.byMoid[h.Moid] = h
		l.objHost[h.Moid] = h.Name
	}
}

// SetHostMoid records the vcsim moid of a host once the inventory exists.
func (l *Lab) SetHostMoid(name, moid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byName[name]
	if h == nil {
		return
	}
	h.Moid = moid
	l.byMoid[moid] = h
	l.objHost[moid] = name
}

// RegisterHostObject maps the moid of a host-owned managed object (HostStorageSystem,
// per-host ManagedMethodExecuter, ...) to its host, for per-host faults, latency and
// disconnected-host checks.
func (l *Lab) RegisterHostObject(moid, host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.objHost[moid] = host
}

// HostOfObject returns the host name owning a moid, or "".
func (l *Lab) HostOfObject(moid string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.objHost[moid]
}

// HostByMoid returns the host with that moid, or nil. The result is live state: read it under
// l.Lock().
func (l *Lab) HostByMoid(moid string) *Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byMoid[moid]
}

// HostByName returns the host with that name, or nil (live state, see HostByMoid).
func (l *Lab) HostByName(name string) *Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byName[name]
}

// Device returns a host's device by canonical name (caller holds l.mu).
func (h *Host) Device(canonical string) *Device {
	for _, d := range h.Devices {
		if d.Canonical == canonical {
			return d
		}
	}
	return nil
}

// HBA returns a host's adapter by device name (caller holds l.mu).
func (h *Host) HBA(device string) *HBA {
	for _, a := range h.HBAs {
		if a.Device == device {
			return a
		}
	}
	return nil
}

// NodeByName returns a storage node (caller holds l.mu).
func (l *Lab) NodeByName(name string) *StorageNode {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// nodeOfPort returns the storage node owning a target WWPN (caller holds l.mu).
func (l *Lab) nodeOfPort(wwpn uint64) *StorageNode {
	for _, n := range l.Nodes {
		for _, p := range n.Ports {
			if p.WWPN == wwpn {
				return n
			}
		}
	}
	return nil
}

// ValidPSP tells whether a host knows the PSP name.
func ValidPSP(psp string) bool {
	for _, v := range ValidPSPs {
		if v == psp {
			return true
		}
	}
	return false
}

// LabError is an error a real host would report for bad input; Kind says which fault to map to:
// "device" (unknown device), "argument" (invalid value), "host" (unknown host).
type LabError struct {
	Kind string
	Msg  string
}

func (e *LabError) Error() string { return e.Msg }

func errf(kind, format string, a ...interface{}) error {
	return &LabError{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

// lookup returns host and device or a LabError (caller holds l.mu).
func (l *Lab) lookup(host, dev string) (*Host, *Device, error) {
	h := l.byName[host]
	if h == nil {
		h = l.byMoid[host]
	}
	if h == nil {
		return nil, nil, errf("host", "unknown host %q", host)
	}
	d := h.Device(dev)
	if d == nil {
		return h, nil, errf("device", "Unknown device %s", dev)
	}
	return h, d, nil
}

// SetPSP sets a device's path selection policy on one host (host by name or moid) and
// records the write. Switching to another PSP resets RR's config to its defaults, as a new
// PSP instance on ESXi does.
func (l *Lab) SetPSP(host, dev, psp string) error { return l.SetPSPCtx(nil, host, dev, psp) }

// SetPSPCtx is SetPSP for SOAP methods: ctx (may be nil) lets the view update skip the lock
// the running method already holds.
func (l *Lab) SetPSPCtx(ctx *simulator.Context, host, dev, psp string) error {
	l.mu.Lock()
	h, d, err := l.lookupNMP(host, dev)
	if err == nil && !ValidPSP(psp) {
		err = errf("argument", "Invalid PSP name %q; valid: %s", psp, strings.Join(ValidPSPs, ", "))
	}
	if err != nil {
		l.mu.Unlock()
		return err
	}
	if d.PSP != psp {
		d.RR = DefaultRR()
	}
	d.PSP = psp
	l.recordWrite(h.Name, dev, "psp", psp)
	l.mu.Unlock()
	l.PublishCtx(ctx, h)
	return nil
}

// RRChange is a partial RR configuration change (nil = keep), as `deviceconfig set` takes it.
type RRChange struct {
	LimitType *string
	IOPS      *int
	Bytes     *int64
	UseANO    *bool
}

// SetRR changes a device's RR configuration and records the write. The device must use
// VMW_PSP_RR. Giving --iops without --type selects the iops limit (bytes likewise).
func (l *Lab) SetRR(host, dev string, ch RRChange) error {
	l.mu.Lock()
	h, d, err := l.lookupNMP(host, dev)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	cfg := d.RR
	fail := func(format string, a ...interface{}) error {
		l.mu.Unlock()
		return errf("argument", format, a...)
	}
	if d.PSP != PSPRR {
		return fail("Unable to set PSP device config for %s: device is not claimed by %s", dev, PSPRR)
	}
	if ch.LimitType != nil {
		switch *ch.LimitType {
		case "default", "iops", "bytes", "latency":
			cfg.LimitType = *ch.LimitType
		default:
			return fail("Invalid limit type %q: valid types are default, iops, bytes, latency", *ch.LimitType)
		}
	}
	if ch.IOPS != nil {
		if *ch.IOPS < 1 {
			return fail("Invalid IOPS limit %d: must be at least 1", *ch.IOPS)
		}
		cfg.IOPS = *ch.IOPS
		if ch.LimitType == nil {
			cfg.LimitType = "iops"
		}
	}
	if ch.Bytes != nil {
		if *ch.Bytes < 1 {
			return fail("Invalid byte limit %d: must be at least 1", *ch.Bytes)
		}
		cfg.Bytes = *ch.Bytes
		if ch.LimitType == nil && ch.IOPS == nil {
			cfg.LimitType = "bytes"
		}
	}
	if ch.UseANO != nil {
		cfg.UseANO = *ch.UseANO
	}
	d.RR = cfg
	l.recordWrite(h.Name, dev, "rr", cfg.String())
	l.mu.Unlock()
	l.Publish(h)
	return nil
}

// AddSatpRule adds a user SATP rule on one host and records the write. Like ESXi, the rule
// claims only devices that appear later (or after a reclaim), not the present ones.
func (l *Lab) AddSatpRule(host string, r SatpRule) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byName[host]
	if h == nil {
		h = l.byMoid[host]
	}
	if h == nil {
		return errf("host", "unknown host %q", host)
	}
	if r.SATP == "" {
		return errf("argument", "Missing required parameter -s|--satp")
	}
	if _, ok := satpDefaultPSP[r.SATP]; !ok {
		return errf("argument", "Unable to find SATP %s", r.SATP)
	}
	if r.PSP != "" && !ValidPSP(r.PSP) {
		return errf("argument", "Invalid PSP name %q", r.PSP)
	}
	for _, old := range h.SatpRules {
		if old.SATP == r.SATP && old.Vendor == r.Vendor && old.Model == r.Model &&
			old.Device == r.Device && old.Driver == r.Driver && old.Transport == r.Transport &&
			old.ClaimOption == r.ClaimOption {
			return errf("argument", "Error adding SATP user rule: Duplicate user rule found for SATP %s", r.SATP)
		}
	}
	if r.RuleGroup == "" {
		r.RuleGroup = "user"
	}
	h.SatpRules = append(h.SatpRules, r)
	l.recordWrite(h.Name, r.Device, "satp_rule", ruleString(r))
	h.version++
	return nil
}

func ruleString(r SatpRule) string {
	parts := []string{"satp=" + r.SATP}
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("vendor", r.Vendor)
	add("model", r.Model)
	add("psp", r.PSP)
	add("pspoption", r.PSPOption)
	add("claimoption", r.ClaimOption)
	add("option", r.Options)
	add("device", r.Device)
	add("description", r.Description)
	return strings.Join(parts, ",")
}

// ClaimPolicy picks SATP, PSP and RR config for a device appearing on h, from h's SATP rules
// (user rules first, then system rules; first match wins). alua tells whether the device
// reports target port groups (tpgs_on). Caller holds l.mu.
func (h *Host) ClaimPolicy(vendor, model, canonical string, alua bool) (satp, psp string, rr RRConfig) {
	rr = DefaultRR()
	match := func(r SatpRule) bool {
		if r.Device != "" && r.Device != canonical {
			return false
		}
		if r.Vendor != "" && !strings.EqualFold(strings.TrimSpace(r.Vendor), strings.TrimSpace(vendor)) {
			return false
		}
		if r.Model != "" && !strings.HasPrefix(model, r.Model) {
			return false
		}
		if strings.Contains(r.ClaimOption, "tpgs_on") && !alua {
			return false
		}
		if strings.Contains(r.ClaimOption, "tpgs_off") && alua {
			return false
		}
		return r.Vendor != "" || r.Model != "" || r.Device != "" || r.ClaimOption != ""
	}
	for _, group := range []string{"user", "system"} {
		for _, r := range h.SatpRules {
			if r.RuleGroup != group || !match(r) {
				continue
			}
			psp = r.PSP
			if psp == "" {
				psp = satpDefaultPSP[r.SATP]
			}
			if psp == PSPRR {
				rr = applyPSPOption(rr, r.PSPOption)
			}
			return r.SATP, psp, rr
		}
	}
	if alua {
		return SATPALUA, PSPMRU, rr
	}
	return SATPAA, PSPFixed, rr
}

// applyPSPOption applies a rule's pspoption such as "iops=1" or "bytes=1048576" to RR config.
func applyPSPOption(rr RRConfig, opt string) RRConfig {
	for _, kv := range strings.FieldsFunc(opt, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		var n int64
		switch {
		case strings.HasPrefix(kv, "iops="):
			if _, err := fmt.Sscan(strings.TrimPrefix(kv, "iops="), &n); err == nil && n > 0 {
				rr.LimitType, rr.IOPS = "iops", int(n)
			}
		case strings.HasPrefix(kv, "bytes="):
			if _, err := fmt.Sscan(strings.TrimPrefix(kv, "bytes="), &n); err == nil && n > 0 {
				rr.LimitType, rr.Bytes = "bytes", n
			}
		case kv == "useANO=1":
			rr.UseANO = true
		}
	}
	return rr
}

// RecordWrite appends to the write log shown by GET /stats. Lab mutators (SetPSP, SetRR,
// AddSatpRule) record their own writes; other files call this for datastores, VMs, ...
func (l *Lab) RecordWrite(host, device, what, value string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recordWrite(host, device, what, value)
}

func (l *Lab) recordWrite(host, device, what, value string) {
	l.writes = append(l.writes, Write{Host: host, Device: device, What: what, Value: value})
	if h := l.byName[host]; h != nil {
		h.version++
	}
}

// CountCall counts one SOAP call (the middleware does this).
func (l *Lab) CountCall(method string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[method]++
}

// CountEsxcli counts one esxcli command such as "storage nmp device list".
func (l *Lab) CountEsxcli(cmd string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.esxcli[cmd]++
}

// Stats is the body of GET /stats.
type Stats struct {
	Calls  map[string]int `json:"calls"`
	Esxcli map[string]int `json:"esxcli"`
	Writes []Write        `json:"writes"`
}

// Stats returns a copy of the counters and the write log.
func (l *Lab) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{Calls: map[string]int{}, Esxcli: map[string]int{}, Writes: append([]Write{}, l.writes...)}
	for k, v := range l.calls {
		s.Calls[k] = v
	}
	for k, v := range l.esxcli {
		s.Esxcli[k] = v
	}
	return s
}

// ResetStats clears counters and the write log.
func (l *Lab) ResetStats() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = map[string]int{}
	l.esxcli = map[string]int{}
	l.writes = nil
}

// Publish regenerates h's typed storage view and installs it in vcsim (see view.go).
// It must be called without l.mu held. publishHook is set by the inventory code.
func (l *Lab) Publish(h *Host) { l.PublishCtx(nil, h) }

// PublishCtx is Publish from inside a SOAP method (ctx.Caller is already locked).
func (l *Lab) PublishCtx(ctx *simulator.Context, h *Host) {
	if publishHook != nil {
		publishHook(ctx, h)
	}
}

// PublishAll publishes every host.
func (l *Lab) PublishAll() {
	l.mu.Lock()
	hosts := append([]*Host{}, l.Hosts...)
	l.mu.Unlock()
	for _, h := range hosts {
		l.Publish(h)
	}
}

// publishHook installs a host's view in vcsim; nil until the inventory exists.
var publishHook func(ctx *simulator.Context, h *Host)
