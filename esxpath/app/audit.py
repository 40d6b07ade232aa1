"""show and audit: the read-only reports of one vCenter's estate, with the SAN's own view and the
hosts' storage events joined in when asked. `esxpath show/audit` (also per profile under
--all-profiles) and the exporter's refresh both call these: one audit, whoever asks.

No click: the caller hands in a Reader (the CLI's Runtime, the exporter's kept session), reads
the options itself and renders the Report.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..core.model import Expectation, Policy, Report
from .ports import Where as Scoped  # what the scope options select
from .ports import require_devices

if TYPE_CHECKING:
    from ..core.model import Host, Inventory
    from ..core.storage_events import StorageWindow
    from ..san.audit import SanDumps
    from ..vsphere import Session


class Reader(Protocol):
    """Reads one vCenter (the CLI's Runtime has these): `conn` is passed through untouched."""

    def read(self, conn: Any, where: Any) -> Inventory: ...  # where: a Scoped
    def storage_events(self, conn: Any, inventory: Inventory, start: Any = None,
                       back: float = 0.0) -> StorageWindow: ...


@dataclass(frozen=True)
class AuditOptions:
    """What an audit holds the estate to, beside the scope."""

    policy: Policy
    expect: Mapping[str, int] = field(default_factory=dict)  # --expect: ao/ano winning key by key
    san: Callable[[], SanDumps] | None = None  # reads the storage nodes' dumps (--san/--san-cmd)
    since: float | None = None  # --since: seconds of storage events to report


def show(reader: Reader, conn: Any, where: Scoped) -> Report:
    inv = reader.read(conn, where)
    require_devices(inv, where.selector)
    return Report(command="show", inventory=inv, selector=where.selector)


def expectation(profile: Expectation, wanted: Mapping[str, int]) -> Expectation:
    """--expect wins key by key: `--expect ao=2` keeps the profile's ano."""
    return Expectation(ao=wanted.get("ao", profile.ao), ano=wanted.get("ano", profile.ano))


def audit(reader: Reader, conn: Any, where: Scoped, options: AuditOptions) -> Report:
    """The audit of one vCenter: ESXi's findings, then the SAN's (dumps read before the
    inventory, as they are stamped with this machine's clock), then the storage events."""
    from ..core.verify import audit as run_audit
    from ..core.verify import finish
    exp = expectation(where.expect, options.expect)
    dumps = options.san() if options.san is not None else None
    inv = reader.read(conn, where)
    findings: Sequence = run_audit(inv, where.selector, options.policy, exp)
    if dumps is not None:
        from ..san.audit import findings as san_findings
        findings = finish([*findings, *san_findings(dumps.nodes, inv, where.selector,
                                                    dumps.now, dumps.max_age)])
    storage = None
    if options.since is not None:
        from ..core.storage_events import storage_findings
        storage = reader.storage_events(conn, inv, back=options.since)
        findings = (*findings, *storage_findings(storage, since_text(options.since)))
    return Report(command="audit", inventory=inv, selector=where.selector,
                  findings=tuple(findings), storage=storage)


def since_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def storage_window(session: Callable[[], Session], hosts: Sequence[Host], start: Any = None,
                   back: float = 0.0) -> StorageWindow:
    """The ESXi storage events of `hosts` from `start` (a datetime from vCenter's clock, an
    EsxpathError from reading it, or None: `back` seconds before the end) until vCenter's clock
    now. A failed clock or event read gives a window carrying the error, never an exit: the
    events are an addition that never costs the main report. An interrupt still stops."""
    import logging
    from datetime import timedelta

    from ..core.storage_events import StorageWindow
    from ..errors import EsxpathError, Interrupted
    from ..vsphere.events import read_storage_events, server_time
    log = logging.getLogger("esxpath")
    if isinstance(start, EsxpathError):
        log.warning("storage events not read: vCenter's clock: %s", start)
        return StorageWindow(None, None, error=f"vCenter's clock: {start}")
    end = None
    try:
        end = server_time(session())
        if start is None:
            start = end - timedelta(seconds=back)
        return read_storage_events(session(), list(hosts), start, end)
    except Interrupted:
        raise
    except EsxpathError as e:
        log.warning("storage events not read: %s", e)
        what = str(e) if end is not None else f"vCenter's clock: {e}"
        return StorageWindow(start, end, error=what)
