"""TaskBars: bars only on a terminal, one line per task, redrawn in place."""
import io

from esxpath.progress import TaskBars


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_nothing_is_drawn_when_not_a_terminal():
    out = io.StringIO()
    bars = TaskBars(out)
    bars("fio-a", 50, "running")
    assert out.getvalue() == "" and not bars.enabled


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
