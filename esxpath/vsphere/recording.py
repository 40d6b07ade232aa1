"""Record a vSphere session to a vcrpy cassette, or replay one instead of talking to vCenter.

Plain vcrpy sees nothing of pyVmomi: pyVmomi imported HTTPConnection/HTTPSConnection into its
own modules at import time, so those names are patched too (custom_patches). Every SOAP call is
a POST to /sdk, so requests are matched on a key built from the SOAP body (operation, `_this`,
arguments; the esxcli command for ExecuteSoap). Replay hands out the recorded answers of one key
in recorded order, each once: a task poll never repeats its first answer, and threads working
on different hosts cannot take each other's answers because the host's moref is in the key.

Recording scrubs credentials (see scrub.py). Replay checks that every recorded interaction was
played and that nothing was asked that the cassette lacks.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from unittest import mock

from ..app import files
from ..errors import ConfigError, EsxpathError, ExitStatus
from .scrub import Scrubber

MODES = ("record", "replay")

# Answers to these identify objects that the client picks per worker (a PropertyCollector per
# thread, views): which worker got which id on replay is a race, so the key ignores these ids
# and uses the objects the request is about instead.
_PER_WORKER_TYPES = ("PropertyCollector", "PropertyFilter", "ContainerView", "ListView",
                     "InventoryView")
_PER_WORKER_ID = re.compile(
    r"(type=\"(?:%s)\"[^>]*>)session\[[^\]<]*\][^<]*" % "|".join(_PER_WORKER_TYPES))
# Arguments that depend on the clock, not on what the command asks.
_VOLATILE = re.compile(r"<(maxWaitSeconds)\b[^>]*>[^<]*</\1>")
_BODY = re.compile(rb"<(?:\w+:)?Body\b[^>]*>(.*)</(?:\w+:)?Body>", re.S)
_OPERATION = re.compile(r"<(\w+)")
_ATTRS = re.compile(r"\s(?:versionId|xmlns)=\"[^\"]*\"")


class ReplayError(EsxpathError):
    """The replayed command asked for something else than the recorded one."""

    status = ExitStatus.INTERNAL


def request_key(method: str, path: str, body) -> tuple:
    """What identifies a request in a cassette: method, path and the canonical SOAP body."""
    path = path.rstrip("/")
    if isinstance(body, str):
        body = body.encode("utf-8")
    m = _BODY.search(body or b"")
    if not m:
        return (method, path)
    inner = m.group(1).decode("utf-8", "surrogateescape")
    op = _OPERATION.search(inner)
    inner = _ATTRS.sub("", inner)  # versionId follows the negotiated API version, not the call
    inner = _PER_WORKER_ID.sub(r"\1session[*]", inner)
    inner = _VOLATILE.sub("", inner)
    return (method, path, op.group(1) if op else "", inner)


def describe(key: tuple) -> str:
    """A short human name for a key: 'POST ExecuteSoap vim.EsxCLI.storage.nmp.device.list'."""
    if len(key) < 4:
        return " ".join(key)
    this = re.search(r"<_this\b[^>]*>([^<]*)</_this>", key[3])
    what = re.search(r"<method>([^<]*)</method>", key[3]) if key[2] == "ExecuteSoap" else None
    words = [key[0], key[2]]
    if this:
        words.append("on " + this.group(1))
    if what:
        words.append(what.group(1))
    return " ".join(words)


def _key_of(request) -> tuple:
    key = request.__dict__.get("_esxpath_key")
    if key is None:
        key = request_key(request.method, request.parsed_uri.path, request.body)
        request.__dict__["_esxpath_key"] = key
    return key


def soap_matcher(r1, r2):
    """vcrpy matcher: same key, see request_key."""
    k1, k2 = _key_of(r1), _key_of(r2)
    assert k1 == k2, f"{describe(k1)} != {describe(k2)}"


def _custom_patches(stubs):
    """The connection classes pyVmomi and pyVim bound to their own module names."""
    import pyVim.connect
    import pyVmomi.SoapAdapter

    patches = []
    for module in (pyVmomi.SoapAdapter, pyVim.connect):
        for name, replacement in (("HTTPConnection", stubs.VCRHTTPConnection),
                                  ("HTTPSConnection", stubs.VCRHTTPSConnection)):
            if not hasattr(module, name):
                raise ConfigError(f"cannot record: {module.__name__}.{name} is missing "
                                  "(pyVmomi changed; recording would capture nothing)")
            patches.append((module, name, replacement))
    return tuple(patches)


def _serialized(cassette, lock: threading.Lock, misses: list, replaying: bool):
    """vcrpy's Cassette is not thread-safe: one lock around finding/playing and appending."""
    play, can_play, append = cassette.play_response, cassette.can_play_response_for, cassette.append

    def can_play_response_for(request):
        with lock:
            ok = can_play(request)
        if replaying and not ok:  # one line instead of vcrpy's page-long exception
            what = describe(_key_of(cassette.filter_request(request)))
            misses.append(what)
            raise ReplayError(f"not in the cassette: {what}")
        return ok

    def play_response(request):
        with lock:
            return play(request)

    def locked_append(request, response):
        with lock:
            append(request, response)

    cassette.can_play_response_for = can_play_response_for
    cassette.play_response = play_response
    cassette.append = locked_append


_FORCE_RESET_LOCK = threading.RLock()


def _thread_safe_force_reset(original):
    """vcrpy's force_reset swaps the real connection classes back into http.client for a moment,
    process-wide. Two threads doing it at once leave http.client.HTTPSConnection patched while
    the real class's __init__ runs (super() fails), so one thread at a time."""
    @contextlib.contextmanager
    def force_reset():
        with _FORCE_RESET_LOCK, original():
            yield
    return force_reset


def vcr_config(mode: str, scrubber: Scrubber, custom_patches=()):
    """vcrpy settings. vcrpy runs decode_compressed_response before our hooks, so a gzipped
    answer from a real vCenter is scrubbed as text, not skipped as binary."""
    import vcr
    from vcr.record_mode import RecordMode

    config = vcr.VCR(
        record_mode=RecordMode.ALL if mode == "record" else RecordMode.NONE,
        match_on=("method", "path", "soap"),
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
        custom_patches=custom_patches,
        record_on_exception=True,
    )
    config.register_matcher("soap", soap_matcher)
    return config


@contextlib.contextmanager
def recording(path: str, mode: str):
    """Record ("record": a fresh file) or replay ("replay": no network) the vSphere traffic
    of the block. Connect inside the block. Raises ReplayError on exit from a replay that did
    not play the cassette exactly."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    # vcrpy logs whole raw requests and replies at INFO (live session cookie, session key,
    # user name) before our scrubber sees them: keep its log quiet at any -v.
    logging.getLogger("vcr").setLevel(logging.ERROR)
    try:
        import vcr.patch
        from vcr import stubs
    except ImportError as exc:
        raise ConfigError(f"--{mode} needs vcrpy: pip install vcrpy ({exc})") from exc
    if mode == "replay":
        _check_replay(path)
    else:
        _check_record(path)

    config = vcr_config(mode, Scrubber(), _custom_patches(stubs))
    lock = threading.Lock()
    misses: list[str] = []
    saving = False  # past the command: an OSError now is the cassette's write
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch.object(
                vcr.patch, "force_reset", _thread_safe_force_reset(vcr.patch.force_reset)))
            try:
                cassette = stack.enter_context(
                    config.use_cassette(path, allow_playback_repeats=False))
            except Exception as exc:  # not YAML, not a cassette: one line, not a traceback
                raise ConfigError(f"cannot read cassette {path}: {type(exc).__name__}") from None
            if mode == "replay" and not len(cassette):  # nothing to answer with: not a session
                raise ConfigError(f"cannot read cassette {path}: it holds no recorded session")
            _serialized(cassette, lock, misses, replaying=(mode == "replay"))
            yield cassette
            if mode == "replay":
                unplayed = [describe(_key_of(cassette.data[i][0]))
                            for i in range(len(cassette)) if not cassette.play_counts[i]]
                if misses or unplayed:
                    raise ReplayError(_replay_problem(path, misses, unplayed))
            saving = True
    except OSError as exc:
        if not saving:
            raise
        raise ConfigError(f"cannot write cassette {path}: {exc.strerror or exc}") from None


def _check_replay(path: str) -> None:
    """A cassette to replay: a regular file (a FIFO is not waited on) that is not empty."""
    try:
        with files.open_input(path, binary=True) as f:
            empty = not f.read(4096).strip()
    except FileNotFoundError:
        raise ConfigError(f"no cassette {path} to replay") from None
    except OSError as exc:
        raise ConfigError(f"cannot read cassette {path}: {exc.strerror or exc}") from None
    if empty:
        raise ConfigError(f"cannot read cassette {path}: it is empty (no recorded session)")


def _check_record(path: str) -> None:
    """Find out now, before the command writes anything to vCenter, that the cassette can be
    written; an old one is removed ("all" would keep its interactions), anything that is not
    a regular file (a device node, a FIFO) is refused and left as it is."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ConfigError(f"cannot record to {path}: no directory {parent}")
    try:
        files.remove_regular(path)
        with open(path, "x", encoding="utf-8"):
            pass
        os.remove(path)
    except OSError as exc:
        raise ConfigError(f"cannot write cassette {path}: {exc.strerror or exc}") from None


def _replay_problem(path: str, misses: list[str], unplayed: list[str]) -> str:
    parts = []
    if misses:
        parts.append(f"{len(misses)} request(s) not in the cassette (first: {misses[0]})")
    if unplayed:
        parts.append(f"{len(unplayed)} recorded interaction(s) not played (first: {unplayed[0]})")
    return (f"replay of {path}: " + "; ".join(parts)
            + " -- replay the same command with the same options as recorded")
