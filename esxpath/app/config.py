"""The config file: vCenter profiles in TOML, and how a profile, flags and environment combine.

No network, no click; the only files it opens are the config and, to check owner and mode,
the password files it names (it never reads them).
Search order: --config FILE / ESXPATH_CONFIG, else the first file found of
/etc/esxpath/esxpath.toml and ~/.config/esxpath/esxpath.toml (first found wins, no merging).
Precedence of a value: explicit flag > environment > profile > [defaults] > built-in default.
"""
from __future__ import annotations

import math
import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..core.model import DEFAULT_DEVICE_GLOBS, DEFAULT_VENDORS
from ..errors import ConfigError, EsxpathError
from .credentials import (
    CA_VARS,
    DEFAULT_TIMEOUT,
    PASSWORD_VARS,
    URL_VARS,
    USER_VARS,
    check_owner,
    check_password_file,
    split_userinfo,
)
from .files import open_input

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_VAR = "ESXPATH_CONFIG"
PROFILE_VAR = "ESXPATH_PROFILE"
SYSTEM_FILE = "/etc/esxpath/esxpath.toml"
USER_FILE = "~/.config/esxpath/esxpath.toml"  # $XDG_CONFIG_HOME/esxpath/esxpath.toml when set
DEFAULT_INTERVAL = 60.0  # seconds between the exporter's reads of one vCenter
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")  # also a systemd instance / label value


@dataclass(frozen=True)
class Profile:
    """One [vcenter.NAME] table merged over [defaults]; None / () where the file says nothing."""

    name: str
    server: str | None = None  # host, host:port or https://host/sdk
    user: str | None = None
    password_file: str | None = None  # absolute (relative ones are taken from the file's dir)
    ca_file: str | None = None
    insecure: bool | None = None
    timeout: float | None = None
    datacenter: str | None = None
    cluster: str | None = None
    hosts: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    ao: int | None = None
    ano: int | None = None
    min_paths: int | None = None
    interval: float = DEFAULT_INTERVAL
    # key -> where its value was written: "FILE [vcenter.NAME]" or "FILE [defaults]"
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


KEYS = tuple(f.name for f in fields(Profile) if f.name not in ("name", "origins"))


@dataclass(frozen=True)
class Config:
    source: str | None  # the file read; None: no file found (no profiles)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            where = f"in {self.source}" if self.source else "(no config file found: " + \
                ", ".join(search_path(os.environ)) + ")"
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"unknown profile {name!r} {where}; known profiles: {known}") from None


# ---------------------------------------------------------------- finding and reading the file

def search_path(env: Mapping[str, str]) -> tuple[str, ...]:
    xdg = env.get("XDG_CONFIG_HOME")
    user = os.path.join(xdg, "esxpath", "esxpath.toml") if xdg else os.path.expanduser(USER_FILE)
    return (SYSTEM_FILE, user)


def find(path: str | None, env: Mapping[str, str]) -> str | None:
    """The file to read: the explicit one (which must exist), else the first one found."""
    explicit = path or env.get(CONFIG_VAR)
    if explicit:
        return explicit
    for candidate in search_path(env):
        if os.path.exists(candidate):
            return candidate
    return None


def load(path: str | None, env: Mapping[str, str] = os.environ) -> Config:
    """Read and validate the config (path: --config; env: for ESXPATH_CONFIG and the search path).
    Any problem raises ConfigError (exit 78), one line naming the file, table and key."""
    source = find(path, env)
    if source is None:
        return Config(None, {})
    return parse(_read(source), source)


def _read(source: str) -> str:
    """The file's text, checked on the open descriptor (no stat-then-open race). Opened
    non-blocking: a FIFO named as the config is refused, not waited on."""
    try:
        with open_input(source) as f:  # a FIFO, device or directory: refused at once
            st = os.fstat(f.fileno())
            # who may write the file chooses the vCenter and the CA we trust: its owner only
            check_owner("config", source, st)
            if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise ConfigError(f"config {source} has mode {stat.S_IMODE(st.st_mode):o}:"
                                  f" others than its owner may change it; chmod go-w {source}")
            return f.read()
    except OSError as e:
        raise ConfigError(f"config {source}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config {source}: not UTF-8 text") from None


def parse(text: str, source: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config {source}: not valid TOML: {e}") from None
    for key in data:
        if key not in ("defaults", "vcenter"):
            raise ConfigError(f"config {source}: unknown top-level key {key!r}"
                              " (known: [defaults], [vcenter.NAME])")
    base_dir = os.path.dirname(os.path.abspath(source))
    defaults = _table(data.get("defaults", {}), "defaults", source, base_dir)
    vcenters = data.get("vcenter", {})
    if not isinstance(vcenters, dict):
        raise ConfigError(f"config {source}: 'vcenter' must be tables [vcenter.NAME]")
    profiles = {}
    for name, table in vcenters.items():
        label = f"vcenter.{name}"
        if not PROFILE_NAME.match(name):
            raise ConfigError(f"config {source}: [{label}]: a profile name is letters, digits,"
                              " '_', '.' and '-'")
        if not isinstance(table, dict):
            raise ConfigError(f"config {source}: [{label}] must be a table")
        values = {**defaults, **_table(table, label, source, base_dir)}
        origins = {k: f"{source} [{label}]" if k in table else f"{source} [defaults]"
                   for k in values}
        profiles[name] = Profile(name=name, **{k: v for k, v in values.items()},
                                 origins=origins)
    return Config(source, profiles)


# ---------------------------------------------------------------- validation, one key at a time

def _text(v):
    if not isinstance(v, str) or not v.strip():
        raise ValueError("must be a non-empty string")
    return v


def _texts(v):
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
        raise ValueError("must be a non-empty list of non-empty strings")
    return tuple(v)


def _bool(v):
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def _count(least):
    def check(v):
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise ValueError(f"must be a whole number >= {least}")
        return v
    return check


def _seconds(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 1:
        raise ValueError("must be a number of seconds >= 1")
    return float(v)


def _server(v):
    _text(v)
    try:
        split_userinfo(v)
    except EsxpathError as e:
        if "password" in str(e):
            raise ValueError("carries a password: secrets never in the TOML: use password_file") from None
        raise ValueError(str(e)) from None
    return v


_CHECKS = {
    "server": _server, "user": _text, "password_file": _text, "ca_file": _text,
    "insecure": _bool, "timeout": _seconds, "datacenter": _text, "cluster": _text,
    "hosts": _texts, "devices": _texts, "vendors": _texts, "ao": _count(0), "ano": _count(0),
    "min_paths": _count(1), "interval": _seconds,
}
assert set(_CHECKS) == set(KEYS)


def _table(table: Any, label: str, source: str, base_dir: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"config {source}: [{label}] must be a table")
    out = {}
    for key, value in table.items():
        if key == "password":
            raise ConfigError(f"config {source}: [{label}] password: secrets never in the TOML:"
                              " use password_file (a file of mode 0600)")
        check = _CHECKS.get(key)
        if check is None:
            raise ConfigError(f"config {source}: [{label}] unknown key {key!r}"
                              f" (known: {', '.join(KEYS)})")
        try:
            out[key] = check(value)
        except ValueError as e:
            raise ConfigError(f"config {source}: [{label}] {key} {e}") from None
        if key in ("password_file", "ca_file"):
            out[key] = os.path.join(base_dir, os.path.expanduser(value))
    if "password_file" in out:
        _check_password_file(out["password_file"], label, source)
    return out


def _check_password_file(path: str, label: str, source: str) -> None:
    """Refuse a password file another user owns or others may read as the config is read; one
    that does not exist (yet) is reported when a command needs it. Checked on the open file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return
    try:
        check_password_file(path, os.fstat(fd))
    except ConfigError as e:
        raise ConfigError(f"config {source}: [{label}] {e}") from None
    finally:
        os.close(fd)


# ---------------------------------------------------------------- a profile + flags + environment

@dataclass(frozen=True)
class Setting:
    value: Any
    origin: str  # "flag", "env NAME", "FILE [vcenter.NAME]", "FILE [defaults]", "default"


BUILT_IN: dict[str, Any] = {
    "server": None, "user": None, "password_file": None, "ca_file": None, "insecure": False,
    "timeout": DEFAULT_TIMEOUT, "datacenter": None, "cluster": None, "hosts": (),
    "devices": DEFAULT_DEVICE_GLOBS, "vendors": DEFAULT_VENDORS, "ao": None, "ano": None,
    "min_paths": 1, "interval": DEFAULT_INTERVAL,
}
_ENV = {"server": URL_VARS, "ca_file": CA_VARS}


def settings(profile: Profile | None, flags: Mapping[str, Any],
             env: Mapping[str, str] = os.environ) -> dict[str, Setting]:
    """Every key's value and where it came from. flags: only the values given explicitly on the
    command line. env: the environment (pass {} to ignore it, as the exporter and
    --all-profiles do: each profile names its own vCenter).

    user and password keep credentials.complete's order: a user in the vCenter URL (GOVC_URL)
    beats ESXPATH_USER, and a password in the environment beats the profile's password_file."""
    out: dict[str, Setting] = {}
    for key in KEYS:
        if key in flags and flags[key] not in (None, ()):
            out[key] = Setting(flags[key], "flag")
            continue
        name = next((n for n in _ENV.get(key, ()) if env.get(n)), None)
        if name:
            out[key] = Setting(env[name], f"env {name}")
            continue
        value = getattr(profile, key) if profile is not None else None
        if value not in (None, ()) and profile is not None and key in profile.origins:
            out[key] = Setting(value, profile.origins[key])
        else:
            out[key] = Setting(BUILT_IN[key], "default")
    # the user: flag, then a user in the URL, then the environment, then the profile
    if out["user"].origin != "flag":
        server = out["server"].value
        url_user = split_userinfo(server).user if isinstance(server, str) else \
            getattr(server, "user", None)
        env_user = next((n for n in USER_VARS if env.get(n)), None)
        if url_user:
            out["user"] = Setting(url_user, out["server"].origin + " (in the URL)")
        elif env_user:
            out["user"] = Setting(env[env_user], f"env {env_user}")
    # the password: --password-file, then the environment, then the profile's file, then a prompt
    if out["password_file"].origin != "flag":
        env_pw = next((n for n in PASSWORD_VARS if env.get(n)), None)
        if env_pw:
            out["password_file"] = Setting(None, f"not used: env {env_pw} wins")
            out["password"] = Setting("********", f"env {env_pw}")
    if "password" not in out:
        pf = out["password_file"]
        out["password"] = Setting("********", f"file {pf.value}") if pf.value else \
            Setting(None, "prompt (on a terminal) or none")
    _one_unit(profile, out)
    return out


def _endpoint(server: Any):
    target = split_userinfo(server) if isinstance(server, str) else server
    e = target.endpoint if target is not None else None
    return (e.host.lower(), e.port, e.path) if e is not None else None


def _one_unit(profile: Profile | None, out: Mapping[str, Setting]) -> None:
    """Server, user and password file are one unit: a profile's user or password file never
    goes to a vCenter the profile does not name (GOVC_URL=lab-vc with --profile prod would
    send prod's password to lab-vc). Refused, naming both sources."""
    if profile is None or not profile.server or out["server"].origin == profile.origins.get("server"):
        return
    if _endpoint(out["server"].value) == _endpoint(profile.server):
        return
    taken = [k for k in ("user", "password_file") if out[k].origin == profile.origins.get(k)]
    if not taken:
        return
    theirs = _endpoint(out["server"].value)
    shown = f"{theirs[0]}:{theirs[1]}" if theirs else "?"
    origin = out["server"].origin
    given = "--vcenter" if origin == "flag" else origin.removeprefix("env ")
    raise ConfigError(
        f"vCenter {shown} from {given} is not the server {profile.server} of profile"
        f" {profile.name} ({profile.origins['server']}): its {' and '.join(taken)} would go to"
        f" another vCenter; drop {given}, or give that vCenter's own --user and"
        " --password-file (or ESXPATH_USER and ESXPATH_PASSWORD)")
