"""esxcli through the vSphere API: HostSystem.RetrieveManagedMethodExecuter + ExecuteSoap.

What esxcli knows and the typed API does not (RR limit, TPG state per path, SATP rules) comes
from here. A command `storage nmp device list` is the managed object
`ha-cli-handler-storage-nmp-device`, method `vim.EsxCLI.storage.nmp.device.List`; every option
is one SoapArgument whose value is the option serialized as a SOAP element, exactly as
Broadcom's esxcli client sends it (same names, same order, same version string).
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from pyVmomi import SoapAdapter, VmomiSupport, vim, vmodl
from pyVmomi.VmomiSupport import F_OPTIONAL

from ..errors import EsxcliFault, HostError
from . import rawsoap
from .esxcli_devices import UnreadableAnswer
from .parse import parse_esxcli_fault, parse_esxcli_response
from .session import Session, is_transient

_REFLECT = "vmodl.reflect.version.version1"
# ExecuteSoap's version, pinned as Broadcom's client pins it (its MME_COMPATIBLE_VIM_VERSION,
# vim.version.version9 = vim25/5.5): hosts check this version and may be older than vCenter.
# The option values carry the same versionId.
EXECUTE_VERSION = "urn:vim25/5.5"
ARGUMENT_VERSION_ID = "5.5"
_HOST_REFLECT = "vim.version.version7"  # HostSystem.Retrieve* exist since vSphere 5.1


def _declare_types() -> None:
    """The internal reflect types pyVmomi 9 does not ship, declared as govc and Broadcom's esxcli
    client declare them."""
    try:
        VmomiSupport.GetVmodlType("vmodl.reflect.ManagedMethodExecuter")
        return
    except (AttributeError, KeyError):
        pass
    V = _REFLECT
    VmomiSupport.CreateDataType(
        "vmodl.reflect.ManagedMethodExecuter.SoapArgument", "ReflectManagedMethodExecuterSoapArgument",
        "vmodl.DynamicData", V, [("name", "string", V, 0), ("val", "string", V, 0)])
    VmomiSupport.CreateDataType(
        "vmodl.reflect.ManagedMethodExecuter.SoapFault", "ReflectManagedMethodExecuterSoapFault",
        "vmodl.DynamicData", V, [("faultMsg", "string", V, 0), ("faultDetail", "string", V, F_OPTIONAL)])
    VmomiSupport.CreateDataType(
        "vmodl.reflect.ManagedMethodExecuter.SoapResult", "ReflectManagedMethodExecuterSoapResult",
        "vmodl.DynamicData", V, [("response", "string", V, F_OPTIONAL),
                                 ("fault", "vmodl.reflect.ManagedMethodExecuter.SoapFault", V, F_OPTIONAL)])
    VmomiSupport.CreateManagedType(
        "vmodl.reflect.ManagedMethodExecuter", "ReflectManagedMethodExecuter", "vmodl.ManagedObject", V,
        None, [
            ("executeSoap", "ExecuteSoap", V,
             (("moid", "string", V, 0, None), ("version", "string", V, 0, None),
              ("method", "string", V, 0, None),
              ("argument", "vmodl.reflect.ManagedMethodExecuter.SoapArgument[]", V, F_OPTIONAL, None)),
             (F_OPTIONAL, "vmodl.reflect.ManagedMethodExecuter.SoapResult",
              "vmodl.reflect.ManagedMethodExecuter.SoapResult"), "System.Read", None),
            ("fetchSoap", "FetchSoap", V,
             (("moid", "string", V, 0, None), ("version", "string", V, 0, None),
              ("prop", "string", V, 0, None)),
             (F_OPTIONAL, "vmodl.reflect.ManagedMethodExecuter.SoapResult",
              "vmodl.reflect.ManagedMethodExecuter.SoapResult"), "System.Read", None),
        ])
    # HostSystem.RetrieveManagedMethodExecuter is missing from pyVmomi's HostSystem; declare it on
    # a private type and invoke its method info with the real HostSystem as _this.
    VmomiSupport.CreateManagedType(
        "vim.EsxpathHostReflect", "EsxpathHostReflect", "vmodl.ManagedObject", _HOST_REFLECT, None, [
            ("retrieveManagedMethodExecuter", "RetrieveManagedMethodExecuter", _HOST_REFLECT, (),
             (F_OPTIONAL, "vmodl.reflect.ManagedMethodExecuter", "vmodl.reflect.ManagedMethodExecuter"),
             "System.Read", None),
        ])


_declare_types()
_MME = VmomiSupport.GetVmodlType("vmodl.reflect.ManagedMethodExecuter")
_SoapArgument = VmomiSupport.GetVmodlType("vmodl.reflect.ManagedMethodExecuter.SoapArgument")
_RETRIEVE_MME = VmomiSupport.GetVmodlType("vim.EsxpathHostReflect")._methodInfo[
    "RetrieveManagedMethodExecuter"]


# Options per command in the order the host declares them (the order esxcli sends them), and
# their SOAP types. Options not listed here are refused: a typo must not be dropped silently.
_S, _L, _B = "string", "long", "boolean"
COMMAND_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "storage nmp device list": (("device", _S),),
    "storage nmp device set": (("default", _B), ("device", _S), ("psp", _S)),
    "storage nmp path list": (("device", _S), ("path", _S)),
    "storage nmp psp roundrobin deviceconfig get": (("device", _S),),
    "storage nmp psp roundrobin deviceconfig set": (
        ("bytes", _L), ("cfgfile", _B), ("device", _S), ("iops", _L), ("latencyevaltime", _L),
        ("numsamplingcycles", _L), ("type", _S), ("useano", _B)),
    "storage nmp satp rule list": (("satp", _S),),
    "storage nmp satp rule add": (
        ("boot", _B), ("claimoption", _S), ("description", _S), ("device", _S), ("driver", _S),
        ("force", _B), ("model", _S), ("option", _S), ("psp", _S), ("pspoption", _S), ("satp", _S),
        ("transport", _S), ("type", _S), ("vendor", _S)),
}


@dataclass(frozen=True)
class EsxcliRequest:
    moid: str
    method: str
    arguments: tuple[tuple[str, str], ...]  # (name, val XML fragment), in the host's order


def command_ids(command: str) -> tuple[str, str]:
    """"storage nmp device list" -> ("ha-cli-handler-storage-nmp-device",
    "vim.EsxCLI.storage.nmp.device.List"): the verb capitalized, as pyVmomi names methods."""
    words = command.split()
    if len(words) < 2:
        raise ValueError(f"not an esxcli command: {command!r}")
    namespace, verb = words[:-1], words[-1]
    method = "vim.EsxCLI." + ".".join(namespace) + "." + verb[:1].upper() + verb[1:]
    return "ha-cli-handler-" + "-".join(namespace), method


def _xml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def argument_xml(name: str, value: object, version_id: str) -> str:
    """One option as the SOAP element esxcli sends: <iops versionId=".." ...>1</iops>."""
    attrs = f' versionId="{version_id}"' if version_id else ""
    return (f'<{name}{attrs} xmlns:xsi="{SoapAdapter.XMLNS_XSI}" xmlns:xsd="{SoapAdapter.XMLNS_XSD}"'
            f' xmlns="urn:vim25">{_xml_value(value)}</{name}>')


def build_request(command: str, options: dict[str, object],
                  version_id: str = ARGUMENT_VERSION_ID) -> EsxcliRequest:
    moid, method = command_ids(command)
    declared = COMMAND_OPTIONS.get(command)
    if declared is None:  # unknown command: still deterministic
        names = sorted(options)
    else:
        unknown = set(options) - {n for n, _ in declared}
        if unknown:
            raise ValueError(f"esxcli {command}: unknown option(s) {', '.join(sorted(unknown))}")
        names = [n for n, _ in declared if n in options]
    args = tuple((n, argument_xml(n, options[n], version_id)) for n in names if options[n] is not None)
    return EsxcliRequest(moid, method, args)


class Esxcli:
    """esxcli on one host, through vCenter. One instance per host and task (a host's read, a
    host's writes): it asks for the host's executer once, on its first command."""

    def __init__(self, session: Session, host_moid: str, host_name: str | None = None):
        self.session = session
        self.host_moid = host_moid
        self.host_name = host_name or host_moid
        self._mme = None

    def executer(self):
        if self._mme is None:
            host = vim.HostSystem(self.host_moid, self.session.stub)
            ref = self.session.call(rawsoap.invoke, self.session.stub, host, _RETRIEVE_MME)
            if ref is None or not (ref.text or "").strip():
                raise HostError(self.host_name, "host does not offer esxcli through the API")
            self._mme = _MME(ref.text.strip(), self.session.stub)
        return self._mme

    def request(self, command: str, **options) -> EsxcliRequest:
        return build_request(command, options)

    def run(self, command: str, write: bool = False, **options) -> list[dict] | str:
        """Rows (list of dicts; repeated fields as lists) or a set command's scalar ("true").

        Raises EsxcliFault for esxcli errors (unknown device, bad option) and for an answer that
        is not XML; vSphere faults and connection errors propagate after Session.call's retries.
        """
        text = self.fetch(command, write=write, **options)
        try:
            return parse_esxcli_response(text)
        except Exception as exc:  # a malformed answer is a host problem, not a crash
            raise EsxcliFault(self.host_name, str(UnreadableAnswer(command, str(exc)))) from exc

    def fetch(self, command: str, write: bool = False, **options) -> str | None:
        """The command's answer document (ExecuteSoap's `response`), not yet parsed; None when
        the host answered nothing. Faults are raised as by run()."""
        req = self.request(command, **options)
        args = [_SoapArgument(name=n, val=v) for n, v in req.arguments]
        mme = self.executer()

        def execute():
            # pyVmomi's request, the answer read by rawsoap: a path list is one string of a few
            # thousand escaped elements, which pyVmomi's parser hands to Python piece by piece
            result = rawsoap.invoke_leaves(self.session.stub, mme, "ExecuteSoap", req.moid,
                                           EXECUTE_VERSION, req.method, args)
            if result is not None and ("faultMsg" in result or "faultDetail" in result):
                # a SoapResult.fault; raised inside call(), so transient ones retry
                self._raise_fault(command, result.get("faultMsg"), result.get("faultDetail"))
            return result

        # a write is sent once: its caller reads back before sending it again (writes.py)
        result = self.session.call(execute, idempotent=not write)
        return result.get("response") if result is not None else None

    def _raise_fault(self, command: str, message: str | None, detail: str | None) -> None:
        # A vSphere fault carried inside the result (e.g. the host stopped answering) keeps its
        # type, so that transient ones are retried like any other call.
        if detail:
            try:
                obj = SoapAdapter.Deserialize(detail, object, stub=self.session.stub)
            except Exception:
                obj = None
            if isinstance(obj, vmodl.MethodFault) and (is_transient(obj) or
                                                       isinstance(obj, vim.fault.NotAuthenticated)):
                raise obj
        message = parse_esxcli_fault(detail, message)
        raise EsxcliFault(self.host_name, f"esxcli {command}: {message}")
