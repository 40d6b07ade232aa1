"""The id ESXi shows for an SCST device, held to SCST's own documentation (scst/README, section
"Checking the Target Configuration": sg_inq, sg_vpd and multipath -ll on a target with
setup_id 0), never to this code's own output."""
from __future__ import annotations

import pytest

from esxpath.san import ids

# scst/README: "Unit serial number: 27cddc71", "vendor specific: 27cddc71-disk01",
# "EUI-64 based ... 0x3237636464633731"; multipath -ll names the maps by their EUI-64 with
# Linux's designator-type prefix 2: 23237636464633731 (disk01), 23133326137346538 (disk02).
DOCUMENTED = {
    "disk01": ("27cddc71-disk01", "eui.3237636464633731"),
    "disk02": (None, "eui.3133326137346538"),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_generated_id_is_the_one_scst_documents(name):
    t10, eui = DOCUMENTED[name]
    generated = ids.generated_t10_dev_id(name, 0)
    if t10 is not None:
        assert generated == t10
    assert ids.esxi_id(generated, None, None) == eui


def test_crc_is_castagnoli():
    # the CRC catalogue's check value of CRC-32C (seed ~0, result inverted) for "123456789"
    assert ids.crc32c(b"123456789", 0xFFFFFFFF) ^ 0xFFFFFFFF == 0xE3069283


def _other_conventions(name: str) -> dict[str, int]:
    data = name.encode()
    return {
        "standard crc32c (seed ~0, final inversion)": ids.crc32c(data + b"\0", 0xFFFFFFFF) ^ 0xFFFFFFFF,
        "seed ~0, no final inversion": ids.crc32c(data + b"\0", 0xFFFFFFFF),
        "seed 0, final inversion": ids.crc32c(data + b"\0") ^ 0xFFFFFFFF,
        "without the NUL byte": ids.crc32c(data),
    }


def test_a_wrong_crc_convention_gives_another_id_than_scst_documents():
    for convention, crc in _other_conventions("disk01").items():
        wrong = ids.esxi_id(f"{crc:x}-disk01", None, None)
        assert wrong != DOCUMENTED["disk01"][1], convention


def test_setup_id_takes_the_high_hex_digits_and_the_id_is_cut_to_scsts_buffer():
    assert ids.generated_t10_dev_id("disk01", 0x1234) == "123427cddc71-disk01"
    # a large setup_id leaves no hash digit in the 8 characters ESXi uses: ids collide
    a = ids.generated_t10_dev_id("disk01", 0xDEADBEEF)
    b = ids.generated_t10_dev_id("disk02", 0xDEADBEEF)
    assert a != b and ids.esxi_id(a, None, None) == ids.esxi_id(b, None, None)
    long = ids.generated_t10_dev_id("a-very-long-device-name", 0)
    assert len(long) == 25 and long.endswith("-a-very-long-devi")


def test_esxi_id_precedence():
    t10 = "27cddc71-disk01"
    assert ids.esxi_id(t10, "0123456789abcdef", None) == "eui.0123456789abcdef"
    assert ids.esxi_id(t10, None, "600140512345678901234567890abcde") == "naa.600140512345678901234567890abcde"
    assert ids.esxi_id("abc", None, None) == "eui.6162630000000000"  # zero-padded buffer
    assert ids.esxi_id(None, None, None) is None


@pytest.mark.parametrize("text, lengths, first, want", [
    ("0x0123456789ABCDEF", ids.EUI64_LENGTHS, None, "0123456789abcdef"),
    ("0123456789abcdef01234567", ids.EUI64_LENGTHS, None, "0123456789abcdef01234567"),
    ("", ids.EUI64_LENGTHS, None, ""),
    ("0x0123", ids.EUI64_LENGTHS, None, None),
    ("0x01234567zz abcdef", ids.EUI64_LENGTHS, None, None),
    ("01 23 45 67 89 ab cd", ids.EUI64_LENGTHS, None, None),
    ("0x5001405123456789", ids.NAA_LENGTHS, ids.NAA_TYPES, "5001405123456789"),
    ("0x1001405123456789", ids.NAA_LENGTHS, ids.NAA_TYPES, None),  # NAA 1 is not allowed
    ("0x500140512345678901234567890abcde", ids.NAA_LENGTHS, ids.NAA_TYPES, None),  # 16 bytes: NAA 6
])
def test_hex_ids_as_scst_accepts_them(text, lengths, first, want):
    assert ids.normalise_hex_id(text, lengths, first) == want


@pytest.mark.parametrize("text, want", [("0x0", 0), ("0x1234", 0x1234), ("17", 17), ("", None),
                                        ("-1", None), ("0x", None), ("1_0", None), ("abc", None)])
def test_numbers_as_scst_prints_them(text, want):
    assert ids.parse_number(text) == want
