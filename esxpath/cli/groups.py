"""Option groups: decorators adding several options that the command receives as one typed
value (conn, where, policy, san), and the click side of profile resolution (which flags were
given, the config file and the settings, worked out once per invocation)."""
from __future__ import annotations

import functools
import inspect
import os
from typing import TYPE_CHECKING, Any

import click

from ..app.credentials import CA_VARS, DEFAULT_TIMEOUT, URL_VARS
from ..app.profiles import Where, from_settings
from ..app.san_inputs import SanInputs
from ..core.model import DEFAULT_DEVICE_GLOBS, DEFAULT_VENDORS, PSP_RR, Policy, Scope, Selector
from ..errors import EsxpathError, UsageError
from ..san.view import DEFAULT_MAX_AGE
from .options import VcenterUrl, config_option, seconds

if TYPE_CHECKING:
    from ..app.config import Setting


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


def _profile_names(ctx: click.Context, incomplete: str) -> list[str]:
    try:
        names = load_config(ctx).profiles
    except EsxpathError:
        return []
    return [n for n in sorted(names) if n.startswith(incomplete)]


# ---------------------------------------------------------------- the groups

def _connection(vcenter, user, password_file, ca_file, insecure, timeout, config, profile):
    # the values themselves are read back from the context: settings() needs their sources
    return {"conn": from_settings(current_settings())[0]}


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
    click.option("--psp", type=click.Choice([PSP_RR]), default=PSP_RR,
                 show_default=True, help="Path selection policy wanted."),
    click.option("--iops", type=click.IntRange(min=1), default=None,
                 help="Round Robin IOPS limit wanted (default 1, as in the SCST setup)."),
    click.option("--latency", is_flag=True,
                 help="Use the latency-based Round Robin limit instead of --iops."),
])


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
