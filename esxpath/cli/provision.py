"""provision / unprovision / fio-job / fio-report: test VMs for fio and the fio jobs and summary.

Options -> adapter (vsphere.provision) -> pure plan (provisioning) -> render. The plan is shown
before anything is written and needs --yes or an interactive confirmation; --dry-run only shows
it. Progress goes to stderr: bars on a terminal, else plain lines (progress.py).
"""
from __future__ import annotations

from contextlib import nullcontext

import sys

import click

from ..errors import Interrupted, UsageError
from ..app.fio import read_reports, write_jobs
from ..core.fio import DEFAULT_DEVICE, fio_status
from ..core.model import Severity
from ..core.provisioning import (ProvisionOptions, parse_size, plan_provision, plan_unprovision,
                            provision_status)
from ..render.fio import render_fio
from ..render.provision import render_plan
from .common import (Connection, Runtime, Where, emit, esxpath_command, lock_option,
                     output_options,
                     scope_options, seconds, stop_on_signal, vcenter_options)


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


def _run(plan, dry_run: bool, yes: bool, fmt: str, execute) -> Severity:
    """Show the plan, or confirm it and run execute() -> results; the status of what happened."""
    if dry_run or plan.writes == 0:
        emit(render_plan(plan, fmt))
        return provision_status(plan, None)
    if not _confirm(plan, yes):
        click.echo("esxpath: nothing changed", err=True)
        return Severity.OK
    with stop_on_signal() as stop:  # Ctrl-C: nothing new starts, unfinished creates cancelled
        results = execute(stop)
    emit(render_plan(plan, fmt, results))
    if stop.signum is not None:
        left = sum(1 for r in results if not r.ok)
        raise Interrupted(f"interrupted: {left} action(s) not done", stop.signum)
    return provision_status(plan, results)


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
    from ..render.progress import TaskBars
    from ..vsphere import provision as adapter
    options = ProvisionOptions(
        size_bytes=parse_size(size), create_datastores=create_datastores,
        datastores=tuple(datastores), name_prefix=name_prefix, guest_id=guest_id, cpus=cpus,
        memory_mb=memory_mb, timeout=task_timeout)
    with nullcontext() if dry_run else rt.write_lock(conn, wait_lock):
        session = rt.session(conn)
        snap = adapter.collect(session, where.scope, where.selector)
        plan = plan_provision(snap.facts, options)
        return _run(plan, dry_run, yes, fmt, lambda stop: adapter.execute_provision(
            session, snap, plan, options, progress=TaskBars(), stop=stop))


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
    from ..render.progress import TaskBars
    from ..vsphere import provision as adapter
    with nullcontext() if dry_run else rt.write_lock(conn, wait_lock):
        session = rt.session(conn)
        snap = adapter.collect(session, where.scope, where.selector)
        plan = plan_unprovision(snap.facts, datastores=with_datastores, name_prefix=name_prefix)
        return _run(plan, dry_run, yes, fmt, lambda stop: adapter.execute_unprovision(
            session, snap, plan, task_timeout, progress=TaskBars(), stop=stop))


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
