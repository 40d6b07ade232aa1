// esxcli_nmp_handlers.go: the handlers of the `esxcli storage nmp` commands (described in
// esxcli_nmp_commands.go), which answer from and write to the lab's per-host state, and the
// PSP/SATP device and path config strings they print.
package main

import (
	"fmt"
	"strings"
)

// unknownDevice is ESXi's answer for a device the host does not have.
func unknownDevice(name string) *cliFault { return cliError("Unknown device %s", name) }

// narrowed is devs, or only the device -d names (found by lookup: a list of NMP's devices
// knows only NMP's); an unknown name fails as esxcli does. Caller holds l.mu.
func narrowed(name string, devs []*Device, lookup func(string) *Device) ([]*Device, *cliFault) {
	if name == "" {
		return devs, nil
	}
	d := lookup(name)
	if d == nil {
		return nil, unknownDevice(name)
	}
	return []*Device{d}, nil
}

// pathNamed: -p takes a path's UID or its runtime name; empty matches every path.
func pathNamed(p *Path, name string) bool {
	return name == "" || p.Name == name || p.Runtime == name
}

func runDeviceList(c *esxcliCall) (*esxcliResult, *cliFault) {
	name := c.str("device")
	c.lab.Lock()
	defer c.lab.Unlock()
	devs, fault := narrowed(name, c.host.NMPDevices(), c.host.NMPDevice) // HPP's are not NMP's (hpp.go)
	if fault != nil {
		return nil, fault
	}
	res := &esxcliResult{}
	for _, d := range devs {
		var working []string
		for _, p := range c.host.WorkingPaths(d) {
			working = append(working, p.Runtime)
		}
		res.Rows = append(res.Rows, esxcliRow{
			"Device":                                {d.Canonical},
			"DeviceDisplayName":                     {d.DisplayName},
			"IsBootUSBDevice":                       {"false"},
			"IsLocalSASDevice":                      {"false"},
			"IsUSB":                                 {"false"},
			"PathSelectionPolicy":                   {d.PSP},
			"PathSelectionPolicyDeviceConfig":       {c.lab.pspDeviceConfig(c.host, d)},
			"PathSelectionPolicyDeviceCustomConfig": {""},
			"StorageArrayType":                      {d.SATP},
			"StorageArrayTypeDeviceConfig":          {c.lab.satpDeviceConfig(c.host, d)},
			"WorkingPaths":                          working,
		})
	}
	return res, nil
}

// pspDeviceConfig renders "Path Selection Policy Device Config" (caller holds l.mu).
func (l *Lab) pspDeviceConfig(h *Host, d *Device) string {
	working := h.WorkingPaths(d)
	current := ""
	if len(working) > 0 {
		current = working[0].Runtime
	}
	switch d.PSP {
	case PSPRR:
		if d.RR.LimitType == "latency" {
			return rrLatencyDeviceConfig(d.RR, current)
		}
		last := 0
		for i, p := range d.Paths {
			if len(working) > 0 && p == working[len(working)-1] {
				last = i
			}
		}
		return fmt.Sprintf("{%s; lastPathIndex=%d: NumIOsPending=0,numBytesPending=0}", d.RR.String(), last)
	case PSPFixed:
		preferred := ""
		if len(d.Paths) > 0 {
			preferred = d.Paths[0].Runtime
		}
		return fmt.Sprintf("{preferred=%s;current=%s}", preferred, current)
	default:
		return "Current Path=" + current
	}
}

// satpDeviceConfig renders "Storage Array Type Device Config": one {TPG_id,TPG_state} per
// target port group, in the state h sees the group in (its own view, else the node's; path
// overrides are per path and do not show here). Caller holds l.mu.
func (l *Lab) satpDeviceConfig(h *Host, d *Device) string {
	if !isALUASATP(d.SATP) {
		return fmt.Sprintf("SATP %s does not support device configuration.", d.SATP)
	}
	var tpgs strings.Builder
	for _, n := range d.TPGNodes() {
		fmt.Fprintf(&tpgs, "{TPG_id=%d,TPG_state=%s}", n.TPG, h.NodeState(n))
	}
	if d.SATP == SATPALUACX {
		return aluaCXDeviceConfig(tpgs.String())
	}
	return "{implicit_support=on; explicit_support=off; explicit_allow=on; alua_followover=on; " +
		"action_OnRetryErrors=off; " + tpgs.String() + "}"
}

// rtpID numbers the target ports of all storage nodes from 1, as the relative target port
// identifiers the arrays report (caller holds l.mu).
func (l *Lab) rtpID(wwpn uint64) int {
	n := 0
	for _, node := range l.Nodes {
		for _, p := range node.Ports {
			n++
			if p.WWPN == wwpn {
				return n
			}
		}
	}
	return 0
}

func runPathList(c *esxcliCall) (*esxcliResult, *cliFault) {
	devName, pathName := c.str("device"), c.str("path")
	c.lab.Lock()
	defer c.lab.Unlock()
	devs, fault := narrowed(devName, c.host.NMPDevices(), c.host.NMPDevice)
	if fault != nil {
		return nil, fault
	}
	res := &esxcliResult{}
	for _, d := range devs {
		for _, p := range d.Paths {
			if !pathNamed(p, pathName) {
				continue
			}
			res.Rows = append(res.Rows, esxcliRow{
				"ArrayPriority":                 {fmt.Sprint(arrayPriority(c.host, d, p))},
				"Device":                        {d.Canonical},
				"DeviceDisplayName":             {d.DisplayName},
				"GroupState":                    {c.host.GroupState(p)},
				"Path":                          {p.Name},
				"PathSelectionPolicyPathConfig": {c.lab.pspPathConfig(c.host, d, p)},
				"RuntimeName":                   {p.Runtime},
				"StorageArrayTypePathConfig":    {c.lab.satpPathConfig(c.host, d, p)},
			})
		}
	}
	if pathName != "" && len(res.Rows) == 0 {
		return nil, cliError("Unknown path %s", pathName)
	}
	return res, nil
}

// satpPathConfig renders "Storage Array Type Path Config"; the target port is DOWN when the
// path is dead (dead or offline override, OFFL group). Caller holds l.mu.
func (l *Lab) satpPathConfig(h *Host, d *Device, p *Path) string {
	if !isALUASATP(d.SATP) || !p.ALUA() {
		return fmt.Sprintf("SATP %s does not support path configuration.", d.SATP)
	}
	health := "UP"
	if h.GroupState(p) == "dead" {
		health = "DOWN"
	}
	return fmt.Sprintf("{TPG_id=%d,TPG_state=%s,RTP_id=%d,RTP_health=%s}",
		p.Node.TPG, h.TPGState(p), l.rtpID(p.TargetWWPN), health)
}

// pspPathConfig renders "Path Selection Policy Path Config" (caller holds l.mu).
func (l *Lab) pspPathConfig(h *Host, d *Device, p *Path) string {
	if d.PSP != PSPFixed {
		return fmt.Sprintf("PSP %s does not support path configuration.", d.PSP)
	}
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprintf("{current: %s; preferred: %s}", yesNo(h.IsWorking(d, p)), yesNo(len(d.Paths) > 0 && d.Paths[0] == p))
}

func runDeviceSet(c *esxcliCall) (*esxcliResult, *cliFault) {
	dev, psp := c.str("device"), c.str("psp")
	if c.flag("default") {
		c.lab.Lock()
		d := c.host.NMPDevice(dev)
		if d != nil {
			psp = satpDefaultPSP[d.SATP] // the SATP's default, not a claim rule's
		}
		c.lab.Unlock()
		if d == nil {
			return nil, unknownDevice(dev)
		}
	}
	if psp == "" {
		return nil, cliError("You must specify either the --psp or --default option.")
	}
	if err := c.lab.SetPSP(c.hostName, dev, psp); err != nil {
		return nil, labFault(err)
	}
	return trueResult(), nil
}

// rrLimitNames maps the stored limit type to the "Limit Type" esxcli prints.
var rrLimitNames = map[string]string{"default": "Default", "iops": "Iops", "bytes": "Bytes", "latency": "Latency"}

func runRRGet(c *esxcliCall) (*esxcliResult, *cliFault) {
	dev := c.str("device")
	c.lab.Lock()
	defer c.lab.Unlock()
	d := c.host.NMPDevice(dev)
	if d == nil {
		return nil, unknownDevice(dev)
	}
	if d.PSP != PSPRR {
		return nil, cliError("Unable to get PSP device config for %s: device is not claimed by %s", dev, PSPRR)
	}
	interval, samples := "0", "0"
	if d.RR.LimitType == "latency" {
		interval, samples = fmt.Sprint(d.RR.LatencyEvalTime), fmt.Sprint(d.RR.SamplingCycles)
	}
	return &esxcliResult{Single: true, Rows: []esxcliRow{{
		"ByteLimit":                  {fmt.Sprint(d.RR.Bytes)},
		"Device":                     {d.Canonical},
		"IOOperationLimit":           {fmt.Sprint(d.RR.IOPS)},
		"LatencyEvaluationInterval":  {interval},
		"LimitType":                  {rrLimitNames[d.RR.LimitType]},
		"NumberOfSamplingIOsPerPath": {samples},
		"UseActiveUnoptimizedPaths":  {fmt.Sprint(d.RR.UseANO)},
	}}}, nil
}

func runRRSet(c *esxcliCall) (*esxcliResult, *cliFault) {
	var ch RRChange
	if v, ok := c.arg("type"); ok {
		ch.LimitType = &v
	}
	if v, ok, f := c.long("iops"); f != nil {
		return nil, f
	} else if ok {
		n := int(v)
		ch.IOPS = &n
	}
	if v, ok, f := c.long("bytes"); f != nil {
		return nil, f
	} else if ok {
		ch.Bytes = &v
	}
	if v, ok, f := c.boolean("useano"); f != nil {
		return nil, f
	} else if ok {
		ch.UseANO = &v
	}
	if v, ok, f := c.long("latencyevaltime"); f != nil {
		return nil, f
	} else if ok {
		ch.LatencyEvalTime = &v
	}
	if v, ok, f := c.long("numsamplingcycles"); f != nil {
		return nil, f
	} else if ok {
		ch.SamplingCycles = &v
	}
	if c.flag("cfgfile") { // the config file only: no runtime error for a device RR does not own
		c.lab.Lock()
		d := c.host.NMPDevice(c.str("device"))
		notRR := d != nil && d.PSP != PSPRR
		c.lab.Unlock()
		if notRR {
			return trueResult(), nil
		}
	}
	if err := c.lab.SetRR(c.hostName, c.str("device"), ch); err != nil {
		return nil, labFault(err)
	}
	return trueResult(), nil
}

func runSatpRuleAdd(c *esxcliCall) (*esxcliResult, *cliFault) {
	r := SatpRule{
		SATP: c.str("satp"), Vendor: c.str("vendor"), Model: c.str("model"), PSP: c.str("psp"),
		PSPOption: c.str("pspoption"), ClaimOption: c.str("claimoption"), Options: c.str("option"),
		Description: c.str("description"), Transport: c.str("transport"), Driver: c.str("driver"),
		Device: c.str("device"), RuleGroup: "user",
	}
	if c.flag("boot") {
		r.RuleGroup = "system"
	}
	if err := c.lab.AddSatpRule(c.hostName, r); err != nil {
		return nil, labFault(err)
	}
	return trueResult(), nil
}

func runSatpRuleList(c *esxcliCall) (*esxcliResult, *cliFault) {
	satp := c.str("satp")
	c.lab.Lock()
	defer c.lab.Unlock()
	res := &esxcliResult{}
	for _, r := range c.host.SatpRules {
		if satp != "" && r.SATP != satp {
			continue
		}
		res.Rows = append(res.Rows, esxcliRow{
			"ClaimOptions": {r.ClaimOption}, "DefaultPSP": {r.PSP}, "Description": {r.Description},
			"Device": {r.Device}, "Driver": {r.Driver}, "Model": {r.Model}, "Name": {r.SATP},
			"Options": {r.Options}, "PSPOptions": {r.PSPOption}, "RuleGroup": {r.RuleGroup},
			"Transport": {r.Transport}, "Vendor": {r.Vendor},
		})
	}
	return res, nil
}
