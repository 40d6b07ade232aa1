"""A SOAP call sent by pyVmomi's stub whose answer is read without pyVmomi: with ElementTree
(invoke) or, for an answer that is mostly one big string, with expat (invoke_leaves).

Why: pyVmomi's deserializer runs Python callbacks and builds a Python object for every XML
element. For a big answer (the inventory read: ~280k elements at 256 hosts x 32 LUNs) that is
seconds of CPU; ElementTree builds its tree in C, about 20x faster, and the caller reads only
the fields it needs.

Everything else is pyVmomi's, as in SoapStubAdapter.InvokeMethod: the request serializer, the
session cookie, the connection pool (so vcrpy's patched connection classes record and replay
these calls like any other, see recording.py), and faults: a SOAP fault is deserialized by
pyVmomi and raised as the usual vmodl.MethodFault, so Session.call re-logs in and retries as
for any call. Run it through Session.call.
"""
from __future__ import annotations

import gzip
import io
import xml.etree.ElementTree as ET
import xml.parsers.expat as expat
import zlib
from http.client import HTTPException
from http.cookies import SimpleCookie

from pyVmomi import SoapAdapter, VmomiSupport

VIM = "{urn:vim25}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"


def invoke(stub, mo, method, *args) -> ET.Element | None:
    """mo.method(*args) (arguments in the method's declared order); the answer's <returnval>
    element, or None when the method returned nothing. method: a name, or pyVmomi's method
    info for a method mo's own type does not declare."""
    root = ET.fromstring(_post(stub, mo, method, args))
    answer = root.find(_BODY)
    answer = answer[0] if answer is not None and len(answer) else None
    return answer.find(VIM + "returnval") if answer is not None else None


def invoke_leaves(stub, mo, method, *args) -> dict[str, str] | None:
    """Like invoke, for a small answer that carries big strings (ExecuteSoap's SoapResult):
    {local name: text} of the leaf elements inside <returnval>, or None without one.

    Why not invoke: esxcli's answer is an XML document escaped into one string, so ElementTree
    would build it from thousands of pieces; expat with buffered text hands it over whole, in
    half the time (a quarter of the client's CPU at 256 hosts goes to these answers).
    """
    return returnval_leaves(_post(stub, mo, method, args))


def returnval_leaves(body: bytes) -> dict[str, str] | None:
    """A SOAP answer's leaf elements inside <returnval>: {local name: text}; None without one."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 20
    # per open element: [local name, text parts, has children]. <returnval> is the 4th level
    # (Envelope, Body, <method>Response, returnval).
    stack: list[list] = []
    leaves: dict[str, str] | None = None

    def start(name, _attrs):
        nonlocal leaves
        if stack:
            stack[-1][2] = True
        stack.append([name.rpartition(":")[2], [], False])
        if len(stack) == 4 and stack[3][0] == "returnval" and leaves is None:
            leaves = {}

    def end(_name):
        local, parts, has_children = stack.pop()
        if len(stack) >= 4 and stack[3][0] == "returnval" and not has_children:
            leaves[local] = "".join(parts)

    def text(data):
        if stack:
            stack[-1][1].append(data)

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    parser.Parse(body, True)
    return leaves


def _post(stub, mo, method, args) -> bytes:
    """The HTTP exchange of one call, as pyVmomi's SoapStubAdapter.InvokeMethod does it; the
    answer's body when it is not a fault (a SOAP fault is raised as pyVmomi's MethodFault)."""
    info = mo._GetMethodInfo(method) if isinstance(method, str) else method
    request = stub.SerializeRequest(mo, info, list(args))
    for modifier in stub.requestModifierList:
        request = modifier(request)
    headers = _headers(stub)
    conn = stub.GetConnection()
    try:
        conn.request("POST", stub.path, request, headers)
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, HTTPException):
        conn.close()  # as pyVmomi does: the server is probably sick, drop the pooled ones too
        stub.DropConnections()
        raise
    cookie = resp.getheader("Set-Cookie")
    if cookie:  # as pyVmomi does (vCenter may renew the session cookie)
        stub.cookie = cookie
        session = SimpleCookie(cookie).get(SoapAdapter.COOKIE_NAME)
        if session:
            stub.SetSessionId(session.value)
    if resp.status not in (200, 500):
        conn.close()
        raise HTTPException(f"{resp.status} {resp.reason}")
    stub.ReturnConnection(conn)
    body = _decoded(body, (resp.getheader("Content-Encoding") or "identity").lower())
    if resp.status == 500:  # a SOAP fault: pyVmomi makes it the usual typed exception
        fault = SoapAdapter.SoapResponseDeserializer(stub).Deserialize(io.BytesIO(body), info.result)
        raise fault
    return body


def _user_agent() -> str:
    """pyVmomi's own User-Agent: vCenter logs and rate limits see one client, not two."""
    S = SoapAdapter
    return (f"pyvmomi {S.version_info_str} {S.kind} Python/{S.PYTHON_VERSION}"
            f" ({S.OS_NAME}; {S.OS_VERSION}; {S.OS_ARCH})")


_USER_AGENT = _user_agent()


def _headers(stub) -> dict[str, str]:
    """The headers pyVmomi's InvokeMethod sends, gzip included: vCenter compresses big answers."""
    headers = {"Cookie": stub.cookie, "SOAPAction": stub.versionId,
               "Content-Type": f"text/xml; charset={SoapAdapter.XML_ENCODING}",
               "User-Agent": _USER_AGENT}
    headers.update(getattr(stub, "_customHeaders", None) or {})
    if getattr(stub, "_acceptCompressedResponses", True):
        headers["Accept-Encoding"] = "gzip, deflate"
    return headers


def _decoded(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


_MO_TYPES: dict[str, type] = {}


def managed_object(el: ET.Element, stub):
    """A ManagedObjectReference element (<obj type="HostSystem">host-10</obj>) as a pyVmomi
    managed object bound to stub, like pyVmomi would return it."""
    wsdl = el.get("type") or ""
    cls = _MO_TYPES.get(wsdl)
    if cls is None:
        cls = _MO_TYPES[wsdl] = VmomiSupport.GetWsdlType("urn:vim25", wsdl)
    return cls(el.text, stub)


def data_type(el: ET.Element) -> type | None:
    """The pyVmomi class of an element's xsi:type (e.g. HostScsiDisk -> vim.host.ScsiDisk), or
    None when pyVmomi does not know it (a newer server)."""
    name = (el.get(XSI_TYPE) or "").rpartition(":")[2]
    if name not in _DATA_TYPES:
        try:
            _DATA_TYPES[name] = VmomiSupport.GetWsdlType("urn:vim25", name) if name else None
        except KeyError:
            _DATA_TYPES[name] = None
    return _DATA_TYPES[name]


_DATA_TYPES: dict[str, type | None] = {}
