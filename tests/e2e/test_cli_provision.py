"""esxpath provision / unprovision / fio-job / fio-report through the command line (in-process,
click's runner) against the simulator; the fio commands need no server."""
import json
import os

import pytest
from click.testing import CliRunner

from esxpath.cli import main

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "fio")
SAMPLES = sorted(os.path.join(DATA, n) for n in os.listdir(DATA))


def run(env, *args):
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def env(lab):
    return {k: lab.env[k] for k in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD", "ESXPATH_CA_FILE")}


@pytest.mark.sim
def test_provision_needs_confirmation_then_is_idempotent(lab, env):
    dry = run(env, "provision", "--size", "1G", "--create-datastores", "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.output
    doc = json.loads(dry.stdout)
    assert doc["command"] == "provision" and doc["results"] is None
    assert sorted(v["name"] for v in doc["vms"]) == ["fio-SSD-RAID6-1", "fio-SSD-RAID6-2"]

    unconfirmed = run(env, "provision", "--size", "1G", "--create-datastores")
    assert unconfirmed.exit_code == 64 and "--yes" in unconfirmed.stderr
    assert lab.get("/stats")["writes"] == []

    done = run(env, "provision", "--size", "1G", "--create-datastores", "--yes", "-o", "json")
    assert done.exit_code == 0, done.output
    results = json.loads(done.stdout)["results"]
    assert len(results) == 4 and all(r["ok"] for r in results)
    assert "\x1b[" not in done.stderr  # no bars when stderr is not a terminal

    again = run(env, "provision", "--size", "1G", "--create-datastores", "--yes")
    assert again.exit_code == 0 and "nothing to provision" in again.stdout
    assert "exists" in again.stdout

    lab.post("/stats/reset")
    gone = run(env, "unprovision", "--datastores", "--yes", "-o", "json")
    assert gone.exit_code == 0, gone.output
    assert sorted(r["what"] for r in json.loads(gone.stdout)["results"]) == ["datastore", "datastore", "vm", "vm"]
    assert lab.get("/state")["datastores"] == [] and lab.get("/state")["vms"] == []


@pytest.mark.sim
def test_provision_without_a_terminal_prints_one_line_per_step(lab, sim_env):
    """stderr a pipe (cron, `| tee`): plain step lines instead of nothing. The percentage
    lines (at most every 10 s) are tested with an injected clock in tests/unit/test_progress.py."""
    from cli_process import cli_env, explain
    from cli_process import run as run_process
    proc = run_process(cli_env(sim_env), "provision", "--size", "1G", "--create-datastores", "--yes",
                       "-o", "json")
    assert proc.returncode == 0, explain(proc)
    lines = proc.stderr.splitlines()
    for step in ("datastore SSD-RAID6-1", "datastore SSD-RAID6-2", "fio-SSD-RAID6-1",
                 "fio-SSD-RAID6-2"):
        assert f"esxpath: {step}: started" in lines, proc.stderr
        assert [x for x in lines if x.startswith(f"esxpath: {step}: done after ")], proc.stderr
    assert "\x1b[" not in proc.stderr
    assert json.loads(proc.stdout)["results"]  # the report on stdout is unchanged


@pytest.mark.sim
def test_provision_without_create_datastores_on_empty_luns_does_nothing(lab, env):
    r = run(env, "provision", "--size", "1G", "--yes")
    assert r.exit_code == 0 and "skipped" in r.stdout and "nothing to provision" in r.stdout
    assert lab.get("/stats")["writes"] == []


@pytest.mark.sim
@pytest.mark.parametrize("size", ["99999999T", "1T"])  # the seed lab's LUNs hold 1 TiB each
@pytest.mark.parametrize("mode", ["--dry-run", "--yes"])
def test_a_size_that_fits_on_no_lun_is_refused_in_one_line(lab, env, size, mode):
    r = run(env, "provision", "--size", size, "--create-datastores", mode)
    assert r.exit_code == 64, r.output
    assert r.stdout == ""  # no plan of datastores and VMs that cannot be made
    (line,) = r.stderr.splitlines()
    assert line.startswith("esxpath: error: --size ") and "does not fit on any LUN" in line
    assert "the largest holds 1 TiB" in line
    assert lab.get("/stats")["writes"] == []


def test_bad_size_is_a_usage_error():
    r = run({}, "provision", "--size", "lots", "--yes", "--vcenter", "https://127.0.0.1:9/sdk",
            "--user", "x")
    assert r.exit_code == 64 and "bad size" in r.stderr  # before any connection attempt


def test_fio_job_writes_the_files(tmp_path):
    r = run({}, "fio-job", "--dir", str(tmp_path), "--device", "/dev/sdc")
    assert r.exit_code == 0
    paths = r.stdout.split()
    assert [os.path.basename(p) for p in paths] == ["randread-512.fio", "seqread-1m.fio", "randrw-70-30.fio"]
    assert "filename=/dev/sdc" in open(paths[0]).read()


def test_fio_report_table_and_json():
    r = run({}, "fio-report", *SAMPLES)
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("SOURCE") and "fio-lun1-randread-512" in r.stdout
    j = run({}, "fio-report", "-o", "json", *SAMPLES)
    assert j.exit_code == 0 and len(json.loads(j.stdout)["fio"]) == 5


def test_fio_report_rejects_non_fio_json(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"schema": "esxpath/fio/1"}')
    r = run({}, "fio-report", str(bad))
    assert r.exit_code == 64 and "not fio JSON" in r.stderr
