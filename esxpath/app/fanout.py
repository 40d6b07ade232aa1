"""--all-profiles' fan-out: the same per-vCenter work for every profile, a bounded number at
once, each with its own session (session.ProfileRuntime), merged into one report (merge.py).
A vCenter that cannot be read becomes that profile's UNKNOWN entry and hides no other."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..core.merge import NOT_READ, UNREACHABLE, NotRead
from ..core.model import Report
from ..errors import EsxpathError
from .profiles import Connection, Where
from .session import ProfileRuntime, Runtime

log = logging.getLogger("esxpath")

AT_ONCE = 4  # vCenters read at the same time (each also reads --parallel hosts at once)

Body = Callable[[Runtime, Connection, Where], Report]


def run_profiles(command: str, targets: Sequence[tuple[str, Connection, Where]],
                 body: Body) -> Report:
    """body(runtime, conn, where) -> Report for every (profile name, conn, where); one merged
    Report, the profiles in the order given."""
    from ..core.merge import merge
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
