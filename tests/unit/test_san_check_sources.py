"""esxpath/san/sources.py: --san files (and stdin) and --san-cmd commands; every failure is one
line naming the file or command, with the exit status the docs give (78 bad dump, 3 failed
command)."""
from __future__ import annotations

import io
import json
import os
import signal
import sys

import pytest

from esxpath.app.san_inputs import SanInputs
from esxpath.errors import ExitStatus, exit_status
from esxpath.san import sources
from esxpath.san.view import SanDumpError
from esxpath.san.sources import SanCommandFailed, read_dumps

from test_san_check import dump


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_files_and_commands_give_the_nodes(tmp_path):
    f1 = write(tmp_path, "s1.json", json.dumps(dump("storage1")))
    f2 = write(tmp_path, "s2.json", json.dumps(dump("storage2")))
    nodes = read_dumps((f1,), (f"cat {f2}",), 10)
    assert [(n.node, n.origin) for n in nodes] == [("storage1", f1),
                                                   ("storage2", f"--san-cmd 'cat {f2}'")]


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(
        dump("storage2")).encode())))
    assert [n.node for n in read_dumps(("-",), (), 10)] == ["storage2"]
    with pytest.raises(SanDumpError, match="stdin can be read once only"):
        read_dumps(("-", "-"), (), 10)


def test_files_and_stdin_are_read_once_commands_on_every_try(tmp_path, monkeypatch):
    """check --wait: each try reads the dumps again; stdin (and files) must not be re-read
    (stdin is empty the second time), --san-cmd is run again (the SAN may change)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(
        dump("storage2")).encode())))
    runs = tmp_path / "runs"
    f1 = write(tmp_path, "s1.json", json.dumps(dump("storage1")))
    san = SanInputs(("-",), (f"echo x >> {runs}; cat {f1}",), 10, 300)
    kept = san.read_files()
    tries = [san.read(kept) for _ in range(3)]
    assert [[n.node for n in t.nodes] for t in tries] == [["storage2", "storage1"]] * 3
    assert runs.read_text().split() == ["x", "x", "x"]
    assert {t.max_age for t in tries} == {300} and all(t.now.tzinfo for t in tries)


@pytest.mark.parametrize("text, words", [
    (None, ("cannot read the SAN dump", "No such file")),
    ("", ("empty",)),
    (json.dumps(dump("storage1"))[:-40], ("invalid JSON (truncated?)",)),
    (json.dumps({"schema": "esxpath/report/1", "command": "audit"}),
     ("schema is 'esxpath/report/1'",)),
], ids=("missing", "empty", "truncated", "foreign"))
def test_bad_file_is_one_line_naming_it(tmp_path, text, words):
    path = str(tmp_path / "storage1.json") if text is None else write(tmp_path, "storage1.json", text)
    with pytest.raises(SanDumpError) as e:
        read_dumps((path,), (), 10)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg
    assert all(w in msg for w in words), msg
    assert exit_status(e.value) == ExitStatus.CONFIG
    assert exit_status(e.value, monitoring=True) == ExitStatus.UNKNOWN


def test_failed_command_is_one_line_with_its_last_error_line():
    with pytest.raises(SanCommandFailed) as e:
        read_dumps((), ("echo starting >&2; echo 'ssh: connect to host storage2: refused' >&2;"
                        " exit 255",), 10)
    assert str(e.value) == ("--san-cmd \"echo starting >&2; echo 'ssh: connect to host storage2:"
                            " refused' >&2; exit 255\": exit 255: ssh: connect to host storage2:"
                            " refused")
    assert exit_status(e.value) == ExitStatus.UNKNOWN


def test_command_printing_no_dump():
    with pytest.raises(SanDumpError, match=r"^--san-cmd 'true': empty"):
        read_dumps((), ("true",), 10)


def test_command_that_hangs_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    cmd = f"sleep 600 & echo $! > {pidfile}; wait"  # the shell waits on a child (ssh, say)
    with pytest.raises(SanCommandFailed, match=r"no answer within 1s \(killed\)"):
        read_dumps((), (cmd,), 1)
    pid = int(pidfile.read_text())
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "gone"
    assert state in ("gone", "Z", "X"), f"the command's child {pid} still runs ({state})"


def test_command_never_sees_the_vcenter_password(tmp_path, monkeypatch):
    f = write(tmp_path, "s2.json", json.dumps(dump("storage2")))
    monkeypatch.setenv("ESXPATH_PASSWORD", "s3cret")
    monkeypatch.setenv("GOVC_URL", "https://u:s3cret@vc/sdk")
    monkeypatch.setenv("ESXPATH_USER", "admin")
    cmd = (f'env | grep -q s3cret && exit 7; [ "$ESXPATH_USER" = admin ] || exit 8; cat {f}')
    assert [n.node for n in read_dumps((), (cmd,), 10)] == ["storage2"]


def test_command_whose_group_is_gone_when_killed(tmp_path, monkeypatch):
    """The command's process group ends between the timeout and the kill: killpg raises
    ProcessLookupError, which is no crash (exit 70) but the usual timeout error."""
    real_killpg = os.killpg

    def killpg_of_a_gone_group(pgid, sig):
        real_killpg(pgid, signal.SIGKILL)  # the group ends (as if by itself) ...
        raise ProcessLookupError(3, "No such process")  # ... and the kill finds it gone
    monkeypatch.setattr(sources.os, "killpg", killpg_of_a_gone_group)
    with pytest.raises(SanCommandFailed, match=r"no answer within 1s \(killed\)"):
        read_dumps((), ("sleep 600",), 1)


def test_killed_command_is_not_waited_for_through_an_escaped_child(tmp_path):
    """A child that left the command's process group (setsid) keeps its stdout open: after the
    kill, esxpath collects the command without waiting for that child to close the pipe."""
    pidfile = tmp_path / "escaped.pid"
    cmd = f"setsid sleep 30 & echo $! > {pidfile}; sleep 600"
    try:
        with pytest.raises(SanCommandFailed, match=r"no answer within 1s \(killed\)"):
            read_dumps((), (cmd,), 1)
        pid = int(pidfile.read_text())
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:  # still there: not waited for
            assert fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    finally:
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
