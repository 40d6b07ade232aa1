"""--all-profiles (show, audit, check): the same per-vCenter work for every profile of the config
file, a bounded number at once, each with its own session, merged into one report (merge.py).

Not a command module: show/audit/check import it as they import groups; each profile's
session opens through app/session.py (ProfileRuntime).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import click

from ..errors import ConfigError, EsxpathError, UsageError
from ..core.merge import NOT_READ, UNREACHABLE, NotRead
from ..core.model import Report
from ..app.profiles import Connection, Where, resolve_profile
from ..app.session import ProfileRuntime, Runtime
from .groups import explicit_flags, load_config

log = logging.getLogger("esxpath")

AT_ONCE = 4  # vCenters read at the same time (each also reads --parallel hosts at once)

# each profile names its own vCenter and credentials: these flags would apply to all of them
_PER_VCENTER = ("server", "user", "password_file")

Body = Callable[[Runtime, Connection, Where], Report]


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
    from ..core.merge import merge
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
    pool = ThreadPoolExecutor(min(AT_ONCE, len(targets)), thread_name_prefix="vcenter")
    try:
        futures = [(name, pool.submit(_run, body, name, conn, where))
                   for name, conn, where in targets]
        runs = [(name, future.result()) for name, future in futures]
    finally:  # Ctrl-C: no further vCenter starts; the ones being read end within --timeout
        pool.shutdown(wait=True, cancel_futures=True)
    return merge(command, runs)


def _run(body: Body, name: str, conn: Connection, where: Where) -> Report | NotRead:
    """One profile's report, or why it could not be read: vcenter-unreachable when vCenter
    did not answer or let us in, vcenter-not-read for anything else (scope, config, a bug)."""
    from ..errors import AuthError, ConnectionFailed
    rt = ProfileRuntime()
    try:
        return body(rt, conn, where)
    except EsxpathError as e:
        log.info("profile %s: %s", name, e)
        down = isinstance(e, (ConnectionFailed, AuthError))
        return NotRead(str(e), UNREACHABLE if down else NOT_READ)
    except Exception as e:  # a bug: reported for this profile, the others still stand
        log.debug("profile %s: unexpected error", name, exc_info=True)
        return NotRead(f"internal error: {type(e).__name__}: {e} (run with -vv for details)")
    finally:
        rt.close()

