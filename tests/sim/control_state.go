// control_state.go: GET /state, the whole lab as JSON (documented in README.md).
package main

import (
	"sort"
)

// Shapes of GET /state.
type statePath struct {
	Name       string `json:"name"`
	Runtime    string `json:"runtime"`
	Adapter    string `json:"adapter"`
	State      string `json:"state"`       // typed API: active|standby|dead
	GroupState string `json:"group_state"` // esxcli: active|active unoptimized|standby|unavailable|transitioning|dead
	TPGID      *int   `json:"tpg_id"`      // null: not ALUA
	TPGState   string `json:"tpg_state"`   // AO|ANO|STBY|UNAV|TRANS|OFFL, "" when not ALUA
	Working    bool   `json:"working"`
}

type stateDevice struct {
	Vendor           string      `json:"vendor"`
	Model            string      `json:"model"`
	UUID             string      `json:"uuid"`
	Local            bool        `json:"local"`
	MPP              string      `json:"mpp"` // NMP | HPP
	PSP              string      `json:"psp"` // HPP: the path selection scheme
	SATP             string      `json:"satp"`
	LimitType        string      `json:"limit_type"`
	IOPS             int         `json:"iops"`
	Bytes            int64       `json:"bytes"`
	UseANO           bool        `json:"use_ano"`
	LatencyEvalTime  int64       `json:"latency_eval_time"` // ms, RR latency policy
	SamplingCycles   int         `json:"sampling_cycles"`
	OperationalState []string    `json:"operational_state"`
	Paths            []statePath `json:"paths"`
}

type stateHost struct {
	Moid              string                 `json:"moid"`
	Connection        string                 `json:"connection"`
	Maintenance       bool                   `json:"maintenance"`
	StorageUnreadable bool                   `json:"storage_unreadable"`
	ALUA              map[string]string      `json:"alua"` // node -> state this host sees
	Cluster           string                 `json:"cluster"`
	Devices           map[string]stateDevice `json:"devices"`
	SatpRules         []SatpRule             `json:"satp_rules"`
}

func labState() map[string]interface{} {
	maintenance := map[string]bool{}
	for name := range vc.hosts {
		maintenance[name] = hostMaintenance(name) // the HostSystem's, before taking the lab lock
	}
	lab.Lock()
	hosts := map[string]stateHost{}
	for _, h := range lab.Hosts {
		sh := stateHost{Moid: h.Moid, Connection: h.Connection, Cluster: h.Cluster,
			Maintenance: maintenance[h.Name], StorageUnreadable: h.StorageUnreadable,
			ALUA: map[string]string{}, Devices: map[string]stateDevice{},
			SatpRules: append([]SatpRule{}, h.SatpRules...)}
		for n, s := range h.ALUA {
			sh.ALUA[n] = s
		}
		for _, d := range h.Devices {
			sh.Devices[d.Canonical] = deviceState(h, d)
		}
		hosts[h.Name] = sh
	}
	nodes := []map[string]interface{}{}
	for _, n := range lab.Nodes {
		var ports []string
		for _, p := range n.Ports {
			ports = append(ports, colonWWN(p.WWPN))
		}
		nodes = append(nodes, map[string]interface{}{"name": n.Name, "group": n.Group,
			"tpg_id": n.TPG, "state": n.State, "ports": ports})
	}
	lab.Unlock()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i]["name"].(string) < nodes[j]["name"].(string) })
	dss, vms := provisionStateView()
	return map[string]interface{}{"hosts": hosts, "nodes": nodes, "datastores": dss, "vms": vms,
		"scst": scstState()}
}

// deviceState is one device of GET /state as h sees it (caller holds the lab lock).
func deviceState(h *Host, d *Device) stateDevice {
	sd := stateDevice{Vendor: d.Vendor, Model: d.Model, UUID: d.UUID, Local: d.Local, MPP: d.MPP,
		PSP: d.PSP, SATP: d.SATP, LimitType: d.RR.LimitType, IOPS: d.RR.IOPS, Bytes: d.RR.Bytes,
		UseANO: d.RR.UseANO, OperationalState: opState(d), Paths: []statePath{},
		LatencyEvalTime: d.RR.LatencyEvalTime, SamplingCycles: d.RR.SamplingCycles}
	working := map[*Path]bool{}
	for _, p := range h.WorkingPaths(d) {
		working[p] = true
	}
	for _, p := range d.Paths {
		sp := statePath{Name: p.Name, Runtime: p.Runtime, Adapter: p.Adapter, State: h.PathState(p),
			GroupState: h.GroupState(p), TPGState: h.TPGState(p), Working: working[p]}
		if p.ALUA() {
			id := p.Node.TPG
			sp.TPGID = &id
		}
		sd.Paths = append(sd.Paths, sp)
	}
	return sd
}
