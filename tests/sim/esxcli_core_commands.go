// esxcli_core_commands.go: the listing commands admins and other tools run besides the NMP
// device/path ones: `esxcli storage core device list`, `storage core path list`, `storage nmp
// satp list` and `storage nmp psp list`, with the field sets of real ESXi output (sources in
// tests/sim/README.md). Property names are the displayed names without spaces and punctuation,
// which is how the official client pairs a `fields:` hint with a property. Handlers are in
// esxcli_core_handlers.go.
package main

func init() {
	esxcliNamespaces = append(esxcliNamespaces, coreNamespaces...)
	esxcliParentHelp["storage.core"] = "VMware core storage commands."
}

// coreDeviceFields are the lines of one `storage core device list` record (ESXi 6.5+), in order.
var coreDeviceFields = []cliField{
	{"DisplayName", "string"}, {"HasSettableDisplayName", "boolean"}, {"Size", "long"},
	{"DeviceType", "string"}, {"MultipathPlugin", "string"}, {"DevfsPath", "string"},
	{"Vendor", "string"}, {"Model", "string"}, {"Revision", "string"}, {"SCSILevel", "long"},
	{"IsPseudo", "boolean"}, {"Status", "string"}, {"IsRDMCapable", "boolean"}, {"IsLocal", "boolean"},
	{"IsRemovable", "boolean"}, {"IsSSD", "boolean"}, {"IsVVOLPE", "boolean"}, {"IsOffline", "boolean"},
	{"IsPerenniallyReserved", "boolean"}, {"QueueFullSampleSize", "long"}, {"QueueFullThreshold", "long"},
	{"ThinProvisioningStatus", "string"}, {"AttachedFilters", "string"}, {"VAAIStatus", "string"},
	{"OtherUIDs", "string"}, {"IsSharedClusterwide", "boolean"}, {"IsLocalSASDevice", "boolean"},
	{"IsSAS", "boolean"}, {"IsUSB", "boolean"}, {"IsBootUSBDevice", "boolean"}, {"IsBootDevice", "boolean"},
	{"DeviceMaxQueueDepth", "long"}, {"NoofoutstandingIOswithcompetingworlds", "long"},
	{"DriveType", "string"}, {"RAIDLevel", "string"}, {"NumberofPhysicalDrives", "string"},
	{"ProtectionEnabled", "boolean"}, {"PIActivated", "boolean"}, {"PIType", "long"},
	{"PIProtectionMask", "string"}, {"SupportedGuardTypes", "string"}, {"DIXEnabled", "boolean"},
	{"DIXGuardType", "string"}, {"EmulatedDIXDIFEnabled", "boolean"},
	{"Device", "string"},
}

// coreDeviceDisplay is the `fields:` hint: the record's lines as ESXi prints them.
const coreDeviceDisplay = "Display Name,Has Settable Display Name,Size,Device Type,Multipath Plugin,Devfs Path," +
	"Vendor,Model,Revision,SCSI Level,Is Pseudo,Status,Is RDM Capable,Is Local,Is Removable,Is SSD," +
	"Is VVOL PE,Is Offline,Is Perennially Reserved,Queue Full Sample Size,Queue Full Threshold," +
	"Thin Provisioning Status,Attached Filters,VAAI Status,Other UIDs,Is Shared Clusterwide," +
	"Is Local SAS Device,Is SAS,Is USB,Is Boot USB Device,Is Boot Device,Device Max Queue Depth," +
	"No of outstanding IOs with competing worlds,Drive Type,RAID Level,Number of Physical Drives," +
	"Protection Enabled,PI Activated,PI Type,PI Protection Mask,Supported Guard Types,DIX Enabled," +
	"DIX Guard Type,Emulated DIX/DIF Enabled"

var coreNamespaces = []cliNamespace{
	{
		Path: "storage.core.device",
		Help: "Provides information about the SCSI devices known to the system.",
		Methods: []cliMethod{{
			Name: "list",
			Help: "List the devices currently registered with the PSA.",
			Params: []cliParam{
				withHelp(deviceOpt, "Filter the output of this command to only show a single device.", false),
				{Name: "excludeoffline", Type: "boolean", Aliases: []string{"-o", "--exclude-offline"}, Flag: true,
					Help: "If set this flag will exclude the offline devices"},
				{Name: "peonly", Type: "boolean", Aliases: []string{"-p", "--pe-only"}, Flag: true,
					Help: "If set this flag will list the mount points of PE type."},
			},
			Result: "Device", List: true, Fields: coreDeviceFields,
			Hints: [][2]string{
				{"formatter", "simple"},
				{"header:Device", "%Device%"},
				{"fields:Device", coreDeviceDisplay},
			},
			Run: runCoreDeviceList,
		}},
	},
	{
		Path: "storage.core.path",
		Help: "Operations on the paths the system can use to reach SCSI devices.",
		Methods: []cliMethod{{
			Name: "list",
			Help: "List all the SCSI paths on the system.",
			Params: []cliParam{
				withHelp(deviceOpt, "Limit the output to paths to a specific device. This name can be any of the UIDs for a specific device.", false),
				{Name: "path", Type: "string", Aliases: []string{"-p", "--path"},
					Help: "Limit the output to a specific path. This name can be either the UID or the runtime name of the path."},
			},
			Result: "Path", List: true,
			Fields: []cliField{
				{"UID", "string"}, {"RuntimeName", "string"}, {"Device", "string"}, {"DeviceDisplayName", "string"},
				{"Adapter", "string"}, {"Channel", "long"}, {"Target", "long"}, {"LUN", "long"},
				{"Plugin", "string"}, {"State", "string"}, {"Transport", "string"},
				{"AdapterIdentifier", "string"}, {"TargetIdentifier", "string"},
				{"AdapterTransportDetails", "string"}, {"TargetTransportDetails", "string"},
				{"MaximumIOSize", "long"},
			},
			Hints: [][2]string{
				{"formatter", "simple"},
				{"header:Path", "%UID%"},
				{"fields:Path", "UID,Runtime Name,Device,Device Display Name,Adapter,Channel,Target,LUN,Plugin," +
					"State,Transport,Adapter Identifier,Target Identifier,Adapter Transport Details," +
					"Target Transport Details,Maximum IO Size"},
			},
			Run: runCorePathList,
		}},
	},
	{
		Path: "storage.nmp.satp",
		Help: "Operations pertaining to the Storage Array Type Plugins (SATP) for the VMware Native Multipath Plugin (NMP).",
		Methods: []cliMethod{{
			Name:   "list",
			Help:   "List the Storage Array Type Plugins (SATP) that are currently loaded into the NMP system and display information about those SATPs",
			Result: "SATP", List: true,
			Fields: []cliField{{"DefaultPSP", "string"}, {"Description", "string"}, {"Name", "string"}},
			Hints: [][2]string{
				{"formatter", "table"},
				{"table-columns", "Name,Default PSP,Description"},
			},
			Run: runSatpList,
		}},
	},
	{
		Path: "storage.nmp.psp",
		Help: "Operations pertaining to the Path Selection Policy (PSP) plugins for the VMware Native Multipath Plugin (NMP).",
		Methods: []cliMethod{{
			Name:   "list",
			Help:   "List the Path Selection Plugins (PSP) that are currently loaded into the NMP system and display information about those PSPs",
			Result: "PSP", List: true,
			Fields: []cliField{{"Description", "string"}, {"Name", "string"}},
			Hints: [][2]string{
				{"formatter", "table"},
				{"table-columns", "Name,Description"},
			},
			Run: runPspList,
		}},
	},
}
