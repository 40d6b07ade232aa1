"""--san / --san-cmd as one value: where the storage nodes' `esxpath san dump` documents come
from, and their reads (files once per command, commands on every call)."""
from __future__ import annotations

from dataclasses import dataclass

from ..san.view import DEFAULT_MAX_AGE


@dataclass(frozen=True)
class SanInputs:
    """--san / --san-cmd: where the storage nodes' `esxpath san dump` documents come from."""

    files: tuple[str, ...]
    cmds: tuple[str, ...]
    timeout: float
    max_age: float = DEFAULT_MAX_AGE  # --san-max-age

    @property
    def given(self) -> bool:
        return bool(self.files or self.cmds)

    def read_files(self) -> list:
        """The --san files (and stdin), decoded: read them once per command."""
        from ..san.sources import read_files
        return read_files(self.files)

    def read(self, file_docs: list | None = None):
        """The dumps as san.audit.SanDumps, stamped with this machine's clock: the --san files
        (file_docs: read_files' answer, kept across the tries of check --wait) and the
        --san-cmd commands, run again on every call."""
        from datetime import datetime, timezone

        from ..san.audit import SanDumps
        from ..san.sources import read_dumps
        nodes = read_dumps(self.files, self.cmds, self.timeout, file_docs)
        return SanDumps(nodes, datetime.now(timezone.utc), self.max_age)
