"""An SCST sysfs tree written as the kernel lays it out (scst_sysfs.c, scst_vdisk.c): values with
a `[key]` second line when not default, links for handlers, device-group members, LUN devices and
a target group's local targets, write-only `mgmt` files beside them. Shared by the sysfs parser's
unit tests and the `san dump` CLI tests."""
from __future__ import annotations

import os

LOCAL, LOCAL2 = "21:00:00:24:ff:54:09:80", "21:00:00:24:ff:54:09:81"
REMOTE = "21:00:00:24:ff:54:09:32"


def attr(path, value, key=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{value}\n" + ("[key]\n" if key else ""))


def link(path, target):
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(target, path.parent), path)


def scst_tree(root):
    """One node: setup_id 0, disk01 generated, disk02 with an explicit eui64_id, a dev_disk
    pass-through; two FC targets; a device group with a local and a remote target group."""
    attr(root / "setup_id", "0x0")
    (root / "handlers" / "vdisk_blockio").mkdir(parents=True)
    (root / "handlers" / "dev_disk").mkdir(parents=True)
    for name, t10, eui in (("disk01", "27cddc71-disk01", ""), ("disk02", "132a74e8-disk02",
                                                                "0x0023456789abcdef")):
        d = root / "devices" / name
        link(d / "handler", root / "handlers" / "vdisk_blockio")
        attr(d / "t10_dev_id", t10)
        attr(d / "eui64_id", eui, key=bool(eui))
        attr(d / "naa_id", "")
        attr(d / "t10_vend_id", "SCST_BIO")
        attr(d / "prod_id", name)
    link(root / "devices" / "1:0:0:0" / "handler", root / "handlers" / "dev_disk")
    for wwpn, rel, enabled in ((LOCAL, 1, 1), (LOCAL2, 2, 0)):
        t = root / "targets" / "qla2x00t" / wwpn
        attr(t / "enabled", enabled, key=True)
        attr(t / "rel_tgt_id", rel, key=True)
        attr(t / "luns" / "mgmt", "in: add|del|replace|clear")
        link(t / "luns" / "0" / "device", root / "devices" / "disk01")
        link(t / "luns" / "1" / "device", root / "devices" / "disk02")
    cm = root / "targets" / "copy_manager" / "copy_manager_tgt"  # SCST's internal one: not a port
    attr(cm / "rel_tgt_id", 0)
    link(cm / "luns" / "0" / "device", root / "devices" / "disk01")
    attr(root / "targets" / "qla2x00t" / "trace_level", "none")
    attr(root / "targets" / "qla2x00t" / "mgmt", "in: add_target ...")
    g = root / "device_groups" / "dgroup1"
    attr(g / "devices" / "mgmt", "")
    for dev in ("disk01", "disk02"):
        link(g / "devices" / dev, root / "devices" / dev)
    local, remote = g / "target_groups" / "local", g / "target_groups" / "remote"
    for tg, gid, state in ((local, 101, "active"), (remote, 102, "nonoptimized")):
        attr(tg / "group_id", gid, key=True)
        attr(tg / "state", state, key=True)
        attr(tg / "preferred", 0)
        attr(tg / "mgmt", "")
    link(local / LOCAL, root / "targets" / "qla2x00t" / LOCAL)
    link(local / LOCAL2, root / "targets" / "qla2x00t" / LOCAL2)
    attr(remote / REMOTE / "rel_tgt_id", 3, key=True)
    return root
