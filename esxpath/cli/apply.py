"""apply: plan, write, re-read, verify (or --dry-run: the plan only)."""
from __future__ import annotations

import dataclasses

import click

from ..errors import EsxpathError, Interrupted
from ..core.model import Policy, Report
from ..app.profiles import Connection, Where
from ..app.session import Runtime, require_devices
from .exit import emit, esxpath_command
from .groups import policy_options, scope_options, vcenter_options
from .options import lock_option, output_options
from .signals import stop_on_signal


@esxpath_command()
@vcenter_options
@scope_options
@policy_options
@click.option("--claim-rule", is_flag=True,
              help="Also add SATP claim rules (VMW_SATP_ALUA, vendor, VMW_PSP_RR, iops=1, tpgs_on) "
                   "so LUNs presented later come up right.")
@click.option("--dry-run", is_flag=True, help="Show the plan and write nothing.")
@lock_option
@output_options()
@click.pass_obj
def apply(rt: Runtime, conn: Connection, where: Where, policy: Policy, claim_rule: bool,
          dry_run: bool, wait_lock: float, fmt: str):
    """Set Round Robin with IOPS=1 on the SCST LUNs in scope: plan, write, re-read, verify.

    Only devices whose policy differs are written; a second run on a compliant estate writes
    nothing. Devices outside the scope (other vendors, local disks) are never touched.
    """
    policy = dataclasses.replace(policy, claim_rule=claim_rule)
    if dry_run:
        return _apply(rt, conn, where, policy, dry_run, fmt)
    # read, plan, write and verify under the lock (taken once logged in: it is keyed on the
    # vCenter's identity): a second writer plans after the first wrote
    with rt.write_lock(conn, wait_lock):
        return _apply(rt, conn, where, policy, dry_run, fmt)


def _apply(rt: Runtime, conn: Connection, where: Where, policy: Policy, dry_run: bool, fmt: str):
    from ..render.output import render
    from ..core.plan import plan as make_plan
    from ..core.verify import skipped_hosts
    inv = rt.read(conn, where, satp_rules=policy.claim_rule)
    require_devices(inv, where.selector)
    the_plan = make_plan(inv, where.selector, policy)
    if dry_run or the_plan.empty:
        report = Report(command="apply", inventory=inv, selector=where.selector, plan=the_plan,
                        dry_run=dry_run, findings=skipped_hosts(inv, the_plan))
        emit(render(report, fmt))
        return report.status
    if fmt == "table":
        click.echo(f"esxpath: applying {len(the_plan.changes)} change(s)", err=True)
    from ..vsphere import apply_changes
    session = rt.session(conn)
    # the re-read too: a signal then ends no retry storm, and the report still comes out
    with stop_on_signal(session.stopping) as stop:
        results = apply_changes(session, inv, the_plan.changes, parallel=where.parallel,
                                stop=stop)
        report, lost = _verify(rt, conn, where, policy, inv, the_plan, results)
    emit(render(report, fmt))
    if stop.signum is not None:  # the signal decides the exit, whatever failed after it
        left = sum(1 for r in report.results if not r.sent)
        raise Interrupted(f"interrupted: {left} change(s) not written", stop.signum)
    if lost is not None:  # vCenter went away: 69, after the report of what was written
        lost.reported = True
        raise lost
    # a failed change is DRIFT; a host that could not be read (before or after) is UNKNOWN
    return report.status


def _verify(rt: Runtime, conn: Connection, where: Where, policy: Policy, before, the_plan,
            results) -> tuple[Report, EsxpathError | None]:
    """Re-read (even when interrupted: the report says what was and was not written) and
    verify; when the re-read fails (vCenter gone) the report shows the hosts as read before,
    each marked not re-read, and every change's result."""
    from ..core.verify import not_reread, settle, skipped_hosts, verify_applied
    lost = None
    try:
        after = rt.read(conn, where, satp_rules=policy.claim_rule)
    except EsxpathError as e:
        lost, after = e, not_reread(before, str(e))
    results = settle(tuple(results), after)
    findings = skipped_hosts(before, the_plan) + verify_applied(after, the_plan, results)
    return Report(command="apply", inventory=after, selector=where.selector, plan=the_plan,
                  results=results, findings=findings), lost


COMMANDS = (apply,)
