// middleware_faults.go: injected faults and latency of the /sdk front (POST /faults, /latency),
// the SOAP fault it answers with, and the TCP reset.
package main

import (
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"time"
)

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
	case "HostCommunication", "HostNotConnected", "SystemError", "NotAuthenticated", "reset", "lost":
	default:
		return fmt.Errorf("fault must be HostCommunication, HostNotConnected, SystemError, NotAuthenticated, reset or lost")
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
