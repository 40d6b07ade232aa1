// esxcli_nmp.go: the `esxcli storage nmp` commands the simulated hosts implement: their
// description (options, result rows, format hints as ESXi prints them) and their handlers, which
// answer from and write to the lab's per-host state.
package main

import (
	"fmt"
	"strings"
)

// quiet is the format hint of commands that print nothing on success (an empty formatter).
var quiet = [][2]string{{"formatter", ""}}

var deviceOpt = cliParam{Name: "device", Type: "string", Aliases: []string{"-d", "--device"}}

func withHelp(p cliParam, help string, required bool) cliParam {
	p.Help, p.Required = help, required
	return p
}

// esxcliNamespaces is every esxcli application the simulated hosts serve.
var esxcliNamespaces = []cliNamespace{
	{
		Path: "storage.nmp.device",
		Help: "Operations pertaining to the devices claimed by the VMware Native Multipath Plugin (NMP).",
		Methods: []cliMethod{
			{
				Name: "list",
				Help: "List the devices currently controlled by the VMware NMP Multipath Plugin and show the SATP and PSP information associated with that device.",
				Params: []cliParam{
					withHelp(deviceOpt, "Filter the output of this command to only show a single device.", false),
				},
				Result: "NMPDevice", List: true,
				Fields: []cliField{
					{"Device", "string"}, {"DeviceDisplayName", "string"},
					{"IsBootUSBDevice", "boolean"}, {"IsLocalSASDevice", "boolean"}, {"IsUSB", "boolean"},
					{"PathSelectionPolicy", "string"}, {"PathSelectionPolicyDeviceConfig", "string"},
					{"PathSelectionPolicyDeviceCustomConfig", "string"},
					{"StorageArrayType", "string"}, {"StorageArrayTypeDeviceConfig", "string"},
					{"WorkingPaths", "string[]"},
				},
				Hints: [][2]string{
					{"formatter", "simple"},
					{"header:NMPDevice", "%Device%"},
					{"fields:NMPDevice", "Device Display Name,Storage Array Type,Storage Array Type Device Config," +
						"Path Selection Policy,Path Selection Policy Device Config," +
						"Path Selection Policy Device Custom Config,Working Paths,Is USB"},
				},
				Run: runDeviceList,
			},
			{
				Name: "set",
				Help: "Allow setting of the Path Selection Policy (PSP) for the given device.",
				Params: []cliParam{
					{Name: "default", Type: "boolean", Aliases: []string{"-E", "--default"}, Flag: true,
						Help: "Set the Path Selection Policy (PSP) back to the default for the assigned SATP for this device."},
					withHelp(deviceOpt, "The device you wish to set the Path Selection Policy (PSP) for.", true),
					{Name: "psp", Type: "string", Aliases: []string{"-P", "--psp"},
						Help: "The Path Selection Policy (PSP) you wish to assign to the given device."},
				},
				Result: "boolean", Hints: quiet,
				Run: runDeviceSet,
			},
		},
	},
	{
		Path: "storage.nmp.path",
		Help: "Operations pertaining to the paths claimed by the VMware Native Multipath Plugin (NMP).",
		Methods: []cliMethod{
			{
				Name: "list",
				Help: "List the paths currently claimed by the VMware NMP Multipath Plugin and show the SATP and PSP information associated with that path.",
				Params: []cliParam{
					withHelp(deviceOpt, "Filter the output of this command to only show paths to a single device.", false),
					{Name: "path", Type: "string", Aliases: []string{"-p", "--path"},
						Help: "Filter the output of this command to only show a single path."},
				},
				Result: "NMPPath", List: true,
				Fields: []cliField{
					{"ArrayPriority", "long"}, {"Device", "string"}, {"DeviceDisplayName", "string"},
					{"GroupState", "string"}, {"Path", "string"}, {"PathSelectionPolicyPathConfig", "string"},
					{"RuntimeName", "string"}, {"StorageArrayTypePathConfig", "string"},
				},
				Hints: [][2]string{
					{"formatter", "simple"},
					{"header:NMPPath", "%Path%"},
					{"fields:NMPPath", "Runtime Name,Device,Device Display Name,Group State,Array Priority," +
						"Storage Array Type Path Config,Path Selection Policy Path Config"},
				},
				Run: runPathList,
			},
		},
	},
	{
		Path: "storage.nmp.psp.roundrobin.deviceconfig",
		Help: "Manage per-device configuration of the Round Robin path selection policy.",
		Methods: []cliMethod{
			{
				Name:   "get",
				Help:   "Allow retrieving of Round Robin Path Selection Policy settings for a given device.",
				Params: []cliParam{withHelp(deviceOpt, "The device you wish to get the Round Robin properties for.", true)},
				Result: "RoundRobinDeviceConfig",
				Fields: []cliField{
					{"ByteLimit", "long"}, {"Device", "string"}, {"IOOperationLimit", "long"},
					{"LatencyEvaluationInterval", "long"}, {"LimitType", "string"},
					{"NumberOfSamplingIOsPerPath", "long"}, {"UseActiveUnoptimizedPaths", "boolean"},
				},
				Hints: [][2]string{
					{"formatter", "simple"},
					{"units:RoundRobinDeviceConfig.Latency Evaluation Interval", "milliseconds"},
				},
				Run: runRRGet,
			},
			{
				Name: "set",
				Help: "Allow setting of the Round Robin Path Selection Policy settings for a given device.",
				Params: []cliParam{
					{Name: "bytes", Type: "long", Aliases: []string{"-B", "--bytes"},
						Help: "When the --type option is set to 'bytes' this is the value that will be assigned to the byte limit value for this device."},
					withHelp(deviceOpt, "The device you wish to set the Round Robin settings for.", true),
					{Name: "iops", Type: "long", Aliases: []string{"-I", "--iops"},
						Help: "When the --type option is set to 'iops' this is the value that will be assigned to the I/O operation limit value for this device."},
					{Name: "type", Type: "string", Aliases: []string{"-t", "--type"},
						Constraint: []string{"bytes", "default", "iops", "latency"},
						Help:       "Set the type of the Round Robin path switching that should be enabled for this device."},
					{Name: "useano", Type: "boolean", Aliases: []string{"-U", "--useano"},
						Help: "Set useano to true, to also include non-optimized paths in the set of active paths used to issue I/Os on this device."},
				},
				Result: "boolean", Hints: quiet,
				Run: runRRSet,
			},
		},
	},
	{
		Path: "storage.nmp.satp.rule",
		Help: "Manage SATP rules",
		Methods: []cliMethod{
			{
				Name: "add",
				Help: "Add a rule to the list of claim rules for the given SATP.",
				Params: []cliParam{
					{Name: "boot", Type: "boolean", Aliases: []string{"-b", "--boot"}, Flag: true,
						Help: "This is a system default rule added at boot time. Do not modify esx.conf or add to host profile."},
					{Name: "claimoption", Type: "string", Aliases: []string{"-c", "--claim-option"},
						Help: "Set the claim option string when adding a SATP claim rule."},
					{Name: "description", Type: "string", Aliases: []string{"-e", "--description"},
						Help: "Set the claim rule description when adding a SATP claim rule."},
					{Name: "device", Type: "string", Aliases: []string{"-d", "--device"},
						Help: "Set the device when adding SATP claim rules. Device rules are mutually exclusive with vendor/model and driver rules."},
					{Name: "driver", Type: "string", Aliases: []string{"-D", "--driver"},
						Help: "Set the driver string when adding a SATP claim rule. Driver rules are mutually exclusive with vendor/model rules."},
					{Name: "force", Type: "boolean", Aliases: []string{"-f", "--force"}, Flag: true,
						Help: "Force claim rules to ignore validity checks and install the rule anyway."},
					{Name: "model", Type: "string", Aliases: []string{"-M", "--model"},
						Help: "Set the model string when adding SATP a claim rule. Vendor/Model rules are mutually exclusive with driver rules."},
					{Name: "option", Type: "string", Aliases: []string{"-o", "--option"},
						Help: "Set the option string when adding a SATP claim rule."},
					{Name: "psp", Type: "string", Aliases: []string{"-P", "--psp"},
						Help: "Set the default PSP for the SATP claim rule."},
					{Name: "pspoption", Type: "string", Aliases: []string{"-O", "--psp-option"},
						Help: "Set the PSP options for the SATP claim rule."},
					{Name: "satp", Type: "string", Aliases: []string{"-s", "--satp"}, Required: true,
						Help: "The SATP for which a new rule will be added."},
					{Name: "transport", Type: "string", Aliases: []string{"-R", "--transport"},
						Help: "Set the claim transport type string when adding a SATP claim rule."},
					{Name: "type", Type: "string", Aliases: []string{"-t", "--type"},
						Help: "Set the claim type when adding a SATP claim rule."},
					{Name: "vendor", Type: "string", Aliases: []string{"-V", "--vendor"},
						Help: "Set the vendor string when adding SATP claim rules. Vendor/Model rules are mutually exclusive with driver rules."},
				},
				Result: "boolean", Hints: quiet,
				Run: runSatpRuleAdd,
			},
			{
				Name: "list",
				Help: "List the claiming rules for Storage Array Type Plugins (SATP)",
				Params: []cliParam{
					{Name: "satp", Type: "string", Aliases: []string{"-s", "--satp"},
						Help: "Filter the SATP rules to a specific SATP"},
				},
				Result: "SATPRule", List: true,
				Fields: []cliField{
					{"ClaimOptions", "string"}, {"DefaultPSP", "string"}, {"Description", "string"},
					{"Device", "string"}, {"Driver", "string"}, {"Model", "string"}, {"Name", "string"},
					{"Options", "string"}, {"PSPOptions", "string"}, {"RuleGroup", "string"},
					{"Transport", "string"}, {"Vendor", "string"},
				},
				Hints: [][2]string{
					{"formatter", "table"},
					{"fields:SATPRule", "Name,Device,Vendor,Model,Driver,Transport,Options,Rule Group," +
						"Claim Options,Default PSP,PSP Options,Description"},
				},
				Run: runSatpRuleList,
			},
		},
	},
}

// unknownDevice is ESXi's answer for a device the host does not have.
func unknownDevice(name string) *cliFault { return cliError("Unknown device %s", name) }

func runDeviceList(c *esxcliCall) (*esxcliResult, *cliFault) {
	name := c.str("device")
	c.lab.Lock()
	defer c.lab.Unlock()
	devs := c.host.NMPDevices() // HPP devices are not NMP's (hpp.go)
	if name != "" {
		d := c.host.NMPDevice(name)
		if d == nil {
			return nil, unknownDevice(name)
		}
		devs = []*Device{d}
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
	if d.SATP != SATPALUA {
		return fmt.Sprintf("SATP %s does not support device configuration.", d.SATP)
	}
	var tpgs strings.Builder
	for _, n := range d.TPGNodes() {
		fmt.Fprintf(&tpgs, "{TPG_id=%d,TPG_state=%s}", n.TPG, h.NodeState(n))
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
	devs := c.host.NMPDevices()
	if devName != "" {
		d := c.host.NMPDevice(devName)
		if d == nil {
			return nil, unknownDevice(devName)
		}
		devs = []*Device{d}
	}
	res := &esxcliResult{}
	for _, d := range devs {
		for _, p := range d.Paths {
			if pathName != "" && p.Name != pathName && p.Runtime != pathName {
				continue
			}
			res.Rows = append(res.Rows, esxcliRow{
				"ArrayPriority":                 {"0"},
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
	if d.SATP != SATPALUA || !p.ALUA() {
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
		interval, samples = "180000", "16"
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
