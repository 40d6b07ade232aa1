"""The config file (esxpath/app/config.py): parsing, validation, search order, and how a profile,
flags and environment combine; bad configs through the command line: one line, exit 78."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from esxpath.app import config
from esxpath.app.profiles import resolve_profile
from esxpath.app.credentials import DEFAULT_TIMEOUT
from esxpath.errors import ConfigError, ExitStatus
from esxpath.core.model import DEFAULT_DEVICE_GLOBS, DEFAULT_VENDORS

ROOT = Path(__file__).resolve().parents[2]

GOOD = """
[defaults]
vendors = ["SCST_BIO"]
ca_file = "ca.pem"
timeout = 30

[vcenter.lab]
server = "vc1.example.com"
user = "esxpath@vsphere.local"
password_file = "lab.pw"
cluster = "storage-cluster"
ao = 2
ano = 2
min_paths = 2
interval = 120

[vcenter.prod]
server = "https://vc2.example.com:8443/sdk"
user = "svc@vsphere.local"
password_file = "/etc/esxpath/prod.pw"
timeout = 90
devices = ["eui.31*"]
insecure = false
"""


def write(tmp: Path, text: str, name: str = "esxpath.toml", mode: int = 0o644) -> str:
    path = tmp / name
    path.write_text(text)
    path.chmod(mode)
    return str(path)


@pytest.fixture
def good(tmp_path):
    write(tmp_path, "secret-in-file\n", "lab.pw", 0o600)
    return write(tmp_path, GOOD)


def test_profiles_merge_over_defaults_and_relative_paths_are_the_files_dir(good, tmp_path):
    cfg = config.load(good, {})
    assert cfg.source == good and sorted(cfg.profiles) == ["lab", "prod"]
    lab, prod = cfg.profiles["lab"], cfg.profiles["prod"]
    assert (lab.server, lab.user, lab.cluster, lab.ao, lab.ano, lab.min_paths, lab.interval) == \
        ("vc1.example.com", "esxpath@vsphere.local", "storage-cluster", 2, 2, 2, 120.0)
    assert lab.password_file == str(tmp_path / "lab.pw")
    assert lab.ca_file == str(tmp_path / "ca.pem")  # from [defaults]
    assert (lab.timeout, prod.timeout) == (30.0, 90.0)  # the profile wins over [defaults]
    assert (lab.vendors, prod.vendors, prod.devices) == (("SCST_BIO",), ("SCST_BIO",), ("eui.31*",))
    assert prod.interval == config.DEFAULT_INTERVAL and prod.insecure is False
    assert lab.origins["timeout"] == f"{good} [defaults]"
    assert prod.origins["timeout"] == f"{good} [vcenter.prod]"


def test_the_profile_becomes_the_commands_connection_and_scope(good, tmp_path):
    conn, where = resolve_profile(config.load(good, {}).profile("lab"), environ={})
    assert conn.target is not None and conn.target.url == "vc1.example.com"
    assert (conn.user, conn.password_file, conn.ca_file, conn.insecure, conn.timeout) == \
        ("esxpath@vsphere.local", str(tmp_path / "lab.pw"), str(tmp_path / "ca.pem"), False, 30.0)
    assert where.scope.cluster == "storage-cluster" and where.scope.hosts == ()
    assert where.selector.vendors == ("SCST_BIO",)
    assert where.selector.device_globs == DEFAULT_DEVICE_GLOBS
    assert (where.expect.ao, where.expect.ano, where.expect.min_paths) == (2, 2, 2)


def test_without_a_profile_the_built_in_defaults_apply():
    conn, where = resolve_profile(None, environ={})
    assert conn.target is None and conn.timeout == DEFAULT_TIMEOUT and not conn.insecure
    assert where.selector.vendors == DEFAULT_VENDORS
    assert (where.expect.ao, where.expect.min_paths) == (None, 1)


# key, flags, environment -> the value and where it came from
@pytest.mark.parametrize("key, flags, env, value, origin", [
    ("cluster", {"cluster": "flagged"}, {}, "flagged", "flag"),
    ("cluster", {}, {}, "storage-cluster", "[vcenter.lab]"),
    ("datacenter", {}, {}, None, "default"),
    ("timeout", {}, {}, 30.0, "[defaults]"),
    ("timeout", {"timeout": 5.0}, {}, 5.0, "flag"),
    ("server", {}, {"ESXPATH_VCENTER": "env-vc", "ESXPATH_USER": "eu", "ESXPATH_PASSWORD": "pw"}, "env-vc", "env ESXPATH_VCENTER"),
    ("server", {"server": "flag-vc"}, {"ESXPATH_VCENTER": "env-vc", "ESXPATH_USER": "eu", "ESXPATH_PASSWORD": "pw"}, "flag-vc",
     "flag"),
    ("server", {}, {"GOVC_URL": "govc-vc", "ESXPATH_USER": "eu", "ESXPATH_PASSWORD": "pw"}, "govc-vc", "env GOVC_URL"),
    ("ca_file", {}, {"ESXPATH_CA_FILE": "/env/ca"}, "/env/ca", "env ESXPATH_CA_FILE"),
    ("user", {}, {"ESXPATH_USER": "env-user"}, "env-user", "env ESXPATH_USER"),
    ("user", {"user": "flag-user"}, {"ESXPATH_USER": "env-user"}, "flag-user", "flag"),
    # a user in the URL beats ESXPATH_USER, as without a profile (credentials.complete)
    ("user", {}, {"GOVC_URL": "u1@vc", "ESXPATH_USER": "env-user", "ESXPATH_PASSWORD": "p"}, "u1",
     "env GOVC_URL (in the URL)"),
    ("user", {}, {}, "esxpath@vsphere.local", "[vcenter.lab]"),
    ("vendors", {"vendors": ("X",)}, {}, ("X",), "flag"),
    ("password", {}, {}, "********", "file "),
    ("password", {}, {"ESXPATH_PASSWORD": "pw"}, "********", "env ESXPATH_PASSWORD"),
    ("password_file", {}, {"ESXPATH_PASSWORD": "pw"}, None, "not used: env ESXPATH_PASSWORD"),
    ("password_file", {"password_file": "/f"}, {"ESXPATH_PASSWORD": "pw"}, "/f", "flag"),
])
def test_precedence_flag_then_env_then_profile_then_defaults(good, key, flags, env, value,
                                                             origin):
    s = config.settings(config.load(good, {}).profile("lab"), flags, env)
    assert s[key].value == value
    assert origin in s[key].origin


def test_search_order_first_found_wins_and_explicit_files_win(tmp_path, monkeypatch):
    system = tmp_path / "etc.toml"
    monkeypatch.setattr(config, "SYSTEM_FILE", str(system))
    xdg = tmp_path / "xdg"
    (xdg / "esxpath").mkdir(parents=True)
    user_file = write(xdg / "esxpath", '[vcenter.user]\nserver = "u"\n')
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert config.find(None, env) == user_file
    write(tmp_path, '[vcenter.system]\nserver = "s"\n', "etc.toml")
    assert sorted(config.load(None, env).profiles) == ["system"]  # no merging
    explicit = write(tmp_path, '[vcenter.explicit]\nserver = "e"\n', "x.toml")
    assert config.find(None, {**env, "ESXPATH_CONFIG": explicit}) == explicit
    assert config.find(explicit, env) == explicit
    system.unlink()
    Path(user_file).unlink()
    assert config.load(None, env) == config.Config(None, {})


def test_an_unknown_profile_lists_the_known_ones(good):
    with pytest.raises(ConfigError, match=r"unknown profile 'nope' in .*known profiles: lab, prod"):
        config.load(good, {}).profile("nope")


# ------------------------------------------------------- bad configs, through the command line

def esxpath(*args, env=None):
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "esxpath", *args], capture_output=True,
                          text=True, env={**base, **(env or {})}, stdin=subprocess.DEVNULL)


# the config text, what the one error line must name
BAD = [
    ('[vcenter.lab]\nserver = "vc"\npasword_file = "x"\n', ["[vcenter.lab]", "unknown key 'pasword_file'"]),
    ('[defaults]\nclustre = "c"\n', ["[defaults]", "unknown key 'clustre'"]),
    ('profile = "lab"\n', ["unknown top-level key 'profile'"]),
    ('[vcenter.lab]\nserver = "vc"\npassword = "hunter2"\n',
     ["[vcenter.lab] password", "secrets never in the TOML", "password_file"]),
    ('[vcenter.lab]\nserver = "vc"\npassword_file = "group.pw"\n',
     ["[vcenter.lab]", "group.pw has mode 640", "chmod 600"]),
    ('[vcenter.lab]\nserver = "vc"\ntimeout = "soon"\n', ["[vcenter.lab] timeout", "seconds"]),
    ('[vcenter.lab]\nserver = "vc"\nao = true\n', ["[vcenter.lab] ao", "whole number"]),
    ('[vcenter.lab]\nserver = "vc"\nhosts = "esx01"\n', ["[vcenter.lab] hosts", "list"]),
    ('[vcenter.lab]\nserver = "root:pw@vc"\n', ["[vcenter.lab] server", "password_file"]),
    ('[vcenter."a b"]\nserver = "vc"\n', ['[vcenter.a b]', "profile name"]),
    ('[vcenter.lab\nserver = "vc"\n', ["not valid TOML", "line 1"]),
]


@pytest.mark.parametrize("text, named", BAD, ids=[n[-1] for _, n in BAD])
@pytest.mark.parametrize("command", ["show", "config"])
def test_a_bad_config_is_one_line_naming_file_table_and_key_exit_78(tmp_path, text, named,
                                                                     command):
    (tmp_path / "group.pw").write_text("pw\n")
    (tmp_path / "group.pw").chmod(0o640)
    path = write(tmp_path, text)
    args = ["config", "show"] if command == "config" else [command]
    r = esxpath(*args, "--config", path, "--profile", "lab")
    assert r.returncode == ExitStatus.CONFIG, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"esxpath: error: config {path}")
    for text_part in named:
        assert text_part in lines[0]
    assert "hunter2" not in r.stderr + r.stdout


def test_an_unknown_profile_is_one_line_listing_the_known_ones_exit_78(good):
    r = esxpath("show", "--config", good, "--profile", "staging")
    assert r.returncode == ExitStatus.CONFIG
    assert r.stderr.splitlines() == [
        f"esxpath: error: unknown profile 'staging' in {good}; known profiles: lab, prod"]
    # the same through ESXPATH_PROFILE / ESXPATH_CONFIG; audit says UNKNOWN (monitoring)
    r = esxpath("audit", env={"ESXPATH_CONFIG": good, "ESXPATH_PROFILE": "staging"})
    assert r.returncode == ExitStatus.UNKNOWN
    assert len(r.stderr.splitlines()) == 1 and "known profiles: lab, prod" in r.stderr


def test_a_config_others_may_write_is_refused(tmp_path):
    path = write(tmp_path, '[vcenter.lab]\nserver = "vc"\n', mode=0o664)
    r = esxpath("config", "show", "--config", path)
    assert r.returncode == ExitStatus.CONFIG
    assert r.stderr.splitlines() == [f"esxpath: error: config {path} has mode 664: others than"
                                     f" its owner may change it; chmod go-w {path}"]


def test_a_missing_explicit_config_is_refused(tmp_path):
    r = esxpath("show", "--profile", "lab", env={"ESXPATH_CONFIG": str(tmp_path / "nope.toml")})
    assert r.returncode == ExitStatus.CONFIG
    assert "cannot read: No such file" in r.stderr and len(r.stderr.splitlines()) == 1


def test_a_group_readable_password_file_found_only_when_connecting_is_refused(tmp_path):
    """--password-file and a profile's file alike (the profile's is checked as the config is
    read; here it appears later, as a command connects)."""
    pw = tmp_path / "later.pw"
    path = write(tmp_path, f'[vcenter.lab]\nserver = "127.0.0.1:9"\nuser = "u"\n'
                           f'password_file = "{pw}"\n')
    pw.write_text("pw\n")
    pw.chmod(0o604)
    os.utime(path)
    r = esxpath("show", "--config", path, "--profile", "lab")
    assert r.returncode == ExitStatus.CONFIG
    assert "[vcenter.lab]" in r.stderr and "mode 604" in r.stderr


# ------------------------------------------------------- config show

def test_config_show_says_where_each_value_came_from_and_never_the_password(tmp_path):
    (tmp_path / "lab.pw").write_text("file-secret-42\n")
    (tmp_path / "lab.pw").chmod(0o600)
    path = write(tmp_path, GOOD)
    env = {"ESXPATH_CONFIG": path, "ESXPATH_PROFILE": "lab", "ESXPATH_CA_FILE": "/env/ca.pem"}
    r = esxpath("config", "show", "--cluster", "flag-cluster", "-o", "json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "esxpath/config/1" and doc["profiles"] == ["lab", "prod"]
    s = {k: (v["value"], v["from"]) for k, v in doc["settings"].items()}
    assert s["cluster"] == ("flag-cluster", "flag")
    assert s["ca_file"] == ("/env/ca.pem", "env ESXPATH_CA_FILE")
    assert s["server"] == ("vc1.example.com", f"{path} [vcenter.lab]")
    assert s["timeout"] == (30, f"{path} [defaults]")
    assert s["datacenter"] == (None, "default")
    assert s["password_file"] == (str(tmp_path / "lab.pw"), f"{path} [vcenter.lab]")
    assert s["password"] == ("********", f"file {tmp_path / 'lab.pw'}")
    assert "file-secret-42" not in r.stdout + r.stderr
    # the table, and a password from the environment: masked too
    r = esxpath("config", "show", env={**env, "ESXPATH_PASSWORD": "env-secret-43"})
    assert r.returncode == 0, r.stderr
    assert "env-secret-43" not in r.stdout + r.stderr
    assert "file-secret-42" not in r.stdout + r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[3:]}
    assert rows["password"].split()[1:] == ["********", "env", "ESXPATH_PASSWORD"]
    assert rows["cluster"].split()[1:] == ["storage-cluster", path, "[vcenter.lab]"]


# ------------------------------------------------------- server, user and password: one unit

@pytest.mark.parametrize("flags, env, given, taken", [
    ({}, {"GOVC_URL": "lab-vc"}, "GOVC_URL", "user and password_file"),
    ({}, {"ESXPATH_VCENTER": "lab-vc:443"}, "ESXPATH_VCENTER", "user and password_file"),
    ({"server": "lab-vc"}, {}, "--vcenter", "user and password_file"),
    ({}, {"GOVC_URL": "lab-vc", "ESXPATH_PASSWORD": "pw"}, "GOVC_URL", "user"),
    ({}, {"GOVC_URL": "me@lab-vc"}, "GOVC_URL", "password_file"),
])
def test_another_vcenter_never_gets_the_profiles_credentials(good, flags, env, given, taken):
    prod = config.load(good, {}).profile("prod")
    with pytest.raises(ConfigError) as err:
        config.settings(prod, flags, env)
    message = str(err.value)
    assert f"vCenter lab-vc:443 from {given} is not the server" in message
    assert f"profile prod ({good} [vcenter.prod])" in message
    assert f"its {taken} would go to another vCenter" in message


@pytest.mark.parametrize("flags, env", [
    ({}, {"GOVC_URL": "VC2.example.com:8443"}),  # the profile's own server, spelled otherwise
    ({}, {"GOVC_URL": "lab-vc", "ESXPATH_USER": "u", "ESXPATH_PASSWORD": "pw"}),
    ({"server": "lab-vc", "user": "u", "password_file": "/f"}, {}),
])
def test_the_profiles_own_server_or_other_credentials_combine(good, flags, env):
    s = config.settings(config.load(good, {}).profile("prod"), flags, env)
    assert s["server"].origin != f"{good} [vcenter.prod]"


def test_config_show_and_commands_refuse_the_mix_in_one_line_exit_78(good):
    env = {"GOVC_URL": "lab-vc", "ESXPATH_CONFIG": good, "ESXPATH_PROFILE": "prod"}
    for args in (["config", "show"], ["show"], ["config", "show", "-o", "json"]):
        r = esxpath(*args, env=env)
        assert r.returncode == ExitStatus.CONFIG, (args, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and "from GOVC_URL is not the server" in lines[0], r.stderr


@pytest.mark.parametrize("text, ao, ano", [
    ("ao=3", 3, 2), ("ano=1", 2, 1), ("ao=1,ano=0", 1, 0), (None, 2, 2)])
def test_expect_wins_over_the_profile_key_by_key(good, text, ao, ano):
    from esxpath.app.audit import expectation
    from esxpath.cli.report import parse_expect
    _, where = resolve_profile(config.load(good, {}).profile("lab"), environ={})
    got = expectation(where.expect, parse_expect(text))
    assert (got.ao, got.ano) == (ao, ano)


def test_the_insecure_warning_says_where_the_setting_came_from(tmp_path, capsys):
    from esxpath.app.session import warn_insecure
    path = write(tmp_path, '[vcenter.lab]\nserver = "vc1.example.com"\ninsecure = true\n')
    profile = config.load(path, {}).profile("lab")
    conn, _ = resolve_profile(profile, environ={})
    warn_insecure(conn)
    assert capsys.readouterr().err == (
        f"esxpath: warning: insecure = true in {path} [vcenter.lab]: the certificate of"
        " vc1.example.com:443 is NOT verified\n")
    conn, _ = resolve_profile(profile, {"insecure": True}, environ={})
    warn_insecure(conn, "target lab: ")
    assert capsys.readouterr().err == ("esxpath: warning: target lab: --insecure: the"
                                       " certificate of vc1.example.com:443 is NOT verified\n")
