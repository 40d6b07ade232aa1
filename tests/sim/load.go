// load.go: replacing the lab state with a scenario while running: POST /reset (the start
// scenario) and POST /load (any scenario over the same hosts).
//
// vcsim's inventory (datacenter, clusters, HostSystem objects) is built once at start and kept:
// a loaded scenario must name exactly the running hosts, each in the cluster it is in, and the
// same datacenter. Everything else (fabric, nodes, LUNs, rules, host state, IPs) is replaced.
package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
)

// resetLab returns to the start scenario: lab state, host state, datastores/VMs, faults,
// latency, stats and the request log. Sessions stay valid.
func resetLab() error {
	if err := applyScenario(scenario); err != nil {
		return err
	}
	// The replaced lab is garbage now: collect it here rather than in the middle of the next
	// client's calls (hundreds of MB at 256 hosts, with the GC target main.go sets).
	runtime.GC()
	return nil
}

// loadLab replaces the lab with sc (POST /load); a later /reset goes back to the start
// scenario. Scenario errors are the caller's (400).
func loadLab(sc *Scenario) error {
	if err := sc.Validate(); err != nil {
		return badRequest{fmt.Errorf("scenario: %v", err)}
	}
	if err := fitsInventory(sc); err != nil {
		return badRequest{err}
	}
	if err := lab.Load(sc); err != nil {
		return badRequest{fmt.Errorf("scenario: %v", err)}
	}
	return afterLoad(sc)
}

// fitsInventory checks that sc's hosts, clusters and datacenter are those of the running
// vcsim inventory (the start scenario's).
func fitsInventory(sc *Scenario) error {
	if sc.Datacenter != scenario.Datacenter {
		return fmt.Errorf("datacenter %q: the running inventory's is %q", sc.Datacenter, scenario.Datacenter)
	}
	want := map[string]string{}
	for _, h := range scenario.Hosts {
		want[h.Name] = h.Cluster
	}
	var unknown []string
	for _, h := range sc.Hosts {
		cluster, ok := want[h.Name]
		if !ok {
			unknown = append(unknown, h.Name)
			continue
		}
		if cluster != h.Cluster {
			return fmt.Errorf("host %s: cluster %q, but it is in %q in the running inventory", h.Name, h.Cluster, cluster)
		}
		delete(want, h.Name)
	}
	if len(unknown) > 0 || len(want) > 0 {
		var missing []string
		for n := range want {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return fmt.Errorf("hosts must be the running inventory's: unknown %s, missing %s",
			list(unknown), list(missing))
	}
	return nil
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// applyScenario loads sc into the lab and brings vcsim and the other state along.
func applyScenario(sc *Scenario) error {
	if err := lab.Load(sc); err != nil {
		return err
	}
	return afterLoad(sc)
}

// afterLoad shows the freshly loaded lab in vcsim and clears what belongs to the old one.
func afterLoad(sc *Scenario) error {
	for _, hs := range sc.Hosts {
		if err := syncHostRuntime(hs.Name); err != nil {
			return err
		}
		if o := vc.hosts[hs.Name]; o != nil {
			simulator.Map.WithLock(o.host, func() { setHostNetwork(o.host, hs.Name, sc.Domain, hs.IP) })
		}
	}
	lab.PublishAll()
	if err := resetProvision(sc); err != nil {
		return err
	}
	for _, f := range resetHooks {
		f()
	}
	mw.clear()
	lab.ResetStats()
	return lab.SetCrash(0)
}
