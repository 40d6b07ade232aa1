// esxcli_nmp_commands.go: the `esxcli storage nmp` commands the simulated hosts implement as
// ESXi describes them: options, result fields and format hints (esxcli_model.go turns this
// into the type info, CLI info and results a client sees). The handlers are in
// esxcli_nmp_handlers.go.
package main

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
					{Name: "cfgfile", Type: "boolean", Aliases: []string{"-g", "--cfgfile"}, Flag: true,
						Help: "Update the config file and runtime with the new setting. In case device is claimed by another PSP, ignore any errors when applying to runtime configuration."},
					withHelp(deviceOpt, "The device you wish to set the Round Robin settings for.", true),
					{Name: "iops", Type: "long", Aliases: []string{"-I", "--iops"},
						Help: "When the --type option is set to 'iops' this is the value that will be assigned to the I/O operation limit value for this device."},
					{Name: "latencyevaltime", Type: "long", Aliases: []string{"-T", "--latency-eval-time"},
						Help: "When the --type option is set to 'latency' this value can control at what interval (in ms) the latency of paths should be evaluated."},
					{Name: "numsamplingcycles", Type: "long", Aliases: []string{"-S", "--num-sampling-cycles"},
						Help: "When the --type option is set to 'latency' this value will control how many sample IOs should be issued on each path to calculate latency of the path."},
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
