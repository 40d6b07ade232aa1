"""`esxpath san dump` as a storage node runs it: one JSON document on stdout from scst.conf or the
sysfs tree and crm_mon's XML; bad input is one line naming the file, exit 78 (64 for usage)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_process import ROOT, assert_one_line_error, explain
from esxpath.errors import ExitStatus
from scst_tree import LOCAL, LOCAL2, REMOTE, attr, scst_tree

DATA = ROOT / "tests" / "data" / "scst"
KEYS = {"schema", "node", "source", "taken_at", "setup_id", "role", "role_resource", "devices",
        "device_groups", "targets"}
DEVICE_KEYS = {"name", "handler", "t10_dev_id", "t10_dev_id_generated", "eui64_id", "naa_id",
               "t10_vend_id", "prod_id", "esxi_id"}

CRM_MON = """<pacemaker-result api-version="2.30" request="crm_mon --output-as=xml">
  <nodes>
    <node name="storage1" id="1" online="true" standby="false" type="member"/>
    <node name="storage2" id="2" online="true" standby="false" type="member"/>
  </nodes>
  <resources>
    <clone id="ms_scst" multi_state="true" unique="false" managed="true" disabled="false" failed="false" failure_ignored="false">
      <resource id="p_scst_alua" resource_agent="ocf:esos:alua" role="Promoted" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
        <node name="storage1" id="1" cached="true"/>
      </resource>
      <resource id="p_scst_alua" resource_agent="ocf:esos:alua" role="Unpromoted" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
        <node name="storage2" id="2" cached="true"/>
      </resource>
    </clone>
  </resources>
  <status code="0" message="OK"/>
</pacemaker-result>
"""


def san_dump(*args: str, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess:
    # PATH without crm_mon/crm_node: the node's name and role come from the options
    env = {"PATH": path, "HOME": "/tmp", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "esxpath", "san", "dump", *args], env=env,
                          capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL,
                          timeout=120)


def document(proc) -> dict:
    assert proc.returncode == 0, explain(proc)
    doc = json.loads(proc.stdout)
    assert set(doc) == KEYS and doc["schema"] == "esxpath/san-dump/1"
    assert all(set(d) == DEVICE_KEYS for d in doc["devices"])
    return doc


def test_config_that_relies_on_generated_ids_gives_scsts_documented_ids(tmp_path):
    doc = document(san_dump("--scst-conf", str(DATA / "storage1.conf"), "--node", "storage1"))
    ids = {d["name"]: (d["t10_dev_id"], d["t10_dev_id_generated"], d["esxi_id"]) for d in doc["devices"]}
    # scst/README (setup_id 0): disk01 "27cddc71-disk01", EUI-64 0x3237636464633731;
    # disk02 EUI-64 0x3133326137346538 (multipath -ll)
    assert ids["disk01"] == ("27cddc71-disk01", True, "eui.3237636464633731")
    assert ids["disk02"][1:] == (True, "eui.3133326137346538")
    assert ids["fixed01"][2] == "eui.0023456789abcdef"
    assert ids["naa01"][2] == "naa.6001405aabbccdd00112233445566778"
    assert (doc["node"], doc["setup_id"], doc["role"], doc["role_resource"]) == ("storage1", 0, "unknown", None)
    assert doc["source"] == f"scst.conf:{DATA / 'storage1.conf'}"
    [dg] = doc["device_groups"]
    local, remote = dg["target_groups"]
    assert [(t["rel_tgt_id"], t["local"], t["enabled"]) for t in local["targets"]] == [(1, True, True), (2, True, False)]
    assert [(t["rel_tgt_id"], t["local"], t["enabled"]) for t in remote["targets"]] == [(3, False, None), (4, False, None)]
    assert (local["group_id"], local["state"], local["preferred"]) == (101, "active", True)
    assert doc["targets"][1]["luns"] == [{"lun": 0, "device": "disk01", "ini_group": "esx"}]


def test_another_setup_id_gives_other_ids(tmp_path):
    conf = tmp_path / "scst.conf"
    conf.write_text("setup_id 0x5\n" + (DATA / "storage1.conf").read_text())
    doc = document(san_dump("--scst-conf", str(conf), "--node", "storage1"))
    disk01 = next(d for d in doc["devices"] if d["name"] == "disk01")
    assert (disk01["t10_dev_id"], disk01["esxi_id"]) == ("527cddc71-disk01", "eui.3532376364646337")
    assert doc["setup_id"] == 5


def test_sysfs_tree_and_crm_mon(tmp_path):
    root = scst_tree(tmp_path / "scst_tgt")
    xml = tmp_path / "crm_mon.xml"
    xml.write_text(CRM_MON)
    doc = document(san_dump("--sysfs-root", str(root), "--crm-mon-xml", str(xml), "--node", "storage1"))
    assert (doc["node"], doc["role"], doc["role_resource"]) == ("storage1", "promoted", "p_scst_alua")
    assert doc["source"] == f"sysfs:{root}"
    by_name = {d["name"]: d for d in doc["devices"]}
    assert by_name["disk01"]["esxi_id"] == "eui.3237636464633731" and by_name["disk01"]["t10_dev_id_generated"]
    assert by_name["disk02"]["esxi_id"] == "eui.0023456789abcdef"
    assert by_name["1:0:0:0"]["esxi_id"] is None
    [dg] = doc["device_groups"]
    targets = [(t["name"], t["rel_tgt_id"], t["local"], t["enabled"])
               for tg in dg["target_groups"] for t in tg["targets"]]
    assert targets == [(LOCAL, 1, True, True), (LOCAL2, 2, True, False), (REMOTE, 3, False, None)]
    doc2 = document(san_dump("--sysfs-root", str(root), "--crm-mon-xml", str(xml), "--node", "storage2"))
    assert doc2["role"] == "unpromoted"


def test_without_pacemaker_the_role_is_unknown(tmp_path):
    root = scst_tree(tmp_path / "scst_tgt")
    doc = document(san_dump("--sysfs-root", str(root)))
    assert (doc["role"], doc["role_resource"]) == ("unknown", None)
    assert doc["node"] == os.uname().nodename


def test_crm_mon_is_run_when_installed(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("crm_mon", f"cat <<'XML'\n{CRM_MON}XML\n"), ("crm_node", "echo storage2\n")):
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}")
        (bin_dir / name).chmod(0o755)
    root = scst_tree(tmp_path / "scst_tgt")
    doc = document(san_dump("--sysfs-root", str(root), path=f"{bin_dir}:/usr/bin:/bin"))
    assert (doc["node"], doc["role"]) == ("storage2", "unpromoted")


def _bad_cases(tmp_path: Path):
    root = scst_tree(tmp_path / "scst_tgt")
    (root / "devices" / "disk01" / "t10_dev_id").unlink()
    good_conf = str(DATA / "storage1.conf")
    bad_conf = tmp_path / "bad.conf"
    bad_conf.write_text("HANDLER vdisk_blockio {\n\tDEVICE disk01 {\n\t\tfilename /dev/sdb\n}\n")
    binary = tmp_path / "binary.conf"
    binary.write_bytes(b"HANDLER \xff\xfe {\n}\n")
    xml = tmp_path / "crm_mon.xml"
    xml.write_text("<pacemaker-result><nodes>")
    good = scst_tree(tmp_path / "good" / "scst_tgt")
    attr(good / "device_groups" / "dgroup1" / "target_groups" / "local" / "group_id", "one")
    return [
        (["--sysfs-root", str(root)], ExitStatus.CONFIG, f"{root}/devices/disk01/t10_dev_id: missing"),
        (["--sysfs-root", str(good)], ExitStatus.CONFIG,
         f"{good}/device_groups/dgroup1/target_groups/local/group_id: 'one' is not a number"),
        (["--sysfs-root", str(tmp_path / "none")], ExitStatus.CONFIG, f"{tmp_path / 'none'}: no such directory"),
        (["--scst-conf", str(bad_conf)], ExitStatus.CONFIG, f"{bad_conf}: line 1: '{{' is never closed"),
        (["--scst-conf", str(tmp_path / "absent.conf")], ExitStatus.CONFIG,
         f"{tmp_path / 'absent.conf'}: cannot read scst.conf: No such file or directory"),
        (["--scst-conf", str(tmp_path)], ExitStatus.CONFIG, f"{tmp_path}: cannot read scst.conf: a directory, not a regular file"),
        (["--scst-conf", str(binary)], ExitStatus.CONFIG, f"{binary}: scst.conf is not UTF-8 text"),
        (["--scst-conf", good_conf, "--crm-mon-xml", str(xml), "--node", "storage1"], ExitStatus.CONFIG,
         f"{xml}: not XML from crm_mon --output-as=xml"),
        (["--scst-conf", good_conf, "--crm-mon-xml", str(tmp_path / "no.xml")], ExitStatus.CONFIG,
         f"{tmp_path / 'no.xml'}: cannot read crm_mon XML: No such file or directory"),
        (["--scst-conf", good_conf, "--sysfs-root", str(root)], ExitStatus.USAGE,
         "--sysfs-root and --scst-conf exclude each other"),
    ]


BAD_CASES = ("sysfs attribute missing", "sysfs value not a number", "no sysfs tree",
             "scst.conf block never closed", "no scst.conf", "scst.conf is a directory",
             "scst.conf not text", "crm_mon XML broken", "no crm_mon XML", "both sources")


@pytest.mark.parametrize("case", range(len(BAD_CASES)), ids=BAD_CASES)
def test_bad_input_is_one_line_naming_the_file(tmp_path, case):
    args, status, message = _bad_cases(tmp_path)[case]
    proc = san_dump(*args)
    assert proc.returncode == status, f"{args}\n{explain(proc)}"
    line = assert_one_line_error(proc)
    assert line.startswith(f"esxpath: error: {message}"), f"{args}\n{explain(proc)}"
    assert proc.stdout == "", f"{args}: a failed dump prints no document\n{explain(proc)}"


def test_help_says_what_it_needs():
    proc = san_dump("--help")
    assert proc.returncode == 0 and "esxpath san dump" in proc.stdout
    for text in ("as root", "never writes to SCST", "vCenter", "--sysfs-root", "--scst-conf",
                 "--crm-mon-xml", "--node", "--resource", "78"):
        assert text in proc.stdout, text
