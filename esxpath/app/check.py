"""check without click: the pre-failover gate and, after the move, the wait until the new group
is AO everywhere; each read and judged again until done or --wait is up (one vCenter: the CLI's
--all-profiles runs it once per profile)."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from ..core.model import Expectation, Policy, Report, Severity
from ..errors import UsageError
from .ports import SYSTEM, Clock, Runtime, Where

log = logging.getLogger("esxpath")


@dataclass(frozen=True)
class CheckRequest:
    """What one check asks (check's options, validated)."""

    to_tpg: int | None = None
    from_tpg: int | None = None
    min_paths: int | None = None  # None: the profile's min_paths (where.expect), else 1
    allow_redundancy_loss: bool = False
    after_failover: bool = False
    wait: float = 0.0
    interval: float = 2.0
    baseline: Any = None  # after the move: read_baseline's answer (None: redundancy not judged)
    events_since: float | None = None  # after the move: seconds back; None: events not read
    names: dict[int, str] = field(default_factory=dict)  # --node-tpg
    san: Any = None  # the gate: the --san/--san-cmd inputs (cli's SanInputs), None: none given


def expectation(to_tpg, from_tpg, min_paths, allow_redundancy_loss,
                after_failover) -> Expectation:
    """The Expectation the options describe; UsageError when they contradict each other."""
    if after_failover and to_tpg is None and from_tpg is None:
        raise UsageError("--after-failover needs --to-tpg ID (the group taking over) or "
                         "--from-tpg ID (the group that was AO before the move)")
    if from_tpg is not None and not after_failover:
        raise UsageError("--from-tpg goes with --after-failover")
    if from_tpg is not None and from_tpg == to_tpg:
        raise UsageError("--from-tpg and --to-tpg name the same group")
    return Expectation(min_paths=min_paths, to_tpg=to_tpg, from_tpg=from_tpg,
                       allow_redundancy_loss=allow_redundancy_loss)


def read_baseline(path: str):
    """The --baseline document, read once before vCenter is (BaselineError: exit 78)."""
    from ..core.gate_after import BaselineError, parse_baseline
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BaselineError(f"--baseline {path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BaselineError(f"--baseline {path}: not JSON ({e})") from None
    return parse_baseline(doc, path)


def check(rt: Runtime, conn: Any, where: Where, req: CheckRequest,
          clock: Clock = SYSTEM) -> Report:
    """One vCenter's check: the gate, or with req.after_failover the wait for the new group."""
    exp = expectation(req.to_tpg, req.from_tpg, req.min_paths or where.expect.min_paths,
                      req.allow_redundancy_loss, req.after_failover)
    if req.after_failover:
        return after(rt, conn, where, exp, req, clock)
    return gate(rt, conn, where, exp, req, clock)


def gate(rt: Runtime, conn: Any, where: Where, exp: Expectation, req: CheckRequest,
         clock: Clock = SYSTEM) -> Report:
    """Before the move: read and judge until safe or req.wait is up."""
    from ..core.gate import REDUNDANCY_WAIVER, takeover_groups
    from ..core.gate import check as judge
    from ..core.tpg_names import merge, named
    from ..san.view import tpg_nodes
    deadline = clock.monotonic() + req.wait
    san = req.san
    file_docs = san.read_files() if san is not None else None  # files and stdin: read once
    while True:
        dumps = san.read(file_docs) if san is not None else None  # --san-cmd: every try
        inv = rt.read(conn, where)
        names, clash = merge(req.names, tpg_nodes(dumps.nodes) if dumps else {})
        findings = tuple(judge(inv, where.selector, Policy(), exp, san=dumps)) + tuple(clash)
        if settled(findings, deadline, req.interval, clock):
            break
    targets = tuple(sorted(takeover_groups(inv, where.selector, exp).items()))
    waivers = (REDUNDANCY_WAIVER,) if exp.allow_redundancy_loss else ()
    return Report(command="check", inventory=inv, selector=where.selector,
                  findings=named(findings, names), targets=targets, waivers=waivers,
                  tpg_names=tuple(sorted(names.items())))


def settled(findings, deadline: float, interval: float, clock: Clock = SYSTEM) -> bool:
    """True when done (no refusal) or the wait is up; else sleeps for the next try."""
    if not any(f.severity > Severity.OK for f in findings) or clock.monotonic() >= deadline:
        return True
    log.info("not yet: %d reason(s); retrying in %.1fs", len(findings), interval)
    clock.sleep(min(interval, max(0.0, deadline - clock.monotonic())))
    return False


def after(rt: Runtime, conn: Any, where: Where, exp: Expectation, req: CheckRequest,
          clock: Clock = SYSTEM) -> Report:
    """After the move: read and judge until complete or req.wait is up. The storage events
    are read when the paths alone would say complete, and once more at the end."""
    from ..core.gate import REDUNDANCY_WAIVER
    from ..core.gate_after import after_failover as judge
    from ..core.gate_after import after_targets
    from ..core.tpg_names import named
    start = clock.monotonic()
    deadline = start + req.wait
    done_at: dict[str, float] = {}
    events_from = (rt.events_start(conn, back=req.events_since)
                   if req.events_since is not None else None)
    storage = None
    while True:
        inv = rt.read(conn, where)
        findings = judge(inv, where.selector, exp, baseline=req.baseline)
        if events_from is not None and not any(f.severity > Severity.OK for f in findings):
            storage = rt.storage_events(conn, inv, events_from)
            findings = judge(inv, where.selector, exp, baseline=req.baseline, storage=storage)
        bad_hosts = {f.host for f in findings if f.severity > Severity.OK}
        for h in inv.hosts:
            if h.name not in bad_hosts and h.verifiable and None not in bad_hosts:
                done_at.setdefault(h.name, round(clock.monotonic() - start, 3))
        if settled(findings, deadline, req.interval, clock):
            break
        storage = None
    if events_from is not None and storage is None:  # shown, not judged: it is not complete
        storage = rt.storage_events(conn, inv, events_from)
    not_judged = (("redundancy",) if req.baseline is None else ()) + \
        (("storage-events",) if req.events_since is None else ())
    return Report(command="check", inventory=inv, selector=where.selector,
                  findings=named(findings, req.names),
                  timings=tuple((h.name, done_at.get(h.name)) for h in inv.hosts),
                  targets=tuple(sorted(after_targets(inv, where.selector, exp).items())),
                  waivers=(REDUNDANCY_WAIVER,) if exp.allow_redundancy_loss else (),
                  storage=storage, tpg_names=tuple(sorted(req.names.items())), not_judged=not_judged)

