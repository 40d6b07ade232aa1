"""Profile resolution: a profile of the config file, the explicit flags and the environment
combined (config.settings) into the Connection and Where a command or the exporter works with.

No click: the command line hands in the flags it was given (cli/groups.py reads them).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.model import Expectation, Scope, Selector
from .credentials import Target, split_userinfo

if TYPE_CHECKING:
    from .config import Profile, Setting


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
    from .config import settings
    return from_settings(settings(profile, flags or {}, environ), parallel)
