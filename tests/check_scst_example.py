"""`san dump --scst-conf` on the SCST project's own example configuration
(SCST-project/scst, scstadmin/examples/scst.conf.sysfs, GPL-2.0).

Not a pytest module: the example may not be committed here (material fetched from other
projects stays out of this repository), so CI cannot have it. Run it by hand on a copy:

    python3 tests/check_scst_example.py /path/to/scst.conf.sysfs

(or ESXPATH_SCST_EXAMPLE=FILE, or shared/scst/scst.conf.sysfs beside the repository). It exits 0
and prints "ok" when the dump's ids are what SCST generates. The CI-run counterpart on a config of
our own is tests/e2e/test_san_dump.py. The CRC here is written bit by bit, independently of
esxpath.san.ids."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def explain(proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"


def example(argv: list[str]) -> Path:
    if argv:
        return Path(argv[0])
    if os.environ.get("ESXPATH_SCST_EXAMPLE"):
        return Path(os.environ["ESXPATH_SCST_EXAMPLE"])
    for parent in ROOT.parents:
        candidate = parent / "shared" / "scst" / "scst.conf.sysfs"
        if candidate.is_file():
            return candidate
    raise AssertionError("SCST's example configuration is missing: put SCST-project/scst "
                         "scstadmin/examples/scst.conf.sysfs into shared/scst/scst.conf.sysfs "
                         "(or name a copy in ESXPATH_SCST_EXAMPLE)")


def kernel_crc32c(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc


def check(path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "esxpath", "san", "dump", "--scst-conf", str(path),
                           "--node", "example"], capture_output=True, text=True, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(ROOT)},
                          stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 0, explain(proc)
    doc = json.loads(proc.stdout)
    assert doc["setup_id"] == 0x1234
    devices = {d["name"]: d for d in doc["devices"]}
    assert {n: d["handler"] for n, d in devices.items()} == {
        "1:0:0:0": "dev_disk", "2:0:0:0": "dev_disk", "disk1": "vdisk_fileio",
        "disk2": "vdisk_fileio", "blockio1": "vdisk_blockio", "cdrom1": "vcdrom"}
    for name in ("disk1", "disk2", "blockio1", "cdrom1"):
        num = (0x1234 << 32) | kernel_crc32c(name.encode() + bytes(1))  # the name and its NUL
        t10 = f"{num:x}-{name}"
        assert devices[name]["t10_dev_id"] == t10 and devices[name]["t10_dev_id_generated"]
        assert devices[name]["esxi_id"] == "eui." + t10[:8].encode().hex()
    # a setup_id of 4 hex digits leaves 4 of the CRC's 8 in the part ESXi uses
    assert all(devices[n]["esxi_id"].startswith("eui." + b"1234".hex()) for n in ("disk1", "disk2"))
    assert devices["1:0:0:0"]["esxi_id"] is None and devices["blockio1"]["t10_vend_id"] == "SCST_BIO"
    targets = {t["name"]: t for t in doc["targets"]}
    assert targets["iqn.2006-10.net.vlnb:tgt"]["enabled"] is True
    assert [lu["device"] for lu in targets["iqn.2006-10.net.vlnb:tgt"]["luns"]] == ["disk1", "disk2", "blockio1"]
    assert {(lu["lun"], lu["device"], lu["ini_group"]) for lu in targets["25:00:00:f0:98:87:92:f3"]["luns"]} == \
        {(0, "blockio1", "INI1"), (1, "1:0:0:0", "INI1"), (5, "cdrom1", "INI1")}
    assert targets["25:00:00:f0:98:87:92:f4"]["enabled"] is False
    groups = {dg["name"]: {tg["group_id"]: (tg["state"], [(t["rel_tgt_id"], t["local"]) for t in tg["targets"]])
                           for tg in dg["target_groups"]} for dg in doc["device_groups"]}
    assert groups == {"dgroup1": {1: ("active", [(1, True)]), 2: ("offline", [(2, True)])},
                      "dgroup2": {1: ("offline", [(1, True)]), 2: ("active", [(2, True)])}}


if __name__ == "__main__":
    check(example(sys.argv[1:]))
    print("ok: san dump on SCST's example configuration gives SCST's ids")
