"""apply: plan, write, re-read, verify (or --dry-run: the plan only)."""
from __future__ import annotations

import dataclasses

import click

from ..errors import Interrupted
from ..model import Policy, Report
from .common import (Connection, Runtime, Where, emit, esxpath_command, lock_option,
                     output_options, policy_options, require_devices, scope_options,
                     stop_on_signal, vcenter_options)


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
    # read, plan, write and verify under the lock: a second writer plans after the first wrote
    with rt.write_lock(conn, wait_lock):
        return _apply(rt, conn, where, policy, dry_run, fmt)


def _apply(rt: Runtime, conn: Connection, where: Where, policy: Policy, dry_run: bool, fmt: str):
    from ..output import render
    from ..plan import plan as make_plan
    from ..verify import verify_applied
    claim_rule = policy.claim_rule
    selector = where.selector
    inv = rt.read(conn, where, satp_rules=claim_rule)
    require_devices(inv, selector)
    the_plan = make_plan(inv, selector, policy)
    if dry_run or the_plan.empty:
        report = Report(command="apply", inventory=inv, selector=selector, plan=the_plan,
                        dry_run=dry_run)
        emit(render(report, fmt))
        return report.status
    if fmt == "table":
        click.echo(f"esxpath: applying {len(the_plan.changes)} change(s)", err=True)
    from ..vsphere import apply_changes
    with stop_on_signal() as stop:
        results = apply_changes(rt.session(conn), inv, the_plan.changes, parallel=where.parallel,
                                stop=stop)
    # re-read even when interrupted: the report says what was and was not written
    after = rt.read(conn, where, satp_rules=claim_rule)
    findings = verify_applied(after, the_plan)
    report = Report(command="apply", inventory=after, selector=selector, plan=the_plan,
                    results=tuple(results), findings=tuple(findings))
    emit(render(report, fmt))
    if stop.signum is not None:
        from ..vsphere.writes import NOT_WRITTEN
        left = sum(1 for r in results if r.error == NOT_WRITTEN)
        raise Interrupted(f"interrupted: {left} change(s) not written", stop.signum)
    # a failed change is DRIFT; a host that could not be read (before or after) is UNKNOWN
    return report.status


COMMANDS = (apply,)
