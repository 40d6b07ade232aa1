"""cli/common.py's split (issue 24): the session, profile resolution and the SAN inputs live in
esxpath/app/ without click; app/session.py is the one place that opens a vSphere session (a
command's, each --all-profiles worker's, the exporter's); cli/ holds option types, option groups,
signals, the exit mapping and the command modules. Checked on the source (lazy imports count)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from esxpath.errors import ConfigError

PACKAGE = Path(__file__).resolve().parents[2] / "esxpath"
CLI_SHARED = {"__init__", "__main__", "options", "groups", "exit", "signals", "group", "fanout"}


def _module(path: Path) -> str:
    return ".".join(("esxpath",) + path.relative_to(PACKAGE).with_suffix("").parts)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every import in the file, relative ones made absolute."""
    here, found = _module(path), []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here.split(".")[:-node.level] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [(module, a.name) for a in node.names]
    return found


def test_only_app_session_imports_the_adapters_connect():
    opening = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if "vsphere" not in p.relative_to(PACKAGE).parts[:1]
                     and any(m == "esxpath.vsphere" and n == "connect" for m, n in _imports(p)))
    assert opening == ["app/session.py"]


@pytest.mark.parametrize("name", ["session", "profiles", "san_inputs", "fanout"])
def test_the_session_profiles_san_inputs_and_fanout_are_app_modules_without_click(name):
    path = PACKAGE / "app" / f"{name}.py"
    assert path.exists()
    assert not [m for m, _ in _imports(path) if m.split(".")[0] == "click"]


def test_cli_holds_options_groups_exit_signals_and_one_module_per_command_family():
    modules = {p.stem for p in (PACKAGE / "cli").glob("*.py")}
    assert "common" not in modules and "files" not in modules
    # --all-profiles' threads run in app/fanout.py: cli/fanout.py only reads the options
    assert not [m for m, _ in _imports(PACKAGE / "cli" / "fanout.py") if m.startswith("concurrent")]
    assert CLI_SHARED <= modules
    for stem in modules - CLI_SHARED:  # a command module: a COMMANDS tuple for group.py
        assert "\nCOMMANDS = " in (PACKAGE / "cli" / f"{stem}.py").read_text(), stem


class _Recorder:
    """A fake session and cassette that log what happens to them, in order."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def close(self) -> None:
        self.log.append("logout")

    def __enter__(self):
        self.log.append("cassette in")
        return self

    def __exit__(self, *exc) -> None:
        self.log.append("cassette out")


def test_close_logs_out_before_it_leaves_the_cassette(monkeypatch):
    """The cassette is entered before the login and left after the logout, so that a recording
    ends with the logout and a replay checks on the way out that it played everything."""
    from esxpath.app import session
    from esxpath.app.profiles import Connection
    from esxpath.vsphere import recording
    log: list[str] = []
    monkeypatch.setattr(recording, "recording", lambda path, mode: _Recorder(log))

    def login(opts):
        log.append(f"login {opts.user}")
        return _Recorder(log)

    monkeypatch.setattr(session, "open_session", login)
    conn = Connection(None, None, None, None, False, 5.0)
    rt = session.Runtime(0, ("x.yaml", "replay"))
    assert rt.session(conn) is rt.session(conn)  # one login per invocation
    rt.close()
    rt.close()  # closed once
    assert log == ["cassette in", "login replay@esxpath.invalid", "logout", "cassette out"]


def test_a_profile_runtime_asks_neither_the_environment_nor_a_prompt(monkeypatch):
    """--all-profiles: a profile without its own user or password file is refused before any
    login, whatever ESXPATH_USER / ESXPATH_PASSWORD say (they would apply to every vCenter)."""
    from esxpath.app import session
    from esxpath.app.credentials import split_userinfo
    from esxpath.app.profiles import Connection
    monkeypatch.setenv("ESXPATH_USER", "someone")
    monkeypatch.setenv("ESXPATH_PASSWORD", "secret")
    logins: list = []
    monkeypatch.setattr(session, "open_session", logins.append)
    conn = Connection(split_userinfo("vc1.example.com"), None, None, None, False, 5.0)
    with pytest.raises(ConfigError, match="the profile has no user, password_file"):
        session.ProfileRuntime().session(conn)
    assert logins == []


def test_the_exporters_login_goes_through_open_session(monkeypatch, tmp_path):
    """Each refresh's login reads the password file again and nothing from the environment."""
    from esxpath.app import session
    from esxpath.app.credentials import split_userinfo
    from esxpath.app.profiles import Connection
    secret = tmp_path / "pw"
    secret.write_text("first\n")
    secret.chmod(0o600)
    monkeypatch.setenv("ESXPATH_PASSWORD", "from-env")
    logins: list = []
    monkeypatch.setattr(session, "open_session", lambda opts: logins.append(opts) or opts)
    conn = Connection(split_userinfo("vc1.example.com"), "u", str(secret), None, False, 5.0)
    login = session.profile_login(conn)
    login()
    secret.write_text("second\n")
    login()
    assert [(o.user, o.password) for o in logins] == [("u", "first"), ("u", "second")]


def test_the_prompt_the_command_line_hands_in_asks_for_the_password(monkeypatch):
    """No password in the options or the environment: the Runtime asks the prompt it was given
    (the CLI gives its hidden prompt only on a terminal); without one the error says how."""
    from esxpath.app import session
    from esxpath.app.credentials import PASSWORD_VARS, split_userinfo
    from esxpath.app.profiles import Connection
    for var in PASSWORD_VARS:
        monkeypatch.delenv(var, raising=False)
    asked: list[str] = []
    monkeypatch.setattr(session, "open_session", lambda opts: opts)
    conn = Connection(split_userinfo("vc1.example.com"), "u", None, None, False, 5.0)
    opts = session.Runtime(0, prompt=lambda text: asked.append(text) or "typed").session(conn)
    assert (asked, opts.user, opts.password) == (["Password for u"], "u", "typed")
    with pytest.raises(ConfigError, match="run on a terminal to be asked"):
        session.Runtime(0).session(conn)
