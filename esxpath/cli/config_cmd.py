"""esxpath config show: the settings a command would use, and where each came from."""
from __future__ import annotations

from typing import Any

import click

from ..app.credentials import Target
from ..app.profiles import Connection, Where
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
    from ..render.config import config_text
    ctx = click.get_current_context()
    cfg = load_config(ctx)
    settings = current_settings()
    rows = {key: {"value": _plain(s.value), "from": s.origin} for key, s in settings.items()}
    emit(config_text(fmt, cfg.source, sorted(cfg.profiles), ctx.params.get("profile"), rows))
    return None


def _plain(value: Any) -> Any:
    """JSON-able: a --vcenter Target as its URL (the user already taken out), tuples as lists."""
    if isinstance(value, Target):
        return value.url
    if isinstance(value, tuple):
        return list(value)
    return value


config.add_command(show)

COMMANDS = (config,)
