"""Builds the default lab (tests/sim/scenarios/seed-lab.json) as model objects, and small edits of it, for unit tests."""
from __future__ import annotations

from dataclasses import replace

from esxpath.core.model import (
    PATH_ACTIVE,
    Device,
    DevicePolicy,
    Host,
    Inventory,
    Path,
    TargetPortGroup,
    TpgState,
)
from seedlab import (  # noqa: F401 (CLUSTER_HOSTS, SCST: re-exported to the unit tests)
    ALL_HOSTS as HOSTS, BOOT as MPX, CLUSTER_HOSTS, EUI1, EUI2, NAA, SCST, STANDALONE)


# (tpg id, target index, target WWPN); vmhba2 reaches the :80/:32 ports, vmhba3 the :81/:33 ones
_PORTS = {
    "vmhba2": ((1, 0, "21:00:00:24:ff:54:09:80"), (2, 1, "21:00:00:24:ff:54:09:32")),
    "vmhba3": ((1, 0, "21:00:00:24:ff:54:09:81"), (2, 1, "21:00:00:24:ff:54:09:33")),
}
_NETAPP_WWPN = "20:01:00:a0:98:00:00:01"


def _hex(wwn: str) -> str:
    return wwn.replace(":", "")


def _hba_wwns(host_index: int, hba: str) -> tuple[str, str]:
    n = int(hba.removeprefix("vmhba"))
    tail = f"3d:{host_index:02x}:{n:02x}"
    return f"20:00:00:24:ff:{tail}", f"21:00:00:24:ff:{tail}"


def _fc_path(host_index, hba, tgt_wwpn, target, lun, device, tpg_id, tpg_state, working):
    wwnn, wwpn = _hba_wwns(host_index, hba)
    tgt_wwnn = "20" + tgt_wwpn[2:]
    return Path(
        name=f"fc.{_hex(wwnn)}:{_hex(wwpn)}-fc.{_hex(tgt_wwnn)}:{_hex(tgt_wwpn)}-{device}",
        runtime_name=f"{hba}:C0:T{target}:L{lun}",
        adapter=hba,
        state=PATH_ACTIVE,
        working=working,
        tpg_id=tpg_id,
        tpg_state=tpg_state,
        target_wwpn=tgt_wwpn,
    )


def scst_device(host_index: int, name: str, model: str, lun: int, *, psp: str, limit_type: str,
                iops: int, active_tpg: int = 1) -> Device:
    states = {g: (TpgState.AO if g == active_tpg else TpgState.ANO) for g in (1, 2)}
    paths = []
    for hba in ("vmhba2", "vmhba3"):
        for tpg, target, wwpn in _PORTS[hba]:
            ao = states[tpg] == TpgState.AO
            # MRU drives one AO path, RR all AO paths (useANO=0)
            working = ao and (psp == "VMW_PSP_RR" or hba == "vmhba2")
            paths.append(_fc_path(host_index, hba, wwpn, target, lun, name, tpg, states[tpg], working))
    return Device(
        canonical_name=name, vendor="SCST_BIO", model=model,
        display_name=f"SCST_BIO Fibre Channel Disk ({name})", capacity_bytes=1 << 40,
        policy=DevicePolicy(satp="VMW_SATP_ALUA", psp=psp, limit_type=limit_type, iops=iops,
                            bytes=10485760, use_ano=False),
        tpgs=tuple(TargetPortGroup(g, s) for g, s in sorted(states.items())),
        paths=tuple(paths),
    )


def netapp_device(host_index: int) -> Device:
    paths = tuple(
        _fc_path(host_index, hba, _NETAPP_WWPN, 2, 10, NAA, 1000, TpgState.AO, True)
        for hba in ("vmhba2", "vmhba3"))
    return Device(
        canonical_name=NAA, vendor="NETAPP", model="LUN C-Mode",
        policy=DevicePolicy(satp="VMW_SATP_ALUA", psp="VMW_PSP_RR", limit_type="iops", iops=1000,
                            bytes=10485760, use_ano=False),
        tpgs=(TargetPortGroup(1000, TpgState.AO),), paths=paths)


def boot_disk() -> Device:
    path = Path(name=f"sata.vmhba32-sata.0:0-{MPX}", runtime_name="vmhba32:C0:T0:L0",
                adapter="vmhba32", state=PATH_ACTIVE, working=True)
    return Device(canonical_name=MPX, vendor="ATA", model="SATADOM", is_local=True,
                  policy=DevicePolicy(satp="VMW_SATP_LOCAL", psp="VMW_PSP_FIXED"), paths=(path,))


def lab(*, psp: str = "VMW_PSP_MRU", limit_type: str = "default", iops: int = 1000,
        active_tpg: int = 1, hosts: tuple[str, ...] = HOSTS) -> Inventory:
    """The seed lab: by default as found (MRU, RR defaults); lab(psp=RR, limit_type=iops, iops=1)
    is the compliant estate."""
    out = []
    for name in hosts:
        i = int(name.removeprefix("esx"))
        devices = (
            boot_disk(),
            scst_device(i, EUI1, "SSD-RAID6-1", 1, psp=psp, limit_type=limit_type, iops=iops,
                        active_tpg=active_tpg),
            scst_device(i, EUI2, "SSD-RAID6-2", 2, psp=psp, limit_type=limit_type, iops=iops,
                        active_tpg=active_tpg),
            netapp_device(i),
        )
        out.append(Host(name=name, moid=f"host-{i}", datacenter="DC0",
                        cluster=None if name == STANDALONE else "storage-cluster",
                        devices=devices))
    return Inventory(hosts=tuple(out))


def compliant() -> Inventory:
    return lab(psp="VMW_PSP_RR", limit_type="iops", iops=1)


# ---------------------------------------------------------------- edits

def edit_host(inv: Inventory, host: str, **changes) -> Inventory:
    assert inv.host(host) is not None, host
    return Inventory(tuple(replace(h, **changes) if h.name == host else h for h in inv.hosts))


def edit_device(inv: Inventory, host: str, device: str, **changes) -> Inventory:
    h = inv.host(host)
    assert h is not None and h.device(device) is not None, (host, device)
    devs = tuple(replace(d, **changes) if d.canonical_name == device else d for d in h.devices)
    return edit_host(inv, host, devices=devs)


def edit_policy(inv: Inventory, host: str, device: str, **changes) -> Inventory:
    d = inv.host(host).device(device)
    return edit_device(inv, host, device, policy=replace(d.policy, **changes))


def set_paths(inv: Inventory, host: str, device: str, state: str, *, tpg: int | None = None,
              adapter: str | None = None) -> Inventory:
    """Set the state of the device's paths on one host, filtered by TPG id and/or adapter."""
    d = inv.host(host).device(device)
    paths = tuple(
        replace(p, state=state, working=p.working and state == PATH_ACTIVE)
        if (tpg is None or p.tpg_id == tpg) and (adapter is None or p.adapter == adapter) else p
        for p in d.paths)
    return edit_device(inv, host, device, paths=paths)


def drop_device(inv: Inventory, host: str, device: str) -> Inventory:
    h = inv.host(host)
    return edit_host(inv, host, devices=tuple(d for d in h.devices if d.canonical_name != device))
