"""The node_exporter textfile: written atomically (node_exporter must never read half a file),
and honest about staleness. Every file carries `esxpath_audit_success` and
`esxpath_audit_last_success_timestamp_seconds`: a run that could not audit writes success 0 and
keeps the timestamp of the last run that could, so that alerting sees a stale result instead
of an old `esxpath_audit_status 0` on an estate nobody has looked at since."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping

from ..errors import ConfigError
from ..render.output import escape_label
from . import files

SUCCESS = "esxpath_audit_success"
LAST_SUCCESS = "esxpath_audit_last_success_timestamp_seconds"
_LAST_RE = re.compile(rf"^{LAST_SUCCESS}(?:{{[^}}]*}})? ([0-9.eE+]+)$", re.M)
_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:{(.*)})? (.*)$")


def with_labels(text: str, labels: Mapping[str, str] | None) -> str:
    """Every sample of `text` also labelled with `labels` (a label it has already is kept):
    each profile's textfile carries vcenter="NAME", so that node_exporter can serve several
    side by side (same names and labels in two files would be duplicate series)."""
    if not labels:
        return text
    out = []
    for line in text.splitlines():
        m = _SAMPLE_RE.match(line)
        if m is None or line.startswith("#"):
            out.append(line)
            continue
        name, inner, value = m.groups()
        have = {part.split("=", 1)[0] for part in (inner or "").split(",") if "=" in part}
        extra = [f'{k}="{escape_label(v)}"' for k, v in labels.items() if k not in have]
        parts = ([inner] if inner else []) + extra
        out.append(f"{name}{{{','.join(parts)}}} {value}" if parts else line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def write_atomic(path: str, text: str) -> None:
    """The textfile, atomically; a path that is there but not a regular file (a device node,
    a FIFO, a directory) is refused and left as it is (files.write_atomic)."""
    try:
        files.write_atomic(path, text if text.endswith("\n") else text + "\n", 0o644)
    except OSError as e:  # 0644: node_exporter runs as another user
        raise ConfigError(f"cannot write {path}: {e.strerror or e}") from None


def status_families(success: int, last: float | None) -> str:
    """The staleness pair as the textfile writes it (the exporter serves the same)."""
    out = [f"# HELP {SUCCESS} 1 if this run audited the estate, 0 if it could not.",
           f"# TYPE {SUCCESS} gauge", f"{SUCCESS} {success}"]
    if last is not None:
        out += [f"# HELP {LAST_SUCCESS} When the last successful audit ran (Unix time).",
                f"# TYPE {LAST_SUCCESS} gauge", f"{LAST_SUCCESS} {last:.3f}"]
    return "\n".join(out) + "\n"


def last_success(path: str) -> float | None:
    """The last successful audit's time, from the file as it is now (None: none known)."""
    try:  # not a regular file (/dev/zero): no last success, and nothing read
        with files.open_input(path) as f:
            m = _LAST_RE.search(f.read())
    except (OSError, ValueError):
        return None
    return float(m.group(1)) if m else None


def publish(path: str, metrics: str, now: float | None = None,
            labels: Mapping[str, str] | None = None) -> str | None:
    """A successful audit's metrics; None when written, else why not. If the full file cannot
    be written, the staleness pair is tried, and if even that fails the old file is removed:
    a missing file alerts, an old one would lie. labels: added to every sample (with_labels)."""
    try:
        write_atomic(path, with_labels(
            metrics + status_families(1, time.time() if now is None else now), labels))
        return None
    except ConfigError as e:
        problem = str(e)
    return problem + _stale(path, labels)


def publish_failure(path: str, metrics: str,
                    labels: Mapping[str, str] | None = None) -> str | None:
    """A run that could not audit: its error metrics, success 0, and the last success kept."""
    try:
        write_atomic(path, with_labels(metrics + status_families(0, last_success(path)), labels))
        return None
    except ConfigError as e:
        return str(e) + _stale(path, labels)


def _stale(path: str, labels: Mapping[str, str] | None = None) -> str:
    try:
        write_atomic(path, with_labels(status_families(0, last_success(path)), labels))
        return "; wrote esxpath_audit_success 0 instead"
    except ConfigError:
        pass
    if not os.path.lexists(path):
        return ""
    try:
        files.remove_regular(path)  # never a device node or anything else that is not ours
        return "; removed the old file so that it cannot report an old result"
    except OSError as e:
        return f"; could not remove the old file either ({e.strerror})"
