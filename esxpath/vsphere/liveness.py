"""Whether vCenter itself still answers, judged from every call of the session.

A vCenter that was killed refuses connections (or resets them) at once; one that hangs (a
stopped VM, a cut network) lets calls time out. Either way retrying and reading back would
go on for every change of a run, each for its --timeout: a run of 20 changes took 200 s
with --timeout 2. So the session decides once that vCenter is gone and from then on sends
nothing: a few refused or dropped connections in a row with no answer between, or a timeout
after which a cheap vCenter-wide call (CurrentTime) gets no answer either. A slow host does
not count: vCenter still answers the probe.
"""
from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Callable

from ..errors import VcenterGone

log = logging.getLogger("esxpath.vsphere")

GONE_AFTER = 3  # refused/dropped connections in a row (no answer between) that mean "gone"
TIMEOUTS = (TimeoutError,)  # socket.timeout is TimeoutError
DROPPED = (OSError, http.client.HTTPException)  # refused, reset, EOF, no route (timeouts apart)


class Liveness:
    def __init__(self, display: str, probe: Callable[[], object]):
        self.display = display
        self._probe = probe  # one cheap call to vCenter, sent without Session.call
        self._lock = threading.Lock()
        self._dropped = 0
        self._probing = False
        self.gone: str | None = None  # why vCenter counts as gone; None while it answers

    def check(self) -> None:
        """Raise VcenterGone once vCenter is gone: no call is sent any more."""
        if self.gone is not None:
            raise VcenterGone(f"{self.display}: vCenter is gone ({self.gone})")

    def answered(self) -> None:
        """vCenter answered (a result or a fault): the failures before it were not the end."""
        with self._lock:
            self._dropped = 0

    def failed(self, exc: BaseException) -> None:
        """A call got no answer; decides whether vCenter is gone."""
        if isinstance(exc, TIMEOUTS):
            self._probe_after_timeout(exc)
        elif isinstance(exc, DROPPED):
            with self._lock:
                self._dropped += 1
                if self._dropped >= GONE_AFTER and self.gone is None:
                    self._mark(f"{self._dropped} connections refused or dropped in a row:"
                               f" {type(exc).__name__}: {exc}")

    def _probe_after_timeout(self, exc: BaseException) -> None:
        with self._lock:
            if self._probing or self.gone is not None:
                return  # another worker is asking already
            self._probing = True
        try:
            self._probe()
        except Exception as probe_exc:
            if isinstance(probe_exc, TIMEOUTS + DROPPED):
                with self._lock:
                    self._mark(f"a call timed out ({exc or type(exc).__name__}) and vCenter did"
                               f" not answer a probe either ({type(probe_exc).__name__})")
            else:
                self.answered()  # a fault is an answer: vCenter is there, a host is slow
        else:
            self.answered()
        finally:
            with self._lock:
                self._probing = False

    def _mark(self, why: str) -> None:  # under self._lock
        if self.gone is None:
            self.gone = why
            log.warning("%s: vCenter is gone (%s): no further call is sent", self.display, why)
