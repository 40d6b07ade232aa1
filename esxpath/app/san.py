"""The san reads: `san dump` (this storage node's SCST state and Pacemaker role as one document)
and `san check` (the nodes' dumps against every host's view from vCenter). No click: the CLI
reads the options, calls these and renders what they return."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.model import Report
from ..errors import UsageError

if TYPE_CHECKING:
    from ..san.audit import SanDumps
    from .audit import Reader

DEFAULT_SYSFS = "/sys/kernel/scst_tgt"


@dataclass(frozen=True)
class DumpSources:
    """Where `san dump` reads this node from (None: the default)."""

    sysfs_root: str | None = None  # SCST's live sysfs tree (default DEFAULT_SYSFS)
    scst_conf: str | None = None  # an scst.conf instead of the live tree
    crm_mon_xml: str | None = None  # saved crm_mon XML (default: run crm_mon if installed)
    node: str | None = None  # this node's name in Pacemaker (default: crm_node -n, uname -n)
    resource: str | None = None  # the promotable clone to read the role from


def dump(sources: DumpSources, clock: Callable[[], dt.datetime]) -> dict:
    """The dump document (schema esxpath/san-dump/1), stamped with clock() (UTC) once read."""
    from ..san import read
    from ..san.dump import build_dump
    from ..san.pacemaker import UNKNOWN, parse_crm_mon
    s = sources
    if s.sysfs_root and s.scst_conf:
        raise UsageError("--sysfs-root and --scst-conf exclude each other")
    if s.scst_conf:
        from ..san.scstconf import parse_scst_conf
        state = parse_scst_conf(read.read_text(s.scst_conf, "scst.conf"), s.scst_conf)
        source = f"scst.conf:{s.scst_conf}"
    else:
        from ..san.sysfs import parse_sysfs
        root = s.sysfs_root or DEFAULT_SYSFS
        state = parse_sysfs(read.FsTree(root))
        source = f"sysfs:{root}"
    name = s.node or read.local_node_name()
    if s.crm_mon_xml:
        role = parse_crm_mon(read.read_text(s.crm_mon_xml, "crm_mon XML"), s.crm_mon_xml, name,
                             s.resource)
    else:
        text = read.run_crm_mon()
        role = UNKNOWN if text is None else parse_crm_mon(text, "crm_mon --output-as=xml", name,
                                                          s.resource)
    taken_at = clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    return build_dump(state, node=name, source=source, taken_at=taken_at, role=role)


def check(reader: Reader, conn: Any, where: Any, dumps: SanDumps) -> Report:
    """`san check`: the SAN findings of the dumps against the hosts in scope (where: a Scoped);
    an empty scope is a finding of its own."""
    from ..core.verify import empty_scope, finish, scope_names
    from ..san.audit import findings as san_findings
    inv = reader.read(conn, where)
    found = san_findings(dumps.nodes, inv, where.selector, dumps.now, dumps.max_age)
    if not scope_names(inv, where.selector):
        found.append(empty_scope(inv))
    return Report(command="san check", inventory=inv, selector=where.selector,
                  findings=finish(found))
