"""Big estates for the bench: the simulator's own generator (esxsim --generate --write-scenario)."""
from __future__ import annotations

import os
import subprocess

from simlab import SEED, ensure_built


def generated_scenario(hosts: int, luns: int, workdir: str) -> str:
    """hosts esx001.. in clusters of 16, `luns` SCST_BIO LUNs, plus boot disks and the NetApp LUN,
    on the seed lab's fabric and storage nodes."""
    path = os.path.join(workdir, f"estate-{hosts}x{luns}.json")
    subprocess.run([str(ensure_built()), "--scenario", str(SEED), "--generate",
                    f"hosts={hosts},luns={luns}", "--write-scenario", path],
                   check=True, capture_output=True)
    return path
