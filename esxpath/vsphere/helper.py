"""The decode helper: a second process that turns hosts' esxcli answers into devices.

Why: from about a hundred hosts on, reading the inventory is bound by this process's CPU, and a
Python process computes on one core at a time (the GIL). Decoding a host's two esxcli answers
(two XML parses and the model objects: ~1.6 of the ~4 ms of CPU a host costs) needs nothing but
their text, so the helper does it on another core while this process keeps the HTTPS calls.

It speeds things up and is never needed: read_inventory starts it only for HELPER_MIN_HOSTS
hosts or more, and whenever it fails (does not start, dies, answers late or oddly) the decoding
is done in this process instead, so no result depends on it. It reads requests on its stdin and
exits when that closes, so it never outlives esxpath, not even a kill -9; Ctrl-C is esxpath's
to handle (the helper runs in a session of its own and ignores SIGINT). Requests and replies
are pickled records between esxpath and its own child, and the helper runs one pure function:
esxcli_devices.devices_from_esxcli.
"""
from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from typing import Callable

from ..model import Device
from .esxcli_devices import UnreadableAnswer, devices_from_esxcli
from .records import Lun

log = logging.getLogger("esxpath.vsphere")

HELPER_MIN_HOSTS = 64  # below this, starting it (~50 ms of CPU) costs about what it saves
ANSWER_TIMEOUT_S = 60.0  # a decode takes milliseconds: past this the helper is stuck
_FRAME = struct.Struct("!II")  # request id, length of the pickled payload that follows
_BOOT = "from esxpath.vsphere.helper import serve; serve()"


class _Slot:
    __slots__ = ("done", "reply")

    def __init__(self):
        self.done = threading.Event()
        self.reply: tuple | None = None


class DecodeHelper:
    """The esxpath side. Thread-safe: the per-host threads submit concurrently, and go on to
    their next host's calls while the helper decodes."""

    def __init__(self, proc: subprocess.Popen):
        self._proc = proc
        self.answer_timeout = ANSWER_TIMEOUT_S
        self._lock = threading.Lock()  # _pending, _next_id, _broken
        self._pending: dict[int, _Slot] = {}
        self._next_id = 0
        self._broken = False
        self._closing = False
        # A writer thread, so that a helper that stops reading can never block a caller: every
        # caller's wait is bounded by answer_timeout, and giving up kills the helper.
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write_requests, name="esxpath-decode-writer",
                                        daemon=True)
        self._reader = threading.Thread(target=self._read_replies, name="esxpath-decode-reader",
                                        daemon=True)
        self._writer.start()
        self._reader.start()

    @classmethod
    def start(cls) -> DecodeHelper | None:
        """The helper, or None when it cannot be started (then decode in this process)."""
        # this process's sys.path: the same esxpath, however it was found
        boot = f"import sys; sys.path[:] = {sys.path!r}; {_BOOT}"
        try:
            # its own session: the terminal's Ctrl-C goes to esxpath's process group only
            proc = subprocess.Popen([sys.executable, "-c", boot], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
        except (OSError, ValueError) as exc:
            log.debug("decode helper not started: %s", exc)
            return None
        return cls(proc)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def submit(self, luns: list[Lun], device_list: str | None,
               path_list: str | None) -> Callable[[], list[Device]]:
        """Start esxcli_devices.devices_from_esxcli(luns, device_list, path_list) in the helper;
        the returned result() waits for it (decoding here if the helper fails) and raises
        UnreadableAnswer just like that function."""
        slot = self._send(("devices", list(luns), device_list, path_list))

        def result() -> list[Device]:
            reply = self._wait(slot) if slot is not None else None
            if reply is not None:
                if reply[0] == "ok":
                    return reply[1]
                if reply[0] == "unreadable":
                    raise UnreadableAnswer(reply[1], reply[2])
                # "error": a bug in decoding; met again here, it shows with its traceback
                log.debug("decode helper: %s", reply[1])
            return devices_from_esxcli(luns, device_list, path_list)

        return result

    def _send(self, request: tuple) -> _Slot | None:
        slot = _Slot()
        with self._lock:
            if self._broken:
                return None
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = slot
        payload = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        self._outbox.put(_FRAME.pack(request_id, len(payload)) + payload)
        return slot

    def _wait(self, slot: _Slot) -> tuple | None:
        if not slot.done.wait(self.answer_timeout):
            self._fail(f"no answer in {self.answer_timeout:g} s")
        return slot.reply

    def _write_requests(self) -> None:
        pipe = self._proc.stdin
        try:
            while (frame := self._outbox.get()) is not None:
                pipe.write(frame)
                pipe.flush()
            pipe.close()  # close(): the helper reads end-of-file and exits
        except (OSError, ValueError) as exc:  # it died (broken pipe)
            self._fail(f"request not sent ({exc})")

    def _read_replies(self) -> None:
        reason = "it stopped"
        try:
            out = self._proc.stdout
            while True:
                head = out.read(_FRAME.size)
                if len(head) < _FRAME.size:
                    break
                request_id, size = _FRAME.unpack(head)
                body = out.read(size)
                if len(body) < size:
                    break
                reply = pickle.loads(body)
                with self._lock:
                    slot = self._pending.pop(request_id, None)
                if slot is not None:
                    slot.reply = reply
                    slot.done.set()
        except Exception as exc:  # a garbled reply: stop using it
            reason = f"unreadable reply ({exc!r})"
        self._fail(reason)

    def _fail(self, reason: str) -> None:
        """Stop using the helper: every waiting and later request is decoded here."""
        with self._lock:
            was_broken, self._broken = self._broken, True
            waiting, self._pending = list(self._pending.values()), {}
        if not self._closing:  # (on close it exits by itself)
            if not was_broken:
                log.debug("decode helper given up: %s; decoding in this process", reason)
            self._proc.kill()  # a stuck helper would block the writer; a dead one ignores it
        for slot in waiting:
            slot.done.set()

    def close(self) -> None:
        """Let the helper exit (it reads end-of-file) and reap it."""
        self._closing = True
        with self._lock:
            self._broken = True
        self._outbox.put(None)
        self._writer.join(timeout=5)
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=5)
        for pipe in (self._proc.stdin, self._proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


# ----- the helper process -----

def serve() -> None:
    """The helper's loop: one request at a time from stdin, its reply to stdout, until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by mistake must not land in the replies
    while True:
        head = requests.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return  # esxpath closed the pipe, or is gone
        request_id, size = _FRAME.unpack(head)
        body = requests.read(size)
        if len(body) < size:
            return
        payload = pickle.dumps(_answer(body), protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(_FRAME.pack(request_id, len(payload)) + payload)
        replies.flush()


def _answer(body: bytes) -> tuple:
    try:
        kind, *args = pickle.loads(body)
        if kind != "devices":
            return ("error", f"unknown request {kind!r}")
        return ("ok", devices_from_esxcli(*args))
    except UnreadableAnswer as exc:
        return ("unreadable", exc.command, exc.detail)
    except Exception as exc:
        return ("error", repr(exc))
