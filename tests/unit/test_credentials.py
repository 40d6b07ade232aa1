"""Where URL, user and password come from; the password never from argv."""

import pytest

from esxpath.credentials import read_password_file, resolve, split_userinfo
from esxpath.errors import ConfigError, UsageError


@pytest.mark.parametrize("url, clean, user, pw", [
    ("vc.example.com", "vc.example.com", None, None),
    ("https://vc.example.com/sdk", "https://vc.example.com/sdk", None, None),
    ("https://admin%40vsphere.local:s%3Ecret@vc:8443/sdk", "https://vc:8443/sdk",
     "admin@vsphere.local", "s>cret"),
    ("root:pw@esx01", "esx01", "root", "pw"),
])
def test_split_userinfo_takes_credentials_out_of_the_url(url, clean, user, pw):
    t = split_userinfo(url)
    assert (t.url, t.user, t.password) == (clean, user, pw)


def test_env_precedence_and_sources():
    env = {"VSPHERE_SERVER": "vs", "GOVC_URL": "gv", "GOVC_USERNAME": "gu",
           "ESXPATH_USER": "eu", "GOVC_PASSWORD": "gp", "VSPHERE_PASSWORD": "vp"}
    t = resolve(None, None, None, environ=env)
    assert (t.url, t.user, t.password) == ("vs", "eu", "vp")
    t = resolve("opt", "ou", None, environ=env)
    assert (t.url, t.user, t.password) == ("opt", "ou", "vp")


def test_missing_pieces_are_clear_errors():
    with pytest.raises(UsageError, match="--vcenter"):
        resolve(None, None, None, environ={})
    with pytest.raises(UsageError, match="--user"):
        resolve("vc", None, None, environ={})
    with pytest.raises(ConfigError, match="ESXPATH_PASSWORD"):
        resolve("vc", "u", None, environ={})


def test_prompt_only_when_given():
    asked = []
    t = resolve("vc", "u", None, prompt=lambda text: asked.append(text) or "typed", environ={})
    assert t.password == "typed" and asked == ["Password for u"]


def test_password_file(tmp_path):
    f = tmp_path / "pw"
    f.write_text("secret\nignored\n")
    f.chmod(0o600)
    assert read_password_file(str(f)) == "secret"
    assert resolve("vc", "u", str(f), environ={"ESXPATH_PASSWORD": "env"}).password == "secret"
    f.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by everyone"):
        read_password_file(str(f))
    with pytest.raises(ConfigError, match="cannot read"):
        read_password_file(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.write_text("")
    empty.chmod(0o600)
    with pytest.raises(ConfigError, match="empty"):
        read_password_file(str(empty))
