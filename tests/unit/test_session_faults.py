"""Which failures Session.call retries, and how faults read in Host.error / ChangeResult.error."""
import http.client
import ssl

import pytest
from pyVmomi import vim, vmodl

from esxpath.errors import EsxcliFault
from esxpath.vsphere.session import fault_message, is_transient


@pytest.mark.parametrize("exc, transient", [
    (vmodl.fault.HostCommunication(), True),
    (vmodl.fault.HostNotConnected(), True),  # a subclass of HostCommunication
    (vmodl.fault.HostNotReachable(), True),
    (vim.fault.TaskInProgress(), True),
    (vim.fault.ConcurrentAccess(), True),
    (vmodl.fault.SystemError(reason="x"), True),
    (BrokenPipeError(), True),
    (ConnectionResetError(), True),
    (http.client.RemoteDisconnected("closed"), True),
    (TimeoutError(), True),
    (vim.fault.NotAuthenticated(), False),  # re-login, not blind retry (and a NoPermission)
    (vim.fault.NoPermission(), False),
    (vim.fault.InvalidLogin(), False),
    (vmodl.fault.InvalidArgument(), False),
    (vim.fault.NotFound(), False),
    (ssl.SSLCertVerificationError("bad"), False),
    (EsxcliFault("esx01", "Unable to find device"), False),
    (ValueError("bug"), False),
])
def test_is_transient(exc, transient):
    assert is_transient(exc) is transient


@pytest.mark.parametrize("exc, text", [
    (vmodl.fault.SystemError(msg="Injected fault SystemError", reason="x"),
     "vmodl.fault.SystemError: Injected fault SystemError"),
    (vim.fault.NotFound(), "vim.fault.NotFound"),
    (EsxcliFault("esx01", "esxcli storage nmp device set: Unable to find device"),
     "esx01: esxcli storage nmp device set: Unable to find device"),
    (BrokenPipeError(32, "Broken pipe"), "BrokenPipeError: [Errno 32] Broken pipe"),
])
def test_fault_message(exc, text):
    assert fault_message(exc) == text
