"""Injected faults, latency and session expiry as a pyVmomi client sees them."""
from __future__ import annotations

import http.client
import ssl
import time
from urllib.parse import urlparse

import pytest
from pyVmomi import vim, vmodl

from sim_soap import connect, disconnect, hosts_by_name, tls_context
from simlab import ControlError

pytestmark = pytest.mark.sim


def storage(si, name):
    return hosts_by_name(si)[name].configManager.storageSystem


def timed(f):
    t = time.monotonic()
    f()
    return time.monotonic() - t


def test_host_communication_fault_for_count_calls(si, lab):
    ss = storage(si, "esx01")
    lab.post("/faults", {"method": "RescanAllHba", "count": 2, "fault": "HostCommunication"})
    for _ in range(2):
        with pytest.raises(vmodl.fault.HostCommunication):
            ss.RescanAllHba()
    ss.RescanAllHba()
    assert lab.get("/faults") == {"faults": []}
    assert lab.get("/stats")["calls"]["RescanAllHba"] == 3


def test_system_error_fault(si, lab):
    ss = storage(si, "esx01")
    lab.post("/faults", {"method": "RefreshStorageSystem", "count": 1, "fault": "SystemError"})
    with pytest.raises(vmodl.fault.SystemError) as err:
        ss.RefreshStorageSystem()
    assert err.value.reason
    ss.RefreshStorageSystem()


def test_fault_only_on_the_named_host(si, lab):
    ss2, ss3 = storage(si, "esx02"), storage(si, "esx03")
    lab.post("/faults", {"method": "RescanAllHba", "count": 1, "fault": "HostCommunication", "host": "esx02"})
    ss3.RescanAllHba()
    with pytest.raises(vmodl.fault.HostCommunication):
        ss2.RescanAllHba()
    ss2.RescanAllHba()


def test_not_authenticated_fault_drops_the_session(si, lab):
    ss = storage(si, "esx01")
    lab.post("/faults", {"method": "RescanAllHba", "count": 1, "fault": "NotAuthenticated"})
    with pytest.raises(vim.fault.NotAuthenticated):
        ss.RescanAllHba()
    with pytest.raises(vim.fault.NotAuthenticated):
        ss.RescanAllHba()  # the session is gone, as after a real expiry
    si.RetrieveContent().sessionManager.Login(lab.user, lab.password)
    ss.RescanAllHba()


def test_reset_fault_drops_the_connection(si, lab):
    ss = storage(si, "esx01")
    lab.post("/faults", {"method": "RescanAllHba", "count": 1, "fault": "reset"})
    with pytest.raises((ConnectionError, http.client.HTTPException, ssl.SSLError, OSError)):
        ss.RescanAllHba()
    ss.RescanAllHba()  # a new connection works


def test_pending_faults_can_be_dropped(si, lab):
    lab.post("/faults", {"method": "RescanAllHba", "count": 100, "fault": "SystemError"})
    assert lab.get("/faults")["faults"][0]["count"] == 100
    lab.post("/faults/reset")
    assert lab.get("/faults") == {"faults": []}
    storage(si, "esx01").RescanAllHba()


def test_bad_fault_requests(lab):
    for body in ({"method": "RescanAllHba", "fault": "Boom"}, {"fault": "SystemError"},
                 {"method": "RescanAllHba", "fault": "SystemError", "host": "esx99"}):
        with pytest.raises(ControlError) as err:
            lab.post("/faults", body)
        assert err.value.status == 400


def execute_soap(lab, si, mme_moid: str, esxcli_method: str) -> tuple[int, str]:
    """A raw ReflectManagedMethodExecuter.ExecuteSoap request on the session of si."""
    u = urlparse(lab.url)
    body = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
            '<ExecuteSoap xmlns="urn:vim25"><_this type="ReflectManagedMethodExecuter">'
            f'{mme_moid}</_this><moid>ha-cli-handler-storage-nmp-device</moid>'
            f'<version>urn:vim25/5.0</version><method>{esxcli_method}</method>'
            '</ExecuteSoap></soapenv:Body></soapenv:Envelope>')
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=tls_context(lab.ca_file), timeout=30)
    try:
        conn.request("POST", u.path, body=body, headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": "urn:vim25/6.7",
            "Cookie": si._stub.cookie})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def test_esxcli_command_fault_and_request_log(si, lab):
    lab.post("/faults", {"method": "storage nmp device set", "count": 1, "fault": "HostCommunication"})
    status, text = execute_soap(lab, si, "mme-test", "vim.EsxCLI.storage.nmp.device.set")
    assert status == 500 and 'xsi:type="HostCommunication"' in text
    assert lab.get("/faults") == {"faults": []}
    logged = lab.get("/requests?method=ExecuteSoap")["requests"]
    assert [(r["this"], r["esxcli"]) for r in logged] == [("mme-test", "storage nmp device set")]
    assert lab.get("/requests?esxcli=storage%20nmp%20device%20set")["requests"] == logged
    assert lab.get("/stats")["calls"]["ExecuteSoap"] == 1


def test_global_latency(si, lab):
    ss = storage(si, "esx01")
    lab.post("/latency", {"ms": 400})
    assert timed(ss.RescanAllHba) >= 0.38
    lab.post("/latency", {"ms": 0})
    assert timed(ss.RescanAllHba) < 0.38


def test_latency_per_method_and_per_host(si, lab):
    ss1, ss3 = storage(si, "esx01"), storage(si, "esx03")
    lab.post("/latency", {"ms": 1500, "method": "RefreshStorageSystem"})
    assert timed(ss1.RefreshStorageSystem) >= 1.45
    assert timed(ss1.RescanAllHba) < 1.0
    lab.post("/latency", {"ms": 0, "method": "RefreshStorageSystem"})
    lab.post("/latency", {"ms": 1500, "host": "esx03"})
    assert timed(ss3.RescanAllHba) >= 1.45
    assert timed(ss1.RescanAllHba) < 1.0


def test_sessions_expire_and_relogin(lab):
    a, b = connect(lab), connect(lab)
    try:
        hosts_by_name(a)
        answer = lab.post("/sessions/expire")
        assert answer["expired"] >= 2
        for si in (a, b):
            with pytest.raises(vim.fault.NotAuthenticated):
                hosts_by_name(si)
        a.RetrieveContent().sessionManager.Login(lab.user, lab.password)
        assert len(hosts_by_name(a)) == 5
        with pytest.raises(vim.fault.NotAuthenticated):
            hosts_by_name(b)  # b did not log in again
        c = connect(lab)
        assert len(hosts_by_name(c)) == 5
        disconnect(c)
    finally:
        disconnect(a)
        disconnect(b)


def test_property_reads_need_a_session(lab):
    si = connect(lab)
    root = si.RetrieveContent().rootFolder
    assert root.name  # a property read (Fetch)
    si.RetrieveContent().sessionManager.Logout()
    with pytest.raises(vim.fault.NotAuthenticated):
        root.name  # plain vcsim would answer this without a session


def test_lost_fault_carries_the_call_out_and_drops_its_answer(si, lab):
    ss = storage(si, "esx01")
    lun = ss.storageDeviceInfo.multipathInfo.lun[0]
    lab.post("/faults", {"method": "SetMultipathLunPolicy", "count": 1, "fault": "lost"})
    policy = vim.host.MultipathInfo.LogicalUnitPolicy(policy="VMW_PSP_RR")
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        ss.SetMultipathLunPolicy(lunId=lun.id, policy=policy)
    assert [w["what"] for w in lab.get("/stats")["writes"]] == ["psp"]  # it was done


def test_crash_is_checked_and_cleared_by_reset(si, lab):
    with pytest.raises(ControlError) as bad:
        lab.post("/crash", {"after_writes": -1})
    assert bad.value.status == 400
    lab.post("/crash", {"after_writes": 1})
    lab.reset()  # disarmed: the next write does not kill the simulator
    ss = storage(si, "esx01")
    ss.SetMultipathLunPolicy(lunId=ss.storageDeviceInfo.multipathInfo.lun[0].id,
                             policy=vim.host.MultipathInfo.LogicalUnitPolicy(policy="VMW_PSP_RR"))
    assert [w["what"] for w in lab.get("/stats")["writes"]] == ["psp"]
