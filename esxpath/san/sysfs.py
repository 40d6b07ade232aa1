"""SCST's live state from its sysfs tree (/sys/kernel/scst_tgt), through a Tree that reads it.

Pure: the Tree (read.FsTree on a real directory) does the reading. An attribute's value is its
first line; the `[key]` line SCST adds to non-default values is not read. Links
(device_groups/<dg>/devices/<dev>, luns/<n>/device, devices/<dev>/handler) name their target by
its last path component; a plain file there holds the name instead.
"""
from __future__ import annotations

from typing import Protocol

from ..errors import InputError
from . import ids
from .state import ALUA_STATES, Device, DeviceGroup, GroupTarget, Lun, ScstState, Target, TargetGroup


class Tree(Protocol):
    def where(self, rel: str) -> str:
        """The full name of rel, for messages."""

    def entries(self, rel: str) -> dict[str, str] | None:
        """The names in directory rel -> "dir", "file" or "link"; None when rel is no directory."""

    def first_line(self, rel: str) -> str | None:
        """The first line of file rel (also through a link), None when there is none."""

    def link_name(self, rel: str) -> str | None:
        """The last component of link rel's target, None when rel is not a link."""


class _Reader:
    def __init__(self, tree: Tree):
        self.tree = tree

    def bad(self, rel: str, what: str) -> InputError:
        return InputError(f"{self.tree.where(rel)}: {what}")

    def dirs(self, rel: str, required: bool = True) -> list[str]:
        found = self.tree.entries(rel)
        if found is None:
            if required:
                raise self.bad(rel, "missing (is this an SCST sysfs tree? see --sysfs-root)")
            return []
        return sorted(n for n, kind in found.items() if kind in ("dir", "link"))

    def attr(self, rel: str) -> str:
        value = self.tree.first_line(rel)
        if value is None:
            raise self.bad(rel, "missing")
        return value.strip()

    def optional(self, rel: str) -> str | None:
        value = self.tree.first_line(rel)
        return None if value is None else value.strip()

    def number(self, rel: str, value: str | None = None) -> int:
        text = self.attr(rel) if value is None else value
        number = ids.parse_number(text)
        if number is None:
            raise self.bad(rel, f"{text!r} is not a number")
        return number

    def flag(self, rel: str) -> bool:
        text = self.attr(rel)
        if text not in ("0", "1"):
            raise self.bad(rel, f"{text!r} is not 0 or 1")
        return text == "1"

    def named(self, rel: str, required: bool = True) -> str | None:
        """What a link points at (its last component), or a file's first line."""
        name = self.tree.link_name(rel)
        if name is None:
            name = self.optional(rel)
        if not name and required:
            raise self.bad(rel, "missing")
        return name or None


def parse_sysfs(tree: Tree) -> ScstState:
    r = _Reader(tree)
    setup_id = r.number("setup_id")
    devices = tuple(_device(r, name) for name in r.dirs("devices"))
    targets = tuple(_target(r, driver, name) for driver in r.dirs("targets")
                    if driver not in ids.INTERNAL_DRIVERS for name in r.dirs(f"targets/{driver}"))
    own = {ids.target_key(t.name): t for t in targets}
    groups = tuple(_device_group(r, name, own) for name in r.dirs("device_groups", required=False))
    return ScstState(setup_id=setup_id, devices=devices, device_groups=groups, targets=targets)


def _device(r: _Reader, name: str) -> Device:
    base = f"devices/{name}"
    handler = r.named(f"{base}/handler", required=False)
    t10 = r.attr(f"{base}/t10_dev_id") if ids.is_vdisk(handler) else r.optional(f"{base}/t10_dev_id")
    return Device(name=name, handler=handler, t10_dev_id=t10,
                  eui64_id=_hex_id(r, f"{base}/eui64_id", ids.EUI64_LENGTHS),
                  naa_id=_hex_id(r, f"{base}/naa_id", ids.NAA_LENGTHS, ids.NAA_TYPES),
                  t10_vend_id=r.optional(f"{base}/t10_vend_id"),
                  prod_id=r.optional(f"{base}/prod_id"))


def _hex_id(r: _Reader, rel: str, lengths, first=None) -> str | None:
    text = r.optional(rel)  # absent in SCST releases before eui64_id/naa_id existed
    if text is None:
        return None
    value = ids.normalise_hex_id(text, lengths, first)
    if value is None:
        raise r.bad(rel, f"{text!r} is not a valid id ({'/'.join(map(str, lengths))} bytes in hex)")
    return value or None


def _target(r: _Reader, driver: str, name: str) -> Target:
    base = f"targets/{driver}/{name}"
    luns = [Lun(r.number(f"{base}/luns/{n}", n), r.named(f"{base}/luns/{n}/device") or "")
            for n in r.dirs(f"{base}/luns", required=False)]
    for group in r.dirs(f"{base}/ini_groups", required=False):
        gbase = f"{base}/ini_groups/{group}/luns"
        luns += [Lun(r.number(f"{gbase}/{n}", n), r.named(f"{gbase}/{n}/device") or "", group)
                 for n in r.dirs(gbase, required=False)]
    rel = r.number(f"{base}/rel_tgt_id")
    # drivers that cannot disable a target (scst_local) have no `enabled`: always on
    enabled = r.flag(f"{base}/enabled") if r.optional(f"{base}/enabled") is not None else True
    return Target(driver=driver, name=name, enabled=enabled,
                  rel_tgt_id=rel or None,  # 0: not enabled yet, SCST assigns one then
                  luns=tuple(sorted(luns, key=lambda lun: (lun.ini_group or "", lun.lun))))


def _device_group(r: _Reader, name: str, own: dict[str, Target]) -> DeviceGroup:
    base = f"device_groups/{name}"
    devices = tuple(r.dirs(f"{base}/devices", required=False))
    return DeviceGroup(name=name, devices=devices, target_groups=tuple(
        _target_group(r, f"{base}/target_groups/{tg}", tg, own)
        for tg in r.dirs(f"{base}/target_groups", required=False)))


def _target_group(r: _Reader, base: str, name: str, own: dict[str, Target]) -> TargetGroup:
    state = r.attr(f"{base}/state")
    if state not in ALUA_STATES:
        raise r.bad(f"{base}/state", f"{state!r} is not an ALUA state ({', '.join(ALUA_STATES)})")
    targets = []
    for tgt in r.dirs(base):  # a local target is a link to targets/<driver>/<tgt>, a remote one a dir
        local = own.get(ids.target_key(tgt))
        rel = r.number(f"{base}/{tgt}/rel_tgt_id")
        targets.append(GroupTarget(tgt, (local.rel_tgt_id if local and local.rel_tgt_id else rel) or None))
    return TargetGroup(name=name, group_id=r.number(f"{base}/group_id"), state=state,
                       preferred=r.flag(f"{base}/preferred"), targets=tuple(targets))
