"""--all-profiles against two simulators as two profiles of one config file (issue 18): one
merged report listing both estates, exit code the worst; one simulator stopped, the other's
result is still there and the exit code says UNKNOWN."""
from __future__ import annotations

import json
import shutil

import pytest

from cli_process import cli_env, run
from simlab import SimLab

pytestmark = pytest.mark.sim

CONNECTION_VARS = ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD", "ESXPATH_CA_FILE")


@pytest.fixture
def second():
    lab = SimLab().start()
    try:
        yield lab
    finally:
        lab.stop()


def profile(tmp_path, name: str, lab: SimLab) -> str:
    """A [vcenter.NAME] table for `lab`; its CA and password copied out of the simulator's
    directory, so that a stopped simulator fails as a refused connection."""
    ca = tmp_path / f"{name}-ca.pem"
    shutil.copy(lab.ca_file, ca)
    pw = tmp_path / f"{name}.pw"
    pw.write_text(lab.password + "\n")
    pw.chmod(0o600)
    return (f'[vcenter.{name}]\nserver = "{lab.url}"\nuser = "{lab.user}"\n'
            f'password_file = "{pw}"\nca_file = "{ca}"\ntimeout = 20\n')


@pytest.fixture
def env(lab, second, sim_env, tmp_path):
    """Only the config file names the vCenters: no ESXPATH_VCENTER & co. in the environment."""
    path = tmp_path / "esxpath.toml"
    path.write_text(profile(tmp_path, "east", lab) + profile(tmp_path, "west", second))
    path.chmod(0o600)
    return cli_env(sim_env, ESXPATH_CONFIG=str(path), **dict.fromkeys(CONNECTION_VARS))


def out_err(proc):
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def hosts_of(doc, vcenter):
    return sorted(h["name"] for h in doc["hosts"] if h.get("vcenter") == vcenter)


def test_audit_all_profiles_lists_both_estates_and_exits_with_the_worst(lab, second, env):
    applied = run(env, "apply", "--profile", "east")  # east compliant, west as seeded (drift)
    assert applied.returncode == 0, out_err(applied)
    singles = {}
    for name in ("east", "west"):
        proc = run(env, "audit", "--profile", name, "-o", "json")
        singles[name] = (proc.returncode, json.loads(proc.stdout))
    assert (singles["east"][0], singles["west"][0]) == (0, 1)
    proc = run(env, "audit", "--all-profiles", "-o", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == max(code for code, _ in singles.values()), out_err(proc)
    assert doc["status"] == max(singles.values(), key=lambda s: s[0])[1]["status"]
    assert [v["name"] for v in doc["vcenters"]] == ["east", "west"]
    assert all(v["error"] is None and v["hosts"] > 0 for v in doc["vcenters"])
    for name, (_, single) in singles.items():
        # the same hosts as the profile alone, each naming its vCenter (both labs have an esx01)
        assert hosts_of(doc, name) == sorted(h["name"] for h in single["hosts"])
        mine = [f for f in doc["findings"] if f["vcenter"] == name]
        assert len(mine) == len(single["findings"])
        assert all(f["message"].startswith(f"{name}: ") for f in mine)
    assert len(doc["hosts"]) == sum(len(s["hosts"]) for _, s in singles.values())
    assert {v["name"]: v["status"] for v in doc["vcenters"]} == {"east": "OK", "west": "DRIFT"}


def test_one_simulator_stopped_the_other_is_still_reported_and_the_exit_is_unknown(
        lab, second, env):
    applied = run(env, "apply", "--profile", "east")  # east compliant: only west can be bad
    assert applied.returncode == 0, out_err(applied)
    east_alone = run(env, "audit", "--profile", "east", "-o", "json")
    assert east_alone.returncode == 0, out_err(east_alone)
    east_hosts = sorted(h["name"] for h in json.loads(east_alone.stdout)["hosts"])
    second.stop()  # "west" goes away
    proc = run(env, "audit", "--all-profiles", "-o", "json")
    assert proc.returncode == 3, out_err(proc)
    doc = json.loads(proc.stdout)
    assert doc["status"] == "UNKNOWN"
    assert hosts_of(doc, "east") == east_hosts and hosts_of(doc, "west") == []
    vc = {v["name"]: v for v in doc["vcenters"]}
    assert vc["east"] == {"name": "east", "status": "OK", "error": None, "hosts": len(east_hosts)}
    assert vc["west"]["status"] == "UNKNOWN" and vc["west"]["error"]
    down = [f for f in doc["findings"] if f["code"] == "vcenter-unreachable"]
    assert [(f["vcenter"], f["severity"]) for f in down] == [("west", "UNKNOWN")]
    assert down[0]["message"].startswith("west: vCenter not read: ")
    assert [f for f in doc["findings"] if f["vcenter"] == "east"] == []
    # the table and nagios say it too
    table = run(env, "show", "--all-profiles")
    assert table.returncode == 3, out_err(table)
    assert "UNKNOWN west: vCenter not read: " in table.stdout
    assert any(line.startswith("east: esx01 (") for line in table.stdout.splitlines())
    nagios = run(env, "audit", "--all-profiles", "-o", "nagios")
    assert nagios.returncode == 3 and nagios.stdout.startswith("ESXPATH UNKNOWN - ")
    assert "west: vCenter not read" in nagios.stdout


def test_check_all_profiles_is_the_worst_of_each_vcenters_gate(lab, second, env):
    for name in ("east", "west"):
        applied = run(env, "apply", "--profile", name)
        assert applied.returncode == 0, out_err(applied)
    codes = [run(env, "check", "--profile", name).returncode for name in ("east", "west")]
    assert codes == [0, 0]
    proc = run(env, "check", "--all-profiles", "-o", "json")
    assert proc.returncode == 0, out_err(proc)
    doc = json.loads(proc.stdout)
    assert {h.get("vcenter") for h in doc["hosts"]} == {"east", "west"}
    assert {k.split("/", 1)[0] for k in doc["targets"]} == {"east", "west"}
    # the takeover node offline behind one vCenter: its gate, and the merged one, say no
    second.post("/node", {"name": "storage2", "state": "OFFL"})
    assert run(env, "check", "--profile", "west").returncode == 2
    proc = run(env, "check", "--all-profiles", "-o", "json")
    assert proc.returncode == 2, out_err(proc)
    doc = json.loads(proc.stdout)
    assert {f["vcenter"] for f in doc["findings"] if f["severity"] == "DANGER"} == {"west"}


def test_all_profiles_refuses_a_single_vcenters_flags(env):
    proc = run(env, "audit", "--all-profiles", "--vcenter", "vc.example.com")
    assert proc.returncode == 3 and "--all-profiles takes each profile's server" in proc.stderr
    proc = run(env, "show", "--all-profiles", "--profile", "east")
    assert proc.returncode == 64 and "exclude each other" in proc.stderr
