"""esxpath exporter: a real process serving profiles of a config, scraped over HTTP, reading the
simulator. Judged by what Prometheus would see and by the simulator's own call counters (how
often the vCenter was really read), never by timings."""
from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from cli_process import CLUSTER_HOSTS, ROOT, esxpath_argv
from exporter_process import clean_env, samples, start, target_samples, write_config

LAB = 'esxpath_exporter_refreshes_total{target="lab"}'
FAILED = 'esxpath_exporter_refresh_failures_total{target="lab"}'
SCRAPES = 'esxpath_exporter_scrapes_total{target="lab"}'
LAST = "esxpath_audit_last_success_timestamp_seconds"


def without_age(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("esxpath_audit_age"))


def scrape_at_once(exp, n: int = 20) -> list[tuple[int, str]]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda _: exp.get("target=lab"), range(n)))


@pytest.mark.sim
def test_concurrent_scrapes_are_answered_from_the_last_result_while_a_slow_read_runs(lab, tmp_path):
    # a slow vCenter: the one inventory read of a refresh takes 6 s
    lab.post("/latency", {"ms": 6000, "method": "RetrievePropertiesEx"})
    exp = start(write_config(tmp_path, lab, interval=3600))
    try:
        calls: dict = {}
        deadline = time.monotonic() + 120  # a deadline to give up, not a timing assertion
        while not calls.get("RetrievePropertiesEx"):  # until the first read reached the vCenter
            assert exp.proc.poll() is None and time.monotonic() < deadline, exp.stop()
            time.sleep(0.05)
            calls = lab.get("/stats")["calls"]
        assert calls["RetrievePropertiesEx"] == 1

        during = scrape_at_once(exp)
        # the read was still running after the 20 answers: none of them waited for it
        assert exp.own()[LAB] == 0
        assert all(status == 200 for status, _ in during)
        assert len({text for _, text in during}) == 1  # all the same: the "no result yet" answer
        first = target_samples(during[0][1])
        assert first["esxpath_audit_pending"] == 1 and first["esxpath_audit_success"] == 0
        assert LAST not in first and "esxpath_audit_status" not in first

        done = exp.wait_for(lambda s: s["esxpath_audit_pending"] == 0, "the first result")
        after = scrape_at_once(exp)
        assert all(status == 200 for status, _ in after)
        assert len({without_age(text) for _, text in after}) == 1  # one cached result, 20 times
        s = target_samples(after[0][1])
        assert s["esxpath_audit_success"] == 1 and s[LAST] == done[LAST]
        assert s["esxpath_audit_status"] == 1  # the seed lab runs MRU: drift
        assert {h for h in CLUSTER_HOSTS if s[f'esxpath_host_up{{host="{h}"}}'] == 1} == set(CLUSTER_HOSTS)
        assert s["esxpath_audit_age_seconds"] >= 0

        own = exp.own()
        assert own[LAB] == 1 and own[FAILED] == 0
        assert own[SCRAPES] == exp.target_scrapes  # every scrape answered, none read vCenter
        stats = lab.get("/stats")
        # the vCenter was read once for the 40+ scrapes: one login, one inventory read, one
        # esxcli device list per host in the profile's cluster
        assert stats["calls"]["Login"] == 1
        assert stats["calls"]["RetrievePropertiesEx"] == 1
        assert stats["esxcli"]["storage nmp device list"] == len(CLUSTER_HOSTS) * own[LAB]
        assert stats["writes"] == []
    finally:
        rc, err = exp.stop()
    assert rc == 0, err
    assert "exporter stopped (SIGTERM)" in err


@pytest.mark.sim
def test_failed_refresh_is_success_0_with_the_last_success_time_kept(lab, tmp_path):
    exp = start(write_config(tmp_path, lab, interval=1))
    try:
        good = exp.wait_for(lambda s: s["esxpath_audit_success"] == 1, "a successful audit")
        reads = lab.get("/stats")["calls"]["RetrievePropertiesEx"]
        lab.post("/faults", {"method": "RetrievePropertiesEx", "count": 100000, "fault": "SystemError"})
        bad = exp.wait_for(lambda s: s["esxpath_audit_success"] == 0, "a failed refresh")
        assert bad[LAST] == good[LAST]  # the last good values' time, unchanged
        assert bad["esxpath_audit_status"] == 3  # UNKNOWN, as the textfile of a failed run says
        assert bad['esxpath_findings{severity="unknown"}'] == 1
        assert not any(k.startswith(("esxpath_host_up", "esxpath_paths")) for k in bad)
        assert bad["esxpath_audit_pending"] == 0
        assert lab.get("/stats")["calls"]["RetrievePropertiesEx"] > reads  # it did try
        own = exp.own()
        assert own[FAILED] >= 1 and own[LAB] > own[FAILED]

        lab.post("/faults/reset")  # the vCenter is back: the next refresh succeeds again
        back = exp.wait_for(lambda s: s["esxpath_audit_success"] == 1, "a success after the failure")
        assert back[LAST] > good[LAST] and back["esxpath_audit_status"] == 1
    finally:
        rc, err = exp.stop()
    assert rc == 0, err
    assert "target lab: refresh failed: " in err
    assert lab.password not in err


@pytest.mark.sim
def test_own_metrics_unknown_target_and_other_pages(lab, tmp_path):
    exp = start(write_config(tmp_path, lab, interval=3600))
    try:
        exp.wait_for(lambda s: s["esxpath_audit_pending"] == 0, "the first result")
        status, text = exp.get()
        assert status == 200
        own = samples(text)
        assert own[LAB] == 1 and own[FAILED] == 0
        assert "process_resident_memory_bytes" in own and any(k.startswith("python_info") for k in own)
        assert not any(k.startswith(("esxpath_audit_", "esxpath_paths")) for k in own)  # no audit here
        assert not any(name.endswith("_created") for name in own)

        status, text = exp.get("target=nosuch")
        assert status == 404
        assert text == "unknown target 'nosuch': targets are lab\n"  # one line
        status, text = exp.get("target=")  # an empty target is the exporter's own page
        assert status == 200 and LAB in samples(text)
        index = urllib.request.urlopen(exp.url.removesuffix("metrics"), timeout=60).read().decode()
        assert "/metrics?target=lab" in index
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(exp.url.removesuffix("metrics") + "other", timeout=60)
        assert e.value.code == 404
    finally:
        rc, err = exp.stop()
    assert rc == 0, err


@pytest.mark.sim
def test_sigint_stops_it_cleanly_and_logs_out(lab, tmp_path):
    exp = start(write_config(tmp_path, lab, interval=3600))
    exp.wait_for(lambda s: s["esxpath_audit_pending"] == 0, "the first result")
    exp.proc.send_signal(signal.SIGINT)
    _, err = exp.proc.communicate(timeout=120)
    rc = exp.proc.returncode
    assert rc == 0, err
    assert "exporter stopped (SIGINT)" in err
    assert "Traceback" not in err
    assert lab.get("/stats")["calls"].get("Logout") == 1  # the kept session was closed


@pytest.mark.sim
def test_config_and_password_as_systemd_credentials(lab, tmp_path):
    """esxpath-exporter.service's layout: systemd copies the config and the password file into
    $CREDENTIALS_DIRECTORY (0400, plus an ACL for the service's user that stat shows as 0440);
    a relative password_file finds the copy beside the config's copy."""
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "lab.password").write_text(lab.password + "\n", encoding="utf-8")
    (creds / "lab.password").chmod(0o440)
    cfg = creds / "esxpath.toml"
    cfg.write_text(f'[vcenter.lab]\nserver = "{lab.url}"\nuser = "{lab.user}"\n'
                   f'password_file = "lab.password"\nca_file = "{lab.ca_file}"\n'
                   'cluster = "storage-cluster"\ninterval = 3600\n', encoding="utf-8")
    cfg.chmod(0o400)
    exp = start(cfg, env={"CREDENTIALS_DIRECTORY": str(creds)})
    try:
        s = exp.wait_for(lambda s: s["esxpath_audit_pending"] == 0, "the first result")
        assert s["esxpath_audit_success"] == 1
    finally:
        rc, err = exp.stop()
    assert rc == 0, err

    # the same 0440 file anywhere else is refused: group read is group read
    proc = run_exporter("--config", str(cfg))
    assert proc.returncode == 78, proc.stderr
    assert "lab.password has mode 440" in proc.stderr


# ---------------------------------------------------------------- configuration errors

def run_exporter(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(esxpath_argv("exporter", *args), env=clean_env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_config_problems_are_one_line_and_exit_78(tmp_path):
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    proc = run_exporter("--config", str(empty))
    assert (proc.returncode, proc.stderr.count("\n")) == (78, 1), proc.stderr
    assert "no profiles to serve" in proc.stderr

    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    pw.chmod(0o600)
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text(f'[vcenter.a]\nserver = "vc.invalid"\nuser = "u"\npassword_file = "{pw}"\n'
                   '[vcenter.b]\nserver = "vc2.invalid"\nuser = "u"\n', encoding="utf-8")
    proc = run_exporter("--config", str(cfg), "--target", "nosuch")
    assert proc.returncode == 78 and "unknown profile 'nosuch'" in proc.stderr, proc.stderr
    proc = run_exporter("--config", str(cfg))
    assert proc.returncode == 78, proc.stderr
    assert f"profile b in {cfg} has no password_file" in proc.stderr
    assert proc.stderr.count("\n") == 1

    proc = run_exporter("--config", str(cfg), "--listen", "localhost")
    assert proc.returncode == 64 and "is not ADDR:PORT" in proc.stderr, proc.stderr


def test_a_port_in_use_is_a_configuration_error(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    pw.chmod(0o600)
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text(f'[vcenter.a]\nserver = "vc.invalid"\nuser = "u"\npassword_file = "{pw}"\n',
                   encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = run_exporter("--config", str(cfg), "--listen", f"127.0.0.1:{port}")
    assert proc.returncode == 78, proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in proc.stderr
