// control.go: the control API (HTTP JSON on ESXSIM_CONTROL), documented in README.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
)

func controlHandler() http.Handler {
	type handler func(r *http.Request) (interface{}, error)
	routes := map[string]map[string]handler{}
	add := func(method, path string, f handler) {
		if routes[path] == nil {
			routes[path] = map[string]handler{}
		}
		routes[path][method] = f
	}
	post := func(path string, f handler) { add(http.MethodPost, path, f) }
	get := func(path string, f handler) { add(http.MethodGet, path, f) }
	post("/failover", postFailover)
	post("/node", postNode)
	post("/path", postPath)
	post("/lun", postLUN)
	post("/host", postHost)
	post("/host-alua", postHostALUA)
	post("/lun-state", postLunState)
	post("/load", postLoad)
	post("/faults", postFaults)
	get("/faults", func(*http.Request) (interface{}, error) {
		mw.mu.Lock()
		defer mw.mu.Unlock()
		out := []faultRule{}
		for _, f := range mw.faults {
			out = append(out, *f)
		}
		return map[string]interface{}{"faults": out}, nil
	})
	post("/faults/reset", func(*http.Request) (interface{}, error) {
		mw.mu.Lock()
		mw.faults = nil
		mw.mu.Unlock()
		return ok(), nil
	})
	post("/latency", postLatency)
	post("/sessions/expire", func(*http.Request) (interface{}, error) {
		return map[string]int{"expired": mw.expireAll()}, nil
	})
	get("/stats", func(*http.Request) (interface{}, error) { return lab.Stats(), nil })
	post("/stats/reset", func(*http.Request) (interface{}, error) {
		lab.ResetStats()
		resetEventStats()
		return ok(), nil
	})
	post("/crash", func(r *http.Request) (interface{}, error) {
		var req struct {
			AfterWrites int `json:"after_writes"`
		}
		if err := readJSON(r, &req); err != nil {
			return nil, err
		}
		return ok(), lab.SetCrash(req.AfterWrites)
	})
	post("/reset", func(*http.Request) (interface{}, error) { return ok(), resetLab() })
	get("/requests", func(r *http.Request) (interface{}, error) {
		q := r.URL.Query()
		return map[string]interface{}{"requests": mw.requestLog(q.Get("method"), q.Get("esxcli"), q.Get("host"))}, nil
	})
	post("/requests/reset", func(*http.Request) (interface{}, error) {
		mw.resetRequests()
		return ok(), nil
	})
	get("/state", func(*http.Request) (interface{}, error) { return labState(), nil })
	post("/config", postConfig) // provision_vm.go: eager-zeroing rate
	post("/events", postEvents) // control_events.go: preload old events, APD timeout
	get("/events", func(*http.Request) (interface{}, error) { return eventsView(), nil })
	post("/clock", postClock)
	get("/config", getConfig)
	post("/scst", postSCST) // scst_control.go: make a node's SCST view disagree
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods, found := routes[r.URL.Path]
		if !found {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint " + r.URL.Path})
			return
		}
		f, found := methods[r.Method]
		if !found {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": r.Method + " not allowed on " + r.URL.Path})
			return
		}
		v, err := f(r)
		answer(w, v, err)
	})
}

func ok() map[string]bool { return map[string]bool{"ok": true} }

// badRequest marks errors that are the caller's fault (400).
type badRequest struct{ error }

func answer(w http.ResponseWriter, v interface{}, err error) {
	if err != nil {
		code := http.StatusInternalServerError
		var le *LabError
		var br badRequest
		switch {
		case errors.As(err, &le) && (le.Kind == "host" || le.Kind == "device"):
			code = http.StatusNotFound
		case errors.As(err, &le), errors.As(err, &br):
			code = http.StatusBadRequest
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		log.Printf("control: encode: %v", err)
	}
}

// readJSON decodes the body strictly: unknown fields are an error, not silently ignored.
func readJSON(r *http.Request, v interface{}) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest{fmt.Errorf("bad JSON body: %v", err)}
	}
	return nil
}

func postFailover(r *http.Request) (interface{}, error) {
	var req struct {
		Active    string             `json:"active"`
		SlowHosts map[string]float64 `json:"slow_hosts"` // host -> simulated seconds without live paths
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if err := checkSlowHosts(req.SlowHosts); err != nil {
		return nil, err
	}
	if err := lab.Failover(req.Active); err != nil {
		return nil, err
	}
	if err := slowHostsFailover(req.Active, req.SlowHosts); err != nil {
		return nil, err
	}
	return nodesState(), nil
}

// postNode sets one storage node's ALUA state (AO|ANO|STBY|UNAV|TRANS|OFFL).
func postNode(r *http.Request) (interface{}, error) {
	var req struct {
		Name  string `json:"name"`
		State string `json:"state"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if err := lab.SetNodeState(req.Name, req.State); err != nil {
		return nil, err
	}
	return nodesState(), nil
}

func nodesState() map[string]interface{} {
	lab.Lock()
	defer lab.Unlock()
	nodes := map[string]interface{}{}
	for _, n := range lab.Nodes {
		nodes[n.Name] = map[string]interface{}{"tpg_id": n.TPG, "state": n.State, "group": n.Group}
	}
	return map[string]interface{}{"nodes": nodes}
}

func postPath(r *http.Request) (interface{}, error) {
	var req struct {
		Host   string `json:"host"`
		Path   string `json:"path"`
		State  string `json:"state"`
		Device string `json:"device"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	changed, err := lab.SetPathState(req.Host, req.Path, req.Device, req.State)
	if err != nil {
		return nil, err
	}
	return map[string]interface{}{"paths": changed}, nil
}

func postLUN(r *http.Request) (interface{}, error) {
	var req struct {
		Add    *LUNSpec `json:"add"`
		Remove string   `json:"remove"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	switch {
	case req.Add != nil && req.Remove == "":
		if err := lab.AddLUN(*req.Add); err != nil {
			return nil, err
		}
		if err := provisionLUNAdded(*req.Add); err != nil {
			return nil, err
		}
		return map[string]string{"added": req.Add.Canonical}, nil
	case req.Remove != "" && req.Add == nil:
		if err := lab.RemoveLUN(req.Remove); err != nil {
			return nil, err
		}
		return map[string]string{"removed": req.Remove}, nil
	}
	return nil, badRequest{fmt.Errorf(`want {"add": {...}} or {"remove": "<canonical>"}`)}
}

func postFaults(r *http.Request) (interface{}, error) {
	var req faultRule
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if err := mw.addFault(req); err != nil {
		return nil, badRequest{err}
	}
	return ok(), nil
}

func postLatency(r *http.Request) (interface{}, error) {
	var req latencyRule
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if req.MS < 0 || req.Jitter < 0 {
		return nil, badRequest{fmt.Errorf("ms and jitter must not be negative")}
	}
	if req.Host != "" && lab.HostByName(req.Host) == nil {
		return nil, badRequest{fmt.Errorf("unknown host %q", req.Host)}
	}
	mw.setLatency(req)
	return ok(), nil
}

// colonWWN prints 21:00:00:24:ff:54:09:80.
func colonWWN(v uint64) string {
	h := wwnHex(v)
	parts := make([]string, 0, 8)
	for i := 0; i < 16; i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
