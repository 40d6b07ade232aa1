"""The dump document `esxpath san dump` prints (schema esxpath/san-dump/1), from a parsed SCST
state and the node's Pacemaker role. Pure."""
from __future__ import annotations

from . import ids
from .pacemaker import Role
from .state import ScstState

SCHEMA = "esxpath/san-dump/1"


def build_dump(state: ScstState, *, node: str, source: str, taken_at: str, role: Role) -> dict:
    own = {ids.target_key(t.name): t for t in state.targets}
    return {
        "schema": SCHEMA,
        "node": node,
        "source": source,
        "taken_at": taken_at,
        "setup_id": state.setup_id,
        "role": role.role,
        "role_resource": role.resource,
        "devices": [{
            "name": d.name, "handler": d.handler, "t10_dev_id": d.t10_dev_id,
            # the value SCST makes for this name and setup_id when none is configured
            "t10_dev_id_generated": d.t10_dev_id is not None
            and d.t10_dev_id == ids.generated_t10_dev_id(d.name, state.setup_id),
            "eui64_id": d.eui64_id, "naa_id": d.naa_id,
            "t10_vend_id": d.t10_vend_id, "prod_id": d.prod_id,
            "esxi_id": ids.esxi_id(d.t10_dev_id, d.eui64_id, d.naa_id),
        } for d in state.devices],
        "device_groups": [{
            "name": dg.name, "devices": list(dg.devices),
            "target_groups": [{
                "name": tg.name, "group_id": tg.group_id, "state": tg.state,
                "preferred": tg.preferred,
                "targets": [{
                    "name": t.name, "rel_tgt_id": t.rel_tgt_id,
                    "local": ids.target_key(t.name) in own,
                    "enabled": own[ids.target_key(t.name)].enabled
                    if ids.target_key(t.name) in own else None,
                } for t in tg.targets],
            } for tg in dg.target_groups],
        } for dg in state.device_groups],
        "targets": [{
            "driver": t.driver, "name": t.name, "enabled": t.enabled, "rel_tgt_id": t.rel_tgt_id,
            "luns": [{"lun": lun.lun, "device": lun.device, "ini_group": lun.ini_group}
                     for lun in t.luns],
        } for t in state.targets],
    }
