"""Connecting to vCenter/ESXi: TLS, login, re-login, and the retry policy for transient faults.

Every SOAP call of the adapter goes through Session.call, so faults are classified in one place:
NotAuthenticated -> log in again once and repeat; transient faults and connection errors ->
bounded exponential retries (idempotent calls only); everything else propagates.
"""
from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from pyVmomi import SoapStubAdapter, VmomiSupport, vim, vmodl
from tenacity import Retrying, retry_if_exception, stop_after_attempt, stop_when_event_set, wait_exponential

from ..app.credentials import DEFAULT_TIMEOUT, Endpoint, parse_url
from ..app.files import open_input
from ..errors import AuthError, ConfigError, ConnectionFailed, EsxpathError, TlsError
from .liveness import Liveness

log = logging.getLogger("esxpath.vsphere")

RETRY_ATTEMPTS = 4
RELOGINS = 3  # log in again at most this often for one call
RETRY_BASE_SECONDS = 0.1  # 0.1, 0.2, 0.4: enough for a vCenter hiccup, short for an operator


@dataclass(frozen=True)
class ConnectOptions:
    url: str | Endpoint  # an Endpoint when the caller parsed it already (the CLI does)
    user: str
    password: str = field(repr=False)
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = DEFAULT_TIMEOUT


def ssl_context(opts: ConnectOptions) -> ssl.SSLContext:
    """Our own context, always passed to pyVmomi: it would skip verification for localhost
    if it built one itself."""
    if opts.insecure:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    try:
        if opts.ca_file:  # OpenSSL would wait on a FIFO and read /dev/zero to the end
            open_input(opts.ca_file, binary=True).close()
    except OSError as exc:
        raise ConfigError(f"cannot use CA file {opts.ca_file}: {exc.strerror or exc}") from None
    try:
        return ssl.create_default_context(cafile=opts.ca_file)  # cafile None: system CAs
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use CA file {opts.ca_file}: {exc}") from exc


# ----- fault classification -----

_TRANSIENT_FAULTS = (
    vmodl.fault.HostCommunication,  # also HostNotConnected, HostNotReachable
    vim.fault.TaskInProgress,
    vim.fault.ConcurrentAccess,
    vmodl.fault.SystemError,
)
CONNECTION_ERRORS = (ConnectionError, http.client.HTTPException, socket.timeout, TimeoutError)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, vim.fault.NotAuthenticated):
        return False  # handled by re-login, never by blind retry
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, _TRANSIENT_FAULTS + CONNECTION_ERRORS + (ssl.SSLError,))


def fault_message(exc: BaseException) -> str:
    """One line for Host.error / ChangeResult.error, from a vSphere fault or a Python error."""
    if isinstance(exc, vmodl.MethodFault):
        name = type(exc).__name__
        msg = getattr(exc, "msg", None) or ""
        if not msg and getattr(exc, "faultMessage", None):
            msg = "; ".join(m.message or "" for m in exc.faultMessage if getattr(m, "message", None))
        return f"{name}: {msg}" if msg else name
    if isinstance(exc, EsxpathError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _tls_message(exc: BaseException, endpoint: Endpoint) -> str:
    reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
    return (f"{endpoint.display}: TLS certificate verify failed: {reason}; "
            "use --ca-file with the vCenter's CA certificate, or --insecure to skip verification")


def _classify_connect_error(exc: BaseException, endpoint: Endpoint) -> Exception:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TlsError(_tls_message(exc, endpoint))
    if isinstance(exc, ssl.SSLError):
        return TlsError(f"{endpoint.display}: TLS handshake failed ({exc.reason or exc}); "
                        "is this the HTTPS port of a vCenter or ESXi?")
    if isinstance(exc, socket.gaierror):
        return ConnectionFailed(f"{endpoint.host}: cannot resolve host name ({exc.strerror or exc})")
    if isinstance(exc, ConnectionRefusedError):
        return ConnectionFailed(f"{endpoint.display}: connection refused")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ConnectionFailed(f"{endpoint.display}: timed out")
    if isinstance(exc, (OSError, http.client.HTTPException)):
        return ConnectionFailed(f"{endpoint.display}: {type(exc).__name__}: {exc}")
    return ConnectionFailed(f"{endpoint.display}: {fault_message(exc)}")


# ----- API version negotiation (vimServiceVersions.xml), with our context and a timeout -----

def _server_versions(endpoint: Endpoint, ctx: ssl.SSLContext, timeout: float) -> list[str]:
    conn = http.client.HTTPSConnection(endpoint.host, endpoint.port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", endpoint.path + "/vimServiceVersions.xml")
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise ConnectionFailed(f"{endpoint.display}: not a vCenter or ESXi SDK endpoint "
                               f"(GET {endpoint.path}/vimServiceVersions.xml: HTTP {resp.status})")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ConnectionFailed(f"{endpoint.display}: not a vCenter or ESXi SDK endpoint "
                               "(vimServiceVersions.xml is not XML)") from exc
    out: list[str] = []
    for ns in root.iter("namespace"):
        if (ns.findtext("name") or "").strip() == "urn:vim25":
            out += [(v.text or "").strip() for v in ns.iter("version")]
    if not out:  # well-formed XML (an XHTML page, say) that names no vSphere API
        raise ConnectionFailed(f"{endpoint.display}: not a vCenter or ESXi SDK endpoint "
                               "(vimServiceVersions.xml names no urn:vim25 version)")
    return out


def _pick_version(server: list[str]) -> str:
    """The newest vim25 version both pyVmomi and the server know."""
    for version in VmomiSupport.GetServiceVersions("vim25"):
        ns = VmomiSupport.GetVersionNamespace(version)  # "vim25/8.0.3.0"
        if ns.split("/", 1)[-1] in server:
            return version
    raise ConnectionFailed(f"no vSphere API version in common with the server (it offers {server})")


# ----- the session -----

class Session:
    """One logged-in SOAP session; thread-safe (pyVmomi's stub is), shared by all workers."""

    def __init__(self, opts: ConnectOptions, endpoint: Endpoint, stub: SoapStubAdapter,
                 content: vim.ServiceInstanceContent):
        self.opts = opts
        self.endpoint = endpoint
        self.stub = stub
        self.content = content
        self._login_lock = threading.Lock()
        self._generation = 0  # bumped by every re-login, so concurrent workers log in once
        # once vCenter is gone every call fails at once (liveness.py)
        self.liveness = Liveness(endpoint.display, lambda: vim.ServiceInstance(
            "ServiceInstance", stub).CurrentTime())
        # set on Ctrl-C/SIGTERM: a failed call is not retried (the run is ending)
        self.stopping = threading.Event()

    def __repr__(self) -> str:
        return f"Session({self.endpoint.display}, user={self.opts.user!r})"

    @property
    def is_vcenter(self) -> bool:
        return getattr(self.content.about, "apiType", "") == "VirtualCenter"

    def login(self) -> None:
        try:
            _retrying(lambda: self.content.sessionManager.Login(
                userName=self.opts.user, password=self.opts.password, locale=None))
        except vim.fault.InvalidLogin as exc:
            raise AuthError(f"{self.endpoint.display}: login failed for {self.opts.user}: "
                            "wrong user name or password") from exc
        except vim.fault.NoPermission as exc:
            raise AuthError(f"{self.endpoint.display}: {self.opts.user} may not log in "
                            f"({fault_message(exc)})") from exc

    def _relogin(self, generation: int) -> bool:
        """Log in again unless another worker already did since `generation`; True: we did."""
        with self._login_lock:
            if generation != self._generation:
                return False  # another worker already logged in again
            log.info("session expired; logging in again as %s", self.opts.user)
            self.login()
            self._generation += 1
            return True

    def call(self, fn, *args, idempotent: bool = True, **kw):
        """fn(*args, **kw) with re-login on NotAuthenticated and, if idempotent, retries.
        Raises VcenterGone without sending anything once vCenter is gone."""

        def attempt():
            self.liveness.check()
            try:
                result = self._authenticated(fn, args, kw)
            except vmodl.MethodFault:
                self.liveness.answered()  # a fault is vCenter's answer
                raise
            except (OSError, http.client.HTTPException) as exc:
                self.liveness.failed(exc)
                raise
            self.liveness.answered()
            return result

        if not idempotent:
            return attempt()
        return _retrying(attempt, self.stopping)

    def _authenticated(self, fn, args, kw):
        # NotAuthenticated means the server did not run the call: log in again (one worker
        # does, the others see the new generation and just retry) and call again, a few
        # times, as a vCenter restart can drop the new session too.
        # Only this call's own logins count against RELOGINS: with 8 workers, one session
        # dropped 3 times shows up as NotAuthenticated in every worker that was in flight.
        own = tries = 0
        while True:
            generation = self._generation
            try:
                return fn(*args, **kw)
            except vim.fault.NotAuthenticated as exc:
                tries += 1
                if own >= RELOGINS or tries > 4 * RELOGINS:
                    raise AuthError(f"{self.endpoint.display}: session not accepted even"
                                    f" after logging in again {own} times") from exc
                own += self._relogin(generation)

    def translate(self, exc: BaseException) -> BaseException:
        """A failure of a vCenter-wide call (not one host's) as an esxpath error for the CLI;
        anything else (a bug) comes back unchanged."""
        if isinstance(exc, EsxpathError) or not isinstance(
                exc, (vmodl.MethodFault, OSError, http.client.HTTPException)):
            return exc
        if isinstance(exc, vim.fault.NoPermission):
            return AuthError(f"{self.endpoint.display}: {self.opts.user}: permission denied "
                             f"({fault_message(exc)})")
        if isinstance(exc, vmodl.MethodFault):
            return ConnectionFailed(f"{self.endpoint.display}: {fault_message(exc)}")
        return _classify_connect_error(exc, self.endpoint)

    def close(self) -> None:
        try:
            if self.liveness.gone is None:  # nobody to log out from, and no time to wait
                self.content.sessionManager.Logout()
        except Exception as exc:  # the session may be gone already; closing must not fail
            log.debug("logout: %s", fault_message(exc))
        finally:
            self.stub.DropConnections()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _log_retry(state) -> None:
    exc = state.outcome.exception()
    log.info("transient failure (attempt %d): %s; retrying", state.attempt_number, fault_message(exc))


def _retrying(fn, stopping: threading.Event | None = None):
    stop = stop_after_attempt(RETRY_ATTEMPTS)
    retrying = Retrying(
        stop=stop | stop_when_event_set(stopping) if stopping is not None else stop,
        wait=wait_exponential(multiplier=RETRY_BASE_SECONDS, min=RETRY_BASE_SECONDS, max=2),
        retry=retry_if_exception(is_transient),
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(fn)


def connect(opts: ConnectOptions) -> Session:
    """Verify TLS, negotiate the API version, log in. Raises AuthError/TlsError/ConnectionFailed."""
    endpoint = opts.url if isinstance(opts.url, Endpoint) else parse_url(opts.url)
    if not opts.user:
        raise ConfigError("no user given (--user or ESXPATH_USER)")
    ctx = ssl_context(opts)
    try:
        version = _pick_version(_server_versions(endpoint, ctx, opts.timeout))
        stub = SoapStubAdapter(host=endpoint.host, port=endpoint.port, path=endpoint.path,
                               version=version, sslContext=ctx, poolSize=16,
                               httpConnectionTimeout=opts.timeout)
        content = _retrying(lambda: vim.ServiceInstance("ServiceInstance", stub).RetrieveContent())
    except (AuthError, ConnectionFailed):
        raise
    except vmodl.MethodFault as exc:
        raise ConnectionFailed(f"{endpoint.display}: {fault_message(exc)}") from exc
    except Exception as exc:  # socket, TLS, HTTP, or a server that does not speak vSphere SOAP
        err = _classify_connect_error(exc, endpoint)
        if type(err) is ConnectionFailed and not isinstance(exc, (OSError, http.client.HTTPException)):
            err = ConnectionFailed(f"{endpoint.display}: not a vCenter or ESXi ({fault_message(exc)})")
        raise err from exc
    session = Session(opts, endpoint, stub, content)
    try:
        session.login()
    except (AuthError, ConnectionFailed):
        raise
    except Exception as exc:
        raise _classify_connect_error(exc, endpoint) from exc
    log.info("connected to %s (%s %s) as %s", endpoint.display, content.about.fullName,
             content.about.apiVersion, opts.user)
    return session
