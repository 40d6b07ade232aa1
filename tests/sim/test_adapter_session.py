"""Session against the simulator: TLS, credentials, re-login after expiry, connection resets."""
import pytest

from esxpath.errors import AuthError, TlsError
from esxpath.core.model import Scope, Selector
from esxpath.vsphere import ConnectOptions, connect, read_inventory
from selfsigned import self_signed

pytestmark = pytest.mark.sim


def opts(lab, **kw):
    base = dict(url=lab.url, user=lab.user, password=lab.password, ca_file=lab.ca_file, timeout=30)
    base.update(kw)
    return ConnectOptions(**base)


def test_connects_with_the_simulator_ca(lab):
    with connect(opts(lab)) as s:
        assert s.is_vcenter


@pytest.mark.parametrize("url_form", ["bare", "sdk"])
def test_url_forms(lab, url_form):
    hostport = lab.url.split("://", 1)[1].split("/", 1)[0]  # 127.0.0.1:PORT
    url = hostport if url_form == "bare" else f"https://{hostport}/sdk"
    with connect(opts(lab, url=url)) as s:
        assert s.endpoint.path == "/sdk"


def test_wrong_password_is_auth_error_and_not_retried(lab):
    lab.post("/stats/reset")
    with pytest.raises(AuthError) as err:
        connect(opts(lab, password="wrong-" + lab.password))
    assert lab.user in str(err.value) and lab.password not in str(err.value)
    assert lab.get("/stats")["calls"].get("Login") == 1


def test_system_cas_reject_the_simulator_even_on_127_0_0_1(lab):
    with pytest.raises(TlsError) as err:
        connect(opts(lab, ca_file=None))
    assert "certificate verify failed" in str(err.value) and "--ca-file" in str(err.value)


def test_wrong_ca_file_is_tls_error(lab, tmp_path):
    other_ca, _ = self_signed(tmp_path, "other-ca")
    with pytest.raises(TlsError) as err:
        connect(opts(lab, ca_file=other_ca))
    assert "certificate verify failed" in str(err.value)


def test_insecure_connects_without_ca(lab):
    with connect(opts(lab, ca_file=None, insecure=True)) as s:
        assert s.is_vcenter


def test_expired_session_is_survived_with_one_login(lab):
    with connect(opts(lab)) as s:
        read_inventory(s, Scope(), Selector())
        lab.post("/sessions/expire")
        lab.post("/stats/reset")
        inv = read_inventory(s, Scope(), Selector())
        assert all(h.error is None for h in inv.hosts)
        assert lab.get("/stats")["calls"].get("Login") == 1


def test_not_authenticated_on_esxcli_relogs_in(lab):
    with connect(opts(lab)) as s:
        lab.post("/faults", {"method": "ExecuteSoap", "count": 1, "fault": "NotAuthenticated"})
        inv = read_inventory(s, Scope(), Selector())
        assert all(h.error is None for h in inv.hosts)


@pytest.mark.parametrize("method", ["CreateContainerView", "RetrievePropertiesEx", "ExecuteSoap"])
def test_connection_reset_is_retried(lab, method):
    with connect(opts(lab)) as s:
        lab.post("/stats/reset")
        lab.post("/faults", {"method": method, "count": 1, "fault": "reset"})
        inv = read_inventory(s, Scope(), Selector())
        assert len(inv.hosts) == 5 and all(h.error is None for h in inv.hosts)
        assert lab.get("/faults")["faults"] == []  # the reset did happen


def test_reset_then_expired_session(lab):
    """After a server restart a pooled connection fails, then the session is unknown."""
    with connect(opts(lab)) as s:
        read_inventory(s, Scope(), Selector())
        lab.post("/sessions/expire")
        lab.post("/faults", {"method": "RetrievePropertiesEx", "count": 1, "fault": "reset"})
        lab.post("/stats/reset")
        inv = read_inventory(s, Scope(), Selector())
        assert all(h.error is None for h in inv.hosts)
        assert lab.get("/stats")["calls"].get("Login") == 1
