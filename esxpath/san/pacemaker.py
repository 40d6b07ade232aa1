"""This node's role in Pacemaker's promotable clone, from `crm_mon --output-as=xml` (Pacemaker
xml/api/crm_mon and resources rng: <clone multi_state="true"> holding <resource role=...> with
<node name=.../>). Pure: parse_crm_mon takes the text.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..errors import InputError

# crm_mon's role names -> the dump's role (check.ROLES lists those)
CRM_ROLES = {"Promoted": "promoted", "Master": "promoted",  # Master/Slave before Pacemaker 2.1
         "Unpromoted": "unpromoted", "Slave": "unpromoted", "Started": "unpromoted",
         "Stopped": "stopped"}


@dataclass(frozen=True)
class Role:
    role: str  # promoted | unpromoted | stopped | unknown
    resource: str | None  # the resource the role was read from


UNKNOWN = Role("unknown", None)


def parse_crm_mon(text: str, path: str, node: str, resource: str | None = None) -> Role:
    """The role of `node`'s instance of the promotable clone (the one named `resource`, by
    clone or primitive id, when there are several). A node Pacemaker knows with no instance
    running, a node offline, or a crm_mon that could not reach the cluster here: stopped."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise InputError(f"{path}: not XML from crm_mon --output-as=xml ({e})") from None
    if root.tag not in ("pacemaker-result", "crm_mon"):
        raise InputError(f"{path}: <{root.tag}> is not crm_mon --output-as=xml output")
    status = root.find("status")
    if root.find("resources") is None:
        if status is not None and status.get("code", "0") != "0":
            # "cluster is not available on this node": Pacemaker is not running here
            return Role("stopped", resource)
        raise InputError(f"{path}: crm_mon output without <resources>")
    nodes = {n.get("name"): n for n in root.iterfind("nodes/node")}
    if node not in nodes:
        known = ", ".join(sorted(n for n in nodes if n)) or "none"
        raise InputError(f"{path}: Pacemaker has no node {node!r} (nodes: {known}); give --node")
    clones = [c for c in root.iter("clone") if c.get("multi_state") == "true"]
    if resource is not None:
        clones = [c for c in clones if c.get("id") == resource
                  or any(r.get("id", "").split(":")[0] == resource for r in c.iter("resource"))]
        if not clones:
            raise InputError(f"{path}: no promotable clone or resource named {resource!r}")
    if not clones:
        return UNKNOWN
    if len(clones) > 1:
        names = ", ".join(sorted(c.get("id", "?") for c in clones))
        raise InputError(f"{path}: several promotable clones ({names}): choose one with --resource")
    clone = clones[0]
    primitives = [r for r in clone.iter("resource")
                  if resource is None or clone.get("id") == resource
                  or r.get("id", "").split(":")[0] == resource]
    name = primitives[0].get("id", "").split(":")[0] if primitives else clone.get("id")
    if nodes[node].get("online") == "false":
        return Role("stopped", name)
    for res in primitives:
        if any(n.get("name") == node for n in res.iterfind("node")):
            role = CRM_ROLES.get(res.get("role", ""))
            return Role(role or "unknown", res.get("id", "").split(":")[0] or name)
    return Role("stopped", name)
