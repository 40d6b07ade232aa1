"""A password written into the vCenter URL (--vcenter, ESXPATH_VCENTER, GOVC_URL, the TOML
server key) is refused without ever being echoed: not in the error line, not in a JSON error
document, not in a config error, whatever characters it holds (/ # ? @ : end the host part
for a URL parser, which then quotes the rest in its own errors)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from esxpath.app.credentials import parse_url, split_userinfo
from esxpath.errors import ExitStatus, UsageError

ROOT = Path(__file__).resolve().parents[2]

SECRETS = ["s3cret#x", "s3c/ret9", "s3c?ret9", "s3c@ret9", "s3c:ret9", "9a/b#c?d@e:f"]


def esxpath(*args, env=None):
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "esxpath", *args], capture_output=True,
                          text=True, env={**base, **(env or {})}, stdin=subprocess.DEVNULL)


def _fragments(secret: str) -> list[str]:
    """The secret and the pieces a parser would cut it into (at least 4 characters)."""
    pieces = [secret]
    for sep in "/#?@:":
        pieces += [p for p in secret.split(sep) if len(p) >= 4]
    return pieces


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("form", ["admin:{}@vc.example.com", "https://admin:{}@vc:8443/sdk"])
def test_split_userinfo_refuses_without_quoting(secret, form):
    with pytest.raises(UsageError, match="carries a password") as err:
        split_userinfo(form.format(secret))
    for piece in _fragments(secret):
        assert piece not in str(err.value)


def test_parse_url_never_quotes_a_userinfo():
    with pytest.raises(UsageError) as err:
        parse_url("http://admin:hunter2x@vc/sdk")
    assert "hunter2x" not in str(err.value)


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("source", ["--vcenter", "ESXPATH_VCENTER", "GOVC_URL", "toml"])
def test_the_secret_never_reaches_stdout_or_stderr(tmp_path, secret, source):
    url = f"admin:{secret}@vc.example.com"
    args, env = ["show", "-o", "json"], {}
    if source == "--vcenter":
        args += ["--vcenter", url]
    elif source == "toml":
        cfg = tmp_path / "esxpath.toml"
        cfg.write_text(f'[vcenter.lab]\nserver = "{url}"\n')
        args += ["--config", str(cfg), "--profile", "lab"]
    else:
        env[source] = url
    r = esxpath(*args, env=env)
    assert r.returncode in (ExitStatus.USAGE, ExitStatus.CONFIG), r.stderr
    assert "password" in r.stderr
    for piece in _fragments(secret):
        assert piece not in r.stdout + r.stderr, (piece, r.stdout, r.stderr)
