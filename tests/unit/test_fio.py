"""fio job files and fio JSON reports; the samples in tests/data/fio are real fio 3.33 output of
esxpath's own job files (run on a 16 MiB file with runtime=3 instead of a whole SAN disk)."""
import json
import os
import subprocess

import pytest
from simlab import ensure_test_tools

from esxpath.app import fio
from esxpath.core.fio import parse_fio_json
from esxpath.render.fio import render_fio
from esxpath.errors import UsageError

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "fio")


def sample(name: str) -> str:
    with open(os.path.join(DATA, name), encoding="utf-8") as fh:
        return fh.read()


def parse_job_file(path: str) -> dict:
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                out["[section]"] = line[1:-1]
            elif "=" in line and not line.startswith(";"):
                k, v = line.split("=", 1)
                out[k] = v
    return out


def test_write_jobs_writes_the_article_shapes(tmp_path):
    paths = fio.write_jobs(str(tmp_path / "jobs"))
    jobs = {os.path.basename(p): parse_job_file(p) for p in paths}
    assert set(jobs) == {"randread-512.fio", "seqread-1m.fio", "randrw-70-30.fio"}
    for j in jobs.values():
        assert j["filename"] == "/dev/sdb"
        assert (j["direct"], j["ioengine"], j["iodepth"]) == ("1", "libaio", "64")
        assert "size" not in j and "runtime" not in j  # the whole disk, once
    assert (jobs["randread-512.fio"]["rw"], jobs["randread-512.fio"]["bs"]) == ("randread", "512")
    assert (jobs["seqread-1m.fio"]["rw"], jobs["seqread-1m.fio"]["bs"]) == ("read", "1M")
    mixed = jobs["randrw-70-30.fio"]
    assert (mixed["rw"], mixed["rwmixread"]) == ("randrw", "70")


def test_write_jobs_device_size_runtime(tmp_path):
    paths = fio.write_jobs(str(tmp_path), device="/dev/sdc", size="16M", runtime=30)
    j = parse_job_file(paths[0])
    assert (j["filename"], j["size"], j["runtime"], j["time_based"]) == ("/dev/sdc", "16M", "30", "1")


@pytest.mark.parametrize("bad", ["", "/dev/sdb\nrw=write", "a=b"])
def test_write_jobs_rejects_a_device_that_would_inject_options(tmp_path, bad):
    with pytest.raises(UsageError):
        fio.write_jobs(str(tmp_path), device=bad)


def test_job_files_are_accepted_by_fio(tmp_path):
    ensure_test_tools()  # installs fio with tests/sim/build's apt-get step when missing
    target = tmp_path / "disk"
    target.write_bytes(b"\0" * (1 << 20))
    for path in fio.write_jobs(str(tmp_path / "jobs"), device=str(target), size="1M"):
        out = subprocess.run(["fio", "--parse-only", path], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


def test_parse_randread_sample():
    [r] = parse_fio_json(sample("fio-lun1-randread-512.json"), "vm1")
    assert (r.source, r.job, r.rw, r.direction, r.error) == ("vm1", "randread-512", "randread", "read", 0)
    assert r.iops == pytest.approx(90186.418109)
    assert r.bw_kib == 45093
    assert r.mean_us == pytest.approx(702.121, abs=0.01)  # clat_ns mean 702121.04 ns
    assert r.p99_us == pytest.approx(1466.368)
    assert r.p999_us == pytest.approx(5996.544)
    assert r.runtime_ms == 3004 and r.io_bytes == 138711040


def test_parse_mixed_sample_gives_read_and_write_rows():
    rows = parse_fio_json(sample("fio-lun1-randrw-70-30.json"), "vm1")
    assert [r.direction for r in rows] == ["read", "write"]
    read, write = rows
    assert read.iops == pytest.approx(62447.850716) and write.iops == pytest.approx(26819.060313)
    assert read.bw_kib == 249791 and write.bw_kib == 107276
    assert write.mean_us == pytest.approx(840.3905, abs=0.001)
    assert (write.p99_us, write.p999_us) == (pytest.approx(2088.96), pytest.approx(4423.68))


def test_parse_seqread_sample_has_no_write_row():
    [r] = parse_fio_json(sample("fio-lun1-seqread-1m.json"), "vm1")
    assert r.rw == "read" and r.direction == "read" and r.bw_mib > 100


def test_percentiles_from_lat_ns_when_clat_percentiles_are_off():
    [r] = parse_fio_json(sample("fio-lun2-randread-512-latpct.json"), "vm2")
    assert r.mean_us == pytest.approx(801.4419, abs=0.001)  # lat_ns, consistent with its percentiles
    assert r.p99_us == pytest.approx(3620.864)


def test_fio2_microsecond_clat_variant():
    doc = {"fio version": "fio-2.2.10", "jobs": [{"jobname": "t", "error": 0,
           "read": {"io_bytes": 1024, "iops": 10.0, "bw": 5, "runtime": 100,
                    "clat": {"mean": 420.9, "percentile": {"99.000000": 494, "99.900000": 636}}},
           "write": {"io_bytes": 0, "iops": 0, "bw": 0, "runtime": 0}}]}
    [r] = parse_fio_json(json.dumps(doc), "old")
    assert (r.mean_us, r.p99_us, r.p999_us) == (420.9, 494.0, 636.0)


def test_missing_percentiles_are_none_not_zero():
    doc = {"jobs": [{"jobname": "t", "read": {"io_bytes": 512, "iops": 1.0, "bw": 1, "runtime": 1,
                                               "clat_ns": {"mean": 2000.0}}}]}
    [r] = parse_fio_json(json.dumps(doc), "x")
    assert r.mean_us == 2.0 and r.p99_us is None and r.p999_us is None


def test_warnings_before_the_json_are_skipped():
    text = "fio: file hash not empty on exit\n" + sample("fio-lun1-seqread-1m.json")
    assert len(parse_fio_json(text, "vm1")) == 1


@pytest.mark.parametrize("text", ["", "READ: bw=44.0MiB/s", "[1, 2]", '{"schema": "esxpath/fio/1"}',
                                  '{"jobs": [{"read": {}}]}', '{"jobs": []}', '{"jobs": [1'])
def test_non_fio_input_is_a_clear_error(text):
    with pytest.raises(UsageError, match="src"):
        parse_fio_json(text, "src")


def test_read_reports_names_sources_by_file(tmp_path):
    paths = [os.path.join(DATA, n) for n in ("fio-lun1-randread-512.json", "fio-lun1-randrw-70-30.json")]
    rows = fio.read_reports(paths)
    assert [r.source for r in rows] == ["fio-lun1-randread-512"] + ["fio-lun1-randrw-70-30"] * 2
    with pytest.raises(UsageError, match="cannot read"):
        fio.read_reports([str(tmp_path / "missing.json")])


def test_render_table_and_json_show_the_same_rows():
    rows = fio.read_reports(sorted(os.path.join(DATA, n) for n in os.listdir(DATA)))
    table = render_fio(rows, "table").splitlines()
    assert table[0].split()[:5] == ["SOURCE", "JOB", "RW", "DIR", "IOPS"]
    assert len(table) == 1 + len(rows) == 6
    line = next(l for l in table if l.startswith("fio-lun1-randread-512 "))
    assert "90186" in line and "44.0" in line and "702us" in line and "1.47ms" in line and "6.00ms" in line
    doc = json.loads(render_fio(rows, "json"))
    assert doc["schema"] == "esxpath/fio/1" and doc["command"] == "fio-report" and doc["status"] == "OK"
    assert [(d["source"], d["direction"]) for d in doc["fio"]] == [(r.source, r.direction) for r in rows]
    assert doc["fio"][0]["p99_us"] == rows[0].p99_us


def test_render_rejects_other_formats():
    with pytest.raises(UsageError):
        render_fio([], "nagios")
