"""Which controller a target port group is: "TPG 2 (storage2)" wherever that is known. Pure.

Sources: `--node-tpg NODE=ID` (the admin's word) and the --san dumps (the node that owns the
group's targets: san/view.py tpg_nodes). When they disagree, nobody knows which controller
takes over: the gate refuses (node-names, UNKNOWN).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from .model import Finding, Severity

_SPEC = re.compile(r"^\s*([^=\s]+)\s*=\s*(\d+)\s*$")
# not when already named: "TPG 2 (storage2)", "group local (TPG 2)"
_TPG = re.compile(r"(?<!\()\bTPG (\d+)\b(?! \()")


def parse_node_tpg(specs: Iterable[str]) -> dict[int, str]:
    """{tpg: node} of `--node-tpg NODE=ID` values; ValueError naming the bad one."""
    out: dict[int, str] = {}
    for spec in specs:
        m = _SPEC.match(spec)
        if not m:
            raise ValueError(f"--node-tpg {spec!r}: want NODE=ID, e.g. storage2=2")
        node, tpg = m.group(1), int(m.group(2))
        if out.get(tpg, node) != node or (node in out.values() and out.get(tpg) != node):
            raise ValueError(f"--node-tpg {spec!r}: the node or the group is named twice")
        out[tpg] = node
    return out


def merge(given: Mapping[int, str], san: Mapping[int, str]) -> tuple[dict[int, str], list[Finding]]:
    """The names to print, and a finding per group the two sources name differently."""
    out = {**san, **given}
    bad = [Finding(Severity.UNKNOWN, "node-names", None, None,
                   f"--node-tpg names TPG {g} {given[g]}, the SAN dumps say it is {san[g]}:"
                   " which controller takes over cannot be told")
           for g in sorted(set(given) & set(san)) if given[g] != san[g]]
    return out, bad


def label(tpg: int, names: Mapping[int, str]) -> str:
    return f"TPG {tpg} ({names[tpg]})" if tpg in names else f"TPG {tpg}"


def relabel(text: str, names: Mapping[int, str]) -> str:
    """Every "TPG 2" in a message that is not already named becomes "TPG 2 (storage2)"."""
    if not names:
        return text
    return _TPG.sub(lambda m: label(int(m.group(1)), names), text)


def named(findings: Iterable[Finding], names: Mapping[int, str]) -> tuple[Finding, ...]:
    return tuple(replace(f, message=relabel(f.message, names)) for f in findings)


__all__ = ["parse_node_tpg", "merge", "label", "relabel", "named"]
