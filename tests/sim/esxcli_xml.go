// esxcli_xml.go: the XML documents inside ExecuteSoap: argument values in, response and fault
// documents out, in the shapes ESXi produces and pyVmomi / govc parse.
package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// esxcliRow is one result row: field name -> values (several for list fields).
type esxcliRow map[string][]string

// esxcliResult is a command's answer: a boolean (set/add commands), one row (Single) or rows.
type esxcliResult struct {
	Bool   *bool
	Single bool
	Rows   []esxcliRow
}

func trueResult() *esxcliResult {
	t := true
	return &esxcliResult{Bool: &t}
}

// cliFault is vim.EsxCLI.CLIFault: what esxcli prints as the error, one line per errMsg.
type cliFault struct {
	ErrMsg []string
}

func cliError(format string, a ...interface{}) *cliFault {
	return &cliFault{ErrMsg: []string{fmt.Sprintf(format, a...)}}
}

// labFault turns a lab error into the CLI fault the host reports.
func labFault(err error) *cliFault { return &cliFault{ErrMsg: []string{err.Error()}} }

// xmlEsc escapes text for element content exactly as xml.EscapeText does (quotes, tab,
// newline and carriage return as character references). ASCII text without other control
// characters, the common case, takes one pass, and text with nothing to escape is returned as
// is: the escaping of a 256-host audit's 35 MB of esxcli answers was a third of our CPU.
func xmlEsc(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			var b strings.Builder
			_ = xml.EscapeText(&b, []byte(s))
			return b.String()
		}
	}
	return textEscaper.Replace(s)
}

var textEscaper = strings.NewReplacer(`"`, "&#34;", "'", "&#39;", "&", "&amp;", "<", "&lt;",
	">", "&gt;", "\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")

// objOpen starts the top-level <obj> of a response or fault document.
func objOpen(xsiType string) string {
	return `<obj xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` +
		` xmlns="urn:vim25" versionId="5.0" xsi:type="` + xsiType + `">`
}

// writeFields writes a row's fields in the declared order; list fields repeat their element.
func writeFields(b *strings.Builder, fields []cliField, row esxcliRow) {
	for _, f := range fields {
		vals := row[f.Name]
		if len(vals) == 0 && !strings.HasSuffix(f.Type, "[]") {
			vals = []string{""}
		}
		for _, v := range vals {
			b.WriteString("<" + f.Name + ">")
			b.WriteString(xmlEsc(v))
			b.WriteString("</" + f.Name + ">")
		}
	}
}

// resultXML serializes a command result like ESXi: ArrayOfDataObject of typed DataObjects for
// lists, a typed object for a single row, xsd:boolean for set commands.
func resultXML(ns *cliNamespace, m *cliMethod, r *esxcliResult) string {
	var b strings.Builder
	switch {
	case r.Bool != nil:
		b.WriteString(objOpen("xsd:boolean"))
		fmt.Fprint(&b, *r.Bool)
	case r.Single:
		b.WriteString(objOpen(ns.rowWsdlName(m)))
		if len(r.Rows) > 0 {
			writeFields(&b, m.Fields, r.Rows[0])
		}
	default:
		b.WriteString(objOpen("ArrayOfDataObject"))
		for _, row := range r.Rows {
			fmt.Fprintf(&b, `<DataObject xsi:type="%s">`, ns.rowWsdlName(m))
			writeFields(&b, m.Fields, row)
			b.WriteString("</DataObject>")
		}
	}
	b.WriteString("</obj>")
	return b.String()
}

// faultXML serializes a fault as the LocalizedMethodFault document ExecuteSoap puts in
// SoapFault.faultDetail; body is the inner XML of <fault>.
func faultXML(xsiType, body, msg string) string {
	return objOpen("LocalizedMethodFault") + `<fault xsi:type="` + xsiType + `">` + body +
		`</fault><localizedMessage>` + xmlEsc(msg) + `</localizedMessage></obj>`
}

func (f *cliFault) soapFault() *soapFaultResult {
	var body strings.Builder
	for _, m := range f.ErrMsg {
		fmt.Fprintf(&body, "<errMsg>%s</errMsg>", xmlEsc(m))
	}
	return &soapFaultResult{
		FaultMsg:    "EsxCLI.CLIFault.summary",
		FaultDetail: faultXML("VimEsxCLICLIFault", body.String(), "EsxCLI.CLIFault.summary"),
	}
}

// invalidArgument is the fault for a malformed or unexpected ExecuteSoap argument.
func invalidArgument(prop, msg string) *soapFaultResult {
	return &soapFaultResult{
		FaultMsg:    msg,
		FaultDetail: faultXML("InvalidArgument", "<invalidProperty>"+xmlEsc(prop)+"</invalidProperty>", msg),
	}
}

// methodNotFound is the fault for an ExecuteSoap method the target object does not have.
func methodNotFound(moType, moid, method string) *soapFaultResult {
	msg := fmt.Sprintf("Method %s not found on %s", method, moid)
	return &soapFaultResult{
		FaultMsg: msg,
		FaultDetail: faultXML("MethodNotFound", fmt.Sprintf(`<receiver type="%s">%s</receiver><method>%s</method>`,
			moType, xmlEsc(moid), xmlEsc(method)), msg),
	}
}

// objectNotFound is the fault for an ExecuteSoap moid the host does not have.
func objectNotFound(moid string) *soapFaultResult {
	msg := fmt.Sprintf("The object '%s' has already been deleted or has not been completely created", moid)
	return &soapFaultResult{
		FaultMsg:    msg,
		FaultDetail: faultXML("ManagedObjectNotFound", `<obj type="ManagedObject">`+xmlEsc(moid)+`</obj>`, msg),
	}
}

// argValues parses one SoapArgument val: the serialized parameter, one element per value
// (array parameters repeat the element). It returns the element texts, or an error when the
// value is not XML or names another element.
func argValues(name, val string) ([]string, error) {
	d := xml.NewDecoder(strings.NewReader(val))
	var vals []string
	depth := 0
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if t.Name.Local != name {
					return nil, fmt.Errorf("element <%s> in the value of argument %q", t.Name.Local, name)
				}
				text.Reset()
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				vals = append(vals, text.String())
			}
		case xml.CharData:
			if depth == 1 {
				text.Write(t)
			} else if depth == 0 && strings.TrimSpace(string(t)) != "" {
				return nil, fmt.Errorf("text outside <%s> in argument %q", name, name)
			}
		}
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("argument %q has no <%s> element", name, name)
	}
	return vals, nil
}

// cliInfoXML serializes vim.CLIInfo.Info for a namespace (nil ns: a parent namespace).
func cliInfoXML(path string, ns *cliNamespace) string {
	var b strings.Builder
	b.WriteString(objOpen("VimCLIInfoInfo"))
	display := path[strings.LastIndex(path, ".")+1:]
	help := esxcliParentHelp[path]
	if ns != nil {
		help = ns.Help
	}
	fmt.Fprintf(&b, "<name>%s</name><displayName>%s</displayName><help>%s</help>",
		xmlEsc(path), xmlEsc(display), xmlEsc(help))
	if ns != nil {
		for i := range ns.Methods {
			writeCLIMethod(&b, ns, &ns.Methods[i])
		}
	}
	b.WriteString("</obj>")
	return b.String()
}

func writeCLIMethod(b *strings.Builder, ns *cliNamespace, m *cliMethod) {
	fmt.Fprintf(b, "<method><name>%s</name><displayName>%s</displayName><help>%s</help>", m.Name, m.Name, xmlEsc(m.Help))
	for _, p := range m.Params {
		fmt.Fprintf(b, "<param><name>%s</name><displayName>%s</displayName><help>%s</help>", p.Name, p.Name, xmlEsc(p.Help))
		for _, a := range p.Aliases {
			fmt.Fprintf(b, "<aliases>%s</aliases>", a)
		}
		fmt.Fprintf(b, "<flag>%t</flag>", p.Flag)
		for _, c := range p.Constraint {
			fmt.Fprintf(b, "<constraint>%s</constraint>", xmlEsc(c))
		}
		b.WriteString("</param>")
	}
	b.WriteString("<ret><name>result</name><displayName>result</displayName><help></help><flag>false</flag></ret>")
	hints := append([][2]string{}, m.Hints...)
	sort.SliceStable(hints, func(i, j int) bool { return hints[i][0] == "formatter" && hints[j][0] != "formatter" })
	for _, h := range hints {
		fmt.Fprintf(b, "<hints><key>%s</key><value>%s</value></hints>", xmlEsc(h[0]), xmlEsc(h[1]))
	}
	b.WriteString("</method>")
}
