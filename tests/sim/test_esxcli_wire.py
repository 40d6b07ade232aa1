"""Our esxcli requests carry the same moid, version, method and arguments as Broadcom's
official client (pip package vmware-esxcli) for the same commands, as the simulator logs them."""
import pytest
from official_esxcli import esxcli

from esxpath.core.model import Scope
from esxpath.vsphere import Esxcli, read_inventory
from seedlab import EUI1 as DEV

pytestmark = pytest.mark.sim

HOST = "esx01"
HOST_IP = "10.0.0.11"  # the official client finds the host with SearchIndex.FindByIp

# (official client argv after `esxcli`, our command, our options)
COMMANDS = [
    (["storage", "nmp", "device", "list"], "storage nmp device list", {}),
    (["storage", "nmp", "path", "list"], "storage nmp path list", {}),
    (["storage", "nmp", "device", "set", "--device", DEV, "--psp", "VMW_PSP_RR"],
     "storage nmp device set", {"device": DEV, "psp": "VMW_PSP_RR"}),
    (["storage", "nmp", "psp", "roundrobin", "deviceconfig", "set", "--device", DEV, "--type", "iops",
      "--iops", "1"],
     "storage nmp psp roundrobin deviceconfig set", {"device": DEV, "type": "iops", "iops": 1}),
    (["storage", "nmp", "psp", "roundrobin", "deviceconfig", "set", "--device", DEV, "--num-sampling-cycles", "32",
      "--latency-eval-time", "60000"],
     "storage nmp psp roundrobin deviceconfig set", {"device": DEV, "numsamplingcycles": 32, "latencyevaltime": 60000}),
    (["storage", "core", "device", "list"], "storage core device list", {}),
    (["storage", "core", "path", "list"], "storage core path list", {}),
    (["storage", "nmp", "satp", "list"], "storage nmp satp list", {}),
    (["storage", "nmp", "psp", "list"], "storage nmp psp list", {}),
]


def execute_soap_calls(lab) -> list[tuple]:
    """(moid, version, method, ((name, val), ...)) of every logged esxcli ExecuteSoap."""
    out = []
    for req in lab.get("/requests?method=ExecuteSoap")["requests"]:
        call = req["execute_soap"]
        if call["method"].startswith("vim.EsxCLI."):  # not the official client's type discovery
            args = tuple((a["name"], a["val"]) for a in call.get("arguments") or ())
            out.append((call["moid"], call["version"], call["method"], args))
    return out


def official(lab, argv):
    esxcli(lab, HOST_IP, *argv).ok()


@pytest.mark.parametrize("argv, command, options", COMMANDS, ids=[" ".join(c[0][:7]) for c in COMMANDS])
def test_same_request_as_the_official_client(lab, session, argv, command, options):
    if command.endswith("deviceconfig set"):  # RR settings need RR first, in both runs
        lab.post("/reset")
        official(lab, ["storage", "nmp", "device", "set", "--device", DEV, "--psp", "VMW_PSP_RR"])
    lab.post("/requests/reset")
    official(lab, argv)
    theirs = execute_soap_calls(lab)
    assert len(theirs) == 1, theirs

    host = read_inventory(session, Scope(hosts=(HOST,)), esxcli=False).hosts[0]
    lab.post("/requests/reset")
    Esxcli(session, host.moid, host.name).run(command, **options)
    ours = execute_soap_calls(lab)
    assert ours == theirs
