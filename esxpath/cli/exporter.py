"""esxpath exporter: the Prometheus endpoint (esxpath/app/exporter.py) for the config's profiles."""
from __future__ import annotations

import signal
import threading

import click

from ..app.credentials import read_password_file
from ..app.profiles import resolve_profile
from ..app.session import Runtime, profile_login, warn_insecure
from ..errors import ConfigError, UsageError
from .exit import esxpath_command
from .groups import load_config, policy_options
from .options import config_option

DEFAULT_LISTEN = "127.0.0.1:9810"


class ListenAddress(click.ParamType):
    """ADDR:PORT, [IPv6]:PORT, or :PORT (every address); port 0 picks a free one."""

    name = "addr:port"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535:
            self.fail(f"{value!r} is not ADDR:PORT (e.g. {DEFAULT_LISTEN}, [::1]:9810, :9810)",
                      param, ctx)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return host, int(port)


def _spec(cfg, name: str, parallel: int, policy):
    from ..app.audit import AuditOptions
    from ..app.exporter import Audit, AuditRunner, TargetSpec
    profile = cfg.profile(name)  # unknown: one line naming the file and the known profiles
    conn, where = resolve_profile(profile, None, environ={}, parallel=parallel)
    where_text = f"profile {name} in {cfg.source}"
    if conn.target is None or conn.target.endpoint is None:
        raise ConfigError(f"{where_text} has no server")
    if not conn.user:
        raise ConfigError(f"{where_text} has no user")
    if not conn.password_file:
        raise ConfigError(f"{where_text} has no password_file (the exporter takes no password"
                          " from the environment or a prompt)")
    read_password_file(conn.password_file)  # fail now, not at the first refresh
    warn_insecure(conn, f"target {name}: ")
    audit = Audit(profile_login(conn), where, AuditOptions(policy))
    return TargetSpec(name, conn.target.endpoint.display, profile.interval, AuditRunner(audit))


@esxpath_command()
@click.option("--listen", type=ListenAddress(), default=DEFAULT_LISTEN, show_default=True,
              help="Address and port to serve on. Loopback by default: let Prometheus on "
                   "another machine in with e.g. --listen 0.0.0.0:9810 and a firewall rule.")
@config_option
@click.option("--target", "targets", metavar="PROFILE", multiple=True,
              help="Serve only this profile (repeatable). Default: every profile of the file.")
@click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Hosts read at once per vCenter.")
@policy_options
@click.pass_obj
def exporter(rt: Runtime, listen: tuple[str, int], config: str | None, targets: tuple[str, ...],
             parallel: int, policy):
    """Serve audit results to Prometheus, each vCenter read in the background.

    \b
    Every profile [vcenter.NAME] of the config file is a target, read every `interval`
    seconds (profile key, default 60) with its own scope, expectations and password file
    (never the environment). Prometheus scrapes, multi-target like the blackbox exporter:
      /metrics?target=NAME   the last audit of NAME: the metrics `audit --prom-file` writes
                             (esxpath_audit_status, esxpath_paths, ..., esxpath_audit_success,
                             esxpath_audit_last_success_timestamp_seconds), plus
                             esxpath_audit_age_seconds (age of the result) and
                             esxpath_audit_pending (1 until the first refresh has ended:
                             no result yet, esxpath_audit_success 0)
      /metrics               the exporter's own metrics (refreshes, failures, process)
    A scrape never reads vCenter: it is answered from the last result. A failed refresh shows
    esxpath_audit_success 0 and esxpath_audit_status 3, the last success's timestamp kept.
    An unknown target answers 404. SIGTERM or SIGINT stop it (exit 0).
    Details and a Prometheus scrape config: docs/monitoring.md.
    """
    if rt.cassette is not None:
        raise UsageError("the exporter neither records nor replays (--record/--replay)")
    from prometheus_client import disable_created_metrics

    from ..app.exporter import Exporter, serve
    disable_created_metrics()  # no *_created series beside the counters: this process is ours
    cfg = load_config(click.get_current_context())
    names = targets or tuple(cfg.profiles)
    if not names:
        where = cfg.source or "no config file found"
        raise ConfigError(f"no profiles to serve ({where}): the exporter serves the"
                          " [vcenter.NAME] tables of the config file")
    exp = Exporter([_spec(cfg, n, parallel, policy) for n in names])
    server = serve(exp, *listen)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"esxpath: exporter listening on http://{shown}:{port}/metrics, targets: "
               + ", ".join(f"{n} (every {t.spec.interval:g}s)" for n, t in exp.targets.items()),
               err=True)
    why, left = _serve_until_signal(exp, server)
    still = f"; reads still running, left behind: {', '.join(left)}" if left else ""
    click.echo(f"esxpath: exporter stopped ({why}){still}", err=True)
    return None


def _serve_until_signal(exp, server) -> tuple[str, list[str]]:
    """Serve and refresh until SIGTERM or SIGINT; the signal's name and the targets whose reads
    were left behind."""
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum, _frame):
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    http = threading.Thread(target=server.serve_forever, name="esxpath-http", daemon=True)
    try:
        http.start()  # serving first: shutdown() below waits for a serve_forever that runs
        exp.start()
        while not stop.wait(1.0):  # a timeout: the wait returns for signals on every platform
            pass
    finally:  # a second signal while stopping changes nothing: the stop is bounded anyway
        if http.is_alive():  # shutdown() of a server never served would wait forever
            server.shutdown()
        server.server_close()
        left = exp.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    return (signal.Signals(received[0]).name if received else "stopped"), left


COMMANDS = (exporter,)
