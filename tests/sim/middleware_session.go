// middleware_session.go: the sessions the /sdk front knows (cookies vcsim issued, expired by
// Logout, /sessions/expire or an injected NotAuthenticated).
package main

import (
	"net/http"
	"strings"

	"github.com/vmware/govmomi/vim25/soap"
)

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
