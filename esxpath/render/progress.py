"""Progress of long vSphere tasks (eager zeroing) on stderr, in the form the reader can use.

TaskBars is the `progress(name, percent, state)` callback esxpath.vsphere.provision takes.
On a terminal: one bar per task, redrawn in place with ANSI cursor movement. Not a terminal
(cron, `| tee`, CI): plain lines a log can keep, one per step (a task started, done, failed)
and a percentage line at most every PERIOD seconds, so minutes of zeroing are not silent and
a long run does not fill the log.
"""
from __future__ import annotations

import sys
import threading
import time

WIDTH = 30
PERIOD = 10.0  # seconds between two percentage lines without a terminal
SHOWN = 5  # running tasks named in a percentage line; the rest are counted
_LABELS = {"success": "done", "error": "FAILED", "timeout": "TIMEOUT"}


class TaskBars:
    def __init__(self, stream=None, enabled: bool | None = None, clock=time.monotonic,
                 period: float = PERIOD):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled  # bars; False: plain lines
        self._clock = clock
        self._period = period
        self._lines: dict[str, str] = {}  # task name -> last drawn text, in first-seen order
        self._start: dict[str, float] = {}
        self._percent: dict[str, int] = {}  # every task seen: its last percentage
        self._ended: set[str] = set()
        self._last_percent_line: float | None = None  # None: no step yet
        self._drawn = 0  # lines currently on screen
        self._lock = threading.Lock()

    def __call__(self, name: str, percent: int | None, state: str) -> None:
        with self._lock:
            first = name not in self._start
            self._start.setdefault(name, self._clock())
            if self.enabled:
                self._lines[name] = self._line(name, percent, state)
                self._redraw()
            else:
                self._log(name, percent, state, first)

    def _line(self, name: str, percent: int | None, state: str) -> str:
        pct = max(0, min(100, percent or 0))
        fill = WIDTH * pct // 100
        bar = "#" * fill + "-" * (WIDTH - fill)
        secs = self._clock() - self._start[name]
        label = {"running": f"{pct:3d}%", **_LABELS}.get(state, state)
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

    # ------------------------------------------------------------ without a terminal

    def _log(self, name: str, percent: int | None, state: str, first: bool) -> None:
        now = self._clock()
        out = []
        if state == "running" and name not in self._ended:
            self._percent[name] = max(0, min(100, percent or 0))
            if first:
                out.append(f"esxpath: {name}: started")
            if self._last_percent_line is None:
                self._last_percent_line = now  # the first percentage line comes PERIOD later
            elif now - self._last_percent_line >= self._period:
                out.append(self._percent_line())
                self._last_percent_line = now
        elif state != "running" and name not in self._ended:
            self._ended.add(name)
            label = _LABELS.get(state, state)
            out.append(f"esxpath: {name}: {label} after {now - self._start[name]:.1f}s")
            if self._last_percent_line is None:
                self._last_percent_line = now
        if out:
            self.stream.write("".join(line + "\n" for line in out))
            self.stream.flush()

    def _percent_line(self) -> str:
        # per task: no overall figure, steps without a percentage (datastores) would skew it
        running = [(n, p) for n, p in self._percent.items() if n not in self._ended]
        named = ", ".join(f"{n} {p}%" for n, p in running[:SHOWN])
        more = f", +{len(running) - SHOWN} more" if len(running) > SHOWN else ""
        return f"esxpath: {named}{more} ({len(running)} running, {len(self._ended)} ended)"
