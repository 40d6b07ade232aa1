"""When the session calls vCenter gone (esxpath/vsphere/liveness.py): no server needed."""
from __future__ import annotations

import pytest

from esxpath.errors import VcenterGone
from esxpath.vsphere.liveness import GONE_AFTER, Liveness


def _probe_answers():
    return "2026-01-01T00:00:00Z"


def _probe_times_out():
    raise TimeoutError("timed out")


def test_refused_in_a_row_is_gone_and_nothing_is_sent_after():
    alive = Liveness("vc:443", _probe_answers)
    for _ in range(GONE_AFTER - 1):
        alive.failed(ConnectionRefusedError(111, "Connection refused"))
        alive.check()  # not yet
    alive.failed(ConnectionResetError(104, "reset"))
    with pytest.raises(VcenterGone, match="vc:443: vCenter is gone"):
        alive.check()


def test_an_answer_between_failures_starts_the_count_again():
    alive = Liveness("vc:443", _probe_answers)
    for _ in range(3 * GONE_AFTER):
        alive.failed(ConnectionResetError(104, "reset"))
        alive.answered()
    alive.check()
    assert alive.gone is None


def test_a_timeout_is_gone_only_when_vcenter_does_not_answer_a_probe():
    slow_host = Liveness("vc:443", _probe_answers)
    for _ in range(10):
        slow_host.failed(TimeoutError("The read operation timed out"))
    assert slow_host.gone is None  # vCenter answers: one slow host, not a gone vCenter
    hung = Liveness("vc:443", _probe_times_out)
    hung.failed(TimeoutError("The read operation timed out"))
    assert hung.gone and "probe" in hung.gone
    with pytest.raises(VcenterGone):
        hung.check()
