// crm_mon.go: DIR/<node>/crm_mon.xml, what `crm_mon --output-as=xml` prints on an SCST node,
// in the shape of Pacemaker 2.1 (checked against Pacemaker-2.1.9's cts/cli/regression.crm_mon.exp,
// test "XML output": <pacemaker-result api-version="2.38" request="crm_mon --output-as=xml">,
// summary, nodes, resources with a promotable clone (multi_state="true") whose instances have
// role="Promoted"|"Unpromoted" with a <node> child, or role="Stopped" and none, then status).
//
// Pacemaker's view is the cluster's, so every node of a failover group gets the same document
// (only last_update differs between writes); like real crm_mon it does not say which node is
// the local one. The clone is "ms_scst_alua", its primitive "p_scst_alua" (ocf:esos:alua).
package main

import (
	"fmt"
	"html"
	"sort"
	"strings"
	"time"
)

const (
	crmClone    = "ms_scst_alua"
	crmResource = "p_scst_alua"
	crmAgent    = "ocf:esos:alua"
)

var crmRole = map[string]string{RolePromoted: "Promoted", RoleUnpromoted: "Unpromoted", RoleStopped: "Stopped"}

// crmMonXML renders the cluster of v (the nodes of its failover group) as crm_mon shows it.
func crmMonXML(v *scstView, views map[string]*scstView, now time.Time) string {
	var members []*scstView
	for _, o := range views {
		if o.Group == v.Group {
			members = append(members, o)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i].Node < members[j].Node })
	q := html.EscapeString
	stamp := now.Format("Mon Jan _2 15:04:05 2006")
	var b strings.Builder
	b.WriteString("<pacemaker-result api-version=\"2.38\" request=\"crm_mon --output-as=xml\">\n")
	b.WriteString("  <summary>\n    <stack type=\"corosync\"/>\n")
	fmt.Fprintf(&b, "    <current_dc present=\"true\" version=\"2.1.9\" name=%q id=\"1\" with_quorum=\"true\" mixed_version=\"false\"/>\n", q(members[0].Node))
	fmt.Fprintf(&b, "    <last_update time=%q/>\n    <last_change time=%q user=\"root\" client=\"crm_attribute\" origin=%q/>\n",
		stamp, stamp, q(members[0].Node))
	fmt.Fprintf(&b, "    <nodes_configured number=\"%d\"/>\n", len(members))
	fmt.Fprintf(&b, "    <resources_configured number=\"%d\" disabled=\"0\" blocked=\"0\"/>\n", len(members))
	b.WriteString("    <cluster_options stonith-enabled=\"true\" symmetric-cluster=\"true\" no-quorum-policy=\"stop\" maintenance-mode=\"false\" stop-all-resources=\"false\" stonith-timeout-ms=\"60000\" priority-fencing-delay-ms=\"0\"/>\n")
	b.WriteString("  </summary>\n  <nodes>\n")
	for i, m := range members {
		running := 1
		if m.Role == RoleStopped {
			running = 0
		}
		fmt.Fprintf(&b, "    <node name=%q id=\"%d\" online=\"true\" standby=\"false\" standby_onfail=\"false\" maintenance=\"false\" pending=\"false\" unclean=\"false\" health=\"green\" feature_set=\"3.19.6\" shutdown=\"false\" expected_up=\"true\" is_dc=\"%t\" resources_running=\"%d\" type=\"member\"/>\n",
			q(m.Node), i+1, i == 0, running)
	}
	b.WriteString("  </nodes>\n  <resources>\n")
	fmt.Fprintf(&b, "    <clone id=%q multi_state=\"true\" unique=\"false\" maintenance=\"false\" managed=\"true\" disabled=\"false\" failed=\"false\" failure_ignored=\"false\">\n", crmClone)
	// Running instances first (promoted, then unpromoted), then stopped ones, as crm_mon lists them.
	order := map[string]int{RolePromoted: 0, RoleUnpromoted: 1, RoleStopped: 2}
	inst := append([]*scstView{}, members...)
	sort.SliceStable(inst, func(i, j int) bool { return order[inst[i].Role] < order[inst[j].Role] })
	ids := map[string]int{}
	for i, m := range members {
		ids[m.Node] = i + 1
	}
	for _, m := range inst {
		attrs := fmt.Sprintf("id=%q resource_agent=%q role=%q active=\"%t\" orphaned=\"false\" blocked=\"false\" maintenance=\"false\" managed=\"true\" failed=\"false\" failure_ignored=\"false\"",
			crmResource, crmAgent, crmRole[m.Role], m.Role != RoleStopped)
		if m.Role == RoleStopped {
			fmt.Fprintf(&b, "      <resource %s nodes_running_on=\"0\"/>\n", attrs)
			continue
		}
		fmt.Fprintf(&b, "      <resource %s nodes_running_on=\"1\">\n        <node name=%q id=\"%d\" cached=\"true\"/>\n      </resource>\n",
			attrs, q(m.Node), ids[m.Node])
	}
	b.WriteString("    </clone>\n  </resources>\n  <status code=\"0\" message=\"OK\"/>\n</pacemaker-result>\n")
	return b.String()
}
