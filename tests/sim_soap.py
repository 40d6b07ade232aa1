"""pyVmomi helpers for the simulator tests: a TLS-verified connection and one-call reads."""
from __future__ import annotations

import ssl
from urllib.parse import urlparse

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl


def tls_context(ca_file: str) -> ssl.SSLContext:
    """Verification on, trusting only ca_file. Passed explicitly because pyVmomi builds an
    unverified context for 127.0.0.1 when none is given."""
    ctx = ssl.create_default_context(cafile=ca_file)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


def connect(lab, ca_file: str | None = None, password: str | None = None):
    u = urlparse(lab.url)
    return SmartConnect(host=u.hostname, port=u.port, user=lab.user,
                        pwd=lab.password if password is None else password,
                        sslContext=tls_context(ca_file or lab.ca_file),
                        connectionPoolTimeout=30)


def disconnect(si) -> None:
    try:
        Disconnect(si)
    except Exception:  # the session may already be gone (expired on purpose)
        pass


def hosts_by_name(si) -> dict[str, vim.HostSystem]:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    try:
        return {h.name: h for h in view.view}
    finally:
        view.Destroy()


HOST_PROPS = ["name", "parent", "runtime.connectionState", "config.storageDevice",
              "config.network.dnsConfig", "config.network.vnic"]


def read_hosts(si, props=HOST_PROPS) -> dict[str, dict]:
    """One RetrievePropertiesEx (plus continuation pages) over a ContainerView of all hosts."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.HostSystem], True)
    pc = content.propertyCollector
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(
            obj=view, skip=True,
            selectSet=[vmodl.query.PropertyCollector.TraversalSpec(
                name="view", path="view", skip=False, type=vim.view.ContainerView)])],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.HostSystem, pathSet=list(props))])
    out = {}
    try:
        result = pc.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
        while result:
            for obj in result.objects:
                values = {p.name: p.val for p in obj.propSet}
                values["_moid"] = obj.obj._moId
                out[values["name"]] = values
            if not result.token:
                break
            result = pc.ContinueRetrievePropertiesEx(result.token)
    finally:
        view.Destroy()
    return out


def lun_by_canonical(storage_device) -> dict[str, tuple]:
    """canonical name -> (ScsiLun, HostMultipathInfoLogicalUnit) of a HostStorageDeviceInfo."""
    luns = {l.key: l for l in storage_device.scsiLun}
    out = {}
    for lu in storage_device.multipathInfo.lun:
        lun = luns[lu.lun]
        out[lun.canonicalName] = (lun, lu)
    return out


def wwn_hex(v: int) -> str:
    return f"{v & (2**64 - 1):016x}"
