"""The gate against an independent model of the failover (tests/failover_oracle.py).

Seeded random estates on the simulator: esxpath check in five variants, then the failover the
simulator performs, judged from the simulator's own state by code that does not import esxpath.
ORACLE_SEED and ORACLE_ESTATES change the run; the seed and count are printed either way.
"""
from __future__ import annotations

import os
import random

import pytest

import failover_oracle as oracle

pytestmark = pytest.mark.sim

SEED = int(os.environ.get("ORACLE_SEED", "20261129"))
ESTATES = int(os.environ.get("ORACLE_ESTATES", "100"))  # the long run: tests/oracles


@pytest.fixture
def env(lab):
    return {k: lab.env[k] for k in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                    "ESXPATH_CA_FILE")}


def test_no_safe_answer_is_followed_by_a_lost_path(lab, env, capsys):
    tally = oracle.run(lab, env, SEED, ESTATES)
    with capsys.disabled():
        print("\n" + tally.line(SEED))
    assert tally.estates == ESTATES and tally.runs == ESTATES * len(oracle.VARIANTS)
    assert not tally.violations, "\n\n".join(tally.violations[:5])
    # the run must reach both answers, or it proves nothing
    assert 0 < tally.safe < tally.runs
    assert tally.harmless > 0


def test_the_judge_catches_a_gate_that_always_says_safe(lab, env, monkeypatch):
    monkeypatch.setattr(oracle, "run_check", lambda _env, _argv: (0, "SAFE (lax stand-in)"))
    tally = oracle.run(lab, env, SEED, 15)
    assert tally.violations  # damaged estates lose paths in the move: a lax gate is caught


def test_estates_cover_every_kind_of_damage():
    rng = random.Random(SEED)
    notes = " | ".join(n for _ in range(400) for n in oracle.random_estate(rng)[1])
    for word in ("dead", "standby", "unavailable", "transitioning", "offline", "zoned to",
                 "not on", "disconnected", "notResponding", "maintenance", "sees", "useANO",
                 "HPP", "storage unreadable", "MRU", "STBY", "UNAV", "TRANS", "OFFL"):
        assert word in notes, word
