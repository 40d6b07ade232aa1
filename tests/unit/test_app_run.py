"""Issue 24: check's wait loops and watch's polling are app functions without click (esxpath/app),
run here with a fake runtime and a fake clock: no click context, no vCenter, no sleeping."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from esxpath.app.check import CheckRequest, check
from esxpath.app.watch import watch
from esxpath.core.storage_events import StorageWindow
from esxpath.core.model import Expectation, Scope, Selector, Severity
from esxpath.errors import ExitStatus, Terminated, UsageError

from factory import HOSTS, compliant, lab
from test_verify import failed_over

T0 = datetime(2026, 12, 8, 0, 0, tzinfo=timezone.utc)
ESXPATH = Path(__file__).resolve().parents[2] / "esxpath"


@dataclass(frozen=True)
class FakeWhere:
    scope: Scope = Scope()
    selector: Selector = Selector()
    parallel: int = 8
    expect: Expectation = Expectation()


class FakeClock:
    """Time moves only when the loop sleeps."""

    def __init__(self):
        self.now, self.slept = 100.0, []

    def monotonic(self):
        return self.now

    def time(self):
        return 1_800_000_000.0 + self.now

    def sleep(self, s):
        self.slept.append(s)
        self.now += s


@dataclass
class FakeRuntime:
    """Answers the reads in order (the last one again once used up); an exception is raised."""

    answers: list
    reads: int = 0
    windows: list = field(default_factory=list)

    def read(self, conn, where, **extra):
        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def events_start(self, conn, back=0.0):
        return T0 - timedelta(seconds=back)

    def storage_events(self, conn, inventory, start=None, back=0.0):
        self.windows.append(start)
        return StorageWindow(start, T0 + timedelta(seconds=self.reads))  # no event in it


def test_the_gate_reads_again_until_safe_and_sleeps_the_interval():
    rt, clock = FakeRuntime([lab(), lab(), compliant()]), FakeClock()  # MRU: not safe
    report = check(rt, None, FakeWhere(), CheckRequest(wait=30, interval=2), clock)
    assert report.status == Severity.OK and report.command == "check"
    assert rt.reads == 3 and clock.slept == [2, 2]
    assert report.targets and all(t == 2 for _, t in report.targets)


def test_the_gate_gives_up_when_the_wait_is_up_and_says_why():
    rt, clock = FakeRuntime([lab()]), FakeClock()
    report = check(rt, None, FakeWhere(), CheckRequest(wait=5, interval=2), clock)
    assert rt.reads == 4 and clock.slept == [2, 2, 1]  # the last sleep ends at the deadline
    assert report.status == Severity.DANGER
    assert any(f.severity > Severity.OK for f in report.findings)


def test_without_wait_the_gate_reads_once():
    rt, clock = FakeRuntime([lab()]), FakeClock()
    assert check(rt, None, FakeWhere(), CheckRequest(), clock).status == Severity.DANGER
    assert rt.reads == 1 and clock.slept == []


def test_after_failover_waits_for_the_new_group_and_times_each_host():
    rt, clock = FakeRuntime([compliant(), failed_over()]), FakeClock()
    req = CheckRequest(to_tpg=2, after_failover=True, wait=60, interval=3)
    report = check(rt, None, FakeWhere(), req, clock)
    assert report.status == Severity.OK and rt.reads == 2
    assert dict(report.timings) == {h: 3.0 for h in HOSTS}
    assert report.not_judged == ("redundancy", "storage-events") and rt.windows == []


def test_after_failover_reads_the_events_when_the_paths_say_complete():
    rt, clock = FakeRuntime([compliant(), failed_over()]), FakeClock()
    req = CheckRequest(to_tpg=2, after_failover=True, wait=60, interval=3, events_since=120)
    report = check(rt, None, FakeWhere(), req, clock)
    # read once, when the paths said complete (the second read), and judged: no second read
    assert rt.windows == [T0 - timedelta(seconds=120)] and report.not_judged == ("redundancy",)
    assert report.storage is not None and report.status == Severity.OK


def test_the_profiles_min_paths_applies_unless_given():
    rt = FakeRuntime([compliant()])
    where = FakeWhere(expect=Expectation(min_paths=3))  # each host has 2 live ANO paths
    assert check(rt, None, where, CheckRequest(), FakeClock()).status == Severity.DANGER
    assert check(rt, None, where, CheckRequest(min_paths=2), FakeClock()).status == Severity.OK


def test_contradicting_options_are_a_usage_error_before_any_read():
    rt = FakeRuntime([compliant()])
    with pytest.raises(UsageError, match="--after-failover needs"):
        check(rt, None, FakeWhere(), CheckRequest(after_failover=True), FakeClock())
    assert rt.reads == 0


def test_watch_polls_until_switched_and_says_when_it_started():
    rt, clock, said = FakeRuntime([compliant(), compliant(), failed_over()]), FakeClock(), []
    seen = watch(rt, None, FakeWhere(), 1, 60, until_switched=True, events=False,
                 notify=said.append, clock=clock)
    assert rt.reads == 3 and seen.timeline.all_switched and seen.status == Severity.OK
    assert said == ["esxpath: watching 5 host(s) every 1s for up to 60s"]
    assert seen.error is None and seen.storage is None and rt.windows == []


def test_watch_polls_for_the_duration_without_until_switched():
    rt, clock = FakeRuntime([compliant()]), FakeClock()
    watch(rt, None, FakeWhere(), 2, 5, events=False, clock=clock)
    assert rt.reads == 4 and clock.slept == [2, 2, 1]


@pytest.mark.parametrize("stop,status", [(KeyboardInterrupt(), ExitStatus.INTERRUPTED),
                                         (Terminated(), ExitStatus.TERMINATED)])
def test_a_signal_ends_the_watch_with_the_timeline_so_far(stop, status):
    rt, said = FakeRuntime([compliant(), failed_over(), stop]), []
    seen = watch(rt, None, FakeWhere(), 1, 60, notify=said.append, clock=FakeClock())
    assert seen.error is not None and seen.error.status == status and seen.error.reported
    assert said[-1] == "esxpath: interrupted; the timeline so far:"
    assert seen.last == failed_over() and rt.windows == [T0]  # the window still read


def test_a_signal_before_the_first_sample_is_not_swallowed():
    rt = FakeRuntime([KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):  # the CLI's exit path then prints its error document
        watch(rt, None, FakeWhere(), 1, 60, clock=FakeClock())
    assert rt.reads == 1


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


@pytest.mark.parametrize("name", ["apply", "check", "watch", "ports"])
def test_the_use_cases_do_not_import_click_or_the_cli(name):
    imports = _imports(ESXPATH / "app" / f"{name}.py")
    assert not {i for i in imports if i.split(".")[0] == "click" or i.lstrip(".").startswith("cli")
                or i.startswith("esxpath.cli")}, imports


@pytest.mark.parametrize("name", ["apply", "gate"])
def test_the_cli_modules_of_apply_check_and_watch_are_thin(name):
    """No wait or poll loop, no clock, no signal, no vSphere: no read, lock or session through
    the runtime either. They parse options, call app, render, emit."""
    path = ESXPATH / "cli" / f"{name}.py"
    tree = ast.parse(path.read_text())
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.While)] == []
    uses = [f"line {n.lineno}: rt.{n.attr}" for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "rt"]
    assert uses == []
    imports = _imports(path)
    assert not {i for i in imports if i in ("time", "signal") or "vsphere" in i}, imports
