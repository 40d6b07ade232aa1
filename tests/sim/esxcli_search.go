// esxcli_search.go: SearchIndex.FindByIp / FindByDnsName (and FindAll*), which esxcli --vihost
// uses to find the host. vcsim's SearchIndex methods scan every registry object through a helper
// that panics on wrapper types embedding a pointer (StorageSystem, ...), so hosts are found from
// the lab's host names and IPs, VMs and host UUIDs through typed registry lookups; only
// FindByInventoryPath and FindChild (which walk the inventory tree) stay vcsim's.
package main

import (
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// searchIndex embeds the mo type by value (first field), so that vcsim's own registry scans
// can look inside it.
type searchIndex struct {
	mo.SearchIndex
	inner *simulator.SearchIndex
}

var installSearchIndex sync.Once

func init() {
	OnHost(func(*Host, *simulator.HostSystem) {
		installSearchIndex.Do(func() {
			ref := types.ManagedObjectReference{Type: "SearchIndex", Value: "SearchIndex"}
			if inner, ok := simulator.Map.Get(ref).(*simulator.SearchIndex); ok {
				simulator.Map.Put(&searchIndex{SearchIndex: inner.SearchIndex, inner: inner})
			}
		})
	})
}

// hostsMatching returns the moids of the lab hosts accepted by match (name, FQDN, IP).
func hostsMatching(match func(h *Host) bool) []types.ManagedObjectReference {
	lab.Lock()
	defer lab.Unlock()
	var refs []types.ManagedObjectReference
	for _, h := range lab.Hosts {
		if h.Moid != "" && match(h) {
			refs = append(refs, types.ManagedObjectReference{Type: "HostSystem", Value: h.Moid})
		}
	}
	return refs
}

func dnsMatch(name string) func(h *Host) bool {
	return func(h *Host) bool {
		return strings.EqualFold(name, h.DNSName) || (h.Domain != "" && strings.EqualFold(name, h.DNSName+"."+h.Domain))
	}
}

func ipMatch(ip string) func(h *Host) bool {
	return func(h *Host) bool { return h.IP != "" && h.IP == ip }
}

// vmsMatching scans the VMs by guest IP or host name without vcsim's panicking helper.
func vmsMatching(match func(g *types.GuestInfo) bool) []types.ManagedObjectReference {
	var refs []types.ManagedObjectReference
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok && vm.Guest != nil && match(vm.Guest) {
			refs = append(refs, vm.Self)
		}
	}
	return refs
}

func (s *searchIndex) findAllByIp(ip string, vmSearch bool) []types.ManagedObjectReference {
	if vmSearch {
		return vmsMatching(func(g *types.GuestInfo) bool { return g.IpAddress == ip })
	}
	return hostsMatching(ipMatch(ip))
}

func (s *searchIndex) findAllByDnsName(name string, vmSearch bool) []types.ManagedObjectReference {
	if vmSearch {
		return vmsMatching(func(g *types.GuestInfo) bool { return strings.EqualFold(g.HostName, name) })
	}
	return hostsMatching(dnsMatch(name))
}

func first(refs []types.ManagedObjectReference) *types.ManagedObjectReference {
	if len(refs) == 0 {
		return nil
	}
	return &refs[0]
}

func (s *searchIndex) FindByIp(req *types.FindByIp) soap.HasFault {
	return &methods.FindByIpBody{Res: &types.FindByIpResponse{Returnval: first(s.findAllByIp(req.Ip, req.VmSearch))}}
}

func (s *searchIndex) FindAllByIp(req *types.FindAllByIp) soap.HasFault {
	return &methods.FindAllByIpBody{Res: &types.FindAllByIpResponse{Returnval: s.findAllByIp(req.Ip, req.VmSearch)}}
}

func (s *searchIndex) FindByDnsName(req *types.FindByDnsName) soap.HasFault {
	return &methods.FindByDnsNameBody{Res: &types.FindByDnsNameResponse{
		Returnval: first(s.findAllByDnsName(req.DnsName, req.VmSearch))}}
}

func (s *searchIndex) FindAllByDnsName(req *types.FindAllByDnsName) soap.HasFault {
	return &methods.FindAllByDnsNameBody{Res: &types.FindAllByDnsNameResponse{
		Returnval: s.findAllByDnsName(req.DnsName, req.VmSearch)}}
}

func (s *searchIndex) FindByUuid(req *types.FindByUuid) soap.HasFault {
	var refs []types.ManagedObjectReference
	if req.VmSearch {
		instance := req.InstanceUuid != nil && *req.InstanceUuid
		for _, e := range simulator.Map.All("VirtualMachine") {
			if vm, ok := e.(*simulator.VirtualMachine); ok && vm.Config != nil &&
				((instance && vm.Config.InstanceUuid == req.Uuid) || (!instance && vm.Config.Uuid == req.Uuid)) {
				refs = append(refs, vm.Self)
			}
		}
	} else {
		for _, e := range simulator.Map.All("HostSystem") {
			if h, ok := e.(*simulator.HostSystem); ok && h.Summary.Hardware != nil && h.Summary.Hardware.Uuid == req.Uuid {
				refs = append(refs, h.Self)
			}
		}
	}
	return &methods.FindByUuidBody{Res: &types.FindByUuidResponse{Returnval: first(refs)}}
}

func (s *searchIndex) FindByDatastorePath(req *types.FindByDatastorePath) soap.HasFault {
	var refs []types.ManagedObjectReference
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm, ok := e.(*simulator.VirtualMachine); ok && vm.Config != nil && vm.Config.Files.VmPathName == req.Path {
			refs = append(refs, vm.Self)
		}
	}
	return &methods.FindByDatastorePathBody{Res: &types.FindByDatastorePathResponse{Returnval: first(refs)}}
}

// FindByInventoryPath and FindChild walk the inventory tree, not the registry: vcsim's are safe.
// The VM folders are provision_vm.go's wrappers, which vcsim's walk does not descend into.
func (s *searchIndex) FindByInventoryPath(req *types.FindByInventoryPath) soap.HasFault {
	return provFindByInventoryPath(req, s.FindChild)
}

func (s *searchIndex) FindChild(req *types.FindChild) soap.HasFault {
	if body := provFindChild(req); body != nil {
		return body
	}
	return s.inner.FindChild(req)
}
