"""--all-profiles (show, audit, check): the same per-vCenter work for every profile of the config
file: the click side (the option, what it refuses, the targets); app/fanout.py runs them.

Not a command module: show/audit/check import it as they import groups.
"""
from __future__ import annotations

import click

from ..app.fanout import AT_ONCE, Body, run_profiles
from ..app.profiles import resolve_profile
from ..app.session import Runtime
from ..core.model import Report
from ..errors import ConfigError, UsageError
from .groups import explicit_flags, load_config

# each profile names its own vCenter and credentials: these flags would apply to all of them
_PER_VCENTER = ("server", "user", "password_file")


def all_profiles_option(f):
    return click.option(
        "--all-profiles", is_flag=True,
        help=f"Run every profile of the config file ({AT_ONCE} vCenters at once), one merged "
             "report, every host naming its profile; exit code the worst. A vCenter that "
             "cannot be read is reported (UNKNOWN) and hides no other. Connection "
             "environment variables are not used; scope flags apply to every profile.")(f)


def refuse_san(san_given: bool, all_profiles: bool) -> None:
    """--san describes one SAN, seen by one vCenter: audit and check refuse it with
    --all-profiles in the same words."""
    if san_given and all_profiles:
        raise UsageError("--san/--san-cmd describe one SAN: use them with one vCenter, "
                         "not with --all-profiles")


def each_profile(rt: Runtime, command: str, body: Body) -> Report:
    """body(runtime, conn, where) -> Report for every profile; one merged Report."""
    ctx = click.get_current_context()
    flags = explicit_flags(ctx)
    if ctx.params.get("profile"):
        raise UsageError("--all-profiles and --profile / ESXPATH_PROFILE exclude each other")
    given = [k for k in _PER_VCENTER if k in flags]
    if given:
        raise UsageError(f"--all-profiles takes each profile's {', '.join(given)}: drop "
                         + ", ".join("--" + ("vcenter" if k == "server" else k.replace("_", "-"))
                                     for k in given))
    if rt.cassette is not None:
        raise UsageError("--all-profiles cannot be recorded or replayed (one vCenter per cassette)")
    config = load_config(ctx)
    if not config.profiles:
        raise ConfigError(f"--all-profiles: no [vcenter.NAME] profile in {config.source}"
                          if config.source else "--all-profiles: no config file found")
    parallel = ctx.params.get("parallel", 8)
    targets = [(name, *resolve_profile(p, flags, {}, parallel))
               for name, p in config.profiles.items()]
    return run_profiles(command, targets, body)
