"""Where the vCenter URL, user and password come from: options, the environment, a file, a prompt.

Never argv for the password: a value on the command line is visible in `ps` and shell history.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .errors import ConfigError, UsageError

URL_VARS = ("ESXPATH_VCENTER", "VSPHERE_SERVER", "GOVC_URL")
USER_VARS = ("ESXPATH_USER", "VSPHERE_USER", "GOVC_USERNAME")
PASSWORD_VARS = ("ESXPATH_PASSWORD", "VSPHERE_PASSWORD", "GOVC_PASSWORD")
CA_VARS = ("ESXPATH_CA_FILE", "GOVC_TLS_CA_CERTS")


@dataclass(frozen=True)
class Target:
    url: str
    user: str | None
    password: str | None


def first_env(names: tuple[str, ...], environ=os.environ) -> str | None:
    for n in names:
        v = environ.get(n)
        if v:
            return v
    return None


def split_userinfo(url: str) -> Target:
    """GOVC_URL may carry user:password@host; take them out of the URL we log and connect to."""
    probe = url if "://" in url else "https://" + url
    parts = urlsplit(probe)
    if parts.username is None:
        return Target(url, None, None)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = parts._replace(netloc=netloc).geturl()
    if "://" not in url:
        clean = clean.split("://", 1)[1]
    pw = unquote(parts.password) if parts.password is not None else None
    return Target(clean, unquote(parts.username), pw)


def read_password_file(path: str) -> str:
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            value = f.readline().rstrip("\r\n")
    except OSError as e:
        raise ConfigError(f"cannot read password file {path}: {e.strerror}") from None
    if st.st_mode & stat.S_IROTH:
        raise ConfigError(f"password file {path} is readable by everyone; chmod 600 it")
    if not value:
        raise ConfigError(f"password file {path} is empty")
    return value


def resolve(vcenter: str | None, user: str | None, password_file: str | None,
            prompt=None, environ=os.environ) -> Target:
    """Combine options and environment; prompt (hidden) only when a terminal is there to answer."""
    url = vcenter or first_env(URL_VARS, environ)
    if not url:
        raise UsageError("no vCenter given: use --vcenter or set ESXPATH_VCENTER")
    target = split_userinfo(url)
    user = user or target.user or first_env(USER_VARS, environ)
    if not user:
        raise UsageError("no user given: use --user or set ESXPATH_USER")
    if password_file:
        password = read_password_file(password_file)
    else:
        password = first_env(PASSWORD_VARS, environ) or target.password
    if not password:
        if prompt is None:
            raise ConfigError(
                "no password: set ESXPATH_PASSWORD, use --password-file, or run on a terminal to be asked")
        password = prompt(f"Password for {user}")
    return Target(target.url, user, password)
