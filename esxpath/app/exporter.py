"""The Prometheus exporter: audit vCenters in the background, serve the last results over HTTP.

Multi-target like the blackbox and snmp exporters: `/metrics?target=PROFILE` answers that
profile's last audit in the metric names of the textfile `audit --prom-file` writes (output.py's
prometheus format plus promfile's esxpath_audit_success and
esxpath_audit_last_success_timestamp_seconds), with two more: esxpath_audit_age_seconds (how old
the result is) and esxpath_audit_pending (1 until the first refresh ended), every sample
labelled vcenter="PROFILE" as the textfile of `audit --profile PROFILE` is. `/metrics` alone
answers the exporter's own metrics (process, Python, refreshes and failures per target).

One worker thread per target reads its vCenter every `interval` seconds; targets on the same
vCenter also share a lock, so one vCenter is never read twice at once. A scrape only renders the
last result: it never waits for, nor starts, a read. A failed refresh is served as the textfile
shows a failed run: esxpath_audit_success 0, esxpath_audit_status 3 (UNKNOWN), and the last
success's timestamp kept.

I/O (threads, HTTP); the vSphere adapter is imported only when a worker connects.
"""
from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.gc_collector import GCCollector
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from .. import __version__
from ..core.model import Report
from ..errors import ConfigError, EsxpathError
from ..render.output import render, render_error
from .audit import AuditOptions, Scoped, storage_window
from .promfile import status_families, with_labels

if TYPE_CHECKING:
    from ..core.model import Inventory
    from ..core.storage_events import StorageWindow
    from ..vsphere import Session

log = logging.getLogger("esxpath.exporter")

AGE = "esxpath_audit_age_seconds"
PENDING = "esxpath_audit_pending"
STOP_WAIT = 10.0  # seconds a stop waits for reads in flight before it leaves them behind


# ---------------------------------------------------------------- one target's audit

@dataclass(frozen=True)
class Audit:
    """What one target audits: how to log in, which hosts and devices (a Scoped: cli's Where
    of the profile), held to what (the policy; SAN dumps and storage events when given)."""

    open_session: Callable[[], Session]
    where: Scoped
    options: AuditOptions


class AuditRunner:
    """Runs a target's audit: app.audit.audit, the function `esxpath audit` calls, with this
    runner as its Reader. The session is kept from one refresh to the next (a login per
    interval would fill vCenter's event log) and dropped after any failure, so the next refresh
    starts with a fresh login."""

    def __init__(self, audit: Audit) -> None:
        self.audit = audit
        self._session: Session | None = None

    def run(self) -> Report:
        from .audit import audit as run_audit
        a = self.audit
        try:
            report = run_audit(self, None, a.where, a.options)
        except BaseException:
            self.close()
            raise
        if self._session is not None and self._session.liveness.gone:
            self.close()  # hosts unread as vCenter went away: log in anew
        return report

    def session(self) -> Session:
        if self._session is None:
            self._session = self.audit.open_session()
        return self._session

    # -- the Reader app.audit calls (conn: the target's, already in open_session) ----------
    def read(self, conn: Any, where: Any) -> Inventory:
        from ..vsphere import read_inventory
        return read_inventory(self.session(), where.scope, where.selector,
                              parallel=where.parallel)

    def storage_events(self, conn: Any, inventory: Inventory, start: Any = None,
                       back: float = 0.0) -> StorageWindow:
        return storage_window(self.session, inventory.hosts, start, back)

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as e:  # a logout that fails changes nothing for the next login
                log.debug("logout failed: %s", e)


@dataclass(frozen=True)
class TargetSpec:
    name: str  # the profile: the value of ?target=
    server: str  # the vCenter (host:port); targets naming the same one take turns
    interval: float  # seconds from the start of one refresh to the start of the next
    runner: AuditRunner


# ---------------------------------------------------------------- results

def _families(text: str) -> tuple[Metric, ...]:
    return tuple(text_string_to_metric_families(text))


def _gauge(name: str, help_text: str, vcenter: str, value: float) -> GaugeMetricFamily:
    g = GaugeMetricFamily(name, help_text, labels=["vcenter"])
    g.add_metric([vcenter], value)
    return g


@dataclass(frozen=True)
class Result:
    families: tuple[Metric, ...]  # what the textfile would hold after this refresh
    finished: float  # Unix time the refresh ended
    success: bool


class TargetState:
    """A target's last result and the metrics a scrape of it answers (a prometheus_client
    collector). The worker swaps `result` in one assignment: a scrape sees the old or the new
    result, never half of one. Every sample carries vcenter="NAME", as the textfile of
    `audit --profile NAME` does."""

    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec
        self.labels = {"vcenter": spec.name}
        self._no_result = _families(with_labels(status_families(0, None), self.labels))
        self.result: Result | None = None
        self.last_success: float | None = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def collect(self) -> Iterable[Metric]:
        result, name = self.result, self.spec.name
        pending = "1 until this target's first refresh has ended: no result yet."
        if result is None:
            yield from self._no_result
            yield _gauge(PENDING, pending, name, 1)
            return
        yield from result.families
        yield _gauge(PENDING, pending, name, 0)
        yield _gauge(AGE, "Seconds since the result served here was taken (the end of the last"
                          " refresh, successful or not).", name,
                     max(0.0, time.time() - result.finished))

    def refresh(self) -> bool:
        """One audit; the result replaces the last one. True when it succeeded. Everything,
        rendering too, is inside the try: a refresh that fails anywhere is served as failed,
        never as the last success."""
        try:
            report = self.spec.runner.run()
            now = time.time()
            text = render(report, "prometheus") + status_families(1, now)
            families = _families(with_labels(text, self.labels))
        except Exception as e:
            message = str(e) if isinstance(e, EsxpathError) else \
                f"internal error: {type(e).__name__}: {e}"
            log.warning("target %s: refresh failed: %s", self.spec.name, message)
            log.debug("target %s: refresh failed", self.spec.name, exc_info=True)
            self.fail(message)
            return False
        self.last_success = now
        self.result = Result(families, now, True)
        return True

    def fail(self, message: str) -> None:
        """Serve a failed refresh: success 0, status 3, the last success's timestamp kept."""
        text = render_error(message, "prometheus") + status_families(0, self.last_success)
        self.result = Result(_families(with_labels(text, self.labels)), time.time(), False)


# ---------------------------------------------------------------- the exporter

class Exporter:
    """The targets' workers and the WSGI app that answers scrapes."""

    def __init__(self, specs: Sequence[TargetSpec]) -> None:
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ConfigError("a target is named twice: " + ", ".join(names))
        self.targets = {s.name: TargetState(s) for s in specs}
        self._server_locks = {_lock_key(s.server): threading.Lock() for s in specs}
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        Info("esxpath_exporter_build", "esxpath version.",
             registry=self.registry).info({"version": __version__})
        self.refreshes = Counter("esxpath_exporter_refreshes", "Refreshes ended, per target.",
                                 ["target"], registry=self.registry)
        self.failures = Counter("esxpath_exporter_refresh_failures",
                                "Refreshes that could not audit, per target.", ["target"],
                                registry=self.registry)
        self.duration = Gauge("esxpath_exporter_refresh_duration_seconds",
                              "How long the last refresh took, per target.", ["target"],
                              registry=self.registry)
        self.scrapes = Counter("esxpath_exporter_scrapes", "Scrapes answered, per target.",
                               ["target"], registry=self.registry)
        for name in self.targets:  # every target's series exists from the start, at 0
            for metric in (self.refreshes, self.failures, self.duration, self.scrapes):
                metric.labels(target=name)
        self._own_app = make_wsgi_app(self.registry)
        self._target_apps = {n: make_wsgi_app(t.registry) for n, t in self.targets.items()}

    # -- workers -------------------------------------------------------------------------
    def start(self) -> None:
        for state in self.targets.values():
            t = threading.Thread(target=self._work, args=(state,), daemon=True,
                                 name=f"esxpath-target-{state.spec.name}")
            t.start()
            self._workers.append(t)

    def _work(self, state: TargetState) -> None:
        spec = state.spec
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    self._refresh_once(state, started)
                except Exception as e:  # a bug: logged once for this refresh; the worker goes on
                    log.error("target %s: refresh failed: internal error: %s: %s", spec.name,
                              type(e).__name__, e, exc_info=log.isEnabledFor(logging.DEBUG))
                    with contextlib.suppress(Exception):
                        self.failures.labels(target=spec.name).inc()
                        state.fail(f"internal error: {type(e).__name__}: {e}")
                self._stop.wait(max(0.0, started + spec.interval - time.monotonic()))
        finally:
            spec.runner.close()

    def _refresh_once(self, state: TargetState, started: float) -> None:
        spec = state.spec
        with self._server_locks[_lock_key(spec.server)]:
            if self._stop.is_set():
                return
            ok = state.refresh()
        self.duration.labels(target=spec.name).set(time.monotonic() - started)
        self.refreshes.labels(target=spec.name).inc()
        if not ok:
            self.failures.labels(target=spec.name).inc()

    def stop(self, wait: float = STOP_WAIT) -> list[str]:
        """Stop the workers: those waiting log out at once, a read in flight may end first
        (bounded by `wait`). Returns the targets still reading when the wait was over."""
        self._stop.set()
        deadline = time.monotonic() + wait
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t.name.removeprefix("esxpath-target-") for t in self._workers if t.is_alive()]

    # -- HTTP ----------------------------------------------------------------------------
    def app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/":
            return _plain(start_response, "200 OK", self._index())
        if path != "/metrics":
            return _plain(start_response, "404 Not Found", f"no page {path}: try /metrics\n")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        target = query.get("target")
        if not target:
            return self._own_app(environ, start_response)
        if len(target) > 1:
            return _plain(start_response, "400 Bad Request",
                          "one target per scrape: target= is given more than once\n")
        name = target[0]
        app = self._target_apps.get(name)
        if app is None:
            return _plain(start_response, "404 Not Found",
                          f"unknown target {name!r}: targets are {', '.join(self.targets)}\n")
        self.scrapes.labels(target=name).inc()
        # name[]= is ignored for a target: its metric names depend on the last result, which a
        # registry without describe() cannot match (it answered 200 and nothing at all)
        rest = urlencode([(k, v) for k, vs in query.items() if k != "name[]" for v in vs])
        return app({**environ, "QUERY_STRING": rest}, start_response)

    def _index(self) -> str:
        lines = ["esxpath exporter", "", "/metrics               the exporter's own metrics"]
        lines += [f"/metrics?target={n:<8} audit of profile {n} (every {t.spec.interval:g}s)"
                  for n, t in self.targets.items()]
        return "\n".join(lines) + "\n"


def _lock_key(server: str) -> str:
    """Targets on one vCenter share a lock: host:port, case-insensitive. One vCenter under two
    names (a DNS alias, its IP address) gets two locks: it may then be read twice at once."""
    return server.lower()


def _plain(start_response, status: str, text: str):
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body)))])
    return [body]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        """Scrapes are not logged: Prometheus sends one every few seconds."""


def serve(exporter: Exporter, host: str, port: int):
    """A threaded HTTP server for exporter.app, bound to (host, port); the caller runs
    serve_forever. An IPv6 address or name gets an IPv6 socket."""
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                    flags=socket.AI_PASSIVE)[0][0]
    except socket.gaierror as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None

    class Server(ThreadingWSGIServer):
        address_family = family
        request_queue_size = 64  # socketserver's 5 drops connections when scrapes come at once

    try:
        return make_server(host, port, exporter.app, Server, handler_class=_QuietHandler)
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None
