"""check and watch: the pre-failover gate (and after it, the wait for the new AO group), and
the timeline of a failover as the hosts saw it."""
from __future__ import annotations

import signal
import time

import click

from ..errors import UsageError
from ..core.model import Expectation, Policy, Report, Severity
from .common import (Connection, Duration, Runtime, SanInputs, Where, emit, esxpath_command,
                     log, output_options, san_options, scope_options, seconds, vcenter_options)
from .fanout import all_profiles_option, each_profile, refuse_san


def _expectation(to_tpg, from_tpg, min_paths, allow_redundancy_loss, after_failover) -> Expectation:
    if after_failover and to_tpg is None and from_tpg is None:
        raise UsageError("--after-failover needs --to-tpg ID (the group taking over) or "
                         "--from-tpg ID (the group that was AO before the move)")
    if from_tpg is not None and not after_failover:
        raise UsageError("--from-tpg goes with --after-failover")
    if from_tpg is not None and from_tpg == to_tpg:
        raise UsageError("--from-tpg and --to-tpg name the same group")
    return Expectation(min_paths=min_paths, to_tpg=to_tpg, from_tpg=from_tpg,
                       allow_redundancy_loss=allow_redundancy_loss)


@esxpath_command()
@vcenter_options
@scope_options
@all_profiles_option
@click.option("--to-tpg", type=click.IntRange(min=0), metavar="ID",
              help="Target port group that will take over (default: the one group now "
                   "non-optimized). Refused if it is the active/optimized group now.")
@click.option("--from-tpg", type=click.IntRange(min=0), metavar="ID",
              help="With --after-failover: the group that was AO before the move (instead of "
                   "--to-tpg); done when one other group is AO.")
@click.option("--min-paths", type=click.IntRange(min=1), default=None,
              help="Live paths the taking-over group needs per host and device (default: the "
                   "profile's min_paths, else 1).")
@click.option("--allow-redundancy-loss", is_flag=True,
              help="Accept a takeover group with fewer live paths than the host's AO paths now "
                   "(after the move: than in --baseline; still at least --min-paths); the "
                   "output says so.")
@click.option("--baseline", type=click.Path(dir_okay=False), metavar="FILE",
              help="With --after-failover: the `check -o json` document printed before the "
                   "move; each host/device needs at least its live AO paths then (without it "
                   "redundancy is not judged, and the summary says so).")
@click.option("--node-tpg", "node_tpg", multiple=True, metavar="NODE=ID",
              help="Name a controller's target port group (repeatable), e.g. storage2=2: the "
                   "output says \"TPG 2 (storage2)\". --san dumps name them too.")
@click.option("--wait", type=seconds(min=0), default=0, metavar="SECONDS",
              help="Retry until safe (or, with --after-failover, converged) or the time is up.")
@click.option("--interval", type=seconds(min=0.1), default=2, show_default=True,
              help="Seconds between retries.")
@click.option("--after-failover", is_flag=True,
              help="Wait until the new group (--to-tpg, or the one but --from-tpg) is the only "
                   "AO group, with live paths on every host and device, no All-Paths-Down open; "
                   "report how long each host took.")
@san_options
@click.option("--events-since", type=Duration(), default="2m", show_default=True,
              metavar="DURATION",
              help="With --after-failover: also judge and report the hosts' storage events "
                   "(APD, connectivity, redundancy, VMFS heartbeat) from this long before the "
                   "check until its end (not with --all-profiles).")
@click.option("--no-events", is_flag=True,
              help="Do not read vCenter's storage events (watch, check --after-failover: an "
                   "open All-Paths-Down is then not judged, and the summary says so).")
@output_options()
@click.pass_obj
def check(rt: Runtime, conn: Connection, where: Where, all_profiles: bool, to_tpg, from_tpg,
          min_paths: int | None, allow_redundancy_loss: bool, baseline: str | None,
          node_tpg: tuple[str, ...], wait: float, interval: float, after_failover: bool,
          san: SanInputs, events_since: float, no_events: bool, fmt: str):
    """Pre-failover gate: exit 0 only when a failover costs no host its paths or redundancy.

    \b
    Safe only if, on every connected host and in-scope device: the takeover group (--to-tpg,
    default the one group now ANO) is not AO now; its live ANO paths are at least --min-paths
    and at least the host's live AO paths now; the host was read completely, sees the groups as
    the other hosts do, and the device is NMP-claimed, VMW_PSP_RR and operational.
    With --san/--san-cmd (each storage node's `esxpath san dump`) also: the SAN agrees with
    the hosts; every node behind a host's takeover or AO path (found by the path's target
    among each dump's own targets) is dumped, live (sysfs) and not older than --san-max-age;
    the takeover node runs, and its targets the hosts use are enabled and export every
    in-scope LUN to all initiators (docs/san.md).
    --after-failover keeps the same promise: complete only when the new group is the only AO
    group, with live AO paths >= --min-paths and >= those in --baseline, the host's view agrees
    with the others', and no All-Paths-Down is open or device lost (vCenter's events).
    Exit: 0 safe (complete), 2 not safe (not complete; reasons printed, one a line), 3 could
    not verify (also a failed --san-cmd, a node not dumped, a stale dump, a host/device not in
    --baseline), 64 usage, 78 a --san dump or the --baseline unreadable or not what it should be.
    """
    from ..render.output import render
    # usage errors once, before any vCenter is read
    _expectation(to_tpg, from_tpg, min_paths or 1, allow_redundancy_loss, after_failover)
    if san.given and after_failover:
        raise UsageError("--san/--san-cmd go with the gate (check without --after-failover)")
    if baseline is not None and not after_failover:
        raise UsageError("--baseline goes with --after-failover")
    if baseline is not None and all_profiles:
        raise UsageError("--baseline describes one vCenter's hosts: not with --all-profiles")
    refuse_san(san.given, all_profiles)
    names = _node_tpg(node_tpg)
    before = _read_baseline(baseline) if baseline is not None else None

    def one(rt: Runtime, conn: Connection, where: Where) -> Report:
        exp = _expectation(to_tpg, from_tpg, min_paths or where.expect.min_paths,
                           allow_redundancy_loss, after_failover)
        if after_failover:
            # one vCenter's events per report: --all-profiles does not read them
            events = None if no_events or all_profiles else events_since
            return _after(rt, conn, where, exp, wait, interval, before, events, names)
        return _check(rt, conn, where, exp, wait, interval, san, names)
    report = each_profile(rt, "check", one) if all_profiles else one(rt, conn, where)
    emit(render(report, fmt))
    return report.status


def _node_tpg(specs: tuple[str, ...]) -> dict[int, str]:
    from ..core.tpg_names import parse_node_tpg
    try:
        return parse_node_tpg(specs)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _read_baseline(path: str):
    """The --baseline document, read once before vCenter is (BaselineError: exit 78)."""
    import json

    from ..core.gate_after import BaselineError, parse_baseline
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise BaselineError(f"--baseline {path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise BaselineError(f"--baseline {path}: not JSON ({e})") from None
    return parse_baseline(doc, path)


def _check(rt: Runtime, conn: Connection, where: Where, exp: Expectation, wait: float,
           interval: float, san: SanInputs, given: dict[int, str]) -> Report:
    """One vCenter, before the move: read and judge until safe or --wait is up."""
    from ..core.gate import REDUNDANCY_WAIVER, check as judge, takeover_groups
    from ..core.tpg_names import from_san, merge, named
    deadline = time.monotonic() + wait
    file_docs = san.read_files() if san.given else None  # files and stdin: read once
    while True:
        dumps = san.read(file_docs) if san.given else None  # --san-cmd again on every try
        inv = rt.read(conn, where)
        names, clash = merge(given, from_san(dumps.nodes) if dumps else {})
        findings = tuple(judge(inv, where.selector, Policy(), exp, san=dumps)) + tuple(clash)
        if _settled(findings, deadline, interval):
            break
    targets = tuple(sorted(takeover_groups(inv, where.selector, exp).items()))
    waivers = (REDUNDANCY_WAIVER,) if exp.allow_redundancy_loss else ()
    return Report(command="check", inventory=inv, selector=where.selector,
                  findings=named(findings, names), targets=targets, waivers=waivers,
                  tpg_names=tuple(sorted(names.items())))


def _settled(findings, deadline: float, interval: float) -> bool:
    """True when done (no refusal) or --wait is up; else sleeps for the next try."""
    if not any(f.severity > Severity.OK for f in findings) or time.monotonic() >= deadline:
        return True
    log.info("not yet: %d reason(s); retrying in %.1fs", len(findings), interval)
    time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
    return False


def _after(rt: Runtime, conn: Connection, where: Where, exp: Expectation, wait: float,
           interval: float, baseline, events_since: float | None, names: dict[int, str]) -> Report:
    """One vCenter, after the move: read and judge until complete or --wait is up. The storage
    events are read when the paths alone would say complete, and once more at the end."""
    from ..core.gate import REDUNDANCY_WAIVER
    from ..core.gate_after import after_failover as judge, after_targets
    from ..core.tpg_names import named
    start = deadline = time.monotonic()
    deadline += wait
    done_at: dict[str, float] = {}
    events_from = rt.events_start(conn, back=events_since) if events_since is not None else None
    storage = None
    while True:
        inv = rt.read(conn, where)
        findings = judge(inv, where.selector, exp, baseline=baseline)
        if events_from is not None and not any(f.severity > Severity.OK for f in findings):
            storage = rt.storage_events(conn, inv, events_from)
            findings = judge(inv, where.selector, exp, baseline=baseline, storage=storage)
        bad_hosts = {f.host for f in findings if f.severity > Severity.OK}
        for h in inv.hosts:
            if h.name not in bad_hosts and h.verifiable and None not in bad_hosts:
                done_at.setdefault(h.name, round(time.monotonic() - start, 3))
        if _settled(findings, deadline, interval):
            break
        storage = None
    if events_from is not None and storage is None:  # shown, not judged: it is not complete
        storage = rt.storage_events(conn, inv, events_from)
    not_judged = (("redundancy",) if baseline is None else ()) + \
        (("storage-events",) if events_since is None else ())
    return Report(command="check", inventory=inv, selector=where.selector,
                  findings=named(findings, names),
                  timings=tuple((h.name, done_at.get(h.name)) for h in inv.hosts),
                  targets=tuple(sorted(after_targets(inv, where.selector, exp).items())),
                  waivers=(REDUNDANCY_WAIVER,) if exp.allow_redundancy_loss else (),
                  storage=storage, tpg_names=tuple(sorted(names.items())), not_judged=not_judged)


@esxpath_command()
@vcenter_options
@scope_options
@click.option("--interval", type=seconds(min=0.2), default=1, show_default=True,
              help="Seconds between polls.")
@click.option("--duration", type=seconds(min=0), default=120, show_default=True,
              help="Seconds to watch (Ctrl-C or SIGTERM end early and still print the timeline).")
@click.option("--until-switched", is_flag=True,
              help="Stop as soon as every host has switched: the new group AO with live AO "
                   "paths on every device and no APD open; exit 2 if a host has not by the end.")
@click.option("--no-events", is_flag=True,
              help="Do not read vCenter's storage events for the watched window.")
@click.option("--node-tpg", "node_tpg", multiple=True, metavar="NODE=ID",
              help="Name a controller's target port group (repeatable), e.g. storage2=2: the "
                   "timeline says \"TPG 2 (storage2)\".")
@output_options()
@click.pass_obj
def watch(rt: Runtime, conn: Connection, where: Where, interval: float, duration: float,
          until_switched: bool, no_events: bool, node_tpg: tuple[str, ...], fmt: str):
    """Poll path and TPG states during a failover; print a timeline per host (read-only).

    Per host: which group was AO before and after, when AO left the old group, since when it
    has switched, the dead paths seen, its I/O pause, then every change; then the storage
    events vCenter recorded for the host in the watched window (APD, connectivity, redundancy,
    VMFS heartbeat) as intervals. Start it before the failover. A host has switched when, on
    every device, a new group is AO with live AO paths (no fewer than before), no old group is
    still AO, and vCenter has no APD open. Exit 0; 2 when a host ended not switched (one
    untouched is fine unless --until-switched or another host moved); 3 when a host could
    never be read; 130/143 after Ctrl-C/SIGTERM (the timeline so far is printed).
    """
    from ..errors import Interrupted
    from ..core.timeline import build_timeline, with_storage
    from ..render.timeline import render_timeline
    names = _node_tpg(node_tpg)  # a usage error before vCenter is read
    samples: list = []
    stopped: KeyboardInterrupt | None = None
    window_start = None if no_events else rt.events_start(conn)
    storage = None
    try:
        storage = _poll(rt, conn, where, interval, duration, until_switched, window_start,
                        samples)
    except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM: the timeline so far
        if not samples:
            raise
        stopped = e
        click.echo("esxpath: interrupted; the timeline so far:", err=True)
    tl = build_timeline(samples, where.selector, until_switched)
    if storage is None and window_start is not None:
        storage = rt.storage_events(conn, samples[-1][1], window_start)
    emit(render_timeline(tl, fmt, samples[-1][1], storage=storage, names=names))
    if stopped is not None:
        from ..errors import Terminated
        raise Interrupted("interrupted: the timeline above ends there",
                          signal.SIGTERM if isinstance(stopped, Terminated) else signal.SIGINT)
    return with_storage(tl, storage).status


def _poll(rt: Runtime, conn: Connection, where: Where, interval: float, duration: float,
          until_switched: bool, window_start, samples: list):
    """Sample into `samples` until --duration is up, or with --until-switched until every
    host has switched by the samples and by vCenter's events (read only then: an APD still
    open keeps the watch going). Answers that last storage window when it ended the watch."""
    from ..core.timeline import build_timeline, with_storage
    deadline = time.monotonic() + duration
    while True:
        began = time.monotonic()
        inv = rt.read(conn, where)
        # stamped when the read finished: the state is at least this old
        samples.append((time.time(), inv))
        if len(samples) == 1:  # esxpath-failover waits for this line before it moves
            click.echo(f"esxpath: watching {len(inv.hosts)} host(s) every {interval:g}s"
                       f" for up to {duration:g}s", err=True)
        if until_switched:
            tl = build_timeline(samples, where.selector, until_switched)
            if tl.all_switched:
                if window_start is None:
                    return None
                storage = rt.storage_events(conn, inv, window_start)
                if with_storage(tl, storage).all_switched:
                    return storage
                log.info("switched by the paths, but vCenter has an APD open: waiting")
        if time.monotonic() >= deadline:
            return None
        pause = interval - (time.monotonic() - began)
        time.sleep(max(0.0, min(pause, deadline - time.monotonic())))


COMMANDS = (check, watch)
