// apiversion.go: --api-version, the vSphere API version the simulated vCenter announces.
//
// vcsim 0.24 announces 6.5 (about.apiVersion and /sdk/vimServiceVersions.xml), so a client that
// negotiates (pyVmomi's SmartConnect, esxpath) speaks 6.5 and decodes types newer than 6.5 as
// their nearest 6.5 base type: an HPP device's HostMultipathInfoHppLogicalUnitPolicy (7.0) then
// reads as a plain HostMultipathInfoLogicalUnitPolicy. --api-version 8.0.3.0 announces what a
// current vCenter does; the simulator's behaviour is the same under every version.
package main

import (
	"encoding/xml"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

var apiVersion string

func init() {
	flag.StringVar(&apiVersion, "api-version", "", "vSphere API version to announce, e.g. 8.0.3.0 (default: vcsim's 6.5)")
}

// applyAPIVersion sets about.instanceUuid, and about.apiVersion/version/fullName when
// --api-version is given.
func applyAPIVersion() {
	si, ok := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	if !ok {
		return
	}
	// vcsim 0.24 leaves every simulator with vpx's fixed instanceUuid (it sets a random one on a
	// copy): one per process, as each vCenter has its own (esxpath's write lock is keyed on it)
	si.Content.About.InstanceUuid = uuid.New().String()
	if apiVersion == "" {
		return
	}
	parts := strings.Split(apiVersion, ".")
	short := strings.Join(parts[:min3(len(parts))], ".")
	about := &si.Content.About
	about.ApiVersion = apiVersion
	about.Version = short
	about.FullName = fmt.Sprintf("VMware vCenter Server %s build-esxsim", short)
}

func min3(n int) int {
	if n < 3 {
		return n
	}
	return 3
}

// serviceVersions answers /sdk/vimServiceVersions.xml: vcsim's when no --api-version is given,
// else that version with the older ones a vCenter also speaks.
func serviceVersions(vcsim http.HandlerFunc) http.HandlerFunc {
	if apiVersion == "" {
		return vcsim
	}
	prior := []string{"8.0.2.0", "8.0.1.0", "8.0.0.0", "7.0.3.0", "7.0.2.0", "7.0.1.0", "7.0.0.0",
		"6.7.3", "6.7.2", "6.7.1", "6.7", "6.5", "6.0", "5.5"}
	return func(w http.ResponseWriter, _ *http.Request) {
		var b strings.Builder
		b.WriteString(xml.Header + "<namespaces version=\"1.0\">\n <namespace>\n  <name>urn:vim25</name>\n")
		fmt.Fprintf(&b, "  <version>%s</version>\n  <priorVersions>\n", xmlEsc(apiVersion))
		for _, v := range prior {
			if v != apiVersion {
				fmt.Fprintf(&b, "   <version>%s</version>\n", v)
			}
		}
		b.WriteString("  </priorVersions>\n </namespace>\n</namespaces>\n")
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(b.String()))
	}
}
