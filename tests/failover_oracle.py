#!/usr/bin/env python3
"""The failover oracle: random SAN estates, `esxpath check`, then the failover itself.

For each estate (a scenario built from the seed lab with random damage), the simulator is loaded
with it (POST /load), `esxpath check` runs in a few variants (default, --to-tpg naming the peer,
--to-tpg naming the group that is AO now, --min-paths 2, --allow-redundancy-loss), then the
simulator performs the controller failover a Pacemaker master move does (POST /failover to the
peer node) and the judge below reads every host back from the simulator's own state.

The judge does not import esxpath: it counts, per host and SCST device, the paths whose esxcli
group state is "active" (AO) before and after the move, from GET /state. esxpath's promise for a
SAFE answer (README, "The failover rule"): every connected host keeps, on every device, at least
--min-paths AO paths and at least as many as it had before (unless --allow-redundancy-loss, then
--min-paths). A SAFE answer followed by less is a violation. An estate that check refused although
the move kept every promise is counted as over-caution, to be looked at, not failed.

    python3 tests/failover_oracle.py --estates 2000 --seed 7     # a longer run than the suite's
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from seedlab import SAN_NODES

HERE = Path(__file__).resolve().parent
SEED_LAB = json.loads((HERE / "sim" / "scenarios" / "seed-lab.json").read_text())
SCST_VENDORS = ("SCST_BIO", "SCST_FIO")
HOSTS = [h["name"] for h in SEED_LAB["hosts"]]
PATH_DAMAGE = ("dead", "standby", "unavailable", "transitioning", "offline")
NODE_STATES = ("ANO",) * 6 + ("STBY", "UNAV", "TRANS", "OFFL")

# (name, extra argv, min_paths, waived, names the group now AO)
VARIANTS = (
    ("default", (), 1, False),
    ("to-peer", ("--to-tpg", "{peer}"), 1, False),
    ("to-master", ("--to-tpg", "{master}"), 1, False),
    ("min-2", ("--min-paths", "2"), 2, False),
    ("waived", ("--allow-redundancy-loss",), 1, True),
)


# ---------------------------------------------------------------- estates

def _runtime(hba: str, target: int, lun: int) -> str:
    return f"{hba}:C0:T{target}:L{lun}"


def random_estate(rng: random.Random) -> tuple[dict, list[str]]:
    """A scenario (the seed lab, compliant, with random damage) and what was done to it."""
    sc = copy.deepcopy(SEED_LAB)
    notes: list[str] = []
    ids = rng.sample([0, 1, 2, 7, 101, 102], 2)
    master = rng.choice(SAN_NODES)
    for node in sc["storage_nodes"]:
        if node["name"] in SAN_NODES:
            node["tpg_id"] = ids[SAN_NODES.index(node["name"])]
            node["state"] = "AO" if node["name"] == master else rng.choice(NODE_STATES)
            if node["state"] not in ("AO", "ANO"):
                notes.append(f"{node['name']} {node['state']}")
    luns = [lun for lun in sc["luns"] if lun["vendor"] in SCST_VENDORS]
    for lun in luns:
        lun.update(psp="VMW_PSP_RR", rr={"limit_type": "iops", "iops": 1, "bytes": 10485760,
                                         "use_ano": False})
    hosts = {h["name"]: h for h in sc["hosts"]}
    for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
        kind = rng.choice(("path", "path", "path", "path", "hba", "zoning", "missing", "conn",
                           "maintenance", "alua", "useano", "hpp", "unreadable", "lunstate", "psp"))
        hname = rng.choice(HOSTS)
        h = hosts[hname]
        lun = rng.choice(luns)
        if kind == "path":  # one or two paths of one device
            for _ in range(rng.choice((1, 2))):
                hba, target = rng.choice(("vmhba2", "vmhba3")), rng.choice((0, 1))
                state = rng.choice(PATH_DAMAGE)
                h.setdefault("paths", []).append({"device": lun["canonical"], "state": state,
                                                  "path": _runtime(hba, target, lun["lun"])})
                notes.append(f"{hname} {lun['canonical']} {hba} T{target} {state}")
        elif kind == "hba":  # a dead HBA: every path through it, on every device
            hba = rng.choice(("vmhba2", "vmhba3"))
            for each in luns:
                for target in (0, 1):
                    h.setdefault("paths", []).append({"device": each["canonical"], "state": "dead",
                                                      "path": _runtime(hba, target, each["lun"])})
            notes.append(f"{hname} {hba} dead")
        elif kind == "zoning":  # one HBA zoned to one controller only
            hba = rng.choice(("vmhba2", "vmhba3"))
            keep = rng.choice((0, 1))
            zone = list(sc["zoning"][hba])
            h.setdefault("zoning", {})[hba] = [zone[keep], zone[2]]
            notes.append(f"{hname} {hba} zoned to T{keep} only")
        elif kind == "missing":
            lun["hosts"] = [n for n in (lun.get("hosts") or HOSTS) if n != hname]
            notes.append(f"{lun['canonical']} not on {hname}")
        elif kind == "conn":
            h["connection"] = rng.choice(("disconnected", "notResponding"))
            notes.append(f"{hname} {h['connection']}")
        elif kind == "maintenance":
            h["maintenance"] = True
            notes.append(f"{hname} maintenance")
        elif kind == "alua":  # this host sees a node in another state (a stale view)
            # Only a view that differs from the node's state now: one that agrees and then
            # stays stuck through the move is invisible before it, to any gate.
            node = rng.choice(SAN_NODES)
            now = next(n["state"] for n in sc["storage_nodes"] if n["name"] == node)
            state = rng.choice([s for s in ("AO", "ANO", "STBY", "UNAV", "TRANS") if s != now])
            h.setdefault("alua", {})[node] = state
            notes.append(f"{hname} sees {node} {state}")
        elif kind == "useano" and "rr" in lun:
            lun["rr"]["use_ano"] = True
            notes.append(f"{lun['canonical']} useANO=1")
        elif kind == "hpp":
            lun["mpp"] = "HPP"
            notes.append(f"{lun['canonical']} HPP")
        elif kind == "unreadable":
            h["storage_unreadable"] = True
            notes.append(f"{hname} storage unreadable")
        elif kind == "lunstate":
            lun["operational_state"] = [rng.choice(("degraded", "lostCommunication", "off"))]
            notes.append(f"{lun['canonical']} {lun['operational_state'][0]}")
        elif kind == "psp":
            lun["psp"] = "VMW_PSP_MRU"
            notes.append(f"{lun['canonical']} MRU")
    where = {lun["canonical"]: set(lun.get("hosts") or HOSTS) for lun in luns}
    for h in sc["hosts"]:  # damage named on a rezoned HBA (its targets renumber) or a LUN
        rezoned = set(h.get("zoning", {}))  # taken from this host is void
        if "paths" in h:
            h["paths"] = [p for p in h["paths"] if p["path"].split(":")[0] not in rezoned
                          and h["name"] in where[p["device"]]]
    return sc, notes


# ---------------------------------------------------------------- the judge (no esxpath import)

def ao_counts(state: dict) -> dict[tuple[str, str], int]:
    """{(host, device): paths in esxcli group state "active"} for the SCST eui devices."""
    out = {}
    for hname, host in state["hosts"].items():
        for dname, dev in host["devices"].items():
            if dev["vendor"].strip() in SCST_VENDORS and dname.startswith("eui."):
                out[(hname, dname)] = sum(1 for p in dev["paths"] if p["group_state"] == "active")
    return out


def connected(state: dict) -> set[str]:
    return {h for h, v in state["hosts"].items() if v["connection"] == "connected"}


def shortfalls(before: dict, after: dict, min_paths: int, waived: bool) -> list[str]:
    """Where the move (GET /state before and after) left a connected host with fewer AO paths
    than a SAFE answer promised."""
    out = []
    up = connected(before) & connected(after)
    had_ao, got_ao = ao_counts(before), ao_counts(after)
    for key, had in sorted(had_ao.items()):
        if key[0] not in up:
            continue
        need = max(min_paths, 0 if waived else had)
        got = got_ao.get(key, 0)
        if got < need:
            out.append(f"{key[0]} {key[1]}: {got} AO path(s) after the move, promised {need}")
    return out


# ---------------------------------------------------------------- running it

@dataclass
class Tally:
    name: str = "failover oracle"  # the summary line's first words (tests/san_oracle.py: san)
    estates: int = 0
    runs: int = 0
    safe: int = 0
    refused_harmless: int = 0
    harmless: int = 0
    # why check refused estates the move left harmless: finding code -> runs (over-caution)
    caution: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    exit_codes: dict[int, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)  # damage kind -> estates (san oracle)

    def line(self, seed: int) -> str:
        return (f"{self.name}: seed {seed}, {self.estates} estates, {self.runs} check runs,"
                f" {self.safe} SAFE, {len(self.violations)} violations; over-caution: refused"
                f" {self.refused_harmless} of {self.harmless} runs on estates the move left"
                f" harmless; exit codes {dict(sorted(self.exit_codes.items()))}; refusals of"
                f" harmless runs by finding code {dict(sorted(self.caution.items()))}")


def run_check(env: dict, argv: list[str]) -> tuple[int, str]:
    """esxpath check in this process, as the console entry point runs it (the real CLI)."""
    from click.testing import CliRunner

    from esxpath.cli import main
    result = CliRunner().invoke(main, ["check", *argv, "-o", "json"], env=env,
                                catch_exceptions=False, prog_name="esxpath")
    return result.exit_code, result.output


def finding_codes(output: str) -> set[str]:
    """The refusing codes of check's JSON; whatever follows the document (stderr) is ignored."""
    try:
        doc = json.loads(output[:output.rindex("}") + 1])
    except ValueError:
        return {"no-json"}
    return {f["code"] for f in doc.get("findings") or [] if f["severity"] != "OK"}


def master_and_peer(state: dict) -> tuple[dict, dict]:
    nodes = {n["name"]: n for n in state["nodes"]} if isinstance(state["nodes"], list) else \
        {name: dict(n, name=name) for name, n in state["nodes"].items()}
    master = next(n for n in nodes.values() if n["name"] in SAN_NODES and n["state"] == "AO")
    peer = next(n for n in nodes.values() if n["name"] in SAN_NODES and n is not master)
    return master, peer


def one_estate(lab, env: dict, sc: dict, notes: list[str], tally: Tally, label: str) -> None:
    tally.estates += 1
    verdicts = []
    for name, extra, min_paths, waived in VARIANTS:
        lab.post("/load", sc)
        before = lab.get("/state")
        master, peer = master_and_peer(before)
        argv = [a.format(master=master["tpg_id"], peer=peer["tpg_id"]) for a in extra]
        code, output = run_check(env, argv)
        tally.runs += 1
        tally.exit_codes[code] = tally.exit_codes.get(code, 0) + 1
        lab.post("/failover", {"active": peer["name"]})
        after = lab.get("/state")
        lost = shortfalls(before, after, min_paths, waived)
        if not lost:
            tally.harmless += 1
            if code != 0:
                tally.refused_harmless += 1
                for c in finding_codes(output):
                    tally.caution[c] = tally.caution.get(c, 0) + 1
        if code == 0:
            tally.safe += 1
            if lost:
                tally.violations.append(
                    f"{label} [{'; '.join(notes) or 'no damage'}] check {' '.join(argv) or '(default)'}"
                    f" said SAFE, then: {'; '.join(lost)}\n{output}")
        verdicts.append((name, code))
    if os.environ.get("ORACLE_VERBOSE"):
        print(label, notes, verdicts, file=sys.stderr)


def run(lab, env: dict, seed: int, estates: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally()
    for i in range(estates):
        sc, notes = random_estate(rng)
        one_estate(lab, env, sc, notes, tally, f"estate {i}")
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from simlab import SimLab
    with SimLab().start() as lab:
        env = {k: lab.env[k] for k in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                       "ESXPATH_CA_FILE")}
        tally = run(lab, env, args.seed, args.estates)
    print(tally.line(args.seed))
    for v in tally.violations:
        print("VIOLATION:", v)
    return 1 if tally.violations else 0


if __name__ == "__main__":
    sys.exit(main())
