// middleware.go: what sits in front of vcsim's /sdk handler: call counting, the request log,
// session expiry, disconnected and not responding hosts, injected faults and latency.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
)

// soapCall is what the middleware reads from a request body.
type soapCall struct {
	Method   string // SOAP operation, e.g. RetrievePropertiesEx
	This     string // _this moid
	ThisType string // _this type
	Esxcli   string // for ExecuteSoap of vim.EsxCLI.*: the command, e.g. "storage nmp device list"
}

// parseSOAP reads the operation, _this and, for ExecuteSoap, the esxcli command.
func parseSOAP(body []byte) soapCall {
	var c soapCall
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	inBody := false // skip the SOAP Header (Broadcom's esxcli sends an operationID there)
	for {
		tok, err := dec.Token()
		if err != nil {
			return c
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				inBody = t.Name.Local == "Body"
			}
			if !inBody {
				continue
			}
			switch {
			case depth == 3:
				c.Method = t.Name.Local
			case depth == 4 && (t.Name.Local == "_this" || t.Name.Local == "method"):
				var text string
				if err := dec.DecodeElement(&text, &t); err != nil {
					return c
				}
				depth--
				if t.Name.Local == "_this" {
					c.This = strings.TrimSpace(text)
					for _, a := range t.Attr {
						if a.Name.Local == "type" {
							c.ThisType = a.Value
						}
					}
				} else if c.Method == "ExecuteSoap" {
					c.Esxcli = esxcliCommand(strings.TrimSpace(text))
				}
			}
		case xml.EndElement:
			depth--
			if depth == 2 && inBody {
				return c
			}
		}
	}
}

// esxcliCommand turns "vim.EsxCLI.storage.nmp.device.list" into "storage nmp device list".
func esxcliCommand(method string) string {
	if !strings.HasPrefix(method, "vim.EsxCLI.") {
		return ""
	}
	cmd := strings.ReplaceAll(strings.TrimPrefix(method, "vim.EsxCLI."), ".", " ")
	// pyVmomi-based clients (Broadcom's esxcli) capitalize the method: "...device.List".
	if i := strings.LastIndexByte(cmd, ' '); i >= 0 && i+1 < len(cmd) {
		cmd = cmd[:i+1] + strings.ToLower(cmd[i+1:i+2]) + cmd[i+2:]
	}
	return cmd
}

// faultRule fails the next Count calls of Method (a SOAP method or an esxcli command),
// optionally only on Host.
type faultRule struct {
	Method string `json:"method"`
	Host   string `json:"host,omitempty"`
	Fault  string `json:"fault"`
	Count  int    `json:"count"`
}

// latencyRule delays calls: globally (no Method, no Host), per method, per host, or both.
type latencyRule struct {
	MS     int     `json:"ms"`
	Jitter float64 `json:"jitter,omitempty"`
	Method string  `json:"method,omitempty"`
	Host   string  `json:"host,omitempty"`
}

// reqEntry is one logged request (GET /requests).
type reqEntry struct {
	Method string `json:"method"`
	This   string `json:"this"`
	Host   string `json:"host,omitempty"`
	Esxcli string `json:"esxcli,omitempty"`
	Body   string `json:"body"`
	// ExecuteSoap: moid, method, version and arguments decoded (see esxcli_exec.go).
	ExecuteSoap *ExecuteSoapCall `json:"execute_soap,omitempty"`
}

const requestLogSize = 2000

// middleware holds the mutable behaviour of the /sdk endpoint.
type middleware struct {
	mu       sync.Mutex
	faults   []*faultRule
	latency  []latencyRule
	baseline []latencyRule // from --latency-ms: /reset returns to it, as to the scenario
	requests []reqEntry
	known    map[string]bool // session cookies issued and still valid
	expired  map[string]bool // session cookies expired by /sessions/expire, Logout or a fault
}

var mw = &middleware{known: map[string]bool{}, expired: map[string]bool{}}

// sdkRequestHooks may rewrite a request body before vcsim decodes it (after it was counted,
// logged and checked). Other files register with OnSDKRequest from init().
var sdkRequestHooks []func(body []byte) []byte

// OnSDKRequest registers a request body rewrite.
func OnSDKRequest(f func(body []byte) []byte) { sdkRequestHooks = append(sdkRequestHooks, f) }

// unauthenticatedOK are the operations vCenter answers without a session.
var unauthenticatedOK = map[string]bool{
	"RetrieveServiceContent": true, "Login": true, "LoginByToken": true,
	"LoginExtensionByCertificate": true, "CloneSession": true,
}

func (m *middleware) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		call := parseSOAP(body)
		host := lab.HostOfObject(call.This)
		lab.CountCall(call.Method)
		m.record(call, host, body)

		cookie := sessionCookie(r)
		if strings.HasPrefix(call.Method, "Login") {
			// vcsim refuses Login on a live session; vCenter starts a new one.
			dropSessionCookie(r)
		} else if !unauthenticatedOK[call.Method] && !m.validSession(cookie) {
			writeFault(w, "NotAuthenticated", "The session is not authenticated.", call)
			return
		}
		if d := m.delay(call, host); d > 0 {
			time.Sleep(d)
		}
		if host != "" && call.Method != "Fetch" {
			if kind, msg := lab.ConnectionFault(host); kind != "" {
				writeFault(w, kind, msg, call)
				return
			}
		}
		if kind := m.takeFault(call, host); kind != "" {
			switch kind {
			case "reset":
				resetConnection(w)
			case "NotAuthenticated":
				m.expire(cookie)
				writeFault(w, kind, "The session is not authenticated.", call)
			default:
				writeFault(w, kind, "Injected fault "+kind, call)
			}
			return
		}
		for _, f := range sdkRequestHooks {
			body = f(body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rec := &cookieRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		m.mu.Lock()
		if rec.session != "" {
			m.known[rec.session] = true
		}
		if call.Method == "Logout" && rec.status == http.StatusOK {
			delete(m.known, cookie)
			m.expired[cookie] = true
		}
		m.mu.Unlock()
	})
}

func sessionCookie(r *http.Request) string {
	if c, err := r.Cookie(soap.SessionCookieName); err == nil {
		return c.Value
	}
	return ""
}

// dropSessionCookie removes the session cookie and keeps the others.
func dropSessionCookie(r *http.Request) {
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name != soap.SessionCookieName {
			r.AddCookie(c)
		}
	}
}

func (m *middleware) validSession(cookie string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return cookie != "" && m.known[cookie] && !m.expired[cookie]
}

func (m *middleware) expire(cookie string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.known, cookie)
	if cookie != "" {
		m.expired[cookie] = true
	}
}

// expireAll makes every current session answer NotAuthenticated (POST /sessions/expire).
func (m *middleware) expireAll() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(m.known)
	for c := range m.known {
		m.expired[c] = true
	}
	m.known = map[string]bool{}
	return n
}

// cookieRecorder notes the session cookie vcsim hands out and the status code.
type cookieRecorder struct {
	http.ResponseWriter
	session string
	status  int
}

func (c *cookieRecorder) WriteHeader(code int) {
	c.status = code
	for _, line := range c.Header().Values("Set-Cookie") {
		if strings.HasPrefix(line, soap.SessionCookieName+"=") {
			v := strings.TrimPrefix(line, soap.SessionCookieName+"=")
			if i := strings.IndexByte(v, ';'); i >= 0 {
				v = v[:i]
			}
			c.session = strings.Trim(v, `"`)
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *cookieRecorder) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

func (m *middleware) record(call soapCall, host string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Trimmed a half at a time: shifting the whole log on every request once it is full made
	// each call copy 2000 entries (a tenth of the simulator's CPU in a 256-host audit).
	if len(m.requests) >= 2*requestLogSize {
		m.requests = append(m.requests[:0:0], m.requests[len(m.requests)-requestLogSize:]...)
	}
	e := reqEntry{Method: call.Method, This: call.This, Host: host, Esxcli: call.Esxcli, Body: string(body)}
	if c, ok := describeExecuteSoap(body); ok && call.Method == "ExecuteSoap" {
		e.ExecuteSoap = &c
	}
	m.requests = append(m.requests, e)
}

// requestLog returns logged requests, filtered by method / esxcli command / host when given.
func (m *middleware) requestLog(method, esxcli, host string) []reqEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []reqEntry{}
	from := 0
	if len(m.requests) > requestLogSize {
		from = len(m.requests) - requestLogSize
	}
	for _, e := range m.requests[from:] {
		if (method == "" || e.Method == method) && (esxcli == "" || e.Esxcli == esxcli) &&
			(host == "" || e.Host == host) {
			out = append(out, e)
		}
	}
	return out
}

func (m *middleware) resetRequests() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = nil
}

func (r faultRule) matches(call soapCall, host string) bool {
	if r.Host != "" && r.Host != host {
		return false
	}
	return r.Method == call.Method || (call.Esxcli != "" && r.Method == call.Esxcli)
}

// takeFault consumes one matching fault rule and returns its fault kind, or "".
func (m *middleware) takeFault(call soapCall, host string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range m.faults {
		if r.matches(call, host) {
			r.Count--
			if r.Count <= 0 {
				m.faults = append(m.faults[:i:i], m.faults[i+1:]...)
			}
			return r.Fault
		}
	}
	return ""
}

func (m *middleware) addFault(r faultRule) error {
	switch r.Fault {
	case "HostCommunication", "HostNotConnected", "SystemError", "NotAuthenticated", "reset":
	default:
		return fmt.Errorf("fault must be HostCommunication, HostNotConnected, SystemError, NotAuthenticated or reset")
	}
	if r.Method == "" {
		return fmt.Errorf("method is required")
	}
	if r.Count == 0 {
		r.Count = 1
	}
	if r.Host != "" && lab.HostByName(r.Host) == nil {
		return fmt.Errorf("unknown host %q", r.Host)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, &r)
	return nil
}

// setLatency adds or replaces the rule for (method, host); ms 0 removes it.
func (m *middleware) setLatency(r latencyRule) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.latency[:0:0]
	for _, o := range m.latency {
		if o.Method != r.Method || o.Host != r.Host {
			out = append(out, o)
		}
	}
	if r.MS > 0 {
		out = append(out, r)
	}
	m.latency = out
}

// delay sums every matching latency rule (global + per method + per host).
func (m *middleware) delay(call soapCall, host string) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	total := 0.0
	for _, r := range m.latency {
		if r.Method != "" && r.Method != call.Method && r.Method != call.Esxcli {
			continue
		}
		if r.Host != "" && r.Host != host {
			continue
		}
		d := float64(r.MS) * (1 + r.Jitter*rand.NormFloat64())
		if d > 0 {
			total += d
		}
	}
	return time.Duration(total * float64(time.Millisecond))
}

// setBaseline makes a latency rule part of the start state (--latency-ms).
func (m *middleware) setBaseline(r latencyRule) {
	m.setLatency(r)
	m.mu.Lock()
	m.baseline = append(m.latency[:0:0], m.latency...)
	m.mu.Unlock()
}

// clear drops faults and the request log and puts latency back to the start (POST /reset).
func (m *middleware) clear() {
	m.mu.Lock()
	m.faults, m.requests = nil, nil
	m.latency = append(m.baseline[:0:0], m.baseline...)
	m.mu.Unlock()
}

// writeFault answers with a SOAP fault shaped like vCenter's (pyVmomi raises the typed fault).
func writeFault(w http.ResponseWriter, kind, msg string, call soapCall) {
	var detail string
	switch kind {
	case "SystemError":
		detail = "<reason>" + xmlEsc(msg) + "</reason>"
	case "NotAuthenticated":
		t := call.ThisType
		if t == "" {
			t = "Folder"
		}
		detail = fmt.Sprintf(`<object type="%s">%s</object><privilegeId>System.View</privilegeId>`,
			xmlEsc(t), xmlEsc(call.This))
	}
	body := xml.Header + `<soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/"` +
		` xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"` +
		` xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>` + xmlEsc(msg) +
		`</faultstring><detail><` + kind + `Fault xmlns="urn:vim25" xsi:type="` + kind + `">` + detail +
		`</` + kind + `Fault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, body)
}

// resetConnection drops the client's TCP connection with a RST, without any HTTP answer.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		log.Print("fault reset: connection cannot be hijacked")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		log.Printf("fault reset: %v", err)
		return
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}
