"""What every command shares: option groups that each become one typed value, the per-invocation
runtime (a lazily opened session), and the one path from an outcome to an exit status.

Command modules import this module only, never each other; group.py registers them.
"""
from __future__ import annotations

import functools
import math
import os
import inspect
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from ..app.ports import require_devices  # noqa: F401 (the commands take it from here)
from ..app.credentials import CA_VARS, DEFAULT_TIMEOUT, URL_VARS, Target, complete, split_userinfo
from ..errors import EsxpathError, Interrupted, Terminated, UsageError, exit_status
from ..core.model import DEFAULT_DEVICE_GLOBS, DEFAULT_VENDORS, Expectation, Policy, Scope, Selector
from ..san.view import DEFAULT_MAX_AGE
from .files import OutputFile  # noqa: F401  (the commands take it from here)
from .signals import stop_on_signal  # noqa: F401 (the command modules' way to it)

if TYPE_CHECKING:  # the adapter imports pyVmomi: loaded only when a command connects
    from ..app.config import Profile, Setting
    from ..vsphere import ConnectOptions, Session

log = logging.getLogger("esxpath")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# ---------------------------------------------------------------- typed option values

class FiniteFloat(click.FloatRange):
    """A FloatRange that refuses nan and inf: `--wait nan` would never time out (every
    comparison with nan is false) and `--timeout inf` never gives up."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if math.isnan(number) or math.isinf(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def seconds(min: float) -> FiniteFloat:
    return FiniteFloat(min=min)


class Duration(click.ParamType):
    """A duration such as 90s, 15m, 2h or 1d (a bare number is seconds), as seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        from ..core.storage_events import parse_duration
        try:
            return parse_duration(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


@dataclass(frozen=True)
class Connection:
    """The connection settings after flags, environment and profile are combined
    (config.settings, which also says where each came from)."""

    target: Target | None  # --vcenter split once: user:password@ taken out of the URL
    user: str | None
    password_file: str | None
    ca_file: str | None
    insecure: bool
    timeout: float
    insecure_from: str = "--insecure"  # where insecure came from, for its warning


@dataclass(frozen=True)
class Where:
    """What the scope options select: hosts, devices, and how many hosts are read at once."""

    scope: Scope
    selector: Selector
    parallel: int
    # the profile's expectations (ao, ano, min_paths); audit's --expect and check's --min-paths win
    expect: Expectation = field(default_factory=Expectation)


class VcenterUrl(click.ParamType):
    """--vcenter / ESXPATH_VCENTER: split here, once; GOVC_URL may carry user:password@."""

    name = "url"

    def convert(self, value, param, ctx):
        if isinstance(value, Target):
            return value
        try:
            return split_userinfo(value)
        except ValueError as e:  # e.g. a port that is not a number; never echo the value
            self.fail(f"not a vCenter URL: {e}", param, ctx)


def _grouped(build, options):
    """A decorator adding `options`; the command receives build(**their values) instead:
    the keyword arguments build returns (each a typed value), built once per invocation.
    The option values are build's parameters, so the names are written once."""
    names = tuple(inspect.signature(build).parameters)

    def deco(f):
        @functools.wraps(f)
        def wrapper(*args, **kw):
            kw.update(build(**{n: kw.pop(n) for n in names}))
            return f(*args, **kw)
        for o in reversed(options):
            wrapper = o(wrapper)
        return wrapper
    return deco


def _connection(vcenter, user, password_file, ca_file, insecure, timeout, config, profile):
    # the values themselves are read back from the context: settings() needs their sources
    return {"conn": from_settings(current_settings())[0]}


# the one --config (the commands with vcenter_options, and the exporter)
config_option = click.option(
    "--config", metavar="FILE", type=click.Path(), envvar="ESXPATH_CONFIG",
    help="Config file with the profiles. Default: the first found of "
         "/etc/esxpath/esxpath.toml, ~/.config/esxpath/esxpath.toml (no merging). "
         "Env: ESXPATH_CONFIG.")


# --user has no envvar=: a user in the URL (GOVC_URL) wins over ESXPATH_USER, so credentials
# resolves it when the session opens.
vcenter_options = _grouped(_connection, [
    click.option("--vcenter", metavar="URL", type=VcenterUrl(), envvar=list(URL_VARS),
                 help="vCenter or ESXi: host, host:port or https://host/sdk. "
                      f"Env: {', '.join(URL_VARS)}."),
    click.option("--user", metavar="NAME",
                 help="User name. Env: ESXPATH_USER, VSPHERE_USER, GOVC_USERNAME."),
    click.option("--password-file", metavar="PATH", type=click.Path(),
                 help="File whose first line is the password (mode 0600). Otherwise "
                      "ESXPATH_PASSWORD / VSPHERE_PASSWORD / GOVC_PASSWORD, or a hidden prompt."),
    click.option("--ca-file", metavar="PEM", type=click.Path(),
                 envvar=list(CA_VARS),
                 help=f"CA bundle to verify the server certificate. Env: {', '.join(CA_VARS)}."),
    click.option("--insecure", is_flag=True,
                 help="Do not verify the server certificate (warns; for labs only)."),
    click.option("--timeout", type=seconds(min=1), default=DEFAULT_TIMEOUT,
                 show_default=True,
                 help="Seconds per vSphere call; apply: per change, send and read-backs together."),
    config_option,
    click.option("--profile", metavar="NAME", envvar="ESXPATH_PROFILE",
                 shell_complete=lambda ctx, param, incomplete: _profile_names(ctx, incomplete),
                 help="Take vCenter, credentials and scope from [vcenter.NAME] of the config "
                      "file; flags and environment still win. Env: ESXPATH_PROFILE."),
])


def _where(datacenter, cluster, hosts, devices, vendors, parallel):
    if "profile" in click.get_current_context().params:  # with vcenter_options: a profile applies
        return {"where": from_settings(current_settings(), parallel)[1]}
    return {"where": Where(
        Scope(datacenter=datacenter, cluster=cluster, hosts=tuple(hosts)),
        Selector(device_globs=tuple(devices) or DEFAULT_DEVICE_GLOBS,
                 vendors=tuple(vendors) or DEFAULT_VENDORS),
        parallel)}


scope_options = _grouped(_where, [
    click.option("--datacenter", metavar="NAME", help="Only hosts in this datacenter."),
    click.option("--cluster", metavar="NAME", help="Only hosts in this cluster."),
    click.option("--host", "hosts", metavar="NAME", multiple=True,
                 help="Only this host (repeatable)."),
    click.option("--device", "devices", metavar="GLOB", multiple=True,
                 help="Device canonical-name glob (repeatable). Default: eui.*"),
    click.option("--vendor", "vendors", metavar="VENDOR", multiple=True,
                 help="SCSI vendor (repeatable). Default: SCST_BIO, SCST_FIO."),
    click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
                 help="Hosts worked on at once."),
])


def _policy(psp, iops, latency):
    # raised inside the command, so audit reports it the monitoring way (exit 3), as before
    if latency and iops is not None:
        raise UsageError("--iops and --latency exclude each other")
    if latency:
        return {"policy": Policy(psp=psp, limit_type="latency", iops=None)}
    return {"policy": Policy(psp=psp, limit_type="iops", iops=iops or 1)}


policy_options = _grouped(_policy, [
    click.option("--psp", type=click.Choice(["VMW_PSP_RR"]), default="VMW_PSP_RR",
                 show_default=True, help="Path selection policy wanted."),
    click.option("--iops", type=click.IntRange(min=1), default=None,
                 help="Round Robin IOPS limit wanted (default 1, as in the SCST setup)."),
    click.option("--latency", is_flag=True,
                 help="Use the latency-based Round Robin limit instead of --iops."),
])


# ---------------------------------------------------------------- profiles (esxpath/app/config.py)

# click parameter name -> config key; the others have the same name
_PARAM_KEYS = {"vcenter": "server"}
_SETTING_PARAMS = ("vcenter", "user", "password_file", "ca_file", "insecure", "timeout",
                   "datacenter", "cluster", "hosts", "devices", "vendors")


def explicit_flags(ctx: click.Context) -> dict[str, Any]:
    """The connection and scope values given on the command line (not from env or default)."""
    from click.core import ParameterSource
    return {_PARAM_KEYS.get(n, n): ctx.params[n] for n in _SETTING_PARAMS
            if n in ctx.params and ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE}


def current_settings() -> dict[str, Setting]:
    """This invocation's settings (flag > env > profile > default), worked out once: both
    option groups and `config show` use them."""
    ctx = click.get_current_context()
    if "esxpath.settings" not in ctx.meta:
        from ..app.config import settings
        name = ctx.params.get("profile")
        profile = load_config(ctx).profile(name) if name else None
        ctx.meta["esxpath.settings"] = settings(profile, explicit_flags(ctx), os.environ)
    return ctx.meta["esxpath.settings"]


def load_config(ctx: click.Context):
    """The config file named by --config / ESXPATH_CONFIG or found on the search path, once."""
    if "esxpath.config" not in ctx.meta:
        from ..app.config import load
        ctx.meta["esxpath.config"] = load(ctx.params.get("config"), os.environ)
    return ctx.meta["esxpath.config"]


def from_settings(s: Mapping[str, Setting], parallel: int = 8) -> tuple[Connection, Where]:
    """The Connection and Where that settings describe (a command's, or the exporter's)."""
    server = s["server"].value
    target = split_userinfo(server) if isinstance(server, str) else server
    insecure = s["insecure"]
    conn = Connection(target, s["user"].value, s["password_file"].value, s["ca_file"].value,
                      bool(insecure.value), float(s["timeout"].value),
                      "--insecure" if insecure.origin == "flag"
                      else f"insecure = true in {insecure.origin}")
    where = Where(Scope(datacenter=s["datacenter"].value, cluster=s["cluster"].value,
                        hosts=tuple(s["hosts"].value)),
                  Selector(device_globs=tuple(s["devices"].value),
                           vendors=tuple(s["vendors"].value)),
                  parallel,
                  Expectation(ao=s["ao"].value, ano=s["ano"].value,
                              min_paths=s["min_paths"].value))
    return conn, where


def resolve_profile(profile: Profile | None, flags: Mapping[str, Any] | None = None,
                    environ: Mapping[str, str] = os.environ,
                    parallel: int = 8) -> tuple[Connection, Where]:
    """A profile + explicit flags + environment -> Connection and Where, as a command resolves
    them. The exporter and --all-profiles pass environ={}: each profile names its own vCenter."""
    from ..app.config import settings
    return from_settings(settings(profile, flags or {}, environ), parallel)


def _profile_names(ctx: click.Context, incomplete: str) -> list[str]:
    try:
        names = load_config(ctx).profiles
    except EsxpathError:
        return []
    return [n for n in sorted(names) if n.startswith(incomplete)]

@dataclass(frozen=True)
class SanInputs:
    """--san / --san-cmd: where the storage nodes' `esxpath san dump` documents come from."""

    files: tuple[str, ...]
    cmds: tuple[str, ...]
    timeout: float
    max_age: float = DEFAULT_MAX_AGE  # --san-max-age

    @property
    def given(self) -> bool:
        return bool(self.files or self.cmds)

    def read_files(self) -> list:
        """The --san files (and stdin), decoded: read them once per command."""
        from ..san.sources import read_files
        return read_files(self.files)

    def read(self, file_docs: list | None = None):
        """The dumps as san.audit.SanDumps, stamped with this machine's clock: the --san files
        (file_docs: read_files' answer, kept across the tries of check --wait) and the
        --san-cmd commands, run again on every call."""
        from datetime import datetime, timezone

        from ..san.audit import SanDumps
        from ..san.sources import read_dumps
        nodes = read_dumps(self.files, self.cmds, self.timeout, file_docs)
        return SanDumps(nodes, datetime.now(timezone.utc), self.max_age)


def _san(san_files, san_cmds, san_timeout, san_max_age):
    return {"san": SanInputs(tuple(san_files), tuple(san_cmds), san_timeout, san_max_age)}


san_options = _grouped(_san, [
    click.option("--san", "san_files", metavar="FILE", multiple=True,
                 help="A storage node's `esxpath san dump` (JSON; - for stdin), repeatable: "
                      "the SAN's own view is checked against the hosts' (docs/san.md)."),
    click.option("--san-cmd", "san_cmds", metavar="CMD", multiple=True,
                 help="Shell command that prints a node's dump, e.g. an ssh line you write "
                      "(repeatable; runs without the vCenter password in its environment)."),
    click.option("--san-timeout", type=seconds(min=1), default=60, show_default=True,
                 metavar="SECONDS", help="Seconds a --san-cmd may take."),
    click.option("--san-max-age", type=seconds(min=1), default=int(DEFAULT_MAX_AGE), show_default=True,
                 metavar="SECONDS",
                 help="A dump older than this (or ahead of this machine's clock by more), or "
                      "made from scst.conf, makes check refuse (exit 3); audit and san check "
                      "note it."),
])


def output_options(*formats: str, aliases: tuple[str, ...] = ()):
    """-o/--output (value `fmt`): table or json unless `formats` says more; `aliases` are
    further spellings of the same option (audit's --format, used by existing cron lines)."""
    return click.option("--output", "-o", *aliases, "fmt",
                        type=click.Choice(formats or ("table", "json")), default="table",
                        show_default=True, help="Output format.")


# ---------------------------------------------------------------- state kept per invocation

class Runtime:
    """Per-invocation state: the options of the group and a lazily opened session."""

    def __init__(self, verbose: int, cassette: tuple[str, str] | None = None):
        self.verbose = verbose
        self.cassette = cassette  # (path, "record" | "replay") from --record / --replay
        self._session: Session | None = None

    def session(self, conn: Connection) -> Session:
        if self._session is None:
            from ..vsphere import connect
            if self.cassette:  # entered before connect, left after logout (the root closes last)
                from ..vsphere.recording import recording
                cassette = recording(*self.cassette)
                cassette.__enter__()
                # Not with_resource: click would throw its Exit into the cassette, which then
                # could not check on the way out that the replay played everything.
                click.get_current_context().find_root().call_on_close(
                    lambda: cassette.__exit__(None, None, None))
            opts = self._connect_options(conn)
            if opts.insecure:  # a replay connects to nothing
                warn_insecure(conn)
            self._session = connect(opts)
            click.get_current_context().call_on_close(self.close)
        return self._session

    def _connect_options(self, conn: Connection) -> ConnectOptions:
        from ..vsphere import ConnectOptions
        if self.cassette is not None and self.cassette[1] == "replay":
            # the cassette answers: no address, user, password or CA needed
            return ConnectOptions(url="https://vcenter.invalid/sdk", user="replay@esxpath.invalid",
                                  password="replay", timeout=conn.timeout)
        return connect_options(conn, _hidden_prompt if sys.stdin.isatty() else None)

    def write_lock(self, conn: Connection, wait: float):
        """This machine's write lock of the vCenter, for the writing commands (writelock.py),
        keyed on its identity: logs in first. A replay writes nowhere: it takes no lock."""
        from contextlib import nullcontext

        from ..app.writelock import write_lock
        if self.cassette is not None and self.cassette[1] == "replay":
            return nullcontext()
        session = self.session(conn)
        return write_lock(session.endpoint.display, wait, session.content.about.instanceUuid or "")

    def read(self, conn: Connection, where: Where, **extra):
        """The inventory of the hosts and devices in scope (extra: read_inventory's options)."""
        from ..vsphere import read_inventory
        return read_inventory(self.session(conn), where.scope, where.selector,
                              parallel=where.parallel, **extra)

    def events_start(self, conn: Connection, back: float = 0.0):
        """Where an event window starts: vCenter's clock now, less `back` seconds. A failed
        clock read is handed back (the error), for storage_events to report: the events are an
        addition that never costs the main report. An interrupt still stops the command."""
        from datetime import timedelta
        session = self.session(conn)  # a failed login is the command's failure, as before
        try:
            from ..vsphere.events import server_time
            return server_time(session) - timedelta(seconds=back)
        except Interrupted:
            raise
        except EsxpathError as e:  # warned when the window is reported (storage_events)
            log.debug("vCenter's clock: %s", e)
            return e

    def storage_events(self, conn: Connection, inventory, start=None, back: float = 0.0):
        """The ESXi storage events of the inventory's hosts (app.audit.storage_window): from
        `start` (events_start's answer; None: `back` seconds before the end) until now."""
        from ..app.audit import storage_window
        return storage_window(lambda: self.session(conn), inventory.hosts, start, back)

    def close(self):
        if self._session is not None:
            try:
                self._session.close()
            finally:
                self._session = None


def connect_options(conn: Connection, prompt=None,
                    environ: Mapping[str, str] = os.environ) -> ConnectOptions:
    """The adapter's options for conn: user and password completed (credentials.complete) from
    the options, the URL, `environ` ({}: only the profile) and `prompt` (None: none)."""
    from ..vsphere import ConnectOptions
    target = complete(conn.target, conn.user, conn.password_file, prompt, environ)
    assert target.user is not None and target.password is not None  # or complete() raised
    return ConnectOptions(url=target.endpoint or target.url, user=target.user,
                          password=target.password, ca_file=conn.ca_file, insecure=conn.insecure,
                          timeout=conn.timeout)


def warn_insecure(conn: Connection, who: str = "") -> None:
    """The warning of every run without certificate checks, naming the vCenter and where the
    setting came from (a flag, or the profile). who: e.g. "target NAME: "."""
    if conn.insecure:
        e = conn.target.endpoint if conn.target is not None else None
        server = e.display if e is not None else "the server"
        click.echo(f"esxpath: warning: {who}{conn.insecure_from}: the certificate of {server}"
                   " is NOT verified", err=True)


def lock_option(f):
    return click.option("--wait-lock", type=seconds(min=0), default=0, metavar="SECONDS",
                        help="Wait this long for another esxpath that is writing to the same "
                             "vCenter from this machine (default: fail at once, exit 75).")(f)


def _hidden_prompt(text: str) -> str:
    return click.prompt(text, hide_input=True, err=True)


def emit(text: str) -> None:
    if text:
        click.echo(text.rstrip("\n"))


def fail(message: str) -> None:
    click.echo(f"esxpath: error: {message}", err=True)


# ---------------------------------------------------------------- commands and their exit

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

