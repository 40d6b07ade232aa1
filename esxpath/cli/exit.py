"""The one path from a command's outcome to its exit status, and the error documents a failed
run still prints for machine readers (JSON, Nagios, the Prometheus textfile)."""
from __future__ import annotations

import functools
import logging

import click

from ..errors import EsxpathError, Interrupted, Terminated, exit_status
from .options import CONTEXT

log = logging.getLogger("esxpath")


def emit(text: str) -> None:
    if text:
        click.echo(text.rstrip("\n"))


def fail(message: str) -> None:
    click.echo(f"esxpath: error: {message}", err=True)


def esxpath_command(name: str | None = None, monitoring: bool = False):
    """click.command whose body returns a Severity (None: OK) or raises; either way the outcome
    leaves through exit_status(), the one mapping to exit codes. monitoring=True (audit): Nagios
    semantics, every failure is UNKNOWN. Put it above the option decorators: it then also
    catches what their builders raise."""
    def deco(fn):
        cmd_name = name or fn.__name__.replace("_", "-")

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            try:
                status = exit_status(severity=fn(*args, **kw))
            except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
                raise
            except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (Terminated), outside writes
                what = "terminated" if isinstance(e, Terminated) else "interrupted"
                fail(what)
                status = exit_status(e)
                _error_document(cmd_name, kw, what, monitoring)
            except EsxpathError as e:  # reported: the report is out already, no error document
                fail(str(e))
                status = exit_status(e, monitoring=monitoring and not isinstance(e, Interrupted))
                if not e.reported:
                    _error_document(cmd_name, kw, str(e), monitoring)
            except Exception as e:  # a bug: one line, the traceback only with -vv
                log.debug("unexpected error", exc_info=True)
                message = f"internal error: {type(e).__name__}: {e} (run with -vv for details)"
                fail(message)
                status = exit_status(e, monitoring=monitoring)
                _error_document(cmd_name, kw, message, monitoring)
            click.get_current_context().exit(int(status))
        return click.command(cmd_name, context_settings=CONTEXT)(wrapper)
    return deco


def profile_labels() -> dict[str, str]:
    """The textfile of a --profile run labels every sample vcenter="NAME" (promfile.with_labels):
    one timer per profile (esxpath-audit@NAME) writes files node_exporter serves side by side."""
    params = click.get_current_context().params
    name = params.get("profile")
    return {"vcenter": name} if name and not params.get("all_profiles") else {}


def _error_document(name: str, kw: dict, message: str, monitoring: bool) -> None:
    """A failed run still gives machine readers their format: JSON readers a report document,
    Nagios a status line, node_exporter a status metric."""
    from ..render.output import render_error
    fmt = kw.get("fmt")
    if fmt == "json" or (monitoring and fmt in ("nagios", "prometheus")):
        emit(render_error(message, fmt, command=name))
    if monitoring and kw.get("prom_file"):
        from ..app.promfile import publish_failure
        problem = publish_failure(kw["prom_file"], render_error(message, "prometheus"),
                                  labels=profile_labels())
        if problem and problem.split(";")[0] not in message:  # the same error, said once
            fail(problem)
