"""Where URL, user and password come from; the password never from argv."""

import pytest

from esxpath.app.credentials import complete, read_password_file, split_userinfo
from esxpath.errors import ConfigError, UsageError


@pytest.mark.parametrize("url, clean, user", [
    ("vc.example.com", "vc.example.com", None),
    ("https://vc.example.com/sdk", "https://vc.example.com/sdk", None),
    ("https://admin%40vsphere.local@vc:8443/sdk", "https://vc:8443/sdk", "admin@vsphere.local"),
    ("root@esx01", "esx01", "root"),
])
def test_split_userinfo_takes_the_user_out_of_the_url(url, clean, user):
    t = split_userinfo(url)
    assert (t.url, t.user, t.password) == (clean, user, None)


@pytest.mark.parametrize("url", ["https://admin:s%3Ecret@vc:8443/sdk", "root:pw@esx01",
                                 "root:@esx01"])
def test_a_password_in_the_url_is_refused_and_the_message_says_where_it_goes(url):
    with pytest.raises(UsageError, match="ESXPATH_PASSWORD or a --password-file") as err:
        split_userinfo(url)
    assert "cret" not in str(err.value) and "pw" not in str(err.value).replace("password", "")


@pytest.mark.parametrize("url", ["https://[::1/sdk", "vc:notaport", "u@vc:99999"])
def test_a_malformed_url_is_a_usage_error(url):
    with pytest.raises(UsageError):
        split_userinfo(url)


def resolve(url, user, password_file, prompt=None, environ=None):
    """The CLI's order: the URL split once, then completed."""
    return complete(split_userinfo(url) if url else None, user, password_file, prompt,
                    environ if environ is not None else {})


def test_env_precedence_and_sources():
    env = {"GOVC_USERNAME": "gu", "ESXPATH_USER": "eu", "GOVC_PASSWORD": "gp",
           "VSPHERE_PASSWORD": "vp"}
    t = resolve("vs", None, None, environ=env)
    assert (t.url, t.user, t.password) == ("vs", "eu", "vp")
    t = resolve("opt", "ou", None, environ=env)
    assert (t.url, t.user, t.password) == ("opt", "ou", "vp")
    t = resolve("url-user@vc", None, None, environ=env)  # a user in the URL beats the env
    assert (t.url, t.user) == ("vc", "url-user")


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
    for mode in (0o644, 0o640, 0o604, 0o620, 0o660):  # owner-only, as the wrapper demands
        f.chmod(mode)
        with pytest.raises(ConfigError, match=f"mode {mode:o}.*chmod 600"):
            read_password_file(str(f))
    f.chmod(0o400)
    assert read_password_file(str(f)) == "secret"
    with pytest.raises(ConfigError, match="cannot read"):
        read_password_file(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.write_text("")
    empty.chmod(0o600)
    with pytest.raises(ConfigError, match="empty"):
        read_password_file(str(empty))
