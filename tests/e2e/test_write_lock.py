"""Two writers at once (issue 15, item 8): the second waits for the first or stops at once,
naming it; never both write everything."""
from __future__ import annotations

import time

import pytest

from cli_process import cli_env, explain, run, start

pytestmark = pytest.mark.sim


@pytest.fixture
def env(lab, sim_env, tmp_path):
    return cli_env(sim_env, ESXPATH_RUNTIME_DIR=str(tmp_path / "run"))


def _holding(tmp_path, timeout=60.0) -> str:
    """The lock file's text once the first writer holds it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in (tmp_path / "run").glob("esxpath-write-*.lock"):
            text = p.read_text()
            if text.startswith("pid "):
                return text
        time.sleep(0.02)
    raise AssertionError("the first apply never took the lock")


def test_a_second_apply_stops_at_once_and_names_the_first(lab, env, tmp_path):
    lab.post("/latency", {"ms": 150})  # the first apply takes a few seconds
    first = start(env, "apply")
    try:
        holder = _holding(tmp_path)
        second = run(env, "apply", "--iops", "2")
        assert second.returncode == 75, explain(second)
        assert f"pid {first.pid}" in second.stderr and "--wait-lock" in second.stderr
        assert holder.startswith(f"pid {first.pid}, started ")
    finally:
        out, err = first.communicate(timeout=300)
        lab.post("/latency", {"ms": 0})
    assert first.returncode == 0, err
    assert {w["value"] for w in lab.get("/stats")["writes"] if w["what"] == "rr"} == {
        "policy=iops,iops=1,bytes=10485760,useANO=0"}  # only the first one's value


def test_with_wait_lock_the_second_plans_after_the_first_wrote(lab, env, tmp_path):
    lab.post("/latency", {"ms": 150})
    first = start(env, "apply")
    try:
        _holding(tmp_path)
        second = run(env, "apply", "--wait-lock", "240")
    finally:
        first.communicate(timeout=300)
        lab.post("/latency", {"ms": 0})
    assert (first.returncode, second.returncode) == (0, 0), explain(second)
    assert "nothing to change" in second.stdout.lower()
    assert len(lab.get("/stats")["writes"]) == 20  # 5 hosts x 2 LUNs x (PSP, RR): written once


def test_dry_run_takes_no_lock(lab, env, tmp_path):
    lab.post("/latency", {"ms": 150})
    first = start(env, "apply")
    try:
        _holding(tmp_path)
        dry = run(env, "apply", "--dry-run")
    finally:
        first.communicate(timeout=300)
        lab.post("/latency", {"ms": 0})
    assert dry.returncode == 0, explain(dry)


def test_every_spelling_of_one_vcenter_shares_the_lock(lab, env, tmp_path):
    """issue 23, item 4: one apply via localhost:PORT, one via 127.0.0.1:PORT ran at once and
    wrote everything twice. The lock is keyed on vCenter's about.instanceUuid."""
    lab.post("/latency", {"ms": 150})
    url = env["ESXPATH_VCENTER"]
    assert "127.0.0.1" in url, url
    first = start({**env, "ESXPATH_VCENTER": url.replace("127.0.0.1", "localhost")}, "apply")
    try:
        _holding(tmp_path)
        second = run(env, "apply", "--iops", "2")
        assert second.returncode == 75, explain(second)
        assert f"pid {first.pid}" in second.stderr, explain(second)
    finally:
        first.communicate(timeout=300)
        lab.post("/latency", {"ms": 0})
    assert first.returncode == 0
    assert len(lab.get("/stats")["writes"]) == 20  # written once, with the first one's values
    assert {w["value"] for w in lab.get("/stats")["writes"] if w["what"] == "rr"} == {
        "policy=iops,iops=1,bytes=10485760,useANO=0"}


def _instance_uuid(lab) -> str:
    from sim_soap import connect, disconnect
    si = connect(lab)
    try:
        return si.RetrieveContent().about.instanceUuid
    finally:
        disconnect(si)


def test_the_simulator_names_itself_once_per_process(lab):
    """What the lock is keyed on: the same for every connection and after /reset, another
    for another simulator (vcsim 0.24 gave every one vpx's fixed instanceUuid)."""
    from simlab import SimLab
    first = _instance_uuid(lab)
    assert first and _instance_uuid(lab) == first
    lab.post("/reset")
    assert _instance_uuid(lab) == first
    with SimLab().start() as other:
        assert _instance_uuid(other) not in (first, "dbed6e0c-bd88-4ef6-b594-21283e1c677f")
