"""fio job files of the seed article and fio JSON reports: the pure half (no files, no clock).

The article validates the SAN with one VM per LUN whose eager-zeroed test disk is read with fio:
512-byte random reads at queue depth 64 over the whole disk (~150k IOPS) and 1 MiB sequential reads
(~1.4 GB/s). The job files here reproduce those runs; `parse_fio_json` reads what
`fio --output-format=json` prints inside the VMs (esxpath.render.fio shows it as a table or JSON;
esxpath.app.fio writes the job files and reads the reports).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import UsageError
from .model import Severity

DEFAULT_DEVICE = "/dev/sdb"  # the test VM's second disk: the eager-zeroed one on the SAN LUN


@dataclass(frozen=True)
class FioJob:
    file_name: str  # randread-512.fio
    section: str  # [randread-512]
    comment: str
    options: tuple[tuple[str, str], ...]  # job-specific, after the shared ones


# Shared by every job: direct I/O through libaio, one process, the whole device unless size= says
# otherwise (fio then reads the device once, like the article's size=128G on a 128G disk).
_COMMON = (("ioengine", "libaio"), ("direct", "1"), ("iodepth", "64"), ("numjobs", "1"))

JOBS = (
    FioJob("randread-512.fio", "randread-512",
           "random 512-byte reads at queue depth 64 over the whole test disk (article: ~150k IOPS)",
           (("rw", "randread"), ("bs", "512"))),
    FioJob("seqread-1m.fio", "seqread-1m",
           "sequential 1 MiB reads at queue depth 64 (article: ~1.4 GB/s)",
           (("rw", "read"), ("bs", "1M"))),
    FioJob("randrw-70-30.fio", "randrw-70-30",
           "mixed random 4 KiB I/O, 70% reads / 30% writes, at queue depth 64; "
           "WRITES TO THE TEST DISK (its data is destroyed)",
           (("rw", "randrw"), ("rwmixread", "70"), ("bs", "4k"))),
)


def job_text(job: FioJob, device: str = DEFAULT_DEVICE, size: str | None = None,
             runtime: int | None = None) -> str:
    """The fio job file for one job. runtime (seconds) makes it time based instead of one pass."""
    if not device or any(c in device for c in "\n\r="):
        raise UsageError(f"invalid fio device {device!r}")
    lines = [f"; esxpath: {job.comment}",
             "; run inside the test VM:  fio --output-format=json --output=<vm>-<job>.json <this file>",
             f"[{job.section}]", f"filename={device}"]
    lines += [f"{k}={v}" for k, v in _COMMON + job.options]
    if size:
        lines.append(f"size={size}")
    if runtime:
        lines += [f"runtime={int(runtime)}", "time_based=1"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class FioResult:
    """One direction (read or write) of one fio job in one report file."""

    source: str  # the report's name (file stem: usually the VM)
    job: str  # jobname
    rw: str  # randread | read | randrw | ... (from the job options)
    direction: str  # read | write
    iops: float
    bw_kib: float  # KiB/s, as fio reports it
    mean_us: float | None  # completion latency mean (clat); total lat if clat is missing
    p99_us: float | None
    p999_us: float | None
    runtime_ms: int
    io_bytes: int
    error: int = 0  # fio's job error (errno), 0 when fine

    @property
    def bw_mib(self) -> float:
        return self.bw_kib / 1024.0


def _decode(text: str, source: str) -> dict:
    # fio may print warnings ("fio: ...") before the JSON document when --output is not used.
    start = text.find("{")
    if start < 0:
        raise UsageError(f"{source}: not fio JSON output (no JSON object found)")
    try:
        doc, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError as e:
        raise UsageError(f"{source}: not fio JSON output ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), list):
        raise UsageError(f"{source}: not fio JSON output (no \"jobs\" list); "
                         "run fio with --output-format=json")
    return doc


def _latency(stats: dict) -> tuple[float | None, float | None, float | None]:
    """(mean, p99, p99.9) in microseconds from clat_ns (fio >= 3), else lat_ns, else the
    microsecond clat/lat of fio 2.x. Percentiles can be missing (clat_percentiles=0)."""
    for key, scale in (("clat_ns", 1000.0), ("lat_ns", 1000.0), ("clat", 1.0), ("lat", 1.0)):
        block = stats.get(key)
        if not isinstance(block, dict) or "mean" not in block:
            continue
        pct = block.get("percentile") or {}
        # a block without samples (e.g. clat_ns of a job with lat_percentiles only) has no
        # percentiles: prefer the next block that has them, if any
        if not pct and any(isinstance(stats.get(k), dict) and stats[k].get("percentile")
                           for k in ("clat_ns", "lat_ns", "clat", "lat") if k != key):
            continue

        def p(name: str, pct=pct, scale=scale) -> float | None:
            v = pct.get(name)
            return float(v) / scale if isinstance(v, (int, float)) else None

        return float(block["mean"]) / scale, p("99.000000"), p("99.900000")
    return None, None, None


def parse_fio_json(text: str, source: str) -> list[FioResult]:
    """FioResults of one fio --output-format=json report: a row per job and direction that did
    I/O. Raises UsageError for anything that is not fio JSON."""
    doc = _decode(text, source)
    results = []
    global_rw = (doc.get("global options") or {}).get("rw", "")
    for job in doc["jobs"]:
        if not isinstance(job, dict) or "jobname" not in job:
            raise UsageError(f"{source}: not fio JSON output (job without jobname)")
        rw = (job.get("job options") or {}).get("rw", global_rw)
        for direction in ("read", "write"):
            stats = job.get(direction)
            if not isinstance(stats, dict):
                continue
            io_bytes = int(stats.get("io_bytes", stats.get("io_kbytes", 0) * 1024))
            if io_bytes == 0 and not stats.get("iops"):
                continue
            mean, p99, p999 = _latency(stats)
            results.append(FioResult(
                source=source, job=str(job["jobname"]), rw=rw, direction=direction,
                iops=float(stats.get("iops", 0.0)), bw_kib=float(stats.get("bw", 0.0)),
                mean_us=mean, p99_us=p99, p999_us=p999,
                runtime_ms=int(stats.get("runtime", 0)), io_bytes=io_bytes,
                error=int(job.get("error", 0))))
    if not results:
        raise UsageError(f"{source}: fio report without any completed I/O")
    return results


def fio_status(results: list[FioResult]) -> Severity:
    """DRIFT when a fio job reported an error."""
    return Severity.DRIFT if any(r.error for r in results) else Severity.OK
