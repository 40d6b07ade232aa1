"""Big estates for the bench: the simulator's own generator (esxsim --generate --write-scenario)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "tests" / "sim"


def esxsim_binary() -> Path:
    """Build through tests/sim/build when missing (the same script SimLab uses); raise on failure."""
    binary = SIM / "bin" / "esxsim"
    if not binary.exists():
        subprocess.run([str(SIM / "build")], check=True)
    return binary


def generated_scenario(hosts: int, luns: int, workdir: str) -> str:
    """hosts esx001.. in clusters of 16, `luns` SCST_BIO LUNs, plus boot disks and the NetApp LUN."""
    path = os.path.join(workdir, f"estate-{hosts}x{luns}.json")
    subprocess.run([str(esxsim_binary()), "--generate", f"hosts={hosts},luns={luns}",
                    "--write-scenario", path], check=True, capture_output=True)
    return path
