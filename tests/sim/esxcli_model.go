// esxcli_model.go: how the simulated hosts describe their esxcli commands. One table
// (esxcliNamespaces, in esxcli_nmp_commands.go) yields all three views a client sees:
//   - the dynamic types (QueryTypeInfo): a managed type per namespace, a data type per result row,
//   - the CLI info (vim.CLIInfo.FetchCLIInfo): display names, option aliases, help, format hints,
//   - the dispatch of ExecuteSoap to the handler that answers from the lab state.
package main

import (
	"strings"
)

// Dynamic types are declared at the vim version ESXi declares its esxcli types at.
const esxcliTypeVersion = "vim.version.version5"

// cliParam is one command option. Params are listed in vmodl order (alphabetical, like ESXi),
// which is also the order of the CLI info params: the client pairs the two by index.
type cliParam struct {
	Name       string
	Type       string // vmodl type: string, long, boolean
	Aliases    []string
	Help       string
	Required   bool
	Flag       bool // takes no value on the command line (boolean)
	Constraint []string
}

// cliField is one property of a result row type.
type cliField struct {
	Name string
	Type string // string, long, boolean, string[]
}

// cliMethod is one command (the last word, e.g. "list").
type cliMethod struct {
	Name   string
	Help   string
	Params []cliParam
	// Result: "boolean", or the short name of a row type declared by Fields.
	Result string
	List   bool // result is an array of rows
	Fields []cliField
	Hints  [][2]string // CLI format hints (formatter, header, fields, units:..., table-columns)
	Run    func(c *esxcliCall) (*esxcliResult, *cliFault)
}

// cliNamespace is one esxcli application such as storage.nmp.device.
type cliNamespace struct {
	Path    string // "storage.nmp.device"
	Help    string
	Methods []cliMethod
}

// vmodlName is the managed type name, e.g. vim.EsxCLI.storage.nmp.device.
func (ns *cliNamespace) vmodlName() string { return "vim.EsxCLI." + ns.Path }

// wsdlName is vmodlName without dots and with a capital V (VimEsxCLIstoragenmpdevice).
func (ns *cliNamespace) wsdlName() string {
	return "VimEsxCLI" + strings.ReplaceAll(ns.Path, ".", "")
}

// moid is the instance id ESXi uses for the namespace's handler object.
func (ns *cliNamespace) moid() string {
	return "ha-cli-handler-" + strings.ReplaceAll(ns.Path, ".", "-")
}

// command is the namespace path as typed, e.g. "storage nmp device".
func (ns *cliNamespace) command() string { return strings.ReplaceAll(ns.Path, ".", " ") }

// rowTypeName is a method's row type, e.g. vim.EsxCLI.storage.nmp.device.list.NMPDevice.
func (ns *cliNamespace) rowTypeName(m *cliMethod) string {
	return ns.vmodlName() + "." + m.Name + "." + m.Result
}

func (ns *cliNamespace) rowWsdlName(m *cliMethod) string {
	return ns.wsdlName() + m.Name + m.Result
}

// resultType is the vmodl type of a method's return value.
func (ns *cliNamespace) resultType(m *cliMethod) string {
	if m.Fields == nil {
		return m.Result
	}
	t := ns.rowTypeName(m)
	if m.List {
		t += "[]"
	}
	return t
}

// esxcliNamespaceByMoid finds the namespace an ExecuteSoap moid names.
func esxcliNamespaceByMoid(moid string) *cliNamespace {
	for i := range esxcliNamespaces {
		if esxcliNamespaces[i].moid() == moid {
			return &esxcliNamespaces[i]
		}
	}
	return nil
}

// esxcliNamespaceByName finds a namespace by vmodl name (vim.EsxCLI.storage.nmp.device).
func esxcliNamespaceByName(name string) *cliNamespace {
	for i := range esxcliNamespaces {
		if esxcliNamespaces[i].vmodlName() == name {
			return &esxcliNamespaces[i]
		}
	}
	return nil
}

// method finds a command by name. pyVmomi-based clients (Broadcom's esxcli) send the method
// name capitalized ("...device.List"), govc sends it as declared ("...device.list"); other
// cases are not the method (esxcli_strict.go).
func (ns *cliNamespace) method(name string) *cliMethod {
	for i := range ns.Methods {
		if methodNameMatches(ns.Methods[i].Name, name) {
			return &ns.Methods[i]
		}
	}
	return nil
}

// esxcliParentHelp documents the namespaces above the applications, for the client's help.
var esxcliParentHelp = map[string]string{
	"storage":                    "VMware storage commands.",
	"storage.nmp":                "Operations pertaining to the VMware Native Multipath Plugin (NMP) storage multipathing plugin.",
	"storage.nmp.psp":            "Operations pertaining to the Path Selection Policy (PSP) plugins for the VMware Native Multipath Plugin (NMP).",
	"storage.nmp.psp.roundrobin": "Operations pertaining to the Round Robin (VMW_PSP_RR) path selection policy plugin.",
	"storage.nmp.satp":           "Operations pertaining to the Storage Array Type Plugins (SATP) for the VMware Native Multipath Plugin (NMP).",
}
