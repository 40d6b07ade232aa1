"""apply: plan, write, re-read, verify (or --dry-run: the plan only)."""
from __future__ import annotations

import dataclasses

import click

from ..app.ports import quiet
from ..app.profiles import Connection, Where
from ..app.session import Runtime
from ..core.model import Policy
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
    from ..app.apply import apply as run
    from ..render.output import render
    policy = dataclasses.replace(policy, claim_rule=claim_rule)
    done = run(rt, conn, where, policy, dry_run, wait_lock, guard=stop_on_signal,
               notify=_say if fmt == "table" else quiet)
    emit(render(done.report, fmt))
    if done.error is not None:  # the report of what was written is out: now the exit
        raise done.error
    return done.report.status


def _say(line: str) -> None:
    click.echo(line, err=True)


COMMANDS = (apply,)
