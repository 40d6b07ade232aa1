// esxcli_exec.go: the per-host ManagedMethodExecuter (ExecuteSoap) and how it is reached.
//
// Flow of Broadcom's esxcli through vCenter (--vihost): SearchIndex.FindByIp/FindByDnsName ->
// HostSystem.RetrieveManagedMethodExecuter and RetrieveDynamicTypeManager -> (direct SOAP)
// DynamicTypeMgrQueryTypeInfo / DynamicTypeMgrQueryMoInstances -> ExecuteSoap(moid
// ha-dynamic-type-manager-local-cli-cliinfo, vim.CLIInfo.FetchCLIInfo) -> ExecuteSoap(moid
// ha-cli-handler-storage-nmp-device, vim.EsxCLI.storage.nmp.device.list, arguments).
//
// vcsim's HostSystem cannot grow methods, and replacing it in the registry breaks vcsim code that
// type-asserts *simulator.HostSystem. So the two Retrieve* calls are routed to a per-host proxy
// object: esxcliRewriteRequest (called by the SOAP middleware) retypes their _this from
// HostSystem to EsxcliHostSystem, same moid.
package main

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// esxcliHostProxy answers the HostSystem methods vcsim lacks for one host.
type esxcliHostProxy struct {
	mo.ExtensibleManagedObject
}

// methodExecuter is vmodl.reflect.ManagedMethodExecuter for one host.
type methodExecuter struct {
	mo.ExtensibleManagedObject
	hostMoid string
}

func mmeRef(hostMoid string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: mmeType, Value: "mme-" + hostMoid}
}

func dtmRef(hostMoid string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: dtmType, Value: "dtm-" + hostMoid}
}

func init() {
	OnHost(func(h *Host, hs *simulator.HostSystem) { registerEsxcli(h.Name, hs.Self.Value) })
	OnSDKRequest(esxcliRewriteRequest)
}

// registerEsxcli puts a host's proxy, MME and DynamicTypeManager into vcsim's registry.
func registerEsxcli(host, hostMoid string) {
	p := &esxcliHostProxy{}
	p.Self = types.ManagedObjectReference{Type: esxcliHostType, Value: hostMoid}
	simulator.Map.Put(p)
	m := &methodExecuter{hostMoid: hostMoid}
	m.Self = mmeRef(hostMoid)
	simulator.Map.Put(m)
	d := &dynamicTypeManager{hostMoid: hostMoid}
	d.Self = dtmRef(hostMoid)
	simulator.Map.Put(d)
	lab.RegisterHostObject(m.Self.Value, host)
	lab.RegisterHostObject(d.Self.Value, host)
}

// RetrieveManagedMethodExecuter is HostSystem.RetrieveManagedMethodExecuter.
func (p *esxcliHostProxy) RetrieveManagedMethodExecuter(req *retrieveManagedMethodExecuterRequest) soap.HasFault {
	ref := mmeRef(p.Self.Value)
	return &soapBody[RetrieveManagedMethodExecuterResponse]{Res: &RetrieveManagedMethodExecuterResponse{Returnval: &ref}}
}

// RetrieveDynamicTypeManager is HostSystem.RetrieveDynamicTypeManager.
func (p *esxcliHostProxy) RetrieveDynamicTypeManager(req *retrieveDynamicTypeManagerRequest) soap.HasFault {
	ref := dtmRef(p.Self.Value)
	return &soapBody[RetrieveDynamicTypeManagerResponse]{Res: &RetrieveDynamicTypeManagerResponse{Returnval: &ref}}
}

var retrieveThis = regexp.MustCompile(`(<(?:[\w-]+:)?_this\b[^>]*\btype=")HostSystem(")`)

// esxcliRewriteRequest routes HostSystem.Retrieve{ManagedMethodExecuter,DynamicTypeManager} to
// the host's proxy object (see the file comment); other requests are returned unchanged.
func esxcliRewriteRequest(body []byte) []byte {
	if !bytes.Contains(body, []byte("RetrieveManagedMethodExecuter")) &&
		!bytes.Contains(body, []byte("RetrieveDynamicTypeManager")) {
		return body
	}
	return retrieveThis.ReplaceAll(body, []byte("${1}"+esxcliHostType+"${2}"))
}

// sdkAlias serves vCenter's /sdk/webService (the default service path of Broadcom's esxcli and
// vCLI) as /sdk: vcsim picks its registry by request path.
func sdkAlias(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/sdk"
		next(w, r2)
	}
}

// esxcliCall is one command invocation.
type esxcliCall struct {
	lab      *Lab
	host     *Host // live lab state: read it under lab.Lock()
	hostName string
	args     map[string][]string
	params   []cliParam
}

func (c *esxcliCall) arg(name string) (string, bool) {
	v, ok := c.args[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func (c *esxcliCall) str(name string) string {
	v, _ := c.arg(name)
	return v
}

func (c *esxcliCall) long(name string) (int64, bool, *cliFault) {
	v, ok := c.arg(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false, cliError("Invalid value %q for parameter '%s': expected an integer", v, name)
	}
	return n, true, nil
}

func (c *esxcliCall) boolean(name string) (bool, bool, *cliFault) {
	v, ok := c.arg(name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, false, cliError("Invalid value %q for parameter '%s': expected a boolean", v, name)
}

func (c *esxcliCall) flag(name string) bool {
	b, _, _ := c.boolean(name)
	return b
}

// ExecuteSoap runs a method of one of the host's internal objects: the CLI info or an esxcli
// command. Errors of the executed method travel in SoapResult.fault; only problems with the
// host itself are SOAP faults of ExecuteSoap.
func (m *methodExecuter) ExecuteSoap(ctx *simulator.Context, req *executeSoapRequest) soap.HasFault {
	h := lab.HostByMoid(m.hostMoid)
	if h == nil {
		return &soapBody[ExecuteSoapResponse]{Fault_: simulator.Fault("host not found", &types.ManagedObjectNotFound{
			Obj: types.ManagedObjectReference{Type: "HostSystem", Value: m.hostMoid}})}
	}
	lab.Lock()
	name := h.Name
	kind, msg := connectionFault(h)
	lab.Unlock()
	if kind != "" {
		return &soapBody[ExecuteSoapResponse]{Fault_: simulator.Fault(msg, connectionFaultObject(kind))}
	}
	res := &soapResult{}
	if out, fault := executeOn(h, name, req); fault != nil {
		res.Fault = fault
	} else {
		res.setResponse(out)
	}
	return &soapBody[ExecuteSoapResponse]{Res: &ExecuteSoapResponse{Returnval: res}}
}

// executeOn dispatches by moid and method name and returns the response document or a fault.
func executeOn(h *Host, hostName string, req *executeSoapRequest) (string, *soapFaultResult) {
	if f := checkVersion(req.Version); f != nil {
		return "", f
	}
	for _, a := range req.Argument {
		if f := checkArgumentVersion(a); f != nil {
			return "", f
		}
	}
	if req.Moid == cliInfoMoid {
		return fetchCLIInfo(req)
	}
	ns := esxcliNamespaceByMoid(req.Moid)
	if ns == nil {
		return "", objectNotFound(req.Moid)
	}
	prefix := ns.vmodlName() + "."
	var method *cliMethod
	if strings.HasPrefix(req.Method, prefix) {
		method = ns.method(strings.TrimPrefix(req.Method, prefix))
	}
	if method == nil {
		return "", methodNotFound(ns.wsdlName(), req.Moid, req.Method)
	}
	args, fault := parseArguments(method, req.Argument)
	if fault != nil {
		return "", fault
	}
	command := ns.command() + " " + method.Name
	lab.CountEsxcli(command) // faults injected for a command are the middleware's (soapCall.Esxcli)
	call := &esxcliCall{lab: lab, host: h, hostName: hostName, args: args, params: method.Params}
	res, cf := method.Run(call)
	if cf != nil {
		return "", cf.soapFault()
	}
	return resultXML(ns, method, res), nil
}

// parseArguments checks names, required parameters and the XML of each value.
func parseArguments(m *cliMethod, in []soapArgument) (map[string][]string, *soapFaultResult) {
	args := map[string][]string{}
	for _, a := range in {
		var p *cliParam
		for i := range m.Params {
			if m.Params[i].Name == a.Name {
				p = &m.Params[i]
			}
		}
		if p == nil {
			return nil, invalidArgument(a.Name, "Unknown parameter '"+a.Name+"'")
		}
		if _, dup := args[a.Name]; dup {
			return nil, invalidArgument(a.Name, "Duplicate parameter '"+a.Name+"'")
		}
		vals, err := argValues(a.Name, a.Val)
		if err != nil {
			return nil, invalidArgument(a.Name, err.Error())
		}
		args[a.Name] = vals
	}
	for _, p := range m.Params {
		if _, ok := args[p.Name]; p.Required && !ok {
			return nil, invalidArgument(p.Name, "Missing required parameter '"+p.Name+"'")
		}
	}
	return args, nil
}

// fetchCLIInfo answers vim.CLIInfo.FetchCLIInfo(typeName) and FetchCLIInfoFromDisplayName(name).
func fetchCLIInfo(req *executeSoapRequest) (string, *soapFaultResult) {
	var argName string
	switch req.Method {
	case "vim.CLIInfo.FetchCLIInfo":
		argName = "typeName"
	case "vim.CLIInfo.FetchCLIInfoFromDisplayName":
		argName = "name"
	default:
		return "", methodNotFound("VimCLIInfo", req.Moid, req.Method)
	}
	var val string
	for _, a := range req.Argument {
		if a.Name == argName {
			vals, err := argValues(a.Name, a.Val)
			if err != nil {
				return "", invalidArgument(a.Name, err.Error())
			}
			val = vals[0]
		}
	}
	if val == "" {
		return "", invalidArgument(argName, "Missing required parameter '"+argName+"'")
	}
	for i := range esxcliNamespaces {
		ns := &esxcliNamespaces[i]
		if val == ns.vmodlName() || (argName == "name" && val == ns.command()) {
			return cliInfoXML(ns.Path, ns), nil
		}
	}
	path := strings.TrimPrefix(val, "vim.EsxCLI.")
	if argName == "name" {
		path = strings.ReplaceAll(val, " ", ".")
	}
	if _, ok := esxcliParentHelp[path]; ok {
		return cliInfoXML(path, nil), nil
	}
	return "", (&cliFault{ErrMsg: []string{"No CLI info for " + val}}).soapFault()
}

// ExecuteSoapCall is what the request log shows of an ExecuteSoap request, so tests can compare
// different clients: target moid, method, version and the arguments in order.
type ExecuteSoapCall struct {
	This      string         `json:"this"`
	Moid      string         `json:"moid"`
	Method    string         `json:"method"`
	Version   string         `json:"version"`
	Arguments []soapArgument `json:"arguments"`
}

// describeExecuteSoap decodes an ExecuteSoap request body for the request log; ok is false for
// other requests.
func describeExecuteSoap(body []byte) (call ExecuteSoapCall, ok bool) {
	if !bytes.Contains(body, []byte("ExecuteSoap")) {
		return call, false
	}
	var env struct {
		Body struct {
			Req *struct {
				This     types.ManagedObjectReference `xml:"_this"`
				Moid     string                       `xml:"moid"`
				Version  string                       `xml:"version"`
				Method   string                       `xml:"method"`
				Argument []soapArgument               `xml:"argument"`
			} `xml:"ExecuteSoap"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Body.Req == nil {
		return call, false
	}
	r := env.Body.Req
	return ExecuteSoapCall{This: r.This.Value, Moid: r.Moid, Method: r.Method, Version: r.Version,
		Arguments: append([]soapArgument{}, r.Argument...)}, true
}
