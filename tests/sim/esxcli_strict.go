// esxcli_strict.go: what an ExecuteSoap request must look like to be served, so that a wire
// mistake in a client fails here as it would on a host:
//   - the method is named as the host declares it (govc: "...device.list") or with its first
//     letter capitalized, as pyVmomi-based clients name methods (Broadcom's esxcli:
//     "...device.List"); any other case ("LIST", "lIst") is MethodNotFound;
//   - the version is urn:vim25/<a version an ESXi 8.0 U3 host speaks>; another namespace or an
//     unknown version is refused with the text hostd's SOAP layer gives for them ("Request
//     version 'urn:pbm/6.7' and namespace 'urn:pbm' are not supported", quoted in
//     cloudfoundry/bosh-vsphere-cpi-release#239), as an InvalidRequest in SoapResult.fault;
//   - an argument value that carries a versionId or a default namespace must carry a known
//     version and urn:vim25 (InvalidArgument naming the argument).
//
// Unknown and duplicate arguments are refused by parseArguments (esxcli_exec.go).
package main

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// vim25Versions are the vim25 versions an ESXi 8.0 U3 host accepts (pyVmomi's version table up
// to 8.0.3.0).
var vim25Versions = map[string]bool{}

func init() {
	for _, v := range strings.Fields("2.5 2.5u2 4.0 4.1 5.0 5.1 5.5 6.0 6.5 6.7 6.7.1 6.7.2 6.7.3 " +
		"7.0.0.0 7.0.0.1 7.0.0.2 7.0.1.0 7.0.1.1 7.0.2.0 7.0.2.1 7.0.3.0 7.0.3.1 7.0.3.2 " +
		"8.0.0.0 8.0.0.1 8.0.0.2 8.0.1.0 8.0.2.0 8.0.3.0") {
		vim25Versions[v] = true
	}
}

// methodNameMatches tells whether a requested verb names the declared one: exactly, or with
// only its first letter upper-cased.
func methodNameMatches(declared, requested string) bool {
	if requested == declared {
		return true
	}
	return declared != "" && requested == strings.ToUpper(declared[:1])+declared[1:]
}

// checkVersion refuses an ExecuteSoap version the host does not speak.
func checkVersion(version string) *soapFaultResult {
	ns, ver := version, ""
	if i := strings.LastIndex(version, "/"); i >= 0 {
		ns, ver = version[:i], version[i+1:]
	}
	if ns == "urn:vim25" && vim25Versions[ver] {
		return nil
	}
	msg := fmt.Sprintf("Request version '%s' and namespace '%s' are not supported", version, ns)
	return &soapFaultResult{FaultMsg: msg, FaultDetail: faultXML("InvalidRequest", "", msg)}
}

// checkArgumentVersion refuses an argument value whose top element declares another namespace
// or an unknown versionId (a value without either is accepted, as govc sends them).
func checkArgumentVersion(a soapArgument) *soapFaultResult {
	d := xml.NewDecoder(strings.NewReader(a.Val))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil // malformed values are argValues' to report
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Space != "" && se.Name.Space != "urn:vim25" {
			return invalidArgument(a.Name, fmt.Sprintf("Namespace '%s' of argument '%s' is not supported", se.Name.Space, a.Name))
		}
		for _, at := range se.Attr {
			if at.Name.Local == "versionId" && !vim25Versions[at.Value] {
				return invalidArgument(a.Name, fmt.Sprintf("Version '%s' of argument '%s' is not supported", at.Value, a.Name))
			}
		}
		return nil
	}
}
