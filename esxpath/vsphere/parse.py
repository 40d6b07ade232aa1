"""Pure parsers for what esxcli and the vSphere API print (no pyVmomi, no I/O).

esxcli reports the ALUA state and the Round Robin limit only inside free-text "config" fields;
these functions turn those strings (and esxcli's escaped XML answers) into plain values.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..core.model import TargetPortGroup, TpgState

_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# {TPG_id=1,TPG_state=AO} inside "Storage Array Type Device Config", also the start of a path's
# "{TPG_id=1,TPG_state=AO,RTP_id=1,RTP_health=UP}"
_TPG_RE = re.compile(r"TPG_id\s*=\s*(\d+)\s*,\s*TPG_state\s*=\s*([A-Za-z_]+)")
# policy=iops,iops=1,bytes=10485760,useANO=0 (spaces after separators tolerated)
_PSP_KV_RE = re.compile(r"(policy|iops|bytes|useANO|latency-eval-time|samplingCycles)\s*=\s*([^,;}\s]+)")

# esxcli's policy= word -> Device policy limit_type (the names `deviceconfig set --type` takes)
_LIMIT_TYPES = {"rr": "default", "iops": "iops", "bytes": "bytes", "latency": "latency"}


@dataclass(frozen=True)
class RrConfig:
    """Round Robin settings from "Path Selection Policy Device Config"."""

    limit_type: str | None = None  # default | iops | bytes | latency
    iops: int | None = None
    bytes: int | None = None
    use_ano: bool | None = None


def parse_rr_device_config(text: str | None) -> RrConfig:
    """`{policy=iops,iops=1,bytes=10485760,useANO=0;lastPathIndex=1: ...}` -> RrConfig.

    Any other PSP prints something else (MRU: "Current Path=vmhba2:C0:T0:L1"): all None.
    """
    if not text or "policy=" not in text:
        return RrConfig()
    # only the part before the first ';' holds the settings; lastPathIndex etc. follow it
    head = text.split(";", 1)[0]
    kv = dict(_PSP_KV_RE.findall(head))
    policy = kv.get("policy", "").lower()
    return RrConfig(
        limit_type=_LIMIT_TYPES.get(policy, policy or None),
        iops=_int(kv.get("iops")),
        bytes=_int(kv.get("bytes")),
        use_ano=None if "useANO" not in kv else kv["useANO"] not in ("0", "false"),
    )


@lru_cache(maxsize=1024)  # few distinct texts across all devices and hosts
def parse_tpgs(text: str | None) -> tuple[TargetPortGroup, ...]:
    """"Storage Array Type Device Config" -> target port groups, sorted by id."""
    groups = {int(i): TpgState.parse(s) for i, s in _TPG_RE.findall(text or "")}
    return tuple(TargetPortGroup(i, groups[i]) for i in sorted(groups))


@lru_cache(maxsize=4096)  # a few distinct texts (one per target port and state), 36k paths
def parse_path_tpg(text: str | None) -> tuple[int | None, TpgState]:
    """"Storage Array Type Path Config" `{TPG_id=1,TPG_state=AO,RTP_id=1,RTP_health=UP}`."""
    m = _TPG_RE.search(text or "")
    if not m:
        return None, TpgState.UNKNOWN
    return int(m.group(1)), TpgState.parse(m.group(2))


_RTP_RE = re.compile(r"RTP_id\s*=\s*(\d+)")


@lru_cache(maxsize=4096)
def parse_path_rtp(text: str | None) -> int | None:
    """The RTP_id of "Storage Array Type Path Config" (the relative target port id, SCST's
    rel_tgt_id of the target the path goes through), None when it is not there."""
    m = _RTP_RE.search(text or "")
    return int(m.group(1)) if m else None


# esxcli `storage nmp path list` "Group State" -> the typed API's HostMultipathInfoPath.state:
# paths of an active (optimized or not) group can carry I/O; an ALUA standby, unavailable or
# transitioning group is standby there (alive, not usable now); dead is dead. Anything else
# stays unknown, which counts as not live.
_PATH_STATE_OF_GROUP = {"active": "active", "active unoptimized": "active", "standby": "standby",
                        "unavailable": "standby", "transitioning": "standby", "dead": "dead"}


def path_state_from_group(text: str | None) -> str:
    return _PATH_STATE_OF_GROUP.get((text or "").strip().lower(), "unknown")


def format_wwn(value: int | str | None) -> str | None:
    """A WWN as esxcli/SAN admins write it: 21:00:00:24:ff:54:09:80.

    The API gives longs (possibly negative: Java-style signed 64 bit); path names give hex.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int):
        n = value & 0xFFFFFFFFFFFFFFFF
    else:
        n = int(str(value).replace(":", ""), 16)
    h = f"{n:016x}"
    return ":".join(h[i:i + 2] for i in range(0, 16, 2))


_FC_PATH_RE = re.compile(r"^fc\.([0-9a-fA-F]+):([0-9a-fA-F]+)-fc\.([0-9a-fA-F]+):([0-9a-fA-F]+)-(.+)$")


def target_wwpn_from_path_name(name: str | None) -> str | None:
    """`fc.<hba wwnn>:<hba wwpn>-fc.<tgt wwnn>:<tgt wwpn>-<device>` -> target WWPN, else None."""
    m = _FC_PATH_RE.match(name or "")
    return _wwn_of_hex(m.group(4)) if m else None


@lru_cache(maxsize=4096)  # a fabric has few target ports; every path repeats one of them
def _wwn_of_hex(text: str) -> str | None:
    return format_wwn(text)


# iSCSI: `<initiator iqn>-<isid>,<target iqn>,t,<tpgt>-<device>`
_ISCSI_TARGET_RE = re.compile(r",((?:iqn|eui|naa)\.[^,]+),t,\d+-")


def target_iqn_from_path_name(name: str | None) -> str | None:
    """An iSCSI path name -> its target name (iqn.*), else None (FC, local)."""
    m = _ISCSI_TARGET_RE.search(name or "")
    return m.group(1) if m else None


def adapter_from_key(key: str | None) -> str:
    """`key-vim.host.FibreChannelHba-vmhba2` -> `vmhba2`; a runtime name's first part also works."""
    if not key:
        return ""
    if key.startswith("key-"):
        return key.rsplit("-", 1)[-1]
    return key.split(":", 1)[0]


def parse_bool(text: object) -> bool | None:
    if text is None:
        return None
    if isinstance(text, bool):
        return text
    t = str(text).strip().lower()
    if t in ("true", "1", "yes", "on"):
        return True
    if t in ("false", "0", "no", "off"):
        return False
    return None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def as_list(value: object) -> list:
    """esxcli list fields come back as one element when there is one value."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


# ----- esxcli's escaped XML answers (the `response` / `faultDetail` of ExecuteSoap) -----

_LOCAL_NAMES: dict[str, str] = {}  # "{urn:vim25}Device" -> "Device": few distinct tags, many rows


def _local(tag: str) -> str:
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = _LOCAL_NAMES[tag] = tag.rsplit("}", 1)[-1]
    return name


def _element_value(el: ET.Element) -> object:
    return _element_dict(el) if len(el) else (el.text or "")


def _element_dict(el: ET.Element) -> dict:
    # the inner loop of every esxcli answer (36k path rows at 256 hosts): kept lean
    out: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in el:
        key = _local(child.tag)
        value = _element_dict(child) if len(child) else (child.text or "")
        if key not in out:
            out[key] = value
        elif key in repeated:
            out[key].append(value)
        else:  # second occurrence: a list field
            out[key] = [out[key], value]
            repeated.add(key)
    return out


def parse_esxcli_response(text: str | None) -> list[dict] | str:
    """The `response` document -> list of rows (dicts), or the scalar (str) of a set command.

    `<obj xsi:type="ArrayOfDataObject"><DataObject xsi:type="..."><Device>..</Device>...`
    """
    if not text:
        return []
    root = ET.fromstring(text)
    children = list(root)
    if not children:
        return root.text or ""
    if root.get(_XSI_TYPE, "").startswith("ArrayOf"):
        return [_row(c) for c in children]
    return [_row(root)]  # a single data object


def _row(el: ET.Element) -> dict:
    d = _element_value(el)
    return d if isinstance(d, dict) else {"value": d}


def parse_esxcli_fault(detail: str | None, message: str | None = None) -> str:
    """`faultDetail` (a VimEsxCLICLIFault with errMsg[]) -> one message for the user."""
    msgs: list[str] = []
    if detail:
        try:
            root = ET.fromstring(detail)
        except ET.ParseError:
            return detail.strip()
        for el in root.iter():
            if _local(el.tag) in ("errMsg", "msg") and (el.text or "").strip():
                msgs.append(el.text.strip())
    if msgs:
        return "; ".join(dict.fromkeys(msgs))
    return (message or "esxcli failed").strip()
