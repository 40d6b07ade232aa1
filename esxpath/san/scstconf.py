"""SCST's saved state from scst.conf, in scstadmin's grammar (scstadmin.sysfs/scstadmin:
readConfigFile, parseStanza, parseLine; scstadmin/examples/scst.conf.sysfs).

A statement is one line of words: a keyword or attribute, then up to two values ("quoted values"
may hold blanks); `{` after a statement opens its block, `}` closes it; `#` starts a comment
unless escaped with a backslash. Blocks: HANDLER h { DEVICE d { attrs } }, TARGET_DRIVER drv {
attrs; TARGET t { attrs; LUN n dev { attrs }; GROUP g { LUN ...; INITIATOR i } } },
DEVICE_GROUP dg { DEVICE d; TARGET_GROUP tg { group_id/state/preferred; TARGET t { rel_tgt_id } } };
anything else is an attribute. Pure: parse_scst_conf takes the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InputError
from . import ids
from .state import ALUA_STATES, Device, DeviceGroup, GroupTarget, Lun, ScstState, Target, TargetGroup


@dataclass
class Stmt:
    words: list[str]
    line: int
    block: list[Stmt] | None = None  # None: no `{ }` followed

    @property
    def key(self) -> str:
        return self.words[0]

    def arg(self, i: int) -> str | None:
        return self.words[i] if len(self.words) > i else None


@dataclass
class _Parse:
    path: str
    setup_id: int = 0
    devices: list[Device] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    groups: list[DeviceGroup] = field(default_factory=list)
    lun_refs: list[tuple[str, int]] = field(default_factory=list)  # (device, line)

    def bad(self, line: int, what: str) -> InputError:
        return InputError(f"{self.path}: line {line}: {what}")


_WORD = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _comment_free(line: str) -> str:
    for m in re.finditer("#", line):
        if m.start() == 0 or line[m.start() - 1] != "\\":
            return line[:m.start()]
    return line


def _words(text: str, path: str, line: int) -> list[str]:
    text = text.strip()
    if text.count('"') - text.count('\\"') & 1:
        raise InputError(f"{path}: line {line}: unterminated quote in {text!r}")
    return [re.sub(r"\\(.)", r"\1", m.group(1) if m.group(1) is not None else m.group(2))
            for m in _WORD.finditer(text)]


def tokenize(text: str, path: str) -> list[Stmt]:
    """The statement tree of an scst.conf, or InputError naming the line."""
    root: list[Stmt] = []
    stack: list[tuple[list[Stmt], int]] = [(root, 0)]  # (statements, line that opened the block)
    for number, raw in enumerate(text.splitlines(), 1):
        pending = ""
        for ch in _comment_free(raw):
            if ch == "{":
                if not pending.strip():
                    raise InputError(f"{path}: line {number}: '{{' without a keyword before it")
                block: list[Stmt] = []
                stack[-1][0].append(Stmt(_words(pending, path, number), number, block))
                stack.append((block, number))
                pending = ""
            elif ch == "}":
                if pending.strip():  # scstadmin silently drops it: say so instead
                    raise InputError(f"{path}: line {number}: {pending.strip()!r} before '}}' on "
                                     "the same line (scstadmin ignores it; give it its own line)")
                if len(stack) == 1:
                    raise InputError(f"{path}: line {number}: '}}' without a matching '{{'")
                stack.pop()
            else:
                pending += ch
        if pending.strip():
            stack[-1][0].append(Stmt(_words(pending, path, number), number))
    if len(stack) > 1:
        raise InputError(f"{path}: line {stack[-1][1]}: '{{' is never closed (missing '}}')")
    return root


def parse_scst_conf(text: str, path: str) -> ScstState:
    p = _Parse(path)
    for stmt in tokenize(text, path):
        if stmt.key == "HANDLER":
            handler = _name(p, stmt)
            for dev in _children(p, stmt, "HANDLER", {"DEVICE"}):
                p.devices.append(_device(p, handler, dev))
        elif stmt.key == "TARGET_DRIVER":
            driver = _name(p, stmt)
            for tgt in _children(p, stmt, "TARGET_DRIVER", {"TARGET"}):
                target = _target(p, driver, tgt)
                if driver not in ids.INTERNAL_DRIVERS:
                    p.targets.append(target)
        elif stmt.key == "DEVICE_GROUP":
            p.groups.append(_device_group(p, stmt))
        elif stmt.key in _KEYWORDS:
            raise p.bad(stmt.line, f"{stmt.key} outside the block it belongs in")
        elif stmt.key == "setup_id":
            p.setup_id = _number(p, stmt)
        # other attributes (threads, ALUA { ... }) do not matter here
    return _finish(p)


# keywords that open a structure somewhere; where they may appear is checked by their parent
_KEYWORDS = {"HANDLER", "DEVICE", "TARGET_DRIVER", "TARGET", "LUN", "GROUP", "INITIATOR",
             "DEVICE_GROUP", "TARGET_GROUP"}


def _children(p: _Parse, stmt: Stmt, where: str, allowed: set[str]) -> list[Stmt]:
    """The statements in stmt's block that are `allowed` keywords; other keywords are errors,
    attributes are left to the caller (_attrs)."""
    out = []
    for child in stmt.block or ():
        if child.key in allowed:
            out.append(child)
        elif child.key in _KEYWORDS:
            raise p.bad(child.line, f"{child.key} is not allowed inside {where}")
    return out


def _attrs(stmt: Stmt) -> dict[str, Stmt]:
    return {c.key: c for c in stmt.block or () if c.key not in _KEYWORDS}


def _name(p: _Parse, stmt: Stmt) -> str:
    name = stmt.arg(1)
    if not name:
        raise p.bad(stmt.line, f"{stmt.key} without a name")
    return name


def _value(p: _Parse, stmt: Stmt) -> str:
    value = stmt.arg(1)
    if value is None:
        raise p.bad(stmt.line, f"{stmt.key} without a value")
    return value


def _number(p: _Parse, stmt: Stmt) -> int:
    value = _value(p, stmt)
    number = ids.parse_number(value)
    if number is None:
        raise p.bad(stmt.line, f"{stmt.key} {value!r} is not a number")
    return number


def _flag(p: _Parse, stmt: Stmt) -> bool:
    value = _value(p, stmt)
    if value not in ("0", "1"):
        raise p.bad(stmt.line, f"{stmt.key} {value!r} is not 0 or 1")
    return value == "1"


def _device(p: _Parse, handler: str, stmt: Stmt) -> Device:
    name = _name(p, stmt)
    attrs = _attrs(stmt)
    _children(p, stmt, "DEVICE", set())
    t10 = None
    if "t10_dev_id" in attrs:
        t10 = _value(p, attrs["t10_dev_id"])
        if len(t10) > ids.T10_DEV_ID_MAX:
            raise p.bad(attrs["t10_dev_id"].line, f"t10_dev_id {t10!r} is longer than "
                        f"{ids.T10_DEV_ID_MAX} characters (SCST refuses it)")
    return Device(name=name, handler=handler, t10_dev_id=t10,  # generated in _finish
                  eui64_id=_hex_id(p, attrs.get("eui64_id"), ids.EUI64_LENGTHS),
                  naa_id=_hex_id(p, attrs.get("naa_id"), ids.NAA_LENGTHS, ids.NAA_TYPES),
                  t10_vend_id=_value(p, attrs["t10_vend_id"]) if "t10_vend_id" in attrs
                  else ids.default_vendor(handler),
                  prod_id=_value(p, attrs["prod_id"]) if "prod_id" in attrs
                  else ids.default_prod_id(name, handler))


def _hex_id(p: _Parse, stmt: Stmt | None, lengths, first=None) -> str | None:
    if stmt is None:
        return None
    text = stmt.arg(1) or ""
    value = ids.normalise_hex_id(text, lengths, first)
    if value is None:
        raise p.bad(stmt.line, f"{stmt.key} {text!r} is not a valid id "
                    f"({'/'.join(map(str, lengths))} bytes in hex)")
    return value or None


def _lun(p: _Parse, stmt: Stmt, group: str | None) -> Lun:
    number, device = stmt.arg(1), stmt.arg(2)
    if number is None or device is None:
        raise p.bad(stmt.line, "LUN needs a number and a device: LUN <n> <device>")
    lun = ids.parse_number(number)
    if lun is None:
        raise p.bad(stmt.line, f"LUN {number!r} is not a number")
    _children(p, stmt, "LUN", set())
    p.lun_refs.append((device, stmt.line))
    return Lun(lun, device, group)


def _target(p: _Parse, driver: str, stmt: Stmt) -> Target:
    name = _name(p, stmt)
    attrs = _attrs(stmt)
    luns = [_lun(p, s, None) for s in _children(p, stmt, "TARGET", {"LUN", "GROUP"}) if s.key == "LUN"]
    for group in (s for s in stmt.block or () if s.key == "GROUP"):
        gname = _name(p, group)
        luns += [_lun(p, s, gname) for s in _children(p, group, "GROUP", {"LUN", "INITIATOR"})
                 if s.key == "LUN"]
    # without `enabled 1` scstadmin leaves a target disabled; scst_local's cannot be disabled
    enabled = _flag(p, attrs["enabled"]) if "enabled" in attrs else driver == "scst_local"
    rel = _number(p, attrs["rel_tgt_id"]) if "rel_tgt_id" in attrs else None
    return Target(driver=driver, name=name, enabled=enabled, rel_tgt_id=rel or None,
                  luns=tuple(sorted(luns, key=lambda lun: (lun.ini_group or "", lun.lun))))


def _device_group(p: _Parse, stmt: Stmt) -> DeviceGroup:
    name = _name(p, stmt)
    devices, tgroups = [], []
    for child in _children(p, stmt, "DEVICE_GROUP", {"DEVICE", "TARGET_GROUP"}):
        if child.key == "DEVICE":
            devices.append(_name(p, child))
            p.lun_refs.append((devices[-1], child.line))
        else:
            tgroups.append(_target_group(p, child))
    return DeviceGroup(name=name, devices=tuple(devices), target_groups=tuple(tgroups))


def _target_group(p: _Parse, stmt: Stmt) -> TargetGroup:
    name = _name(p, stmt)
    attrs = _attrs(stmt)
    if "group_id" not in attrs:
        raise p.bad(stmt.line, f"TARGET_GROUP {name} has no group_id")
    state = _value(p, attrs["state"]) if "state" in attrs else "active"  # scst_tg.c default
    if state not in ALUA_STATES:
        raise p.bad(attrs["state"].line, f"state {state!r} is not an ALUA state "
                    f"({', '.join(ALUA_STATES)})")
    targets = []
    for tgt in _children(p, stmt, "TARGET_GROUP", {"TARGET"}):
        rel = _attrs(tgt).get("rel_tgt_id")
        targets.append(GroupTarget(_name(p, tgt), _number(p, rel) if rel else None))
    return TargetGroup(name=name, group_id=_number(p, attrs["group_id"]), state=state,
                       preferred=_flag(p, attrs["preferred"]) if "preferred" in attrs else False,
                       targets=tuple(targets))


def _finish(p: _Parse) -> ScstState:
    """Generated t10_dev_ids (setup_id may come anywhere in the file), references checked,
    a local target's group entry given that target's rel_tgt_id."""
    devices = []
    for dev in p.devices:
        if dev.t10_dev_id is None and ids.is_vdisk(dev.handler):
            dev = Device(**{**dev.__dict__, "t10_dev_id": ids.generated_t10_dev_id(dev.name, p.setup_id)})
        devices.append(dev)
    known = {d.name for d in devices}
    for name, line in p.lun_refs:
        if name not in known:
            raise p.bad(line, f"device {name!r} is not defined in any HANDLER block")
    own = {ids.target_key(t.name): t for t in p.targets}
    groups = []
    for dg in p.groups:
        tgs = []
        for tg in dg.target_groups:
            tgts = tuple(GroupTarget(t.name, own[ids.target_key(t.name)].rel_tgt_id or t.rel_tgt_id)
                         if ids.target_key(t.name) in own else t for t in tg.targets)
            tgs.append(TargetGroup(tg.name, tg.group_id, tg.state, tg.preferred, tgts))
        groups.append(DeviceGroup(dg.name, dg.devices, tuple(tgs)))
    return ScstState(setup_id=p.setup_id, devices=tuple(devices), device_groups=tuple(groups),
                     targets=tuple(p.targets))
