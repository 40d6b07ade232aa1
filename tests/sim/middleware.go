// middleware.go: what sits in front of vcsim's /sdk handler: reading the SOAP call (method,
// _this, esxcli command), call counting, the request log, and the order of the checks: session
// (middleware_session.go), latency, disconnected and not responding hosts, injected faults
// (middleware_faults.go), then request rewrites and vcsim.
package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
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
		kind := m.takeFault(call, host)
		switch kind {
		case "", "lost": // lost: the call runs, its answer is dropped below
		case "reset":
			resetConnection(w)
			return
		case "NotAuthenticated":
			m.expire(cookie)
			writeFault(w, kind, "The session is not authenticated.", call)
			return
		default:
			writeFault(w, kind, "Injected fault "+kind, call)
			return
		}
		for _, f := range sdkRequestHooks {
			body = f(body)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		out := w
		if kind == "lost" {
			out = httptest.NewRecorder()
		}
		rec := &cookieRecorder{ResponseWriter: out}
		next.ServeHTTP(rec, r)
		if kind == "lost" {
			resetConnection(w) // done, but the client never hears so
		}
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
