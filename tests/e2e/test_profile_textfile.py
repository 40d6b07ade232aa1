"""One timer per profile (esxpath-audit@NAME): each run's textfile labels every sample
vcenter="NAME", so node_exporter can serve several files side by side; a failed run keeps its
profile's last success time. Real runs against the simulator."""
from __future__ import annotations

import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cli_process import ROOT, esxpath_argv
from exporter_process import clean_env, write_config

LAST = "esxpath_audit_last_success_timestamp_seconds"


def audit(cfg, profile: str, prom) -> subprocess.CompletedProcess:
    return subprocess.run(esxpath_argv("audit", "--config", str(cfg), "--profile", profile,
                                       "--quiet", "--prom-file", str(prom)),
                          env=clean_env(), cwd=ROOT, capture_output=True, text=True, timeout=180)


def series(path) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(path.read_text()) for s in f.samples}


@pytest.mark.sim
def test_each_profile_textfile_is_labelled_and_they_do_not_collide(lab, tmp_path):
    cfg = write_config(tmp_path, lab, interval=60, name="vc-a")
    # a second profile for the same simulator (as two vCenters would be)
    cfg.write_text(cfg.read_text() + cfg.read_text().replace("[vcenter.vc-a]", "[vcenter.vc-b]"),
                   encoding="utf-8")
    text_dir = tmp_path / "textfile"
    text_dir.mkdir()
    files = {}
    for name in ("vc-a", "vc-b"):
        files[name] = text_dir / f"esxpath-{name}.prom"
        proc = audit(cfg, name, files[name])
        assert proc.returncode == 1, proc.stderr  # the seed lab runs MRU: drift
    a, b = series(files["vc-a"]), series(files["vc-b"])
    for name, s in (("vc-a", a), ("vc-b", b)):
        assert all(dict(labels)["vcenter"] == name for _, labels in s), s
        assert s[("esxpath_audit_success", (("vcenter", name),))] == 1
    assert not set(a) & set(b)  # node_exporter would refuse duplicate series
    last_a = a[(LAST, (("vcenter", "vc-a"),))]

    # vc-a fails now: its file says success 0 and keeps vc-a's last success time
    lab.post("/faults", {"method": "RetrievePropertiesEx", "count": 100, "fault": "SystemError"})
    proc = audit(cfg, "vc-a", files["vc-a"])
    assert proc.returncode == 3, proc.stderr
    failed = series(files["vc-a"])
    assert failed[("esxpath_audit_success", (("vcenter", "vc-a"),))] == 0
    assert failed[(LAST, (("vcenter", "vc-a"),))] == last_a
    assert failed[("esxpath_audit_status", (("vcenter", "vc-a"),))] == 3
