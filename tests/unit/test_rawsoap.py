"""rawsoap.returnval_leaves: the leaves of an answer's <returnval>, read with expat."""
import pytest

from esxpath.vsphere.rawsoap import returnval_leaves

ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope'
            ' xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{header}<soapenv:Body>'
            '<ExecuteSoapResponse xmlns="urn:vim25">{returnval}</ExecuteSoapResponse>'
            '</soapenv:Body></soapenv:Envelope>')


def answer(returnval: str, header: str = "") -> bytes:
    return ENVELOPE.format(returnval=returnval, header=header).encode()


def test_response_text_unescaped_whole():
    doc = '<obj xmlns="urn:vim25"><Device>eui.1 &amp; "2"</Device></obj>' * 2000  # ~100 kB
    escaped = doc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    leaves = returnval_leaves(answer(f"<returnval><response>{escaped}</response></returnval>"))
    assert leaves == {"response": doc}


def test_fault_fields_and_a_soap_header():
    leaves = returnval_leaves(answer(
        "<returnval><fault><faultMsg>EsxCLI.CLIFault.summary</faultMsg>"
        "<faultDetail>&lt;obj&gt;x&lt;/obj&gt;</faultDetail></fault></returnval>",
        header="<soapenv:Header><operationID>op-1</operationID></soapenv:Header>"))
    assert leaves == {"faultMsg": "EsxCLI.CLIFault.summary", "faultDetail": "<obj>x</obj>"}


@pytest.mark.parametrize("returnval", ["", "<other>x</other>"])
def test_no_returnval_is_none(returnval):
    assert returnval_leaves(answer(returnval)) is None


def test_empty_returnval_is_empty():
    assert returnval_leaves(answer("<returnval></returnval>")) == {}
    assert returnval_leaves(answer("<returnval><response></response></returnval>")) == {"response": ""}


def test_requests_carry_pyvmomis_headers_and_accept_gzip():
    # the big read leaves through rawsoap, not pyVmomi's InvokeMethod: it must look the same
    # to vCenter (User-Agent in its logs) and let vCenter compress the answer
    from pyVmomi import SoapAdapter, VmomiSupport

    from esxpath.vsphere import rawsoap

    stub = SoapAdapter.SoapStubAdapter(host="x.invalid", version=VmomiSupport.newestVersions.Get("vim"))
    headers = rawsoap._headers(stub)
    assert headers["User-Agent"].startswith(f"pyvmomi {SoapAdapter.version_info_str} ")
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert headers["SOAPAction"] == stub.versionId


def test_gzip_and_deflate_answers_are_decoded():
    import gzip
    import zlib

    from esxpath.vsphere import rawsoap

    body = b"<soapenv:Envelope/>"
    assert rawsoap._decoded(gzip.compress(body), "gzip") == body
    assert rawsoap._decoded(zlib.compress(body), "deflate") == body
    assert rawsoap._decoded(body, "identity") == body
