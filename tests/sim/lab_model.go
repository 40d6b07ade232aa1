// lab_model.go: the simulated SAN and the per-host storage state it is seen through: the
// types of the lab state and the one Lab of this process. The rest of the lab is split by
// concern: lab_lookup.go (finding hosts, devices, nodes; LabError), lab_claim.go (SATP claim
// rules), lab_mutate.go (PSP, RR and SATP rule changes, publishing), lab_stats.go (GET /stats).
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
	"sync"
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
	// The latency policy's defaults (vSphere Storage 6.7+, "Latency Round Robin": 16 sampling
	// cycles, evaluation every 3 minutes), as its device config prints them.
	DefaultRRLatencyEvalTime = 180000 // ms
	DefaultRRSamplingCycles  = 16
)

// ValidPSPs are the path selection plugins a host accepts.
var ValidPSPs = []string{PSPRR, PSPMRU, PSPFixed}

// ValidPSP tells whether a host knows the PSP name.
func ValidPSP(psp string) bool {
	for _, v := range ValidPSPs {
		if v == psp {
			return true
		}
	}
	return false
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
	// The latency policy's settings (deviceconfig set -T / -S), kept whatever the limit type.
	LatencyEvalTime int64 // ms
	SamplingCycles  int
}

// DefaultRR is the configuration RR starts with on a device.
func DefaultRR() RRConfig {
	return RRConfig{LimitType: "default", IOPS: DefaultRRIOPS, Bytes: DefaultRRBytes,
		LatencyEvalTime: DefaultRRLatencyEvalTime, SamplingCycles: DefaultRRSamplingCycles}
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
	if policy == "latency" { // rrLatencyString (esxcli_latency.go): the keys ESXi 6.7+ prints
		return rrLatencyString(c, ano)
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
