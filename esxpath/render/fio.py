"""fio-report output: the table (aligned columns) and the esxpath/fio/1 JSON document. Pure."""
from __future__ import annotations

import math
from dataclasses import asdict

from ..core.fio import FioResult, fio_status
from ..errors import UsageError
from .columns import align
from .document import envelope, json_text


def _fmt_us(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "-"
    if v >= 1000:
        return f"{v / 1000:.2f}ms"
    return f"{v:.0f}us" if v >= 100 else f"{v:.1f}us"


def _table(results: list[FioResult]) -> str:
    head = ("SOURCE", "JOB", "RW", "DIR", "IOPS", "BW MiB/s", "MEAN", "P99", "P99.9", "ERR")
    rows = [(r.source, r.job, r.rw, r.direction, f"{r.iops:.0f}", f"{r.bw_mib:.1f}",
             _fmt_us(r.mean_us), _fmt_us(r.p99_us), _fmt_us(r.p999_us), str(r.error))
            for r in results]
    return "\n".join(align([head, *rows], right=range(4, 10))) + "\n"


def render_fio(results: list[FioResult], fmt: str = "table") -> str:
    """fio-report output: fmt "table" (aligned columns) or "json" (schema esxpath/fio/1)."""
    if fmt == "table":
        return _table(results)
    if fmt == "json":
        doc = envelope("fio", "fio-report", fio_status(results),
                       fio=[dict(asdict(r), bw_mib=round(r.bw_mib, 3)) for r in results])
        return json_text(doc)
    raise UsageError(f"fio-report supports --output table or json, not {fmt!r}")
