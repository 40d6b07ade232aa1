"""TaskBars: on a terminal one bar per task, redrawn in place; otherwise plain lines, one per
step and a percentage line at most every 10 s (an injected clock: nothing here sleeps)."""
import io

from esxpath.render.progress import PERIOD, TaskBars


class Tty(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_one_plain_line_per_step():
    out, clock = io.StringIO(), Clock()
    bars = TaskBars(out, clock=clock)
    assert not bars.enabled
    bars("datastore SSD-RAID6-1", None, "running")
    clock.now += 1.5
    bars("datastore SSD-RAID6-1", 100, "success")
    bars("fio-a", 0, "running")
    bars("fio-b", 0, "running")
    clock.now += 3
    bars("fio-a", 40, "running")  # within 10 s of the first step: no percentage line
    bars("fio-a", 100, "success")
    bars("fio-b", 20, "error")
    bars("fio-b", 30, "running")  # a late update of an ended task: nothing
    assert out.getvalue().splitlines() == [
        "esxpath: datastore SSD-RAID6-1: started",
        "esxpath: datastore SSD-RAID6-1: done after 1.5s",
        "esxpath: fio-a: started",
        "esxpath: fio-b: started",
        "esxpath: fio-a: done after 3.0s",
        "esxpath: fio-b: FAILED after 3.0s",
    ]
    assert "\x1b" not in out.getvalue() and "#" not in out.getvalue()


def test_without_a_terminal_a_percentage_line_at_most_every_10_seconds():
    out, clock = io.StringIO(), Clock()
    bars = TaskBars(out, clock=clock)
    bars("fio-a", 0, "running")
    bars("fio-b", 0, "running")
    start = clock.now
    for tick in range(1, 71):  # 35 s of updates, two a second
        clock.now = start + tick / 2
        bars("fio-a", min(100, tick), "running")
        bars("fio-b", tick // 2, "running")
    percent = [line for line in out.getvalue().splitlines() if "%" in line]
    # at 10, 20 and 30 s, printed by fio-a's update (fio-b's of that instant comes after it)
    assert percent == [
        "esxpath: fio-a 20%, fio-b 9% (2 running, 0 ended)",
        "esxpath: fio-a 40%, fio-b 19% (2 running, 0 ended)",
        "esxpath: fio-a 60%, fio-b 29% (2 running, 0 ended)",
    ]
    assert PERIOD == 10.0
    clock.now += 4  # an end is a step: its line comes at once, the next percentage 10 s on
    bars("fio-a", 100, "success")
    clock.now += 6  # 10 s after the last percentage line
    bars("fio-b", 40, "running")
    assert out.getvalue().splitlines()[-2:] == [
        "esxpath: fio-a: done after 39.0s",
        "esxpath: fio-b 40% (1 running, 1 ended)"]


def test_without_a_terminal_many_running_tasks_are_counted_not_all_named():
    out, clock = io.StringIO(), Clock()
    bars = TaskBars(out, clock=clock)
    for i in range(8):
        bars(f"fio-{i}", 0, "running")
    clock.now += PERIOD
    bars("fio-0", 50, "running")
    assert out.getvalue().splitlines()[-1] == (
        "esxpath: fio-0 50%, fio-1 0%, fio-2 0%, fio-3 0%, fio-4 0%, +3 more (8 running, 0 ended)")


def test_one_line_per_task_redrawn_in_place():
    now = [0.0]
    out = Tty()
    bars = TaskBars(out, clock=lambda: now[0])
    bars("fio-a", 0, "running")
    bars("fio-b", 0, "running")
    now[0] = 2.0
    bars("fio-a", 50, "running")
    bars("fio-b", 100, "success")
    text = out.getvalue()
    assert "\x1b[2F" in text  # moved up over both bars
    last = text.split("\x1b[2F")[-1].split("\n")
    assert "fio-a" in last[0] and "#" * 15 + "-" * 15 in last[0] and " 50%" in last[0] and "2.0s" in last[0]
    assert "fio-b" in last[1] and "#" * 30 in last[1] and "done" in last[1]


def test_failure_states_are_labelled():
    out = Tty()
    bars = TaskBars(out)
    bars("fio-a", None, "timeout")
    bars("fio-b", 20, "error")
    assert "TIMEOUT" in out.getvalue() and "FAILED" in out.getvalue()
