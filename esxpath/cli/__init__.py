"""The command line: thin click commands over adapter -> core -> render.

options.py holds the option types, groups.py the option groups, exit.py the one way out
(exit status, error documents), signals.py the signals; the session, profile resolution and
the SAN inputs are in esxpath/app/. One module per command family (report: show/audit, apply,
gate: check/watch, provision: provision/unprovision/fio-job/fio-report, ...) imports those,
never another command module; group.py registers them on the group. Data goes to stdout,
diagnostics and progress to stderr; every outcome leaves through errors.exit_status().
"""
from .group import main, run

__all__ = ["main", "run"]
