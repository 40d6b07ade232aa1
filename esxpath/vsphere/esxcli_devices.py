"""A host's devices from its two esxcli answers and the typed API's ScsiLuns: pure (no pyVmomi,
no I/O): tested table-driven on recorded answers.
"""
from __future__ import annotations

from ..core.model import PSP_RR, Device, DevicePolicy, Path, TpgState
from .parse import (
    adapter_from_key,
    as_list,
    parse_esxcli_response,
    parse_path_rtp,
    parse_path_tpg,
    parse_rr_device_config,
    parse_tpgs,
    path_state_from_group,
    target_iqn_from_path_name,
    target_wwpn_from_path_name,
)
from .records import Lun

NOT_NMP = "not NMP"  # Device.mpp of a disk that `nmp device list` does not know
DEVICE_LIST = "storage nmp device list"
PATH_LIST = "storage nmp path list"


class UnreadableAnswer(Exception):
    """An esxcli answer that is not the XML it should be: the host's problem, not a crash."""

    def __init__(self, command: str, detail: str):
        super().__init__(command, detail)
        self.command = command
        self.detail = detail

    def __str__(self) -> str:
        return f"esxcli {self.command}: unreadable answer ({self.detail})"


def rows_of(command: str, text: str | None) -> list[dict]:
    """The rows of a list command's answer document (none for an empty answer)."""
    try:
        result = parse_esxcli_response(text)
    except Exception as exc:
        raise UnreadableAnswer(command, str(exc)) from exc
    return result if isinstance(result, list) else []


def devices_from_esxcli(luns: list[Lun], device_list: str | None, path_list: str | None) -> list[Device]:
    """The disks among luns, with policy, TPGs and paths from the answers of `storage nmp device
    list` and `storage nmp path list` (their `response` documents)."""
    dev_rows = {r.get("Device"): r for r in rows_of(DEVICE_LIST, device_list)}
    paths_of: dict[str, list[dict]] = {}
    for r in rows_of(PATH_LIST, path_list):
        paths_of.setdefault(r.get("Device") or "", []).append(r)
    return [device_from_esxcli(lun, dev_rows.get(lun.canonical_name), paths_of.get(lun.canonical_name, []))
            for lun in luns if lun.is_disk]


def device_from_esxcli(lun: Lun, dev_row: dict | None, path_rows: list[dict]) -> Device:
    """A device from the typed API's ScsiLun, with its policy, TPGs and paths from esxcli.
    No row in `nmp device list`: another plugin (HPP) claims it; mpp says "not NMP" until the
    caller learns which from the typed API."""
    if dev_row is None:
        return Device(
            canonical_name=lun.canonical_name, vendor=lun.vendor.strip(), model=lun.model.strip(),
            display_name=lun.display_name, uuid=lun.uuid, capacity_bytes=lun.capacity_bytes,
            is_local=lun.is_local, operational_state=lun.operational_state, mpp=NOT_NMP)
    psp = dev_row.get("PathSelectionPolicy")
    rr = parse_rr_device_config(dev_row.get("PathSelectionPolicyDeviceConfig")) \
        if psp == PSP_RR else None
    policy = DevicePolicy(
        satp=dev_row.get("StorageArrayType"),
        psp=psp,
        limit_type=rr.limit_type if rr else None,
        iops=rr.iops if rr else None,
        bytes=rr.bytes if rr else None,
        use_ano=rr.use_ano if rr else None,
    )
    tpgs = parse_tpgs(dev_row.get("StorageArrayTypeDeviceConfig"))
    working = set(as_list(dev_row.get("WorkingPaths")))  # runtime names
    paths = []
    for row in path_rows:
        name = row.get("Path") or ""
        runtime = row.get("RuntimeName") or ""
        tpg_id, tpg_state = parse_path_tpg(row.get("StorageArrayTypePathConfig"))
        if tpg_id is not None and tpg_state == TpgState.UNKNOWN:
            tpg_state = next((g.state for g in tpgs if g.id == tpg_id), TpgState.UNKNOWN)
        paths.append(Path(
            name=name, runtime_name=runtime, adapter=adapter_from_key(runtime),
            state=path_state_from_group(row.get("GroupState")), working=runtime in working,
            tpg_id=tpg_id, tpg_state=tpg_state, target_wwpn=target_wwpn_from_path_name(name),
            rtp_id=parse_path_rtp(row.get("StorageArrayTypePathConfig")),
            target_iqn=target_iqn_from_path_name(name)))
    return Device(
        canonical_name=lun.canonical_name, vendor=lun.vendor.strip(), model=lun.model.strip(),
        display_name=dev_row.get("DeviceDisplayName") or lun.display_name,
        # SetMultipathLunPolicy's lunId: the multipath LogicalUnit id, on ESXi the ScsiLun uuid
        uuid=lun.uuid, capacity_bytes=lun.capacity_bytes, is_local=lun.is_local,
        policy=policy, tpgs=tpgs, paths=tuple(paths), operational_state=lun.operational_state)
