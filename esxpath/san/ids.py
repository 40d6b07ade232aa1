"""The id ESXi shows for an SCST vdisk device, computed the way SCST builds its INQUIRY VPD page
0x83 (scst/src/dev_handlers/scst_vdisk.c: vdisk_dev_id_vpd, vdisk_gen_dev_id_num, vdev_create).

Pure: no I/O.
"""
from __future__ import annotations

import re
import string

# The vdisk family (vdev_create) generates t10_dev_id; other handlers (dev_disk pass-through)
# show the backing disk's own ids, which SCST's state does not tell.
VDISK_HANDLERS = ("vdisk_fileio", "vdisk_blockio", "vdisk_nullio", "vcdrom")

# SCST's own target driver for EXTENDED COPY (scst_copy_mgr.c): it holds every device as a LUN
# but is no port an initiator reaches, so it is not one of the node's targets here.
INTERNAL_DRIVERS = ("copy_manager",)

T10_DEV_ID_MAX = 25  # char t10_dev_id[16 + 8 + 2], NUL-terminated (snprintf truncates)
PROD_ID_MAX = 16  # char prod_id[16 + 1]


def _table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


_CRC32C = _table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """The Linux kernel's crc32c(crc, data, len): reflected CRC-32C (Castagnoli, polynomial
    0x82F63B78) started from `crc` as given and returned without the final inversion. It is not
    the "standard" CRC-32C (seed ~0, result inverted), which callers get only by passing ~0 and
    inverting themselves (as iSCSI's digest does)."""
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def generated_t10_dev_id(name: str, setup_id: int) -> str:
    """What SCST writes into t10_dev_id when a device is created without one:
    snprintf("%llx-%s", (setup_id << 32) | crc32c(0, name, strlen(name) + 1), name), cut to the
    buffer. The CRC covers the name's terminating NUL."""
    num = ((setup_id & 0xFFFFFFFF) << 32) | crc32c(name.encode() + b"\0")
    return f"{num:x}-{name}"[:T10_DEV_ID_MAX]


def parse_number(text: str) -> int | None:
    """A non-negative number as SCST prints it: decimal, or hex with 0x (setup_id)."""
    text = text.strip()
    if text[:2].lower() == "0x" and text[2:] and all(c in string.hexdigits for c in text[2:]):
        return int(text[2:], 16)
    return int(text) if text.isascii() and text.isdigit() else None


def is_vdisk(handler: str | None) -> bool:
    return handler in VDISK_HANDLERS


def default_vendor(handler: str | None) -> str | None:
    if not is_vdisk(handler):
        return None
    return "SCST_BIO" if handler == "vdisk_blockio" else "SCST_FIO"


def default_prod_id(name: str, handler: str | None) -> str | None:
    return name[:PROD_ID_MAX] if is_vdisk(handler) else None


def esxi_id(t10_dev_id: str | None, eui64_id: str | None, naa_id: str | None) -> str | None:
    """The device name ESXi shows. eui64_id / naa_id are hex digits without "0x".

    SCST puts an EUI-64 designator in VPD 0x83 from eui64_id when it is set, else (no naa_id
    either) from the first 8 bytes of t10_dev_id, zero-padded; with only naa_id it sends no
    EUI-64 and ESXi shows the NAA."""
    if eui64_id:
        return "eui." + eui64_id.lower()
    if naa_id:
        return "naa." + naa_id.lower()
    if t10_dev_id is None:
        return None
    return "eui." + t10_dev_id.encode()[:8].ljust(8, b"\0").hex()


def normalise_hex_id(value: str, lengths: tuple[int, ...], first: dict[int, str] | None = None) -> str | None:
    """An eui64_id / naa_id as SCST accepts it ("0x" optional, one of `lengths` bytes; for NAA
    the first digit is the NAA type SCST allows), as lower-case hex digits; "" for unset; None
    when SCST would refuse it."""
    text = value.strip()
    if text[:2].lower() == "0x":
        text = text[2:]
    if not text:
        return ""
    if not all(c in string.hexdigits for c in text):
        return None
    if len(text) not in tuple(2 * n for n in lengths):
        return None
    if first and text[0] not in first.get(len(text) // 2, ""):
        return None
    return text.lower()


EUI64_LENGTHS = (8, 12, 16)
NAA_LENGTHS = (8, 16)
NAA_TYPES = {8: "235", 16: "6"}  # vdev_sysfs_naa_id_store: the NAA field an id of this length may have


_WWPN_RE = re.compile(r"^[0-9a-f]{16}$")


def target_key(name: str) -> str:
    """One target's name as SCST and ESXi spell it, made comparable: lower case, and a bare
    16-digit WWPN with its colons (ESXi's fc.<wwnn>:<wwpn> vs SCST's 21:00:...); IQNs as is."""
    n = name.strip().lower()
    if _WWPN_RE.match(n):
        return ":".join(n[i:i + 2] for i in range(0, 16, 2))
    return n
