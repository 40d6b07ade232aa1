"""Removing credentials from recorded vSphere traffic before it reaches a cassette file.

Pure text work on vcrpy's request objects and response dicts (no vcrpy or pyVmomi import).
Two layers: fixed rules for the places vSphere puts secrets (Login arguments, UserSession
fields, session keys inside morefs, cookies, auth headers), and the literal values those rules
caught (password, user, cookie, session key), removed wherever else they show up. Every rule
keeps the XML well formed and typed, so a scrubbed Login still replays.
"""
from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape, unescape

REDACTED = "REDACTED"
RECORDED_HOST = "vcenter.invalid"  # replaces the vCenter's host:port in recorded URIs

# Elements that hold a secret wherever they appear (attributes such as versionId are kept).
_SECRET_ELEMENTS = ("password", "userName", "samlToken", "clientIp")
_SECRET_ELEMENT = re.compile(
    r"<(?P<tag>(?:\w+:)?(?:%s))\b(?P<attrs>[^>]*?)(?<!/)>(?P<value>.*?)</(?P=tag)>"
    % "|".join(_SECRET_ELEMENTS), re.S)
# A UserSession: the Login answer, or a value typed UserSession (currentSession, sessionList).
_SESSION_BLOCKS = (
    re.compile(r"(<(?P<tag>(?:Login\w*|ImpersonateUser|CloneSession)Response)\b[^>]*>)"
               r"(?P<inner>.*?)(</(?P=tag)>)", re.S),
    re.compile(r"(<(?P<tag>[\w:]+)\b[^>]*xsi:type=\"UserSession\"[^>]*>)"
               r"(?P<inner>.*?)(</(?P=tag)>)", re.S),
    # items of an ArrayOfUserSession (SessionManager.sessionList)
    re.compile(r"(<(?P<tag>UserSession)\b[^>]*>)(?P<inner>.*?)(</(?P=tag)>)", re.S),
)
# UserSession fields: strings become REDACTED, counters 0; "key" is the session key.
_SESSION_FIELDS = {"key": REDACTED, "userName": REDACTED, "fullName": REDACTED,
                   "ipAddress": REDACTED, "userAgent": REDACTED, "callCount": "0"}
_SESSION_FIELD = re.compile(r"<(?P<tag>%s)\b(?P<attrs>[^>]*)>(?P<value>[^<]*)</(?P=tag)>"
                            % "|".join(_SESSION_FIELDS))
# Session-scoped managed object ids: session[<session key>]<object id>.
_MOREF_SESSION = re.compile(r"session\[[^\]<]*\]")
# A WS-Security header (SAML token logins).
_WSSE = re.compile(r"<(?P<tag>[\w]+:Security)\b[^>]*>.*?</(?P=tag)>", re.S)

_SECRET_HEADERS = ("authorization", "proxy-authorization", "vmware-api-session-id",
                   "x-vmware-vc-session-id")
_COOKIE_PAIR = re.compile(r"(?P<name>[^=;,\s]+)=(?P<value>\"[^\"]*\"|[^;,\s]*)")
_COOKIE_ATTRIBUTES = {"path", "domain", "expires", "max-age", "samesite", "version", "comment"}
_MIN_LITERAL = 4  # shorter learned values would hit innocent text


class Scrubber:
    """Scrubs requests and responses; remembers the secrets it found for the literal pass.

    One per cassette; thread-safe (workers record concurrently).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._literals: set[str] = set()
        self._literal_re: re.Pattern | None = None

    # ----- learning

    def learn(self, value: str | None) -> None:
        value = (value or "").strip().strip('"')
        if len(value) < _MIN_LITERAL or value == REDACTED:
            return
        forms = {value, escape(value), escape(value, {'"': "&quot;", "'": "&apos;"})}
        with self._lock:
            if forms <= self._literals:
                return
            self._literals |= forms
            alternatives = "|".join(re.escape(v) for v in sorted(self._literals, key=len, reverse=True))
            # Not inside a longer word: a user "root" must not turn rootFolder into REDACTEDFolder.
            self._literal_re = re.compile(r"(?<![\w@.\-])(?:%s)(?![\w@\-])" % alternatives)

    @property
    def literals(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._literals)

    # ----- text

    def text(self, text: str) -> str:
        """Scrub one SOAP body (or any text): rules first, then the learned literals."""
        text = _SECRET_ELEMENT.sub(self._secret_element, text)
        for block in _SESSION_BLOCKS:
            text = block.sub(self._session_block, text)
        text = _MOREF_SESSION.sub(f"session[{REDACTED}]", text)
        text = _WSSE.sub(lambda m: f"<{m['tag']}></{m['tag']}>", text)
        return self._literals_out(text)

    def _secret_element(self, m: re.Match) -> str:
        if m["value"] and m["value"] != REDACTED:
            self.learn(unescape(m["value"], {"&quot;": '"', "&apos;": "'"}))
        return f"<{m['tag']}{m['attrs']}>{REDACTED}</{m['tag']}>"

    def _session_block(self, m: re.Match) -> str:
        def field(f: re.Match) -> str:
            if f["tag"] == "key":
                self.learn(f["value"])
            return f"<{f['tag']}{f['attrs']}>{_SESSION_FIELDS[f['tag']]}</{f['tag']}>"
        return m.group(1) + _SESSION_FIELD.sub(field, m["inner"]) + m.group(m.re.groups)

    def _literals_out(self, text: str) -> str:
        pattern = self._literal_re
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def body(self, body):
        """bytes or str body -> the same type, scrubbed; None stays None."""
        if body is None:
            return None
        if isinstance(body, bytes):
            return self.text(body.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
        return self.text(body)

    # ----- cookies and headers

    def cookie(self, value: str) -> str:
        """Cookie or Set-Cookie value: every cookie value REDACTED, attributes kept."""
        def pair(m: re.Match) -> str:
            if m["name"].lower() in _COOKIE_ATTRIBUTES:
                return m.group(0)
            self.learn(m["value"])
            quote = '"' if m["value"].startswith('"') else ""
            return f"{m['name']}={quote}{REDACTED}{quote}"
        return _COOKIE_PAIR.sub(pair, value)

    def _header_value(self, name: str, value):
        if isinstance(value, (list, tuple)):
            return type(value)(self._header_value(name, v) for v in value)
        if isinstance(value, bytes):
            return self._header_value(name, value.decode("latin-1")).encode("latin-1")
        lname = name.lower()
        if lname in _SECRET_HEADERS:
            self.learn(value)
            return REDACTED
        if lname in ("cookie", "set-cookie"):
            return self.cookie(value)
        return self._literals_out(value)

    # ----- vcrpy hooks (vcrpy hands over copies)

    def request(self, request):
        """before_record_request: vcr.request.Request -> the same, scrubbed."""
        for name in list(request.headers):
            request.headers[name] = self._header_value(name, request.headers[name])
        request.body = self.body(request.body)
        request.uri = self.uri(request.uri)
        return request

    def response(self, response: dict) -> dict:
        """before_record_response: {"status", "headers", "body": {"string"}} -> scrubbed."""
        headers = response.get("headers") or {}
        # Cookies first: the session key learned there also appears in the body.
        for name in sorted(headers, key=lambda n: n.lower() not in ("set-cookie",)):
            headers[name] = self._header_value(name, headers[name])
        body = response.get("body") or {}
        if body.get("string") is not None:
            body["string"] = self.body(body["string"])
            for name in headers:
                if name.lower() == "content-length":
                    size = len(body["string"] if isinstance(body["string"], bytes)
                               else body["string"].encode("utf-8"))
                    headers[name] = [str(size)]
        return response

    def uri(self, uri: str) -> str:
        """The vCenter's address is not needed to replay (the matcher ignores it)."""
        parts = urlsplit(uri)
        if not parts.netloc:
            return uri
        return self._literals_out(urlunsplit(parts._replace(netloc=RECORDED_HOST)))
