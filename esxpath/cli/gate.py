"""check and watch: the pre-failover gate (and after it, the wait for the new AO group), and
the timeline of a failover as the hosts saw it."""
from __future__ import annotations

import logging

import click

from ..app.profiles import Connection, Where
from ..app.san_inputs import SanInputs
from ..app.session import Runtime
from ..core.model import Report
from ..errors import UsageError
from .exit import emit, esxpath_command
from .fanout import all_profiles_option, each_profile, refuse_san
from .groups import san_options, scope_options, vcenter_options
from .options import Duration, output_options, seconds

log = logging.getLogger("esxpath")


def _stacked(*decorators):
    """One decorator applying `decorators` as if stacked in this order (the first outermost)."""
    def deco(f):
        for d in reversed(decorators):
            f = d(f)
        return f
    return deco


# check's own options, in --help order
_check_options = _stacked(
    all_profiles_option,
    click.option("--to-tpg", type=click.IntRange(min=0), metavar="ID",
                 help="Target port group that will take over (default: the one group now "
                      "non-optimized). Refused if it is the active/optimized group now."),
    click.option("--from-tpg", type=click.IntRange(min=0), metavar="ID",
                 help="With --after-failover: the group that was AO before the move (instead of "
                      "--to-tpg); done when one other group is AO."),
    click.option("--min-paths", type=click.IntRange(min=1), default=None,
                 help="Live paths the taking-over group needs per host and device (default: the "
                      "profile's min_paths, else 1)."),
    click.option("--allow-redundancy-loss", is_flag=True,
                 help="Accept a takeover group with fewer live paths than the host's AO paths now "
                      "(after the move: than in --baseline; still at least --min-paths); the "
                      "output says so."),
    click.option("--baseline", type=click.Path(dir_okay=False), metavar="FILE",
                 help="With --after-failover: the `check -o json` document printed before the "
                      "move; each host/device needs at least its live AO paths then (without it "
                      "redundancy is not judged, and the summary says so)."),
    click.option("--node-tpg", "node_tpg", multiple=True, metavar="NODE=ID",
                 help="Name a controller's target port group (repeatable), e.g. storage2=2: the "
                      "output says \"TPG 2 (storage2)\". --san dumps name them too."),
    click.option("--wait", type=seconds(min=0), default=0, metavar="SECONDS",
                 help="Retry until safe (or, with --after-failover, converged) or the time is up."),
    click.option("--interval", type=seconds(min=0.1), default=2, show_default=True,
                 help="Seconds between retries."),
    click.option("--after-failover", is_flag=True,
                 help="Wait until the new group (--to-tpg, or the one but --from-tpg) is the only "
                      "AO group, with live paths on every host and device, no All-Paths-Down open; "
                      "report how long each host took."),
    san_options,
    click.option("--events-since", type=Duration(), default="2m", show_default=True,
                 metavar="DURATION",
                 help="With --after-failover: also judge and report the hosts' storage events "
                      "(APD, connectivity, redundancy, VMFS heartbeat) from this long before the "
                      "check until its end (not with --all-profiles)."),
    click.option("--no-events", is_flag=True,
                 help="Do not read vCenter's storage events (watch, check --after-failover: an "
                      "open All-Paths-Down is then not judged, and the summary says so)."),
)


@esxpath_command()
@vcenter_options
@scope_options
@_check_options
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
    from ..app.check import check as run
    from ..render.output import render
    req = _request(all_profiles, to_tpg, from_tpg, min_paths, allow_redundancy_loss, baseline,
                   node_tpg, wait, interval, after_failover, san, events_since, no_events)

    def one(rt: Runtime, conn: Connection, where: Where) -> Report:
        return run(rt, conn, where, req)
    report = each_profile(rt, "check", one) if all_profiles else one(rt, conn, where)
    emit(render(report, fmt))
    return report.status


def _request(all_profiles, to_tpg, from_tpg, min_paths, allow_redundancy_loss, baseline,
             node_tpg, wait, interval, after_failover, san, events_since, no_events):
    """check's options as the app's CheckRequest; usage errors once, before any vCenter is
    read, then the --baseline file (exit 78 when it is not one)."""
    from ..app.check import CheckRequest, expectation, read_baseline
    expectation(to_tpg, from_tpg, min_paths or 1, allow_redundancy_loss, after_failover)
    if san.given and after_failover:
        raise UsageError("--san/--san-cmd go with the gate (check without --after-failover)")
    if baseline is not None and not after_failover:
        raise UsageError("--baseline goes with --after-failover")
    if baseline is not None and all_profiles:
        raise UsageError("--baseline describes one vCenter's hosts: not with --all-profiles")
    refuse_san(san.given, all_profiles)
    names = _node_tpg(node_tpg)
    return CheckRequest(
        to_tpg, from_tpg, min_paths, allow_redundancy_loss, after_failover, wait, interval,
        baseline=read_baseline(baseline) if baseline is not None else None,
        # one vCenter's events per report: --all-profiles does not read them
        events_since=None if no_events or all_profiles else events_since,
        names=names, san=san if san.given else None)


def _node_tpg(specs: tuple[str, ...]) -> dict[int, str]:
    from ..core.tpg_names import parse_node_tpg
    try:
        return parse_node_tpg(specs)
    except ValueError as e:
        raise UsageError(str(e)) from None


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
    from ..app.watch import watch as run
    from ..render.timeline import render_timeline
    names = _node_tpg(node_tpg)  # a usage error before vCenter is read
    seen = run(rt, conn, where, interval, duration, until_switched, events=not no_events,
               notify=_say)
    emit(render_timeline(seen.timeline, fmt, seen.last, storage=seen.storage, names=names))
    if seen.error is not None:  # the timeline so far is out: now the exit (130/143)
        raise seen.error
    return seen.status


def _say(line: str) -> None:
    click.echo(line, err=True)


COMMANDS = (check, watch)
