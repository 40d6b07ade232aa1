"""esxpath san check: the storage nodes' dumps against every host's view from vCenter.
Registers itself on the `san` group (cli/san.py)."""
from __future__ import annotations

import click

from ..app.profiles import Connection, Where
from ..app.san_inputs import SanInputs
from ..app.session import Runtime
from ..errors import UsageError
from .exit import emit, esxpath_command
from .groups import san_options, scope_options, vcenter_options
from .options import output_options
from .san import san as san_group


@esxpath_command("check")
@vcenter_options
@scope_options
@san_options
@output_options("table", "json", "nagios", "prometheus")
@click.pass_obj
def check(rt: Runtime, conn: Connection, where: Where, san: SanInputs, fmt: str):
    """Check the SAN's own view (each node's `esxpath san dump`) against every host's.

    \b
    Give every storage node's dump: --san FILE (- for stdin) or --san-cmd CMD, a command you
    write that prints it, e.g. --san-cmd 'ssh root@storage2 esxpath san dump'. Reports
    (codes in docs/san.md): ids the hosts see that a node does not produce, SCST devices no
    host sees, colliding ids, different setup_id; TPG and RTP ids the SAN does not know;
    SCST ALUA states that differ from the hosts' view or between the nodes (split brain,
    two active groups, a stopped node still reporting its group usable); a Pacemaker master
    whose group is not the one the hosts see as AO; two dumps of one node; the node taking
    over not ready (stopped, role unknown, a target disabled, a LUN not exported or under an
    initiator group: what `check --san` refuses); as notes, dumps older than --san-max-age or
    made from scst.conf. Read-only.

    \b
    Exit codes: 0 consistent; 1 warning (a device no host sees, an RTP id, setup_id with
    explicit ids); 2 danger (any other finding); 3 could not verify (a host unreadable, a
    --san-cmd failed or timed out, two dumps claim the same targets); 64 usage; 78 a --san
    dump missing, unreadable or not a dump (the message names the file); others as for every
    command (README).
    """
    from ..app.san import check as run_check
    from ..render.output import render
    if not san.given:
        raise UsageError("san check needs the nodes' dumps: --san FILE or --san-cmd CMD"
                         " (repeatable)")
    report = run_check(rt, conn, where, san.read())
    emit(render(report, fmt))
    return report.status


san_group.add_command(check)

COMMANDS = ()  # registered on the san group above, not on the top level
