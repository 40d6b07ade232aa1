// control_host.go: control endpoints for host state, per-host ALUA views, LUN operational
// state and whole-scenario loads (README.md, control API table).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// postHost changes a host's connection state, maintenance mode and storage readability; at
// least one of them must be given.
func postHost(r *http.Request) (interface{}, error) {
	var req struct {
		Name              string  `json:"name"`
		Connection        *string `json:"connection"`
		Maintenance       *bool   `json:"maintenance"`
		StorageUnreadable *bool   `json:"storage_unreadable"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if req.Connection == nil && req.Maintenance == nil && req.StorageUnreadable == nil {
		return nil, badRequest{fmt.Errorf("give connection, maintenance and/or storage_unreadable")}
	}
	if req.Connection != nil {
		switch *req.Connection {
		case ConnConnected, ConnDisconnected, ConnNotResponding:
		default:
			return nil, badRequest{fmt.Errorf("connection must be connected, disconnected or notResponding")}
		}
	}
	ch := HostChange{Connection: req.Connection, Maintenance: req.Maintenance, StorageUnreadable: req.StorageUnreadable}
	if err := lab.SetHostState(req.Name, ch); err != nil {
		return nil, err
	}
	h := lab.HostByName(req.Name)
	lab.Lock()
	conn, unreadable := h.Connection, h.StorageUnreadable
	lab.Unlock()
	return map[string]interface{}{"name": req.Name, "connection": conn,
		"maintenance": hostMaintenance(req.Name), "storage_unreadable": unreadable}, nil
}

// postHostALUA sets (or with state "" clears) the state one host sees a node in.
func postHostALUA(r *http.Request) (interface{}, error) {
	var req struct {
		Host  string `json:"host"`
		Node  string `json:"node"`
		State string `json:"state"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if err := lab.SetHostALUA(req.Host, req.Node, req.State); err != nil {
		return nil, err
	}
	h := lab.HostByName(req.Host)
	lab.Lock()
	view := map[string]string{}
	for n, s := range h.ALUA {
		view[n] = s
	}
	lab.Unlock()
	return map[string]interface{}{"host": req.Host, "alua": view}, nil
}

// postLunState sets ScsiLun.operationalState of one device on one host.
func postLunState(r *http.Request) (interface{}, error) {
	var req struct {
		Host   string   `json:"host"`
		Device string   `json:"device"`
		State  []string `json:"state"`
	}
	if err := readJSON(r, &req); err != nil {
		return nil, err
	}
	if err := lab.SetLunState(req.Host, req.Device, req.State); err != nil {
		return nil, err
	}
	return ok(), nil
}

// postLoad replaces the lab state with the scenario in the body (same hosts as running).
func postLoad(r *http.Request) (interface{}, error) {
	var sc Scenario
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return nil, badRequest{fmt.Errorf("bad scenario JSON: %v", err)}
	}
	if err := loadLab(&sc); err != nil {
		return nil, err
	}
	return ok(), nil
}
