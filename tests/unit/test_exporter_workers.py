"""The exporter's workers without a vCenter: runners that record how many reads of one
vCenter are in flight. Two profiles on the same vCenter take turns; each target is refreshed."""
from __future__ import annotations

import threading

from esxpath.app.exporter import Exporter, TargetSpec
from esxpath.core.model import Report


class Runner:
    """Stands in for AuditRunner: a run holds its 'vCenter' until the test has seen it."""

    def __init__(self, server: str, book: dict, lock: threading.Lock, runs: int) -> None:
        self.server, self.book, self.lock = server, book, lock
        self.left = threading.Semaphore(0)
        self.done = threading.Event()
        self.runs = runs
        self.closed = False

    def run(self) -> Report:
        with self.lock:
            self.book["now"][self.server] = self.book["now"].get(self.server, 0) + 1
            self.book["max"][self.server] = max(self.book["max"].get(self.server, 0),
                                                self.book["now"][self.server])
        threading.Event().wait(0.01)  # give another worker the chance to overlap, if it could
        with self.lock:
            self.book["now"][self.server] -= 1
        self.runs -= 1
        if self.runs <= 0:
            self.done.set()
        return Report(command="audit")

    def close(self) -> None:
        self.closed = True


def test_targets_on_one_vcenter_never_read_it_at_once():
    book: dict = {"now": {}, "max": {}}
    lock = threading.Lock()
    runners = {"a": Runner("vc1:443", book, lock, 5), "b": Runner("vc1:443", book, lock, 5),
               "c": Runner("vc2:443", book, lock, 5)}
    exp = Exporter([TargetSpec(n, r.server, 0, r) for n, r in runners.items()])  # type: ignore[arg-type]
    exp.start()
    try:
        for r in runners.values():
            assert r.done.wait(120), "a target was not refreshed"
    finally:
        assert exp.stop() == []
    assert book["max"]["vc1:443"] == 1  # profiles a and b share vc1: one read at a time
    assert all(r.closed for r in runners.values())  # every worker logged out on stop
    assert all(exp.targets[n].result is not None and exp.targets[n].result.success for n in runners)


class Once:
    """A runner whose every run succeeds; `runs` counts them, `wanted` ends the wait."""

    def __init__(self, wanted: int) -> None:
        self.runs = 0
        self.enough = threading.Event()
        self.wanted = wanted

    def run(self) -> Report:
        self.runs += 1
        if self.runs >= self.wanted:
            self.enough.set()
        return Report(command="audit")

    def close(self) -> None:
        pass


def _success(state) -> float:
    for family in state.result.families:
        for sample in family.samples:
            if sample.name == "esxpath_audit_success":
                return sample.value
    raise AssertionError("no esxpath_audit_success")


def test_a_refresh_that_fails_in_rendering_is_served_as_failed_and_the_next_one_works(monkeypatch):
    import esxpath.app.exporter as exporter
    real = exporter.render
    calls = []

    def render(report, fmt):
        calls.append(fmt)
        if len(calls) == 2:  # the second refresh breaks while rendering
            raise RuntimeError("broken renderer")
        return real(report, fmt)

    monkeypatch.setattr(exporter, "render", render)
    state = exporter.TargetState(TargetSpec("a", "vc1:443", 0, Once(99)))  # type: ignore[arg-type]
    assert state.refresh() is True and _success(state) == 1
    assert state.refresh() is False and _success(state) == 0  # not the last success, served on
    assert state.result is not None and not state.result.success
    assert state.refresh() is True and _success(state) == 1


def test_the_worker_survives_an_error_outside_the_refresh(monkeypatch):
    """Anything raising in a worker's iteration (here: the refresh itself) is logged and the
    worker goes on: the target is refreshed again, and served as failed meanwhile."""
    import esxpath.app.exporter as exporter
    runner = Once(3)
    exp = Exporter([TargetSpec("a", "vc1:443", 0, runner)])  # type: ignore[arg-type]
    state = exp.targets["a"]
    real = exporter.TargetState.refresh
    seen = []

    def refresh(self):
        seen.append(1)
        if len(seen) == 1:
            raise RuntimeError("a bug outside the try")
        return real(self)

    monkeypatch.setattr(exporter.TargetState, "refresh", refresh)
    exp.start()
    try:
        assert runner.enough.wait(120), "the worker died after the error"
    finally:
        assert exp.stop() == []
    assert len(seen) >= 4 and state.result is not None and state.result.success


def _get(exp, query: str) -> tuple[str, bytes]:
    status = []
    body = b"".join(exp.app({"PATH_INFO": "/metrics", "QUERY_STRING": query,
                             "REQUEST_METHOD": "GET"},
                            lambda s, headers: status.append(s)))
    return status[0], body


def test_a_repeated_target_is_400_and_name_filters_are_ignored_for_a_target():
    exp = Exporter([TargetSpec(n, "vc1:443", 0, Once(1)) for n in ("a", "b")])  # type: ignore[arg-type]
    status, body = _get(exp, "target=a&target=b")
    assert status.startswith("400") and b"more than once" in body
    status, body = _get(exp, "target=a&name[]=esxpath_audit_success")
    assert status.startswith("200") and b'esxpath_audit_pending{vcenter="a"} 1.0' in body


def test_one_vcenter_spelled_in_two_cases_shares_one_lock():
    exp = Exporter([TargetSpec("a", "VC1.example.com:443", 0, Once(1)),  # type: ignore[arg-type]
                    TargetSpec("b", "vc1.example.com:443", 0, Once(1))])  # type: ignore[arg-type]
    assert len(exp._server_locks) == 1


START_FAILS = """
import sys
import esxpath.app.exporter as e
def start(self):
    raise RuntimeError("cannot start a thread")
e.Exporter.start = start
from esxpath.cli import run
sys.argv = ["esxpath", "exporter", "--config", sys.argv[1], "--listen", "127.0.0.1:0"]
run()
"""


def test_an_exporter_whose_workers_cannot_start_ends_instead_of_hanging(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    pw = tmp_path / "lab.pw"
    pw.write_text("pw\n")
    pw.chmod(0o600)
    cfg = tmp_path / "esxpath.toml"
    cfg.write_text(f'[vcenter.lab]\nserver = "127.0.0.1:9"\nuser = "u"\npassword_file = "{pw}"\n')
    env = {**os.environ, "PYTHONPATH": str(root)}
    try:  # a deadline to give up, not a timing assertion: the old code waited forever
        r = subprocess.run([sys.executable, "-c", START_FAILS, str(cfg)], capture_output=True,
                           text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AssertionError("the exporter hung after its workers failed to start") from None
    assert r.returncode == 70, r.stderr  # an internal error, one line
    assert "internal error: RuntimeError: cannot start a thread" in r.stderr
