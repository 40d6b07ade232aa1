"""The SAN gate (check --san) against an independent model of the failover (tests/san_oracle.py).

Seeded random estates with SAN-side damage (POST /scst, edited or missing dumps), sometimes
with ESXi-side damage too: `esxpath san dump` per node and `esxpath check --san` as
subprocesses, then the failover the simulator performs, honouring each node's SCST view, judged
from the simulator's own state by code that does not import esxpath. ORACLE_SEED and
SAN_ORACLE_ESTATES change the run; the seed and count are printed either way.
"""
from __future__ import annotations

import os

import pytest

import san_oracle as oracle

pytestmark = pytest.mark.sim

SEED = int(os.environ.get("ORACLE_SEED", "20261129"))
ESTATES = int(os.environ.get("SAN_ORACLE_ESTATES", "36"))  # each damage kind twice; long run: tests/oracles


@pytest.fixture
def env(lab):
    yield oracle.cli_env(lab)
    lab.reset()  # the next test finds the start lab and a consistent SAN


def test_no_safe_answer_is_followed_by_a_lost_path(lab, env, capsys):
    tally = oracle.run(lab, env, SEED, ESTATES)
    with capsys.disabled():
        print("\n" + tally.line(SEED))
    assert tally.estates == ESTATES and tally.runs == ESTATES * len(oracle.VARIANTS)
    assert not tally.violations, "\n\n".join(tally.violations[:5])
    # every kind of SAN damage was made, and the run reached both answers, or it proves nothing
    assert set(tally.kinds) == set(oracle.KINDS) - {"none"}, tally.kinds
    assert 0 < tally.safe < tally.runs
    assert tally.harmless > 0 and tally.harmless < tally.runs  # some moves did lose paths
    assert {2, 3} <= set(tally.exit_codes)  # NOT SAFE and UNKNOWN both reached


def test_the_judge_catches_a_gate_that_always_says_safe(lab, env, monkeypatch):
    monkeypatch.setattr(oracle, "run_check", lambda _env, _argv: (0, "SAFE (lax stand-in)"))
    monkeypatch.setattr(oracle, "random_estate", oracle.clean_estate)  # SAN damage only
    tally = oracle.run(lab, env, SEED, len(oracle.KINDS))
    # the peer's disabled target, unexported LUN, stopped node, other setup_id... lose paths
    # in the move, which the simulator performs as the SAN would: a lax gate is caught
    assert tally.violations


def test_the_judge_catches_the_gate_without_its_san_part(lab, env, monkeypatch):
    """The real `esxpath check`, but without --san (what ESXi alone shows): on SAN-only damage
    it says SAFE where the peer is not ready, and the move proves it wrong."""
    real = oracle.run_check

    def esxi_only(env_, argv):
        kept = [a for i, a in enumerate(argv) if a != "--san" and (i == 0 or argv[i - 1] != "--san")]
        return real(env_, kept)

    monkeypatch.setattr(oracle, "run_check", esxi_only)
    monkeypatch.setattr(oracle, "random_estate", oracle.clean_estate)
    tally = oracle.run(lab, env, SEED, len(oracle.KINDS))
    assert tally.violations
    caught = " ".join(v.split("\n")[0] for v in tally.violations)
    for kind in ("disable", "unexport", "ini_group", "stopped", "rename", "setup_id", "t10"):
        assert f"{kind} storage" in caught, kind
