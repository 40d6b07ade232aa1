"""Where the vCenter URL, user and password come from: options, the environment, a file, a prompt.

Never argv for the password: a value on the command line is visible in `ps` and shell history.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError, UsageError
from .files import open_input

URL_VARS = ("ESXPATH_VCENTER", "VSPHERE_SERVER", "GOVC_URL")
USER_VARS = ("ESXPATH_USER", "VSPHERE_USER", "GOVC_USERNAME")
PASSWORD_VARS = ("ESXPATH_PASSWORD", "VSPHERE_PASSWORD", "GOVC_PASSWORD")
CA_VARS = ("ESXPATH_CA_FILE", "GOVC_TLS_CA_CERTS")
DEFAULT_TIMEOUT = 60.0  # seconds per vSphere call: --timeout's default and the adapter's


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    path: str

    @property
    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_url(url: str) -> Endpoint:
    """"vc.example.com", "vc:8443", "https://vc/sdk" -> Endpoint (https, default port 443, /sdk)."""
    text = (url or "").strip()
    if not text:
        raise UsageError("no vCenter given (--vcenter or ESXPATH_VCENTER)")
    refuse_password(text)
    url = without_userinfo(text)  # the errors below quote it: never a user:password@ part
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme != "https":
        raise UsageError(f"unsupported URL scheme {parts.scheme!r} in {url!r}: vSphere needs https")
    try:
        port = 443 if parts.port is None else parts.port
    except ValueError as exc:
        raise UsageError(f"bad port in {url!r}") from exc
    if port == 0:  # urllib takes ":0" as a port; nothing listens there: a typo, not 443
        raise UsageError(f"bad port in {url!r}: 0 (a port is 1-65535)")
    if not parts.hostname or any(c.isspace() for c in parts.hostname):
        raise UsageError(f"no valid host name in {url!r}")
    path = parts.path if parts.path not in ("", "/") else "/sdk"
    return Endpoint(parts.hostname, port, path.rstrip("/"))


@dataclass(frozen=True)
class Target:
    url: str
    user: str | None
    password: str | None = field(repr=False)  # the CLI keeps a Target for the whole run
    endpoint: Endpoint | None = None  # url parsed, once, by split_userinfo


def first_env(names: tuple[str, ...], environ=os.environ) -> str | None:
    for n in names:
        v = environ.get(n)
        if v:
            return v
    return None


def _userinfo(url: str) -> str | None:
    """The user[:password] part, read from the raw text before any URL parsing: a password may
    hold / # ? @ or :, which a parser takes for the end of the host part (and then quotes the
    rest, the password, in its errors). The last @ ends it."""
    rest = url.split("://", 1)[1] if "://" in url else url
    info, at, _ = rest.rpartition("@")
    return info if at else None


def without_userinfo(url: str) -> str:
    """The URL without anything up to its last @: safe to quote in a message."""
    info = _userinfo(url)
    if info is None:
        return url
    scheme = url.split("://", 1)[0] + "://" if "://" in url else ""
    return scheme + url[len(scheme) + len(info) + 1:]


def refuse_password(url: str) -> None:
    """A password in the URL is refused, in words that never quote it."""
    info = _userinfo(url)
    if info is not None and ":" in info:
        raise UsageError("the vCenter URL carries a password: remove it, and give the password"
                         " in ESXPATH_PASSWORD or a --password-file (mode 0600) instead")


def split_userinfo(url: str) -> Target:
    """A URL may carry user@host (GOVC_URL does); the user is taken out of the URL we log and
    connect to. A password there is refused: it would be visible in `ps` and shell history."""
    refuse_password(url)
    probe = url if "://" in url else "https://" + url
    try:
        parts = urlsplit(probe)
        if parts.port == 0:  # raises on a bad port: a usage error, not a crash later
            raise ValueError("port 0")
    except ValueError:  # its text may quote the URL: our own words instead
        raise UsageError(f"bad vCenter URL {without_userinfo(url)!r}: not host, host:port"
                         " (port 1-65535) or https://host/sdk") from None
    if parts.username is None:
        return Target(url, None, None, parse_url(url))
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    clean = parts._replace(netloc=netloc).geturl()
    if "://" not in url:
        clean = clean.split("://", 1)[1]
    return Target(clean, unquote(parts.username), None, parse_url(clean))


def read_password_file(path: str) -> str:
    """The first line of the file, checked on the open descriptor (no stat-then-open race);
    a FIFO, device or directory is refused at once (files.open_input)."""
    try:
        with open_input(path) as f:
            check_password_file(path, os.fstat(f.fileno()))
            value = f.readline().rstrip("\r\n")
    except OSError as e:
        raise ConfigError(f"cannot read password file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"password file {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"password file {path} is empty")
    return value


def check_owner(what: str, path: str, st: os.stat_result) -> None:
    """Owned by the user running esxpath or by root: another user could change or swap it."""
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        raise ConfigError(f"{what} {path} is owned by uid {st.st_uid}, neither this user"
                          f" (uid {me}) nor root: chown it")


def check_password_file(path: str, st: os.stat_result) -> None:
    """A password file its owner (this user or root) only may read (the config's password_file
    too); st: fstat of the open file."""
    check_owner("password file", path, st)
    mode = st.st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and not _systemd_credential(path, mode):
        raise ConfigError(f"password file {path} has mode {stat.S_IMODE(mode):o}: others"
                          f" than its owner may read it; chmod 600 {path}")


def _systemd_credential(path: str, mode: int) -> bool:
    """A file systemd handed to this service (LoadCredential=, esxpath-exporter.service): it
    is 0400 plus an ACL entry for the service's user, and stat shows the ACL's mask as group
    read (0440) although no group may read it. Accepted only directly in the service's
    $CREDENTIALS_DIRECTORY, and only without any bit for others or any write bit."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory or mode & (stat.S_IRWXO | stat.S_IWGRP | stat.S_IXGRP):
        return False
    return os.path.dirname(os.path.realpath(path)) == os.path.realpath(directory)


def complete(target: Target | None, user: str | None, password_file: str | None,
             prompt=None, environ=os.environ) -> Target:
    """A URL split by split_userinfo (the CLI splits --vcenter once, as it parses the option)
    completed with the user and password from the options, the URL, the environment, and a
    prompt (hidden; only when a terminal is there to answer)."""
    if target is None:
        raise UsageError("no vCenter given: use --vcenter or set ESXPATH_VCENTER")
    user = user or target.user or first_env(USER_VARS, environ)
    if not user:
        raise UsageError("no user given: use --user or set ESXPATH_USER")
    password: str | None
    if password_file:
        password = read_password_file(password_file)
    else:
        password = first_env(PASSWORD_VARS, environ) or target.password
    if not password:
        if prompt is None:
            raise ConfigError(
                "no password: set ESXPATH_PASSWORD, use --password-file, or run on a terminal to be asked")
        password = prompt(f"Password for {user}")
    return Target(target.url, user, password, target.endpoint)
