"""The command line: thin click commands over adapter -> core -> render.

common.py holds the shared option groups and the per-invocation runtime; one module per command
family (report: show/audit, apply, gate: check/watch, provision: provision/unprovision/fio-job/
fio-report) imports only common; group.py registers them on the group. Data goes to stdout,
diagnostics and progress to stderr; every outcome leaves through errors.exit_status().
"""
from .group import main, run

__all__ = ["main", "run"]
