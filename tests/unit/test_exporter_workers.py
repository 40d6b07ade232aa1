"""The exporter's workers without a vCenter: runners that record how many reads of one
vCenter are in flight. Two profiles on the same vCenter take turns; each target is refreshed."""
from __future__ import annotations

import threading

from esxpath.exporter import Exporter, TargetSpec
from esxpath.model import Report


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
