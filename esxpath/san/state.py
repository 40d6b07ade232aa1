"""What one storage node's SCST holds, as read from sysfs or from scst.conf (pure data)."""
from __future__ import annotations

from dataclasses import dataclass

ALUA_STATES = ("active", "nonoptimized", "standby", "unavailable", "offline", "transitioning")


@dataclass(frozen=True)
class Device:
    name: str
    handler: str | None
    t10_dev_id: str | None  # None for handlers that do not make one (pass-through)
    eui64_id: str | None = None  # hex digits, no "0x"; None when unset
    naa_id: str | None = None
    t10_vend_id: str | None = None
    prod_id: str | None = None


@dataclass(frozen=True)
class GroupTarget:
    """A target of a target group: one of this node's targets or the peer's (remote)."""

    name: str
    rel_tgt_id: int | None


@dataclass(frozen=True)
class TargetGroup:
    name: str
    group_id: int
    state: str
    preferred: bool
    targets: tuple[GroupTarget, ...] = ()


@dataclass(frozen=True)
class DeviceGroup:
    name: str
    devices: tuple[str, ...] = ()
    target_groups: tuple[TargetGroup, ...] = ()


@dataclass(frozen=True)
class Lun:
    lun: int
    device: str
    ini_group: str | None = None  # exported only to this initiator group's members


@dataclass(frozen=True)
class Target:
    driver: str
    name: str
    enabled: bool | None
    rel_tgt_id: int | None  # None: not set in scst.conf (SCST assigns one when enabling)
    luns: tuple[Lun, ...] = ()


@dataclass(frozen=True)
class ScstState:
    setup_id: int
    devices: tuple[Device, ...] = ()
    device_groups: tuple[DeviceGroup, ...] = ()
    targets: tuple[Target, ...] = ()
