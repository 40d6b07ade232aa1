"""provision / unprovision / fio-job / fio-report: registered on esxpath.cli.main when imported.

Thin like the rest of the CLI: options -> adapter (vsphere.provision) -> pure plan
(provisioning) -> render. The plan is shown before anything is written and needs --yes or an
interactive confirmation; --dry-run only shows it. Progress bars go to stderr (terminal only).
"""
from __future__ import annotations

import sys

import click

from .cli import (CONTEXT, command, emit, main, output_options, scope_from, scope_options,
                  selector_from, vcenter_options)
from .errors import ExitStatus, UsageError
from .fio import DEFAULT_DEVICE, read_reports, render_fio, write_jobs
from .provisioning import ProvisionOptions, parse_size, plan_provision, plan_unprovision, render_plan


def confirm_options(f):
    """--dry-run and --yes: what every writing command here takes before it changes anything."""
    f = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(f)
    return click.option("--dry-run", is_flag=True, help="Show the plan and write nothing.")(f)


def _confirm(plan, kw) -> bool:
    """--yes, or ask on a terminal (the plan table on stderr); never silently proceed."""
    if kw.get("yes"):
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{plan.command} would make {plan.writes} change(s): "
                         "review with --dry-run, then confirm with --yes")
    click.echo(render_plan(plan).rstrip("\n"), err=True)
    return click.confirm(f"{plan.command}: make these {plan.writes} change(s)?", err=True,
                         default=False)


def _finish(plan, results, fmt) -> ExitStatus:
    emit(render_plan(plan, fmt, results))
    return ExitStatus.DRIFT if any(not r.ok for r in results) else ExitStatus.OK


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@click.option("--size", default="128G", show_default=True, metavar="SIZE",
              help="Test disk size (thick eager-zeroed), e.g. 128G, 512M.")
@click.option("--create-datastores", is_flag=True,
              help="Format empty in-scope LUNs with VMFS first. A LUN that holds a datastore or "
                   "partitions is never formatted.")
@click.option("--datastore", "datastores", metavar="NAME", multiple=True,
              help="Only put test VMs on this datastore (repeatable).")
@click.option("--name-prefix", default="fio-", show_default=True, help="VM name = prefix + datastore.")
@click.option("--guest-id", default="debian12_64Guest", show_default=True)
@click.option("--cpus", type=click.IntRange(1, 128), default=2, show_default=True)
@click.option("--memory-mb", type=click.IntRange(128), default=2048, show_default=True)
@click.option("--task-timeout", type=click.FloatRange(min=1), default=3600, show_default=True,
              help="Seconds to wait for the VM creates (eager zeroing of big disks takes minutes).")
@confirm_options
@output_options
@click.pass_obj
@command()
def provision(rt, **kw):
    """Create eager-zeroed test VMs (and, when asked, VMFS datastores) on the SCST LUNs.

    One VM per datastore on an in-scope LUN: PVSCSI controller, a thick eager-zeroed disk of
    --size at SCSI 0:1 (/dev/sdb once an OS disk sits at 0:0), tagged so that `unprovision`
    removes exactly these. Existing VMs of the same name are reported, never duplicated.
    """
    from .progress import TaskBars
    from .vsphere import provision as adapter
    options = ProvisionOptions(
        size_bytes=parse_size(kw["size"]), create_datastores=kw["create_datastores"],
        datastores=tuple(kw["datastores"]), name_prefix=kw["name_prefix"],
        guest_id=kw["guest_id"], cpus=kw["cpus"], memory_mb=kw["memory_mb"],
        timeout=kw["task_timeout"])
    session = rt.session(kw)
    snap = adapter.collect(session, scope_from(kw), selector_from(kw))
    plan = plan_provision(snap.facts, options)
    if kw["dry_run"] or plan.writes == 0:
        emit(render_plan(plan, kw["fmt"]))
        return ExitStatus.OK
    if not _confirm(plan, kw):
        click.echo("esxpath: nothing changed", err=True)
        return ExitStatus.OK
    results = adapter.execute_provision(session, snap, plan, options, progress=TaskBars())
    return _finish(plan, results, kw["fmt"])


@main.command(context_settings=CONTEXT)
@vcenter_options
@scope_options
@click.option("--datastores", "with_datastores", is_flag=True,
              help="Also remove the datastores provision created (only when nothing else is on them).")
@click.option("--name-prefix", default=None, help="Only VMs whose name starts with this.")
@click.option("--task-timeout", type=click.FloatRange(min=1), default=600, show_default=True)
@confirm_options
@output_options
@click.pass_obj
@command()
def unprovision(rt, **kw):
    """Remove the VMs (and with --datastores the datastores) that provision created.

    Only objects tagged by esxpath (VM extraConfig / datastore attribute esxpath.provisioned=1)
    are touched; a datastore that holds other VMs is kept.
    """
    from .progress import TaskBars
    from .vsphere import provision as adapter
    session = rt.session(kw)
    snap = adapter.collect(session, scope_from(kw), selector_from(kw))
    plan = plan_unprovision(snap.facts, datastores=kw["with_datastores"], name_prefix=kw["name_prefix"])
    if kw["dry_run"] or plan.writes == 0:
        emit(render_plan(plan, kw["fmt"]))
        return ExitStatus.OK
    if not _confirm(plan, kw):
        click.echo("esxpath: nothing changed", err=True)
        return ExitStatus.OK
    results = adapter.execute_unprovision(session, snap, plan, kw["task_timeout"], progress=TaskBars())
    return _finish(plan, results, kw["fmt"])


@main.command("fio-job", context_settings=CONTEXT)
@click.option("--dir", "directory", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Where to write the job files.")
@click.option("--device", default=DEFAULT_DEVICE, show_default=True,
              help="The test disk inside the VM.")
@click.option("--size", default=None, help="Limit each job to this much of the disk (fio size=).")
@click.option("--runtime", type=click.IntRange(1), default=None,
              help="Run each job for this many seconds (time based) instead of one pass.")
@command()
def fio_job(**kw):
    """Write the seed article's fio jobs: 512 B random reads and 1 MiB sequential reads at
    depth 64 over the whole test disk, plus a 70/30 random read/write mix (destroys the disk's
    data); direct I/O, libaio. Run them in the VMs with --output-format=json."""
    for path in write_jobs(kw["directory"], kw["device"], kw["size"], kw["runtime"]):
        emit(path)
    return ExitStatus.OK


@main.command("fio-report", context_settings=CONTEXT)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_options
@command()
def fio_report(**kw):
    """Summarise fio JSON output (fio --output-format=json): IOPS, bandwidth, mean and
    p99/p99.9 completion latency per file (name the files after the VMs) and job."""
    results = read_reports(list(kw["files"]))
    emit(render_fio(results, kw["fmt"]))
    return ExitStatus.DRIFT if any(r.error for r in results) else ExitStatus.OK
