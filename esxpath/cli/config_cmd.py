"""esxpath config show: the settings a command would use, and where each came from."""
from __future__ import annotations

import json
from typing import Any

import click

from ..app.credentials import Target
from ..app.profiles import Connection, Where
from ..core.model import Severity
from .exit import emit, esxpath_command
from .groups import current_settings, load_config, scope_options, vcenter_options
from .options import CONTEXT, output_options


@click.group("config", context_settings=CONTEXT)
def config():
    """The config file: vCenter profiles ([vcenter.NAME]) and their defaults.

    \b
    Read from --config FILE / ESXPATH_CONFIG, else the first found of
    /etc/esxpath/esxpath.toml and ~/.config/esxpath/esxpath.toml (no merging).
    A value comes from: a flag, else the environment, else the profile (--profile /
    ESXPATH_PROFILE), else [defaults], else esxpath's default. See docs/config.md.
    """


@esxpath_command("show")
@vcenter_options
@scope_options
@output_options()
def show(conn: Connection, where: Where, fmt: str):
    """Print the resolved settings and where each came from (flag, env NAME, FILE [table],
    default). Secrets are masked: a password file's path is shown, never its contents.
    Give the same flags and --profile as the command you mean. Exit 78 on a bad config."""
    from ..render.output import envelope
    ctx = click.get_current_context()
    cfg = load_config(ctx)
    settings = current_settings()
    rows = {key: {"value": _plain(s.value), "from": s.origin} for key, s in settings.items()}
    if fmt == "json":
        doc = envelope("config", "config show", Severity.OK, source=cfg.source,
                       profiles=sorted(cfg.profiles), profile=ctx.params.get("profile"),
                       settings=rows)
        emit(json.dumps(doc, indent=2))
        return None
    lines = [f"config: {cfg.source or 'none found'}"
             + (f" (profiles: {', '.join(sorted(cfg.profiles))})" if cfg.profiles else ""),
             f"profile: {ctx.params.get('profile') or 'none'}"]
    table = [("SETTING", "VALUE", "FROM")] + [
        (key, _text(row["value"]), row["from"]) for key, row in rows.items()]
    widths = [max(len(r[i]) for r in table) for i in range(2)]
    lines += [f"  {k.ljust(widths[0])}  {v.ljust(widths[1])}  {o}".rstrip() for k, v, o in table]
    emit("\n".join(lines))
    return None


def _plain(value: Any) -> Any:
    """JSON-able: a --vcenter Target as its URL (the user already taken out), tuples as lists."""
    if isinstance(value, Target):
        return value.url
    if isinstance(value, tuple):
        return list(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value) or "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


config.add_command(show)

COMMANDS = (config,)
