"""This node's role in the promotable clone, from crm_mon --output-as=xml (the shapes of
Pacemaker's xml/api/crm_mon and resources schemas: 2.1+ Promoted/Unpromoted, older Master/Slave)."""
from __future__ import annotations

import pytest

from esxpath.errors import ExitStatus, InputError
from esxpath.san.pacemaker import parse_crm_mon


def crm_mon(*clones: str, nodes=(("storage1", "true"), ("storage2", "true")), extra: str = "") -> str:
    node_xml = "".join(f'<node name="{n}" id="{i}" online="{o}" standby="false" type="member"/>'
                       for i, (n, o) in enumerate(nodes, 1))
    return (f'<pacemaker-result api-version="2.30" request="crm_mon --output-as=xml">'
            f'<summary/><nodes>{node_xml}</nodes><resources>{"".join(clones)}{extra}</resources>'
            f'<status code="0" message="OK"/></pacemaker-result>')


def instance(rid: str, role: str, node: str | None) -> str:
    where = f'<node name="{node}" id="1" cached="true"/>' if node else ""
    return (f'<resource id="{rid}" resource_agent="ocf:esos:scst" role="{role}" active="true" '
            f'orphaned="false" blocked="false" managed="true" failed="false" '
            f'failure_ignored="false" nodes_running_on="{1 if node else 0}">{where}</resource>')


def clone(cid: str, *instances: str, multi_state: str = "true") -> str:
    return (f'<clone id="{cid}" multi_state="{multi_state}" unique="false" managed="true" '
            f'disabled="false" failed="false" failure_ignored="false">{"".join(instances)}</clone>')


SCST = clone("ms_scst", instance("p_scst", "Promoted", "storage1"),
             instance("p_scst", "Unpromoted", "storage2"))
LEGACY = clone("ms_scst", instance("p_scst:0", "Master", "storage2"),
               instance("p_scst:1", "Slave", "storage1"))
OTHER = clone("ms_drbd", instance("p_drbd", "Promoted", "storage2"),
              instance("p_drbd", "Unpromoted", "storage1"))
VIP = '<resource id="vip" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1"><node name="storage1" id="1" cached="true"/></resource>'


@pytest.mark.parametrize("xml, node, resource, want", [
    (crm_mon(SCST, extra=VIP), "storage1", None, ("promoted", "p_scst")),
    (crm_mon(SCST), "storage2", None, ("unpromoted", "p_scst")),
    (crm_mon(LEGACY), "storage2", None, ("promoted", "p_scst")),
    (crm_mon(LEGACY), "storage1", None, ("unpromoted", "p_scst")),
    (crm_mon(SCST, OTHER), "storage1", "ms_drbd", ("unpromoted", "p_drbd")),
    (crm_mon(SCST, OTHER), "storage1", "p_scst", ("promoted", "p_scst")),
    # an instance that does not run on the node, and a node Pacemaker has offline
    (crm_mon(clone("ms_scst", instance("p_scst", "Promoted", "storage1"),
                   instance("p_scst", "Stopped", None))), "storage2", None, ("stopped", "p_scst")),
    (crm_mon(SCST, nodes=(("storage1", "true"), ("storage2", "false"))), "storage2", None,
     ("stopped", "p_scst")),
    # no promotable clone at all: the role cannot be told
    (crm_mon(clone("cl_ping", instance("p_ping", "Started", "storage1"), multi_state="false")),
     "storage1", None, ("unknown", None)),
    # crm_mon on a node where Pacemaker is not running
    ('<pacemaker-result api-version="2.30" request="crm_mon --output-as=xml"><crm-mon-disconnected '
     'description="Not connected to CIB"/><status code="102" message="Not connected"/></pacemaker-result>',
     "storage1", None, ("stopped", None)),
])
def test_role(xml, node, resource, want):
    role = parse_crm_mon(xml, "crm_mon.xml", node, resource)
    assert (role.role, role.resource) == want


@pytest.mark.parametrize("xml, node, resource, what", [
    ("<pacemaker-result><nodes>", "storage1", None, "not XML from crm_mon"),
    ("<cib/>", "storage1", None, "<cib> is not crm_mon"),
    (crm_mon(SCST), "storage9", None, "no node 'storage9' (nodes: storage1, storage2)"),
    (crm_mon(SCST, OTHER), "storage1", None, "several promotable clones (ms_drbd, ms_scst)"),
    (crm_mon(SCST), "storage1", "nosuch", "no promotable clone or resource named 'nosuch'"),
    ('<pacemaker-result><status code="0" message="OK"/></pacemaker-result>', "storage1", None,
     "without <resources>"),
])
def test_bad_crm_mon_xml_names_the_file(xml, node, resource, what):
    with pytest.raises(InputError) as e:
        parse_crm_mon(xml, "/tmp/crm_mon.xml", node, resource)
    assert str(e.value).startswith("/tmp/crm_mon.xml: ") and what in str(e.value), str(e.value)
    assert "\n" not in str(e.value) and e.value.status == ExitStatus.CONFIG
