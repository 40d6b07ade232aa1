"""Shared fixtures: the simulator (tests/simlab.py) for tests marked `sim`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from simlab import SimLab  # noqa: E402


@pytest.fixture(scope="session")
def sim():
    """The seed lab, started once per test session (built first when stale)."""
    lab = SimLab().start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def lab(sim):
    """The seed lab back in its scenario state (faults, latency, stats and requests cleared)."""
    return sim.reset()


@pytest.fixture(scope="session")
def sim_env(sim):
    """os.environ plus the simulator's ESXPATH_* variables, for running the CLI as a subprocess."""
    env = dict(os.environ)
    for key in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD", "ESXPATH_CA_FILE"):
        env[key] = sim.env[key]
    return env


@pytest.fixture
def session(lab):
    """An esxpath vSphere session to the freshly reset seed lab, over verified TLS."""
    from esxpath.vsphere import ConnectOptions, connect

    s = connect(ConnectOptions(lab.url, lab.user, lab.password, ca_file=lab.ca_file, timeout=30))
    yield s
    s.close()


@pytest.fixture
def si(lab):
    """A plain pyVmomi ServiceInstance on the reset seed lab (the simulator's own tests)."""
    from sim_soap import connect, disconnect

    si = connect(lab)
    yield si
    disconnect(si)
