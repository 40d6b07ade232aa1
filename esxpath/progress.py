"""Progress bars for long vSphere tasks (eager zeroing), drawn on stderr only when it is a terminal.

TaskBars is the `progress(name, percent, state)` callback esxpath.vsphere.provision takes:
one line per task, redrawn in place with ANSI cursor movement. Not a terminal (cron, pipes,
CI): nothing is drawn, so logs stay clean; the command's result table says what happened.
"""
from __future__ import annotations

import sys
import threading
import time

WIDTH = 30


class TaskBars:
    def __init__(self, stream=None, enabled: bool | None = None, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self._clock = clock
        self._lines: dict[str, str] = {}  # task name -> last drawn text, in first-seen order
        self._start: dict[str, float] = {}
        self._drawn = 0  # lines currently on screen
        self._lock = threading.Lock()

    def __call__(self, name: str, percent: int | None, state: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._start.setdefault(name, self._clock())
            self._lines[name] = self._line(name, percent, state)
            self._redraw()

    def _line(self, name: str, percent: int | None, state: str) -> str:
        pct = max(0, min(100, percent or 0))
        fill = WIDTH * pct // 100
        bar = "#" * fill + "-" * (WIDTH - fill)
        secs = self._clock() - self._start[name]
        label = {"running": f"{pct:3d}%", "success": "done", "error": "FAILED",
                 "timeout": "TIMEOUT"}.get(state, state)
        return f"{name:<28} [{bar}] {label:>7} {secs:6.1f}s"

    def _redraw(self) -> None:
        out = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}F")  # back to the first bar line
        for text in self._lines.values():
            out.append("\x1b[2K" + text + "\n")
        self._drawn = len(self._lines)
        self.stream.write("".join(out))
        self.stream.flush()
