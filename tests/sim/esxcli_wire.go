// esxcli_wire.go: SOAP request/response types of the internal vSphere methods that esxcli uses
// through vCenter (HostSystem.RetrieveManagedMethodExecuter / RetrieveDynamicTypeManager,
// ManagedMethodExecuter.ExecuteSoap, DynamicTypeManager.QueryTypeInfo / QueryMoInstances).
//
// vcsim decodes a request by looking its element name up in the vim25 type registry, and names
// the response element after the Go type of the body's Res field, so the response types below
// carry the wire names. govmomi's own definitions live in its internal package, which cannot be
// imported from here.
package main

import (
	"reflect"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// WSDL type names of the managed objects, as pyVmomi and govmomi expect them in morefs.
const (
	mmeType        = "ReflectManagedMethodExecuter"
	dtmType        = "InternalDynamicTypeManager"
	esxcliHostType = "EsxcliHostSystem" // see esxcliRewriteRequest
)

type retrieveManagedMethodExecuterRequest struct {
	This types.ManagedObjectReference `xml:"_this"`
}

type retrieveDynamicTypeManagerRequest struct {
	This types.ManagedObjectReference `xml:"_this"`
}

// RetrieveManagedMethodExecuterResponse is named for the wire.
type RetrieveManagedMethodExecuterResponse struct {
	Returnval *types.ManagedObjectReference `xml:"urn:vim25 returnval,omitempty"`
}

// RetrieveDynamicTypeManagerResponse is named for the wire.
type RetrieveDynamicTypeManagerResponse struct {
	Returnval *types.ManagedObjectReference `xml:"urn:vim25 returnval,omitempty"`
}

// soapArgument is vmodl.reflect.ManagedMethodExecuter.SoapArgument: one parameter of the
// executed method, val being its SOAP serialization (e.g. "<device>eui.x</device>").
type soapArgument struct {
	Name string `xml:"name" json:"name"`
	Val  string `xml:"val" json:"val"`
}

type executeSoapRequest struct {
	This     types.ManagedObjectReference `xml:"_this"`
	Moid     string                       `xml:"moid"`
	Version  string                       `xml:"version"`
	Method   string                       `xml:"method"`
	Argument []soapArgument               `xml:"argument,omitempty"`
}

// soapFaultResult is vmodl.reflect.ManagedMethodExecuter.SoapFault.
type soapFaultResult struct {
	FaultMsg    string `xml:"faultMsg"`
	FaultDetail string `xml:"faultDetail,omitempty"`
}

// soapResult is vmodl.reflect.ManagedMethodExecuter.SoapResult: exactly one of the two is set.
// The response document goes out through setResponse, escaped once by us: govmomi's encoder
// escapes a string rune by rune, a third of our CPU for a 256-host audit's 35 MB of answers.
type soapResult struct {
	Response string           `xml:"-"`
	Wire     string           `xml:",innerxml"` // <response>Response, escaped</response>
	Fault    *soapFaultResult `xml:"fault,omitempty"`
}

func (r *soapResult) setResponse(doc string) {
	r.Response, r.Wire = doc, ""
	if doc != "" { // omitted when empty, as the encoder's omitempty did
		r.Wire = "<response>" + xmlEsc(doc) + "</response>"
	}
}

// ExecuteSoapResponse is named for the wire.
type ExecuteSoapResponse struct {
	Returnval *soapResult `xml:"urn:vim25 returnval,omitempty"`
}

// dtmFilterSpec covers both DynamicTypeMgrTypeFilterSpec (typeSubstr) and
// DynamicTypeMgrMoFilterSpec (id, typeSubstr).
type dtmFilterSpec struct {
	ID         string `xml:"id,omitempty"`
	TypeSubstr string `xml:"typeSubstr,omitempty"`
}

type dtmQueryTypeInfoRequest struct {
	This       types.ManagedObjectReference `xml:"_this"`
	FilterSpec *dtmFilterSpec               `xml:"filterSpec,omitempty"`
}

type dtmQueryMoInstancesRequest struct {
	This       types.ManagedObjectReference `xml:"_this"`
	FilterSpec *dtmFilterSpec               `xml:"filterSpec,omitempty"`
}

// DynamicTypeMgrQueryTypeInfoResponse is named for the wire.
type DynamicTypeMgrQueryTypeInfoResponse struct {
	Returnval dtmAllTypeInfo `xml:"urn:vim25 returnval"`
}

// DynamicTypeMgrQueryMoInstancesResponse is named for the wire.
type DynamicTypeMgrQueryMoInstancesResponse struct {
	Returnval []dtmMoInstance `xml:"urn:vim25 returnval,omitempty"`
}

type dtmMoInstance struct {
	ID     string `xml:"id"`
	MoType string `xml:"moType"`
}

// The vmodl.reflect.DynamicTypeManager.*TypeInfo data objects.
type dtmAnnotation struct {
	Name      string   `xml:"name"`
	Parameter []string `xml:"parameter,omitempty"`
}

type dtmPropertyTypeInfo struct {
	Name       string          `xml:"name"`
	Version    string          `xml:"version"`
	Type       string          `xml:"type"`
	Annotation []dtmAnnotation `xml:"annotation,omitempty"`
}

type dtmParamTypeInfo struct {
	Name       string          `xml:"name"`
	Version    string          `xml:"version"`
	Type       string          `xml:"type"`
	Annotation []dtmAnnotation `xml:"annotation,omitempty"`
}

type dtmMethodTypeInfo struct {
	Name           string             `xml:"name"`
	WsdlName       string             `xml:"wsdlName"`
	Version        string             `xml:"version"`
	ParamTypeInfo  []dtmParamTypeInfo `xml:"paramTypeInfo,omitempty"`
	ReturnTypeInfo *dtmParamTypeInfo  `xml:"returnTypeInfo,omitempty"`
	Fault          []string           `xml:"fault,omitempty"`
}

type dtmManagedTypeInfo struct {
	Name     string              `xml:"name"`
	WsdlName string              `xml:"wsdlName"`
	Version  string              `xml:"version"`
	Base     []string            `xml:"base,omitempty"`
	Method   []dtmMethodTypeInfo `xml:"method,omitempty"`
}

type dtmDataTypeInfo struct {
	Name     string                `xml:"name"`
	WsdlName string                `xml:"wsdlName"`
	Version  string                `xml:"version"`
	Base     []string              `xml:"base,omitempty"`
	Property []dtmPropertyTypeInfo `xml:"property,omitempty"`
}

type dtmAllTypeInfo struct {
	ManagedTypeInfo []dtmManagedTypeInfo `xml:"managedTypeInfo,omitempty"`
	DataTypeInfo    []dtmDataTypeInfo    `xml:"dataTypeInfo,omitempty"`
}

// soapBody is a method's response body: vcsim reads the Res field by name (the element is named
// after Res's type) and the fault through Fault().
type soapBody[R any] struct {
	Res    *R
	Fault_ *soap.Fault
}

func (b *soapBody[R]) Fault() *soap.Fault { return b.Fault_ }

func init() {
	// Request element names -> Go types, so vcsim can decode the requests.
	for name, v := range map[string]interface{}{
		"RetrieveManagedMethodExecuter":  (*retrieveManagedMethodExecuterRequest)(nil),
		"RetrieveDynamicTypeManager":     (*retrieveDynamicTypeManagerRequest)(nil),
		"ExecuteSoap":                    (*executeSoapRequest)(nil),
		"DynamicTypeMgrQueryTypeInfo":    (*dtmQueryTypeInfoRequest)(nil),
		"DynamicTypeMgrQueryMoInstances": (*dtmQueryMoInstancesRequest)(nil),
	} {
		types.Add(name, reflect.TypeOf(v).Elem())
	}
}
