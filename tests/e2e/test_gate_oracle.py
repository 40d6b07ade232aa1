"""The gate, check --after-failover and watch against an independent model of the failover
(tests/failover_oracle.py).

Seeded random estates on the simulator: esxpath check in five variants, then the failover the
simulator performs, judged from the simulator's own state by code that does not import esxpath;
then the same estate with damage only the move shows, the after-check with the gate's JSON as
baseline, and on some estates watch --until-switched. ORACLE_SEED, ORACLE_ESTATES and
ORACLE_WATCH_EVERY change the run; the seed and counts are printed either way.
"""
from __future__ import annotations

import json
import os
import random

import pytest

import failover_oracle as oracle

pytestmark = pytest.mark.sim

SEED = int(os.environ.get("ORACLE_SEED", "20261129"))
ESTATES = int(os.environ.get("ORACLE_ESTATES", "150"))
WATCH_EVERY = int(os.environ.get("ORACLE_WATCH_EVERY", "15"))


@pytest.fixture
def env(lab):
    return {k: lab.env[k] for k in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                    "ESXPATH_CA_FILE")}


def test_no_promise_is_broken_before_or_after_the_move(lab, env, capsys):
    tallies = oracle.run(lab, env, SEED, ESTATES, WATCH_EVERY)
    with capsys.disabled():
        print("\n" + "\n".join(tallies.lines(SEED)))
    gate, after, watch = tallies.gate, tallies.after, tallies.watch
    assert gate.estates == ESTATES and gate.runs == ESTATES * len(oracle.VARIANTS)
    assert not tallies.violations, "\n\n".join(tallies.violations[:5])
    # every part must reach both answers, and every damage after the move, or it proves nothing
    assert 0 < gate.safe < gate.runs and gate.harmless > 0
    assert after.estates >= ESTATES - 5  # a few may be left unjudged: the state moved on
    assert 0 < after.safe < after.runs and 0 < after.harmless < after.runs
    assert set(after.kinds) == set(oracle.POST_DAMAGE), after.kinds
    assert watch.estates > 0 and 0 < watch.safe < watch.runs


def test_the_judge_catches_a_gate_that_always_says_safe(lab, env, monkeypatch):
    monkeypatch.setattr(oracle, "run_check", lambda _env, _argv: (0, "SAFE (lax stand-in)"))
    tallies = oracle.run(lab, env, SEED, 15)
    assert tallies.gate.violations  # damaged estates lose paths in the move: a lax gate is caught


def disconnected_estate(rng: random.Random) -> tuple[dict, list[str]]:
    """A clean estate but for one host vCenter cannot reach."""
    sc, _ = oracle.clean_estate(rng)
    host = rng.choice(sc["hosts"])
    host["connection"] = rng.choice(("disconnected", "notResponding"))
    return sc, [f"{host['name']} {host['connection']}"]


def test_the_judge_catches_a_gate_lax_only_on_disconnected_hosts(lab, env, monkeypatch):
    """The real check, but told only the hosts vCenter can reach (as if it skipped the others):
    SAFE on an estate whose one unknown host may lose everything in the move."""
    real = oracle.run_check

    def connected_only(env_, argv):
        hosts = sorted(oracle.connected(lab.get("/state")))
        return real(env_, [*argv, *(a for h in hosts for a in ("--host", h))])

    monkeypatch.setattr(oracle, "random_estate", disconnected_estate)
    monkeypatch.setattr(oracle, "run_check", connected_only)
    tallies = oracle.run(lab, env, SEED, 3, post_kinds=[])
    assert len(tallies.gate.violations) >= 3  # the default variant of each estate at least
    assert all("paths are unknown" in v for v in tallies.gate.violations)
    monkeypatch.setattr(oracle, "run_check", real)  # the real gate: no violation
    assert not oracle.run(lab, env, SEED, 3, post_kinds=[]).gate.violations


def test_the_judge_catches_an_after_check_blind_to_a_still_ao_old_group(lab, env, monkeypatch):
    """A stand-in after-check that reads the simulator itself and calls the failover complete
    when the new group is AO on every host with as many AO paths as the baseline says and a
    live path, ignoring any other group still AO (what --after-failover --to-tpg did)."""
    def blind(_env, argv):
        tpg = int(argv[argv.index("--to-tpg") + 1])
        with open(argv[argv.index("--baseline") + 1], encoding="utf-8") as fh:
            base = {(h["name"], d["name"]): sum(t["live"] for t in d["tpgs"] if t["state"] == "AO")
                    for h in json.load(fh)["hosts"] for d in h["devices"]}
        for name, host in lab.get("/state")["hosts"].items():
            for dname, dev in host["devices"].items():
                if (name, dname) in base:
                    ao = [p for p in dev["paths"] if p["group_state"] == "active"
                          and p["tpg_id"] == tpg]
                    if len(ao) < max(1, base[(name, dname)]):
                        return 2, "NOT COMPLETE (stand-in)"
        return 0, "FAILOVER COMPLETE (stand-in)"

    monkeypatch.setattr(oracle, "random_estate", oracle.clean_estate)
    monkeypatch.setattr(oracle, "run_after", blind)
    tallies = oracle.run(lab, env, SEED, 3, post_kinds=["stale-old"])
    assert len(tallies.after.violations) == 3, tallies.after.violations
    assert all("still AO" in v.split("\n")[0] for v in tallies.after.violations)
    tallies = oracle.run(lab, env, SEED, 3, post_kinds=[])  # without the stale view: complete
    assert tallies.after.safe == 3 and not tallies.after.violations


def test_estates_cover_every_kind_of_damage():
    rng = random.Random(SEED)
    notes = " | ".join(n for _ in range(400) for n in oracle.random_estate(rng)[1])
    for word in ("dead", "standby", "unavailable", "transitioning", "offline", "zoned to",
                 "not on", "disconnected", "notResponding", "maintenance", "sees", "useANO",
                 "HPP", "storage unreadable", "MRU", "STBY", "UNAV", "TRANS", "OFFL"):
        assert word in notes, word
