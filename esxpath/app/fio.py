"""fio on this machine: write the article's job files, read fio JSON reports from files
(the jobs and the parsing are pure: esxpath.core.fio)."""
from __future__ import annotations

import os

from ..core.fio import DEFAULT_DEVICE, JOBS, FioResult, job_text, parse_fio_json
from ..errors import ConfigError, UsageError
from . import files


def write_jobs(directory: str, device: str = DEFAULT_DEVICE, size: str | None = None,
               runtime: int | None = None) -> list[str]:
    """Write the article's job files into directory (created if missing); returns their paths.
    A directory that cannot be made, or a job file's name taken by anything but a regular file
    (a device node, a FIFO), is a ConfigError (78) and nothing of it is touched."""
    texts = {os.path.join(directory, job.file_name): job_text(job, device, size, runtime)
             for job in JOBS}  # a bad --device is refused before anything is written
    try:
        os.makedirs(directory, exist_ok=True)
        for path in texts:  # every name checked before the first is written
            files.check_output(path)
        for path, text in texts.items():
            files.write_atomic(path, text, 0o644)
    except FileExistsError:
        raise ConfigError(f"cannot write fio jobs to {directory}: not a directory") from None
    except OSError as e:
        where = e.filename if isinstance(e.filename, str) else directory
        raise ConfigError(f"cannot write fio jobs to {where}: {e.strerror or e}") from None
    return list(texts)


def read_reports(paths: list[str]) -> list[FioResult]:
    """parse_fio_json over files; the source is the file name without .json."""
    out: list[FioResult] = []
    for path in paths:
        try:  # a FIFO or device: refused at once, not read
            with files.open_input(path, errors="replace") as fh:
                text = fh.read()
        except OSError as e:
            raise UsageError(f"cannot read fio report {path}: {e.strerror}") from None
        name = os.path.basename(path)
        out += parse_fio_json(text, name[:-5] if name.endswith(".json") else name)
    return out
