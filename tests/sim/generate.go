// generate.go: big synthetic estates for benchmarks (--generate hosts=64,luns=32).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// parseGenerate reads "hosts=64,luns=32[,cluster_size=16]".
func parseGenerate(spec string) (hosts, luns, clusterSize int, err error) {
	hosts, luns, clusterSize = 64, 32, 16
	for _, kv := range strings.Split(spec, ",") {
		parts := strings.SplitN(strings.TrimSpace(kv), "=", 2)
		if len(parts) != 2 {
			return 0, 0, 0, fmt.Errorf("--generate: want key=value, got %q", kv)
		}
		n, e := strconv.Atoi(parts[1])
		if e != nil || n < 1 {
			return 0, 0, 0, fmt.Errorf("--generate: %s must be a positive integer", parts[0])
		}
		switch parts[0] {
		case "hosts":
			hosts = n
		case "luns":
			luns = n
		case "cluster_size":
			clusterSize = n
		default:
			return 0, 0, 0, fmt.Errorf("--generate: unknown key %q", parts[0])
		}
	}
	return hosts, luns, clusterSize, nil
}

// Generate builds the seed lab's fabric scaled out: hosts esx001.. in clusters of clusterSize
// (cluster-01, ...), the two SCST nodes, `luns` SCST_BIO eui LUNs left to the SATP rules
// (VMW_SATP_ALUA + VMW_PSP_MRU), plus each host's boot disk and the foreign NetApp LUN.
func Generate(base *Scenario, hosts, luns, clusterSize int) *Scenario {
	sc := *base
	sc.Hosts = nil
	for i := 1; i <= hosts; i++ {
		b1, b2 := byte(i>>8), byte(i)
		sc.Hosts = append(sc.Hosts, HostSpec{
			Name:    fmt.Sprintf("esx%03d", i),
			Cluster: fmt.Sprintf("cluster-%02d", (i-1)/clusterSize+1),
			IP:      fmt.Sprintf("10.1.%d.%d", i/250, i%250+1),
			HBAs: []HBASpec{
				{Device: "vmhba2", WWNN: fmt.Sprintf("20:00:00:24:ff:3d:%02x:%02x", b1, b2), WWPN: fmt.Sprintf("21:00:00:24:ff:3d:%02x:%02x", b1, b2)},
				{Device: "vmhba3", WWNN: fmt.Sprintf("20:00:00:24:ff:3e:%02x:%02x", b1, b2), WWPN: fmt.Sprintf("21:00:00:24:ff:3e:%02x:%02x", b1, b2)},
			},
		})
	}
	var keep []LUNSpec
	for _, l := range base.LUNs {
		if !strings.HasPrefix(l.Canonical, "eui.") {
			keep = append(keep, l)
		}
	}
	sc.LUNs = nil
	for i := 1; i <= luns; i++ {
		sc.LUNs = append(sc.LUNs, LUNSpec{
			Canonical: fmt.Sprintf("eui.%x", fmt.Sprintf("c9%06x", i)), // 8 ASCII bytes in hex, like SCST
			Vendor:    "SCST_BIO",
			Model:     fmt.Sprintf("SSD-RAID6-%d", i),
			LUN:       i,
			SizeGiB:   1024,
			Nodes:     []string{"storage1", "storage2"},
		})
	}
	sc.LUNs = append(sc.LUNs, keep...)
	return &sc
}

// writeScenario writes a scenario as indented JSON.
func writeScenario(sc *Scenario, path string) error {
	data, err := json.MarshalIndent(sc, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
