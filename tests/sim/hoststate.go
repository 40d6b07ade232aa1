// hoststate.go: a host's standing in vCenter (connection state, maintenance mode), whether its
// storage properties can be read, and the operational state of its LUNs.
//
// Connection: a disconnected host answers every method on its managed objects with
// HostNotConnected, as vCenter does for a host it no longer manages; a notResponding host
// (heartbeat lost, vCenter still manages it and tries to reach it) answers HostNotReachable, the
// fault vCenter raises when it cannot contact a host ("Cannot contact the specified host ...").
// Both are vmodl.fault.HostCommunication subclasses. Property reads keep working for both and
// show runtime.connectionState.
package main

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Host connection states (HostSystem.runtime.connectionState).
const (
	ConnConnected     = string(types.HostSystemConnectionStateConnected)
	ConnDisconnected  = string(types.HostSystemConnectionStateDisconnected)
	ConnNotResponding = string(types.HostSystemConnectionStateNotResponding)
	connections       = "connected|disconnected|notResponding"
)

// ConnectionFault returns the fault a call on a host-owned object gets while the host is not
// connected ("" when connected or unknown) and its message.
func (l *Lab) ConnectionFault(host string) (kind, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byName[host]
	if h == nil {
		return "", ""
	}
	return connectionFault(h)
}

func connectionFault(h *Host) (kind, msg string) {
	switch h.Connection {
	case ConnDisconnected:
		return "HostNotConnected", fmt.Sprintf("Host %s is not connected.", h.Name)
	case ConnNotResponding:
		return "HostNotReachable", fmt.Sprintf("Cannot contact the specified host (%s). The host may not "+
			"be available on the network, a network configuration problem may exist, or the "+
			"management services on this host may not be responding.", h.Name)
	}
	return "", ""
}

// connectionFaultObject is connectionFault as a typed fault, for faults built by SOAP methods.
func connectionFaultObject(kind string) types.BaseMethodFault {
	if kind == "HostNotReachable" {
		return &types.HostNotReachable{}
	}
	return &types.HostNotConnected{}
}

// HostChange is a partial change of a host's state (nil = keep), as POST /host takes it.
type HostChange struct {
	Connection        *string
	Maintenance       *bool
	StorageUnreadable *bool
}

// SetHostState changes a host's connection, maintenance mode and storage readability, and
// shows the first two on its HostSystem.
func (l *Lab) SetHostState(name string, ch HostChange) error {
	if ch.Connection != nil {
		switch *ch.Connection {
		case ConnConnected, ConnDisconnected, ConnNotResponding:
		default:
			return errf("argument", "connection %q not %s", *ch.Connection, connections)
		}
	}
	l.mu.Lock()
	h := l.byName[name]
	if h == nil {
		l.mu.Unlock()
		return errf("host", "unknown host %q", name)
	}
	if ch.Connection != nil {
		h.Connection = *ch.Connection
	}
	if ch.Maintenance != nil {
		h.Maintenance = *ch.Maintenance
	}
	if ch.StorageUnreadable != nil {
		h.StorageUnreadable = *ch.StorageUnreadable
	}
	l.mu.Unlock()
	return syncHostRuntime(name)
}

// syncHostRuntime shows the lab's connection state and maintenance mode on the vcsim
// HostSystem (runtime.connectionState, runtime.inMaintenanceMode, overallStatus).
func syncHostRuntime(name string) error {
	o := vc.hosts[name]
	h := lab.HostByName(name)
	if o == nil || h == nil {
		return errf("host", "unknown host %q", name)
	}
	lab.Lock()
	conn, maint := h.Connection, h.Maintenance
	lab.Unlock()
	status := types.ManagedEntityStatusGreen
	switch conn {
	case ConnDisconnected:
		status = types.ManagedEntityStatusGray
	case ConnNotResponding:
		status = types.ManagedEntityStatusRed // vCenter's host connection alarm
	}
	simulator.Map.WithLock(o.host, func() {
		o.host.Runtime.ConnectionState = types.HostSystemConnectionState(conn)
		o.host.Runtime.InMaintenanceMode = maint
		o.host.Summary.OverallStatus = status
		o.host.OverallStatus = status
	})
	return nil
}

// hostMaintenance reads runtime.inMaintenanceMode from the HostSystem (EnterMaintenanceMode_Task
// through SOAP changes it too). Call without the lab lock.
func hostMaintenance(name string) bool {
	o := vc.hosts[name]
	if o == nil {
		return false
	}
	var m bool
	simulator.Map.WithLock(o.host, func() { m = o.host.Runtime.InMaintenanceMode })
	return m
}

// unreadableHosts returns the moids of hosts whose storage properties cannot be read, or nil.
func (l *Lab) unreadableHosts() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out map[string]bool
	for _, h := range l.Hosts {
		if h.StorageUnreadable && h.Moid != "" {
			if out == nil {
				out = map[string]bool{}
			}
			out[h.Moid] = true
		}
	}
	return out
}

// scsiLunStates are the values of ScsiLun.operationalState (types.ScsiLunState).
var scsiLunStates = map[string]bool{
	"unknownState": true, "ok": true, "error": true, "off": true, "quiesced": true,
	"degraded": true, "lostCommunication": true, "timeout": true,
}

func validOpState(states []string) error {
	for _, s := range states {
		if !scsiLunStates[s] {
			return fmt.Errorf("operational state %q not one of ok, error, off, quiesced, degraded, "+
				"lostCommunication, timeout, unknownState", s)
		}
	}
	return nil
}

// SetLunState sets ScsiLun.operationalState of one device on one host; an empty list or
// ["ok"] makes it ["ok"] again.
func (l *Lab) SetLunState(host, device string, states []string) error {
	if err := validOpState(states); err != nil {
		return errf("argument", "%v", err)
	}
	l.mu.Lock()
	h, d, err := l.lookup(host, device)
	if err != nil {
		l.mu.Unlock()
		return err
	}
	d.OpState = nil
	if !(len(states) == 0 || len(states) == 1 && states[0] == "ok") {
		d.OpState = append([]string{}, states...)
	}
	h.version++
	l.mu.Unlock()
	l.Publish(h)
	return nil
}
