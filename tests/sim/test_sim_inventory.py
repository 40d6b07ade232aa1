"""The seed lab as pyVmomi sees it over verified TLS: inventory and per-host typed storage view."""
from __future__ import annotations

import ssl
import subprocess

import pytest
from pyVmomi import vim

from sim_soap import connect, disconnect, lun_by_canonical, read_hosts, wwn_hex
from seedlab import BOOT, NAA, SCST_MODELS as SCST

pytestmark = pytest.mark.sim

STORAGE1 = {"21000024ff540980", "21000024ff540981"}
STORAGE2 = {"21000024ff540932", "21000024ff540933"}
TIB = 1 << 40


def test_env_file_and_only_credentials(lab):
    assert lab.url.startswith("https://127.0.0.1:") and lab.url.endswith("/sdk")
    assert lab.user == "esxpath@vsphere.local"
    assert len(lab.password) >= 16
    assert lab.control.startswith("http://127.0.0.1:")
    with pytest.raises(vim.fault.InvalidLogin):
        connect(lab, password=lab.password + "x")


def test_certificate_is_rsa2048_for_127_0_0_1(lab):
    text = subprocess.run(["openssl", "x509", "-in", lab.ca_file, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "Public-Key: (2048 bit)" in text
    assert "CN = 127.0.0.1" in text or "CN=127.0.0.1" in text
    assert "IP Address:127.0.0.1" in text and "DNS:localhost" in text
    assert "CA:TRUE" in text


def test_tls_is_verified_with_the_ca_file(lab, tmp_path):
    # Another self-signed CA: the handshake must fail, proving verification is on.
    other_key, other = tmp_path / "k.pem", tmp_path / "other.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(other_key), "-out", str(other)],
                   capture_output=True, check=True)
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(lab, ca_file=str(other))
    si = connect(lab)  # the simulator's own CA file works
    disconnect(si)


def test_five_hosts_four_in_cluster(si):
    hosts = read_hosts(si)
    assert sorted(hosts) == ["esx01", "esx02", "esx03", "esx04", "esx05"]
    for name, h in hosts.items():
        parent = h["parent"]
        if name == "esx05":
            assert not isinstance(parent, vim.ClusterComputeResource)
            assert isinstance(parent, vim.ComputeResource)
        else:
            assert isinstance(parent, vim.ClusterComputeResource)
            assert parent.name == "storage-cluster"
        assert h["runtime.connectionState"] == "connected"
        assert h["config.network.dnsConfig"].hostName == name
        assert h["config.network.dnsConfig"].domainName == "lab.local"
    ips = {h["config.network.vnic"][0].spec.ip.ipAddress for h in hosts.values()}
    assert ips == {f"10.0.0.{i}" for i in range(11, 16)}
    dc = hosts["esx01"]["parent"].parent.parent
    assert isinstance(dc, vim.Datacenter) and dc.name == "DC0"


def test_search_index_finds_hosts_by_dns_name_and_ip(si):
    index = si.RetrieveContent().searchIndex
    by_dns = index.FindByDnsName(dnsName="esx03", vmSearch=False)
    by_ip = index.FindByIp(ip="10.0.0.13", vmSearch=False)
    assert by_dns is not None and by_dns.name == "esx03"
    assert by_ip is not None and by_ip._moId == by_dns._moId


def test_each_host_sees_its_own_scst_boot_and_foreign_luns(si):
    hosts = read_hosts(si)
    hba_wwpns = set()
    for name, h in hosts.items():
        sd = h["config.storageDevice"]
        luns = lun_by_canonical(sd)
        assert set(luns) == {BOOT, NAA, *SCST}, name
        fc = {a.device: a for a in sd.hostBusAdapter if isinstance(a, vim.host.FibreChannelHba)}
        assert set(fc) == {"vmhba2", "vmhba3"}
        hba_wwpns |= {wwn_hex(a.portWorldWideName) for a in fc.values()}

        boot, boot_lu = luns[BOOT]
        assert (boot.vendor.strip(), boot.model.strip(), boot.localDisk) == ("ATA", "SATADOM", True)
        assert [p.name for p in boot_lu.path] == ["vmhba32:C0:T0:L0"]
        assert boot_lu.policy.policy == "VMW_PSP_FIXED"
        assert boot_lu.storageArrayTypePolicy.policy == "VMW_SATP_LOCAL"

        for canonical, (model, _number) in SCST.items():
            lun, lu = luns[canonical]
            assert (lun.vendor.strip(), lun.model.strip()) == ("SCST_BIO", model)
            assert lun.capacity.block * lun.capacity.blockSize == TIB
            assert lun.localDisk is False and lun.uuid == lu.id
            assert lu.policy.policy == "VMW_PSP_MRU"
            assert lu.storageArrayTypePolicy.policy == "VMW_SATP_ALUA"
            assert len(lu.path) == 4
            targets = [wwn_hex(p.transport.portWorldWideName) for p in lu.path]
            assert set(targets) == STORAGE1 | STORAGE2
            assert all(p.state == "active" for p in lu.path)
            # MRU: exactly one working path, into storage1 (the AO group)
            working = [p for p in lu.path if p.isWorkingPath]
            assert len(working) == 1
            assert wwn_hex(working[0].transport.portWorldWideName) in STORAGE1
            for p in lu.path:
                hba = fc[p.adapter.split("-")[-1]]
                assert p.name.startswith(f"fc.{wwn_hex(hba.nodeWorldWideName)}:{wwn_hex(hba.portWorldWideName)}-fc.")
                assert p.name.endswith("-" + canonical)
            assert {p.name.split("-")[1].split(":")[1] for p in lu.path} == STORAGE1 | STORAGE2

        naa, naa_lu = luns[NAA]
        assert (naa.vendor.strip(), naa.model.strip()) == ("NETAPP", "LUN C-Mode")
        assert naa_lu.policy.policy == "VMW_PSP_RR" and len(naa_lu.path) == 2
        assert {wwn_hex(p.transport.portWorldWideName) for p in naa_lu.path} == {"200100a098000001"}
    assert len(hba_wwpns) == 10, "HBA WWNs must be distinct per host"


def test_storage_system_and_host_config_show_the_same_view(si, lab):
    raw = lab.get("/state")["hosts"]
    for name, h in read_hosts(si).items():
        host = vim.HostSystem(h["_moid"], si._stub)
        via_ss = host.configManager.storageSystem.storageDeviceInfo
        a, b = lun_by_canonical(h["config.storageDevice"]), lun_by_canonical(via_ss)
        assert a.keys() == b.keys()
        for canonical in a:
            pa = [(p.name, p.state, p.isWorkingPath) for p in a[canonical][1].path]
            pb = [(p.name, p.state, p.isWorkingPath) for p in b[canonical][1].path]
            assert pa == pb
            assert pa == [(p["name"], p["state"], p["working"])
                          for p in raw[name]["devices"][canonical]["paths"]]
