"""SCST's sysfs tree (tests/scst_tree.py writes one as the kernel lays it out) parsed, and one
line naming the file for what is missing or wrong."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from esxpath.errors import ExitStatus, InputError
from esxpath.san.read import FsTree
from esxpath.san.sysfs import parse_sysfs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scst_tree import LOCAL, LOCAL2, REMOTE, attr, scst_tree  # noqa: E402


def test_a_node_as_sysfs_shows_it(tmp_path):
    state = parse_sysfs(FsTree(str(scst_tree(tmp_path / "scst_tgt"))))
    assert state.setup_id == 0
    devs = {d.name: d for d in state.devices}
    assert (devs["disk01"].handler, devs["disk01"].t10_dev_id, devs["disk01"].eui64_id) == \
        ("vdisk_blockio", "27cddc71-disk01", None)
    assert devs["disk02"].eui64_id == "0023456789abcdef"
    assert (devs["1:0:0:0"].handler, devs["1:0:0:0"].t10_dev_id) == ("dev_disk", None)
    t1, t2 = state.targets
    assert (t1.name, t1.enabled, t1.rel_tgt_id) == (LOCAL, True, 1)
    assert (t2.name, t2.enabled, t2.rel_tgt_id) == (LOCAL2, False, 2)
    assert [(lu.lun, lu.device) for lu in t1.luns] == [(0, "disk01"), (1, "disk02")]
    [dg] = state.device_groups
    assert dg.devices == ("disk01", "disk02")
    local, remote = dg.target_groups
    assert (local.group_id, local.state, [(t.name, t.rel_tgt_id) for t in local.targets]) == \
        (101, "active", [(LOCAL, 1), (LOCAL2, 2)])
    assert (remote.group_id, remote.state, [(t.name, t.rel_tgt_id) for t in remote.targets]) == \
        (102, "nonoptimized", [(REMOTE, 3)])


@pytest.mark.parametrize("remove, what", [
    ("setup_id", "setup_id: missing"),
    ("devices/disk01/t10_dev_id", "devices/disk01/t10_dev_id: missing"),
    ("targets/qla2x00t/21:00:00:24:ff:54:09:80/rel_tgt_id", "rel_tgt_id: missing"),
    ("device_groups/dgroup1/target_groups/local/group_id", "target_groups/local/group_id: missing"),
    ("device_groups/dgroup1/target_groups/remote/state", "target_groups/remote/state: missing"),
    ("device_groups/dgroup1/target_groups/remote/21:00:00:24:ff:54:09:32/rel_tgt_id",
     "remote/21:00:00:24:ff:54:09:32/rel_tgt_id: missing"),
    ("targets/qla2x00t/21:00:00:24:ff:54:09:80/luns/0/device", "luns/0/device: missing"),
    ("devices", "devices: missing (is this an SCST sysfs tree?"),
])
def test_missing_attribute_names_the_file(tmp_path, remove, what):
    root = scst_tree(tmp_path / "scst_tgt")
    victim = root / remove
    if victim.is_dir() and not victim.is_symlink():
        shutil.rmtree(victim)
    else:
        victim.unlink()
    with pytest.raises(InputError) as e:
        parse_sysfs(FsTree(str(root)))
    assert str(e.value).startswith(str(root) + "/") and what in str(e.value), str(e.value)
    assert e.value.status == ExitStatus.CONFIG


@pytest.mark.parametrize("file, value, what", [
    ("setup_id", "zero", "'zero' is not a number"),
    ("device_groups/dgroup1/target_groups/local/state", "primary", "'primary' is not an ALUA state"),
    ("targets/qla2x00t/21:00:00:24:ff:54:09:80/enabled", "yes", "'yes' is not 0 or 1"),
    ("devices/disk02/eui64_id", "0x12", "'0x12' is not a valid id"),
])
def test_bad_value_names_the_file(tmp_path, file, value, what):
    root = scst_tree(tmp_path / "scst_tgt")
    attr(root / file, value)
    with pytest.raises(InputError) as e:
        parse_sysfs(FsTree(str(root)))
    assert str(e.value) == f"{root / file}: {what}" or (
        str(e.value).startswith(f"{root / file}: {what}")), str(e.value)


def test_no_tree_at_all(tmp_path):
    with pytest.raises(InputError, match="no such directory"):
        FsTree(str(tmp_path / "nothing"))
