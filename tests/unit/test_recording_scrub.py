"""Scrubbing and request keys of the cassette recorder, on synthetic SOAP traffic."""
from __future__ import annotations

import copy

import pytest
from vcr.request import Request

from esxpath.vsphere.recording import describe, request_key
from esxpath.vsphere.scrub import REDACTED, RECORDED_HOST, Scrubber

PASSWORD = "Zq7&x<Pw\"9'kL"  # needs XML escaping, as random passwords do
USER = "esxpath@vsphere.local"
COOKIE = "52c7a1de-0d3b-8e1f-4a7f-3f4c2a9b8d10"
SESSION_KEY = "5214e0c2-7c8b-b0a0-36a3-1f0d5a0e9c11"

ENV = ('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv='
       '"http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
       '\n<soapenv:Body>{}</soapenv:Body>\n</soapenv:Envelope>')


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def login_request(user=USER, password=PASSWORD) -> Request:
    body = ENV.format(
        '<Login xmlns="urn:vim25"><_this versionId="9.0.0.0" type="SessionManager">SessionManager'
        f'</_this><userName versionId="9.0.0.0">{xml_escape(user)}</userName>'
        f'<password versionId="9.0.0.0">{xml_escape(password)}</password></Login>')
    return Request("POST", "https://127.0.0.1:44321/sdk", body.encode(),
                   {"Cookie": 'vmware_soap_session="' + COOKIE + '"; Path=/',
                    "SOAPAction": "urn:vim25/9.0.0.0", "Authorization": "Basic ZXN4cGF0aDpzZWNyZXQ="})


def login_response() -> dict:
    body = ENV.format(
        '<LoginResponse xmlns="urn:vim25"><returnval><key>' + SESSION_KEY + '</key>'
        f'<userName>{USER}</userName><fullName>Esx Path</fullName>'
        '<loginTime>2026-11-26T04:00:00Z</loginTime><lastActiveTime>2026-11-26T04:00:00Z</lastActiveTime>'
        '<locale>en_US</locale><messageLocale>en_US</messageLocale><extensionSession>false</extensionSession>'
        '<ipAddress>192.0.2.77</ipAddress><userAgent>pyvmomi 9.1.1</userAgent><callCount>3</callCount>'
        '</returnval></LoginResponse>')
    return {"status": {"code": 200, "message": "OK"},
            "headers": {"Set-Cookie": [f'vmware_soap_session="{COOKIE}"; Path=/; HttpOnly; Secure;'],
                        "Content-Length": [str(len(body))]},
            "body": {"string": body.encode()}}


def scrubbed_text(obj) -> str:
    if isinstance(obj, Request):
        return f"{obj.uri} {dict(obj.headers)} {obj.body.decode()}"
    return f"{obj['headers']} {obj['body']['string'].decode()}"


def test_login_request_loses_password_user_cookie_and_authorization_but_keeps_attributes():
    s = Scrubber()
    req = s.request(copy.deepcopy(login_request()))
    text = scrubbed_text(req)
    for secret in (PASSWORD, xml_escape(PASSWORD), USER, COOKIE, "ZXN4cGF0aDpzZWNyZXQ="):
        assert secret not in text
    assert f'<password versionId="9.0.0.0">{REDACTED}</password>' in text
    assert f'<userName versionId="9.0.0.0">{REDACTED}</userName>' in text
    assert req.headers["Cookie"] == f'vmware_soap_session="{REDACTED}"; Path=/'
    assert req.uri == f"https://{RECORDED_HOST}/sdk"


def test_login_response_loses_session_fields_and_stays_well_formed():
    import xml.etree.ElementTree as ET
    s = Scrubber()
    resp = s.response(login_response())
    text = scrubbed_text(resp)
    for secret in (SESSION_KEY, USER, "Esx Path", "192.0.2.77", COOKIE):
        assert secret not in text
    root = ET.fromstring(resp["body"]["string"])
    session = root.find(".//{urn:vim25}returnval")
    assert session.findtext("{urn:vim25}key") == REDACTED
    assert session.findtext("{urn:vim25}callCount") == "0"  # still an xsd:long
    assert session.findtext("{urn:vim25}loginTime") == "2026-11-26T04:00:00Z"
    assert resp["headers"]["Set-Cookie"] == [f'vmware_soap_session="{REDACTED}"; Path=/; HttpOnly; Secure;']
    assert resp["headers"]["Content-Length"] == [str(len(resp["body"]["string"]))]


def test_learned_secrets_are_removed_everywhere_afterwards():
    s = Scrubber()
    s.request(copy.deepcopy(login_request()))
    s.response(login_response())
    # The session key inside a moref, the user in a task reason, the cookie echoed in a fault.
    body = ENV.format(
        f'<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects>'
        f'<obj type="PropertyCollector">session[{SESSION_KEY}]52aa-01</obj>'
        f'<propSet><name>info</name><val xsi:type="TaskInfo"><reason xsi:type="TaskReasonUser">'
        f'<userName>{USER}</userName></reason><description>by {USER} with {COOKIE}</description>'
        f'<entityName>rootFolder</entityName></val></propSet></objects></returnval>'
        f'</RetrievePropertiesExResponse>')
    resp = s.response({"status": {"code": 200, "message": "OK"}, "headers": {},
                       "body": {"string": body.encode()}})
    text = scrubbed_text(resp)
    for secret in (SESSION_KEY, USER, COOKIE):
        assert secret not in text
    assert f"session[{REDACTED}]52aa-01" in text
    assert f"by {REDACTED} with {REDACTED}" in text
    assert "rootFolder" in text


def test_short_or_embedded_values_do_not_clobber_other_text():
    s = Scrubber()
    s.learn("root")
    s.learn("ab")  # too short to be removed blindly
    assert s.text("<rootFolder>ab root x</rootFolder>") == f"<rootFolder>ab {REDACTED} x</rootFolder>"


def test_user_session_in_property_values_is_scrubbed():
    s = Scrubber()
    body = ENV.format(
        '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="SessionManager">'
        'SessionManager</obj><propSet><name>currentSession</name><val xsi:type="UserSession">'
        f'<key>{SESSION_KEY}</key><userName>{USER}</userName><fullName>Esx Path</fullName>'
        '<ipAddress>192.0.2.77</ipAddress><callCount>12</callCount></val></propSet></objects>'
        '<objects><obj type="HostSystem">host-21</obj><propSet><name>config.network.vnic</name>'
        '<val><ipAddress>10.0.0.11</ipAddress><key>key-vim.host.VirtualNic-vmk0</key></val>'
        '</propSet></objects></returnval></RetrievePropertiesExResponse>')
    text = s.text(body)
    for secret in (SESSION_KEY, USER, "Esx Path", "192.0.2.77", ">12<"):
        assert secret not in text
    # Only UserSession fields: a host's vnic address and a device key are data, not secrets.
    assert "<ipAddress>10.0.0.11</ipAddress>" in text
    assert "<key>key-vim.host.VirtualNic-vmk0</key>" in text


def test_scrubbing_is_idempotent_so_replayed_requests_match_recorded_ones():
    s = Scrubber()
    once = s.request(copy.deepcopy(login_request()))
    twice = s.request(copy.deepcopy(once))
    assert once.body == twice.body and dict(once.headers) == dict(twice.headers)


def test_replay_login_with_a_dummy_password_has_the_recorded_key():
    recorded = Scrubber().request(copy.deepcopy(login_request()))
    replayed = Scrubber().request(copy.deepcopy(login_request("replay@esxpath.invalid", "dummy")))
    assert request_key("POST", "/sdk", recorded.body) == request_key("POST", "/sdk", replayed.body)


def soap(op, this_type, this, args=""):
    return ENV.format(f'<{op} xmlns="urn:vim25"><_this versionId="9.0.0.0" type="{this_type}">'
                      f'{this}</_this>{args}</{op}>').encode()


def test_key_tells_hosts_and_esxcli_commands_apart():
    def esxcli(mme, method):
        return soap("ExecuteSoap", "ReflectManagedMethodExecuter", mme,
                    "<moid>ha-cli-handler-storage-nmp-device</moid><version>urn:vim25/5.0</version>"
                    f"<method>{method}</method>")
    a = request_key("POST", "/sdk", esxcli("mme-host-21", "vim.EsxCLI.storage.nmp.device.list"))
    b = request_key("POST", "/sdk", esxcli("mme-host-22", "vim.EsxCLI.storage.nmp.device.list"))
    c = request_key("POST", "/sdk", esxcli("mme-host-21", "vim.EsxCLI.storage.nmp.path.list"))
    assert len({a, b, c}) == 3
    assert describe(a) == "POST ExecuteSoap on mme-host-21 vim.EsxCLI.storage.nmp.device.list"


def test_key_ignores_which_per_worker_collector_asked_but_not_what_it_asked_about():
    def retrieve(collector, host):
        return soap("RetrievePropertiesEx", "PropertyCollector", collector,
                    f'<specSet><propSet><type>HostSystem</type><pathSet>name</pathSet></propSet>'
                    f'<objectSet><obj type="HostSystem">{host}</obj></objectSet></specSet>')
    k = [request_key("POST", "/sdk", retrieve(f"session[{REDACTED}]{c}", h))
         for c, h in (("aa", "host-21"), ("bb", "host-21"), ("aa", "host-22"))]
    assert k[0] == k[1] != k[2]
    # The session's own collector is not per worker.
    assert request_key("POST", "/sdk", retrieve("propertyCollector", "host-21")) != k[0]


def test_key_ignores_clock_dependent_wait_and_api_version_attributes():
    def wait(seconds, version_id):
        return soap("WaitForUpdatesEx", "PropertyCollector", "propertyCollector",
                    f'<version versionId="{version_id}">3</version><options><maxWaitSeconds>{seconds}'
                    '</maxWaitSeconds></options>').replace(b'"9.0.0.0"', f'"{version_id}"'.encode())
    assert request_key("POST", "/sdk", wait(10, "9.0.0.0")) == request_key("POST", "/sdk", wait(3, "8.0.3.0"))


def test_non_soap_requests_key_on_method_and_path():
    assert request_key("GET", "/sdk/vimServiceVersions.xml", None) == ("GET", "/sdk/vimServiceVersions.xml")


@pytest.mark.parametrize("value", ['vmware_soap_session="abc123def"; Path=/; HttpOnly; Secure;',
                                   "vmware_soap_session=abc123def; Max-Age=1800"])
def test_cookie_values_go_attributes_stay(value):
    out = Scrubber().cookie(value)
    assert "abc123def" not in out and REDACTED in out
    assert out.split(";", 1)[1] == value.split(";", 1)[1]


def test_gzipped_answers_are_decoded_before_they_are_scrubbed():
    import gzip

    from esxpath.vsphere.recording import vcr_config
    hooks = vcr_config("record", Scrubber()).get_merged_config(path="unused.yaml")
    resp = login_response()
    resp["body"]["string"] = gzip.compress(resp["body"]["string"])
    resp["headers"]["Content-Encoding"] = ["gzip"]
    out = hooks["before_record_response"](resp)
    assert "Content-Encoding" not in out["headers"]
    text = scrubbed_text(out)
    assert "<key>REDACTED</key>" in text
    for secret in (SESSION_KEY, USER, COOKIE):
        assert secret not in text
    req = hooks["before_record_request"](login_request())
    assert PASSWORD not in scrubbed_text(req) and xml_escape(PASSWORD) not in scrubbed_text(req)


def test_recording_refuses_a_missing_cassette_and_unknown_modes(tmp_path):
    from esxpath.errors import ConfigError
    from esxpath.vsphere.recording import recording
    with pytest.raises(ConfigError, match="no cassette"):
        with recording(str(tmp_path / "missing.yaml"), "replay"):
            pass
    with pytest.raises(ValueError):
        with recording(str(tmp_path / "x.yaml"), "rewind"):
            pass


def test_recording_starts_a_fresh_file(tmp_path):
    from esxpath.vsphere.recording import recording
    path = tmp_path / "old.yaml"
    path.write_text("interactions: [stale]\n")
    with recording(str(path), "record"):
        pass  # nothing sent: vcrpy writes nothing, and the stale file is gone
    assert not path.exists()


def test_other_users_sessions_in_a_session_list_are_scrubbed():
    body = ENV.format(
        '<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="SessionManager">'
        'SessionManager</obj><propSet><name>sessionList</name><val xsi:type="ArrayOfUserSession">'
        '<UserSession><key>52aa-other</key><userName>VSPHERE.LOCAL\\alice</userName>'
        '<fullName>Alice A</fullName><ipAddress>198.51.100.9</ipAddress><callCount>7</callCount></UserSession>'
        '</val></propSet></objects></returnval></RetrievePropertiesExResponse>')
    text = Scrubber().text(body)
    for secret in ("52aa-other", "alice", "Alice A", "198.51.100.9"):
        assert secret not in text
