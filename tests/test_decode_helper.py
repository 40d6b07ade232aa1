"""The decode helper process (esxpath/vsphere/helper.py) on the simulator's real esxcli answers.

It must give exactly what decoding in esxpath's own process gives, and never be the reason for a
wrong or missing result: when it cannot start, dies, hangs or gets Ctrl-C, the answers are
decoded in esxpath's process. Real processes throughout; where a test must know that the helper
did the work, esxpath's own decoder is made to fail.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from esxpath.model import Scope
from esxpath.vsphere import Esxcli, read_inventory
from esxpath.vsphere import helper as helper_module
from esxpath.vsphere import inventory
from esxpath.vsphere.esxcli_devices import DEVICE_LIST, PATH_LIST, UnreadableAnswer, devices_from_esxcli
from esxpath.vsphere.helper import DecodeHelper
from esxpath.vsphere.hostprops import SCSI_LUN

pytestmark = pytest.mark.sim


@pytest.fixture
def answers(session):
    """esx01's ScsiLuns and its two esxcli answers, as read_inventory gets them."""
    objects, cleanup = inventory._collect(session, inventory.HOST_PROPERTIES)
    cleanup()
    raw = inventory._select_hosts(objects, Scope(hosts=("esx01",)))[0]
    cli = Esxcli(session, raw.moid, "esx01")
    return raw.props[SCSI_LUN], cli.fetch(DEVICE_LIST), cli.fetch(PATH_LIST)


@pytest.fixture
def helper():
    h = DecodeHelper.start()
    assert h is not None, "the decode helper did not start"
    yield h
    h.close()


@pytest.fixture
def only_the_helper_decodes(monkeypatch):
    """esxpath's own decoder fails: a result can only have come from the helper."""
    def here(*_args):
        raise AssertionError("decoded in esxpath's process, not in the helper")
    monkeypatch.setattr(helper_module, "devices_from_esxcli", here)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not reaped it


def wait_gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_the_helper_decodes_what_esxpath_decodes(answers, helper, only_the_helper_decodes):
    luns, device_list, path_list = answers
    expected = devices_from_esxcli(luns, device_list, path_list)
    assert helper.submit(luns, device_list, path_list)() == expected
    scst = [d for d in expected if d.canonical_name.startswith("eui.")]
    assert scst and all(len(d.paths) == 4 and d.tpgs for d in scst)


def test_read_inventory_is_the_same_with_and_without_the_helper(session, monkeypatch):
    without = read_inventory(session, Scope(), decode_helper=False)
    monkeypatch.setattr(helper_module, "devices_from_esxcli",
                        lambda *_: pytest.fail("decoded in esxpath's process"))
    with_helper = read_inventory(session, Scope(), decode_helper=True)
    assert with_helper == without
    assert len(without.hosts) == 5 and all(h.devices and not h.error for h in without.hosts)


def test_a_helper_that_cannot_start_changes_nothing(session, monkeypatch):
    expected = read_inventory(session, Scope(), decode_helper=False)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    assert DecodeHelper.start() is None
    assert read_inventory(session, Scope(), decode_helper=True) == expected


def test_a_helper_killed_midway_leaves_the_decoding_to_esxpath(answers, helper):
    expected = devices_from_esxcli(*answers)
    assert helper.submit(*answers)() == expected
    os.kill(helper.pid, signal.SIGKILL)
    assert wait_gone(helper.pid)
    for _ in range(3):  # the first may be sent before esxpath notices; none may hang or fail
        assert helper.submit(*answers)() == expected


def test_a_stuck_helper_is_given_up_and_killed(answers, helper):
    expected = devices_from_esxcli(*answers)
    os.kill(helper.pid, signal.SIGSTOP)  # alive, reading nothing, answering nothing
    helper.answer_timeout = 0.5
    pending = [helper.submit(*answers) for _ in range(4)]  # more than a pipe buffer holds
    assert [result() for result in pending] == [expected] * 4
    assert wait_gone(helper.pid)


def test_ctrl_c_is_esxpaths_not_the_helpers(answers, helper, only_the_helper_decodes):
    # the terminal sends Ctrl-C to its foreground process group: esxpath's, not the helper's
    assert os.getpgid(helper.pid) != os.getpgrp() and os.getsid(helper.pid) != os.getsid(0)
    expected = devices_from_esxcli(*answers)
    assert helper.submit(*answers)() == expected  # it is up and serving
    os.kill(helper.pid, signal.SIGINT)  # and even sent to it directly, SIGINT is ignored
    time.sleep(0.2)
    assert alive(helper.pid)
    assert helper.submit(*answers)() == expected


def test_an_unreadable_answer_reads_the_same_through_the_helper(answers, helper):
    luns, device_list, _ = answers
    with pytest.raises(UnreadableAnswer) as here:
        devices_from_esxcli(luns, device_list, "<obj><DataObject>")
    with pytest.raises(UnreadableAnswer) as there:
        helper.submit(luns, device_list, "<obj><DataObject>")()
    assert str(there.value) == str(here.value)
    assert str(here.value).startswith("esxcli storage nmp path list: unreadable answer (")


def test_the_helper_exits_on_close(helper):
    helper.close()
    assert helper._proc.returncode == 0


def test_the_helper_never_outlives_esxpath_killed(tmp_path):
    code = textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = {sys.path!r}
        from esxpath.vsphere.helper import DecodeHelper
        h = DecodeHelper.start()
        print(h.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert alive(pid)
        parent.kill()  # kill -9: no clean-up code runs
        parent.wait()
        assert wait_gone(pid), f"decode helper {pid} still running after esxpath was killed"
    finally:
        parent.kill()
        parent.stdout.close()
