"""provision / unprovision / fio-job / fio-report: test VMs for fio and the fio jobs and summary.

Options -> app.provision (the adapter's read, the pure plan, the run) -> render. The plan is shown
before anything is written and needs --yes or an interactive confirmation; --dry-run only shows
it. Progress goes to stderr: bars on a terminal, else plain lines (progress.py).
"""
from __future__ import annotations

import sys
from contextlib import nullcontext

import click

from ..app.fio import read_reports, write_jobs
from ..app.profiles import Connection, Where
from ..app.session import Runtime
from ..core.fio import DEFAULT_DEVICE, fio_status
from ..core.model import Severity
from ..core.provisioning import ProvisionOptions, parse_size
from ..errors import UsageError
from ..render.fio import render_fio
from ..render.provision import render_plan
from .exit import emit, esxpath_command
from .groups import scope_options, vcenter_options
from .options import lock_option, output_options, seconds
from .signals import stop_on_signal


def confirm_options(f):
    """--dry-run and --yes: what every writing command here takes before it changes anything."""
    f = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(f)
    return click.option("--dry-run", is_flag=True, help="Show the plan and write nothing.")(f)


def _confirm(plan, yes: bool) -> bool:
    """--yes, or ask on a terminal (the plan table on stderr); never silently proceed."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{plan.command} would make {plan.writes} change(s): "
                         "review with --dry-run, then confirm with --yes")
    click.echo(render_plan(plan).rstrip("\n"), err=True)
    return click.confirm(f"{plan.command}: make these {plan.writes} change(s)?", err=True,
                         default=False)


def _run(run, dry_run: bool, yes: bool, fmt: str) -> Severity:
    """Show the plan, or confirm it and carry it out; the status of what happened."""
    from ..app.provision import outcome
    from ..render.progress import TaskBars
    plan = run.plan
    if dry_run or plan.writes == 0:
        emit(render_plan(plan, fmt))
        return outcome(plan, None)
    if not _confirm(plan, yes):
        click.echo("esxpath: nothing changed", err=True)
        return Severity.OK
    with stop_on_signal() as stop:  # Ctrl-C: nothing new starts, unfinished creates cancelled
        results = run.execute(TaskBars(), stop)
    emit(render_plan(plan, fmt, results))
    return outcome(plan, results, stop.signum)


@esxpath_command()
@vcenter_options
@scope_options
@click.option("--size", default="128G", show_default=True, metavar="SIZE",
              help="Test disk size (thick eager-zeroed), e.g. 128G, 512M.")
@click.option("--create-datastores", is_flag=True,
              help="Format empty in-scope LUNs with VMFS first. A LUN that holds a datastore or "
                   "partitions is never formatted.")
@click.option("--datastore", "datastores", metavar="NAME", multiple=True,
              help="Only put test VMs on this datastore (repeatable).")
@click.option("--name-prefix", default="fio-", show_default=True,
              help="VM name = prefix + datastore.")
@click.option("--guest-id", default="debian12_64Guest", show_default=True)
@click.option("--cpus", type=click.IntRange(1, 128), default=2, show_default=True)
@click.option("--memory-mb", type=click.IntRange(128), default=2048, show_default=True)
@click.option("--task-timeout", type=seconds(min=1), default=3600, show_default=True,
              help="Seconds to wait for the VM creates (eager zeroing of big disks takes minutes).")
@confirm_options
@lock_option
@output_options()
@click.pass_obj
def provision(rt: Runtime, conn: Connection, where: Where, size: str, create_datastores: bool,
              datastores: tuple[str, ...], name_prefix: str, guest_id: str, cpus: int,
              memory_mb: int, task_timeout: float, dry_run: bool, yes: bool, wait_lock: float,
              fmt: str):
    """Create eager-zeroed test VMs (and, when asked, VMFS datastores) on the SCST LUNs.

    One VM per datastore on an in-scope LUN: PVSCSI controller, a thick eager-zeroed disk of
    --size at SCSI 0:1 (/dev/sdb once an OS disk sits at 0:0), tagged so that `unprovision`
    removes exactly these. Existing VMs of the same name are reported, never duplicated.
    """
    from ..app.provision import provision as prepare
    options = ProvisionOptions(
        size_bytes=parse_size(size), create_datastores=create_datastores,
        datastores=tuple(datastores), name_prefix=name_prefix, guest_id=guest_id, cpus=cpus,
        memory_mb=memory_mb, timeout=task_timeout)
    with nullcontext() if dry_run else rt.write_lock(conn, wait_lock):
        return _run(prepare(rt.session(conn), where, options), dry_run, yes, fmt)


@esxpath_command()
@vcenter_options
@scope_options
@click.option("--datastores", "with_datastores", is_flag=True,
              help="Also remove the datastores provision created (only when nothing else is "
                   "on them).")
@click.option("--name-prefix", default=None, help="Only VMs whose name starts with this.")
@click.option("--task-timeout", type=seconds(min=1), default=600, show_default=True)
@confirm_options
@lock_option
@output_options()
@click.pass_obj
def unprovision(rt: Runtime, conn: Connection, where: Where, with_datastores: bool,
                name_prefix: str | None, task_timeout: float, dry_run: bool, yes: bool,
                wait_lock: float, fmt: str):
    """Remove the VMs (and with --datastores the datastores) that provision created.

    Only objects tagged by esxpath (VM extraConfig / datastore attribute esxpath.provisioned=1)
    are touched; a datastore that holds other VMs is kept.
    """
    from ..app.provision import unprovision as prepare
    with nullcontext() if dry_run else rt.write_lock(conn, wait_lock):
        run = prepare(rt.session(conn), where, with_datastores, name_prefix, task_timeout)
        return _run(run, dry_run, yes, fmt)


@esxpath_command()
@click.option("--dir", "directory", default=".", show_default=True, metavar="DIR",
              help="Where to write the job files (created if missing); a job file's name "
                   "taken by anything but a regular file is refused (exit 78).")
@click.option("--device", default=DEFAULT_DEVICE, show_default=True,
              help="The test disk inside the VM.")
@click.option("--size", default=None, help="Limit each job to this much of the disk (fio size=).")
@click.option("--runtime", type=click.IntRange(1), default=None,
              help="Run each job for this many seconds (time based) instead of one pass.")
def fio_job(directory: str, device: str, size: str | None, runtime: int | None):
    """Write the seed article's fio jobs: 512 B random reads and 1 MiB sequential reads at
    depth 64 over the whole test disk, plus a 70/30 random read/write mix (destroys the disk's
    data); direct I/O, libaio. Run them in the VMs with --output-format=json."""
    for path in write_jobs(directory, device, size, runtime):
        emit(path)


@esxpath_command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_options()
def fio_report(files: tuple[str, ...], fmt: str):
    """Summarise fio JSON output (fio --output-format=json): IOPS, bandwidth, mean and
    p99/p99.9 completion latency per file (name the files after the VMs) and job."""
    results = read_reports(list(files))
    emit(render_fio(results, fmt))
    return fio_status(results)


COMMANDS = (provision, unprovision, fio_job, fio_report)
