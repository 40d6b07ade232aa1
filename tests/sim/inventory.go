// inventory.go: the vcsim inventory (datacenter, clusters, hosts) built from the lab, and the
// installation of each host's typed storage view.
package main

import (
	"context"
	"fmt"
	"reflect"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vcHost holds the vcsim objects of one host. These are the inner objects: wrappers put in
// simulator.Map by other files embed the same pointers, so changes here are seen through them.
type vcHost struct {
	host *simulator.HostSystem
	hss  *simulator.HostStorageSystem
	// Versions of the lab view installed on each (guarded by the lab lock). Kept here, not on
	// the lab Host, so that a late publish of a Host replaced by /reset or /load loses too.
	pubHost, pubHSS uint64
}

// vc maps host names to vcsim objects; written once at start, read-only afterwards.
var vc = struct {
	hosts  map[string]*vcHost
	client *vim25.Client // in-process client, no session checks (for setup code)
	dc     *object.Datacenter
}{hosts: map[string]*vcHost{}}

// HostHook runs once per host after the inventory is built, so that other files (esxcli,
// provisioning) can wrap per-host objects and register their moids (lab.RegisterHostObject).
type HostHook func(h *Host, hs *simulator.HostSystem)

var hostHooks []HostHook

// OnHost registers a HostHook (call it from init()).
func OnHost(f HostHook) { hostHooks = append(hostHooks, f) }

// ResetHook runs on POST /reset after the lab is reloaded from the scenario (e.g. to destroy
// datastores and VMs created since the start).
var resetHooks []func()

// OnReset registers a reset hook (call it from init()).
func OnReset(f func()) { resetHooks = append(resetHooks, f) }

// buildInventory creates vcsim's VPX model with the scenario's datacenter, clusters and hosts.
func buildInventory(sc *Scenario) (*simulator.Model, error) {
	m := simulator.VPX()
	m.Datacenter, m.Cluster, m.ClusterHost, m.Host = 1, 0, 0, 0
	m.Machine, m.Datastore, m.Portgroup, m.Pool = 0, 0, 0, 0
	if err := m.Create(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	c, err := vim25.NewClient(ctx, m.Service)
	if err != nil {
		return nil, err
	}
	vc.client = c
	dc, err := find.NewFinder(c).Datacenter(ctx, "DC0")
	if err != nil {
		return nil, err
	}
	if sc.Datacenter != "DC0" {
		task, err := dc.Rename(ctx, sc.Datacenter)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("rename datacenter: %w", err)
		}
	}
	vc.dc = dc
	folders, err := dc.Folders(ctx)
	if err != nil {
		return nil, err
	}
	clusters := map[string]*object.ClusterComputeResource{}
	for _, spec := range sc.Hosts {
		conn := types.HostConnectSpec{HostName: spec.Name}
		var task *object.Task
		if spec.Cluster == "" {
			task, err = folders.HostFolder.AddStandaloneHost(ctx, conn, true, nil, nil)
		} else {
			cl := clusters[spec.Cluster]
			if cl == nil {
				if cl, err = folders.HostFolder.CreateCluster(ctx, spec.Cluster, types.ClusterConfigSpecEx{}); err != nil {
					return nil, fmt.Errorf("cluster %s: %w", spec.Cluster, err)
				}
				clusters[spec.Cluster] = cl
			}
			task, err = cl.AddHost(ctx, conn, true, nil, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", spec.Name, err)
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", spec.Name, err)
		}
		ref := info.Result.(types.ManagedObjectReference)
		if err := setupHost(spec.Name, sc.Domain, spec.IP, ref); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// setupHost gives a vcsim host its own DNS name, vnic IP and storage system wrapper, and
// records its moids in the lab.
func setupHost(name, domain, ip string, ref types.ManagedObjectReference) error {
	hs, ok := simulator.Map.Get(ref).(*simulator.HostSystem)
	if !ok {
		return fmt.Errorf("host %s: %s is not a HostSystem", name, ref)
	}
	lab.SetHostMoid(name, ref.Value)
	setHostNetwork(hs, name, domain, ip)

	hss, ok := simulator.Map.Get(*hs.ConfigManager.StorageSystem).(*simulator.HostStorageSystem)
	if !ok {
		return fmt.Errorf("host %s: no HostStorageSystem", name)
	}
	simulator.Map.Put(&StorageSystem{HostStorageSystem: hss, host: name})
	vc.hosts[name] = &vcHost{host: hs, hss: hss}

	// Every moid in configManager belongs to this host (faults, latency, disconnects).
	cm := reflect.ValueOf(hs.ConfigManager)
	for i := 0; i < cm.NumField(); i++ {
		if r, ok := cm.Field(i).Interface().(*types.ManagedObjectReference); ok && r != nil {
			lab.RegisterHostObject(r.Value, name)
		}
	}
	return nil
}

// setHostNetwork sets a host's DNS name/domain and first vnic IP (what SearchIndex.FindByIp and
// FindByDnsName match). The caller holds hs's vcsim lock or owns hs (inventory building).
func setHostNetwork(hs *simulator.HostSystem, name, domain, ip string) {
	net := hs.Config.Network
	net.DnsConfig = &types.HostDnsConfig{HostName: name, DomainName: domain}
	stacks := append([]types.HostNetStackInstance{}, net.NetStackInstance...)
	for i := range stacks {
		stacks[i].DnsConfig = &types.HostDnsConfig{HostName: name, DomainName: domain}
	}
	net.NetStackInstance = stacks
	vnics := append([]types.HostVirtualNic{}, net.Vnic...)
	if len(vnics) > 0 && vnics[0].Spec.Ip != nil {
		ipcfg := *vnics[0].Spec.Ip
		ipcfg.IpAddress = ip
		vnics[0].Spec.Ip = &ipcfg
	}
	net.Vnic = vnics
}

// runHostHooks calls the registered HostHooks for every host.
func runHostHooks() {
	lab.Lock()
	hosts := append([]*Host{}, lab.Hosts...)
	lab.Unlock()
	for _, h := range hosts {
		for _, f := range hostHooks {
			f(h, vc.hosts[h.Name].host)
		}
	}
}

// withLock runs f holding obj's vcsim lock, unless ctx's running method already holds it.
func withLock(ctx *simulator.Context, obj mo.Reference, f func()) {
	if ctx != nil {
		ctx.WithLock(obj, f)
		return
	}
	simulator.Map.WithLock(obj, f)
}

// publishView installs h's freshly built view on the HostSystem and HostStorageSystem. The two
// objects are locked one after the other, never nested, so no lock order can deadlock; version
// numbers make a late, older view lose against a newer one.
func publishView(ctx *simulator.Context, h *Host) {
	lab.Lock()
	info := lab.buildView(h)
	v := h.version
	o := vc.hosts[h.Name]
	lab.Unlock()
	if o == nil {
		return
	}
	install(ctx, o.host, v, &o.pubHost, func() { o.host.Config.StorageDevice = info })
	install(ctx, o.hss, v, &o.pubHSS, func() { o.hss.StorageDeviceInfo = info })
}

// install runs set under obj's lock unless a newer view (version > v) was already installed.
func install(ctx *simulator.Context, obj mo.Reference, v uint64, published *uint64, set func()) {
	withLock(ctx, obj, func() {
		lab.Lock()
		fresh := v >= *published
		if fresh {
			*published = v
		}
		lab.Unlock()
		if fresh {
			set()
		}
	})
}

func init() { publishHook = publishView }
