// lab_lookup.go: finding hosts (by name, moid or owned object), devices, adapters and storage
// nodes in the lab, and LabError, the error a host reports for bad input.
package main

import "fmt"

// Lock and Unlock expose the lab mutex for callers that read several fields at once.
// Never call an exported mutator while holding it, and never take a vcsim lock while holding it.
func (l *Lab) Lock()   { l.mu.Lock() }
func (l *Lab) Unlock() { l.mu.Unlock() }

// AddHost registers a host (lab building only).
func (l *Lab) AddHost(h *Host) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.Hosts = append(l.Hosts, h)
	l.byName[h.Name] = h
	if h.Moid != "" {
		l.byMoid[h.Moid] = h
		l.objHost[h.Moid] = h.Name
	}
}

// SetHostMoid records the vcsim moid of a host once the inventory exists.
func (l *Lab) SetHostMoid(name, moid string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.byName[name]
	if h == nil {
		return
	}
	h.Moid = moid
	l.byMoid[moid] = h
	l.objHost[moid] = name
}

// RegisterHostObject maps the moid of a host-owned managed object (HostStorageSystem,
// per-host ManagedMethodExecuter, ...) to its host, for per-host faults, latency and
// disconnected-host checks.
func (l *Lab) RegisterHostObject(moid, host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.objHost[moid] = host
}

// HostOfObject returns the host name owning a moid, or "".
func (l *Lab) HostOfObject(moid string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.objHost[moid]
}

// HostByMoid returns the host with that moid, or nil. The result is live state: read it under
// l.Lock().
func (l *Lab) HostByMoid(moid string) *Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byMoid[moid]
}

// HostByName returns the host with that name, or nil (live state, see HostByMoid).
func (l *Lab) HostByName(name string) *Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byName[name]
}

// Device returns a host's device by canonical name (caller holds l.mu).
func (h *Host) Device(canonical string) *Device {
	for _, d := range h.Devices {
		if d.Canonical == canonical {
			return d
		}
	}
	return nil
}

// HBA returns a host's adapter by device name (caller holds l.mu).
func (h *Host) HBA(device string) *HBA {
	for _, a := range h.HBAs {
		if a.Device == device {
			return a
		}
	}
	return nil
}

// NodeByName returns a storage node (caller holds l.mu).
func (l *Lab) NodeByName(name string) *StorageNode {
	for _, n := range l.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// nodeOfPort returns the storage node owning a target WWPN (caller holds l.mu).
func (l *Lab) nodeOfPort(wwpn uint64) *StorageNode {
	for _, n := range l.Nodes {
		for _, p := range n.Ports {
			if p.WWPN == wwpn {
				return n
			}
		}
	}
	return nil
}

// LabError is an error a real host would report for bad input; Kind says which fault to map to:
// "device" (unknown device), "argument" (invalid value), "host" (unknown host).
type LabError struct {
	Kind string
	Msg  string
}

func (e *LabError) Error() string { return e.Msg }

func errf(kind, format string, a ...interface{}) error {
	return &LabError{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

// lookup returns host and device or a LabError (caller holds l.mu).
func (l *Lab) lookup(host, dev string) (*Host, *Device, error) {
	h := l.byName[host]
	if h == nil {
		h = l.byMoid[host]
	}
	if h == nil {
		return nil, nil, errf("host", "unknown host %q", host)
	}
	d := h.Device(dev)
	if d == nil {
		return h, nil, errf("device", "Unknown device %s", dev)
	}
	return h, d, nil
}
