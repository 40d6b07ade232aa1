"""What the typed API says about a host's storage, as the model needs it: plain records, no
pyVmomi, so that the decoding of esxcli answers (esxcli_devices) is testable without a server."""
from __future__ import annotations

from typing import NamedTuple

from ..core.model import MPP_NMP


class Lun(NamedTuple):
    """A vim.host.ScsiLun: what Device takes from it."""

    key: str
    uuid: str
    canonical_name: str
    display_name: str
    vendor: str
    model: str
    is_disk: bool  # a vim.host.ScsiDisk, or lunType "disk"
    capacity_bytes: int
    is_local: bool
    operational_state: tuple[str, ...] = ("ok",)


class ApiPath(NamedTuple):
    """A vim.host.MultipathInfo.Path."""

    name: str
    adapter: str  # adapter key, e.g. key-vim.host.FibreChannelHba-vmhba2
    state: str
    working: bool
    target_wwpn: int | None  # FC transport portWorldWideName (a signed 64-bit long)


class LogicalUnit(NamedTuple):
    """A vim.host.MultipathInfo.LogicalUnit."""

    id: str
    lun: str  # the ScsiLun key
    psp: str | None
    satp: str | None
    paths: tuple[ApiPath, ...]
    mpp: str = MPP_NMP  # "HPP" when the policy is a HostMultipathInfoHppLogicalUnitPolicy
