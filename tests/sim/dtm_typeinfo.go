// dtm_typeinfo.go: the per-host DynamicTypeManager. Broadcom's esxcli builds its Python types
// from QueryTypeInfo (vim.CLIInfo, vim.EsxCLI.CLIFault, then one namespace at a time, each time
// with a TypeFilterSpec substring) and finds the command objects with QueryMoInstances.
package main

import (
	"strings"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
)

// cliInfoMoid is the CLI info object every ESXi exposes through the MME.
const cliInfoMoid = "ha-dynamic-type-manager-local-cli-cliinfo"

// dynamicTypeManager is vmodl.reflect.DynamicTypeManager for one host.
type dynamicTypeManager struct {
	mo.ExtensibleManagedObject
	hostMoid string
}

var optional = []dtmAnnotation{{Name: "optional"}}

func prop(name, typ string, opt bool) dtmPropertyTypeInfo {
	p := dtmPropertyTypeInfo{Name: name, Version: esxcliTypeVersion, Type: typ}
	if opt {
		p.Annotation = optional
	}
	return p
}

func dataType(name, base string, props ...dtmPropertyTypeInfo) dtmDataTypeInfo {
	return dtmDataTypeInfo{Name: name, WsdlName: wsdlOf(name), Version: esxcliTypeVersion,
		Base: []string{base}, Property: props}
}

// wsdlOf derives a WSDL type name from a vmodl name: vim.CLIInfo.Info -> VimCLIInfoInfo.
func wsdlOf(vmodl string) string {
	s := strings.ReplaceAll(vmodl, ".", "")
	return strings.ToUpper(s[:1]) + s[1:]
}

// cliInfoTypes describes vim.CLIInfo and its data objects.
func cliInfoTypes() ([]dtmManagedTypeInfo, []dtmDataTypeInfo) {
	fetch := func(name, param string) dtmMethodTypeInfo {
		return dtmMethodTypeInfo{
			Name: name, WsdlName: "VimCLIInfo" + name, Version: esxcliTypeVersion,
			ParamTypeInfo:  []dtmParamTypeInfo{{Name: param, Version: esxcliTypeVersion, Type: "string"}},
			ReturnTypeInfo: &dtmParamTypeInfo{Name: "result", Version: esxcliTypeVersion, Type: "vim.CLIInfo.Info"},
		}
	}
	managed := []dtmManagedTypeInfo{{
		Name: "vim.CLIInfo", WsdlName: "VimCLIInfo", Version: esxcliTypeVersion,
		Base:   []string{"vmodl.ManagedObject"},
		Method: []dtmMethodTypeInfo{fetch("FetchCLIInfo", "typeName"), fetch("FetchCLIInfoFromDisplayName", "name")},
	}}
	data := []dtmDataTypeInfo{
		dataType("vim.CLIInfo.Info", "vmodl.DynamicData",
			prop("name", "string", false), prop("displayName", "string", true), prop("help", "string", true),
			prop("method", "vim.CLIInfo.Method[]", true)),
		dataType("vim.CLIInfo.Method", "vmodl.DynamicData",
			prop("name", "string", false), prop("displayName", "string", true), prop("help", "string", true),
			prop("param", "vim.CLIInfo.Param[]", true), prop("ret", "vim.CLIInfo.Param", true),
			prop("hints", "vim.KeyValue[]", true), prop("examples", "vim.CLIInfo.Example[]", true)),
		dataType("vim.CLIInfo.Param", "vmodl.DynamicData",
			prop("name", "string", false), prop("displayName", "string", true), prop("help", "string", true),
			prop("aliases", "string[]", true), prop("flag", "boolean", true), prop("default", "string", true),
			prop("constraint", "string[]", true)),
		dataType("vim.CLIInfo.Example", "vmodl.DynamicData",
			prop("example", "string", false), prop("description", "string", false)),
		dataType("vim.EsxCLI.CLIFault", "vmodl.MethodFault", prop("errMsg", "string[]", false)),
	}
	return managed, data
}

// namespaceTypes describes one esxcli application: its managed type and its row types.
func namespaceTypes(ns *cliNamespace) (dtmManagedTypeInfo, []dtmDataTypeInfo) {
	mt := dtmManagedTypeInfo{Name: ns.vmodlName(), WsdlName: ns.wsdlName(), Version: esxcliTypeVersion,
		Base: []string{"vmodl.ManagedObject"}}
	var data []dtmDataTypeInfo
	for i := range ns.Methods {
		m := &ns.Methods[i]
		method := dtmMethodTypeInfo{Name: m.Name, WsdlName: ns.wsdlName() + m.Name, Version: esxcliTypeVersion,
			ReturnTypeInfo: &dtmParamTypeInfo{Name: "result", Version: esxcliTypeVersion, Type: ns.resultType(m)},
			Fault:          []string{"vim.EsxCLI.CLIFault"}}
		if m.List {
			method.ReturnTypeInfo.Annotation = optional
		}
		for _, p := range m.Params {
			pt := dtmParamTypeInfo{Name: p.Name, Version: esxcliTypeVersion, Type: p.Type}
			if !p.Required {
				pt.Annotation = optional
			}
			method.ParamTypeInfo = append(method.ParamTypeInfo, pt)
		}
		mt.Method = append(mt.Method, method)
		if m.Fields != nil {
			row := dataType(ns.rowTypeName(m), "vmodl.DynamicData")
			for _, f := range m.Fields {
				row.Property = append(row.Property, prop(f.Name, f.Type, strings.HasSuffix(f.Type, "[]")))
			}
			data = append(data, row)
		}
	}
	return mt, data
}

// allEsxcliTypes is every dynamic type a host declares.
func allEsxcliTypes() dtmAllTypeInfo {
	var all dtmAllTypeInfo
	all.ManagedTypeInfo, all.DataTypeInfo = cliInfoTypes()
	for i := range esxcliNamespaces {
		mt, data := namespaceTypes(&esxcliNamespaces[i])
		all.ManagedTypeInfo = append(all.ManagedTypeInfo, mt)
		all.DataTypeInfo = append(all.DataTypeInfo, data...)
	}
	return all
}

// DynamicTypeMgrQueryTypeInfo answers the type definitions whose name contains the filter's
// typeSubstr (all of them without a filter).
func (m *dynamicTypeManager) DynamicTypeMgrQueryTypeInfo(req *dtmQueryTypeInfoRequest) soap.HasFault {
	all := allEsxcliTypes()
	if req.FilterSpec != nil && req.FilterSpec.TypeSubstr != "" {
		sub := req.FilterSpec.TypeSubstr
		var out dtmAllTypeInfo
		for _, t := range all.ManagedTypeInfo {
			if strings.Contains(t.Name, sub) {
				out.ManagedTypeInfo = append(out.ManagedTypeInfo, t)
			}
		}
		for _, t := range all.DataTypeInfo {
			if strings.Contains(t.Name, sub) {
				out.DataTypeInfo = append(out.DataTypeInfo, t)
			}
		}
		all = out
	}
	return &soapBody[DynamicTypeMgrQueryTypeInfoResponse]{Res: &DynamicTypeMgrQueryTypeInfoResponse{Returnval: all}}
}

// DynamicTypeMgrQueryMoInstances lists the CLI info object and one handler per application.
func (m *dynamicTypeManager) DynamicTypeMgrQueryMoInstances(req *dtmQueryMoInstancesRequest) soap.HasFault {
	all := []dtmMoInstance{{ID: cliInfoMoid, MoType: "vim.CLIInfo"}}
	for i := range esxcliNamespaces {
		ns := &esxcliNamespaces[i]
		all = append(all, dtmMoInstance{ID: ns.moid(), MoType: ns.vmodlName()})
	}
	var out []dtmMoInstance
	for _, mi := range all {
		if f := req.FilterSpec; f != nil {
			if (f.ID != "" && f.ID != mi.ID) || (f.TypeSubstr != "" && !strings.Contains(mi.MoType, f.TypeSubstr)) {
				continue
			}
		}
		out = append(out, mi)
	}
	return &soapBody[DynamicTypeMgrQueryMoInstancesResponse]{Res: &DynamicTypeMgrQueryMoInstancesResponse{Returnval: out}}
}
