#!/usr/bin/env python3
"""The pyVmomi peer: an audit written the way community samples walk vCenter.

One host after another: host.name, host.configManager.storageSystem.storageDeviceInfo by
attribute access (every managed-object attribute is a round trip), then per SCST eui LUN one
esxcli `storage nmp psp roundrobin deviceconfig get` and one `storage nmp path list --device`.
The esxcli call mechanism (ManagedMethodExecuter) is esxpath's, so that only the access pattern
differs from esxpath. Connection from the ESXPATH_* environment.

Usage: pyvmomi_walk.py [HOST...]   (default: every host)
"""
from __future__ import annotations

import os
import sys
from collections import Counter

from pyVmomi import vim

from esxpath.vsphere.esxcli import Esxcli
from esxpath.vsphere.session import ConnectOptions, connect

SCST_VENDORS = ("SCST_BIO", "SCST_FIO")


def main(wanted: list[str]) -> int:
    session = connect(ConnectOptions(url=os.environ["ESXPATH_VCENTER"],
                                     user=os.environ["ESXPATH_USER"],
                                     password=os.environ["ESXPATH_PASSWORD"],
                                     ca_file=os.environ.get("ESXPATH_CA_FILE")))
    content = session.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    try:
        for host in view.view:
            name = host.name
            if wanted and name not in wanted:
                continue
            info = host.configManager.storageSystem.storageDeviceInfo
            cli = Esxcli(session, host._moId, name)
            for lun in info.scsiLun:
                if not (lun.canonicalName.startswith("eui.") and lun.vendor.strip() in SCST_VENDORS):
                    continue
                rr = cli.run("storage nmp psp roundrobin deviceconfig get", device=lun.canonicalName)
                paths = cli.run("storage nmp path list", device=lun.canonicalName)
                row = rr[0] if rr else {}
                groups = Counter(p.get("GroupState") for p in paths)
                print(f"{name} {lun.canonicalName} limit={row.get('LimitType')} "
                      f"iops={row.get('IOOperationLimit')} "
                      + " ".join(f"{g}={n}" for g, n in sorted(groups.items())))
    finally:
        view.DestroyView()
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
