#!/usr/bin/env python3
"""The SAN oracle: random SAN-side damage, `esxpath san dump` + `check --san`, then the failover.

For each estate (the seed lab, sometimes with failover_oracle's random ESXi-side damage), the
simulator is loaded with it (POST /load) and one or two kinds of SAN-side damage are made with
POST /scst (a disabled target, a LUN unexported or exported to an initiator group only, a
stopped node, a renamed target as on a node of another pair, another setup_id, a colliding
t10_dev_id, group states that disagree, split brain, both active, Pacemaker roles, group_id,
rel_tgt_id, an extra device) or on the dumps themselves (a stale or future taken_at, one node's
dump missing, one node dumped twice under two names). Then, as on the real SAN, `esxpath san
dump` runs per node against its sysfs tree and crm_mon XML, `esxpath check --san ...` runs in a
few variants (default, --to-tpg naming the peer, --allow-redundancy-loss), all as subprocesses,
and the simulator performs the master move (POST /failover to the peer), which honours each
node's SCST view (tests/sim/README.md, "Failover and the SCST view").

The judge is failover_oracle's and does not import esxpath: from GET /state before and after
the move, every connected host keeps, per SCST device, at least --min-paths AO paths and at
least as many as before (unless --allow-redundancy-loss). A SAFE answer (exit 0) followed by
less is a violation; a refusal of an estate the move left harmless is over-caution, counted.

    python3 tests/san_oracle.py --estates 300 --seed 7
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from failover_oracle import (SAN_NODES, SCST_VENDORS, Tally, clean_estate,  # noqa: E402
                             finding_codes, random_estate, shortfalls)

ROOT = HERE.parent
# The kinds of SAN-side damage, drawn in turn so that any run of len(KINDS) estates has each.
KINDS = ("none", "disable", "unexport", "ini_group", "stopped", "rename", "setup_id", "t10",
         "group_state", "split_brain", "both_active", "role", "group_id", "rel_tgt_id", "extra",
         "stale", "missing", "twin")
SCST_STATES = ("active", "nonoptimized", "standby", "unavailable", "offline", "transitioning")

# (name, extra argv, min_paths, waived)
VARIANTS = (
    ("default", (), 1, False),
    ("to-peer", ("--to-tpg", "{peer}"), 1, False),
    ("waived", ("--allow-redundancy-loss",), 1, True),
)


# ---------------------------------------------------------------- estates
# clean_estate: the failover oracle's (the seed lab, compliant, random group ids and master)

@dataclass
class SanDamage:
    """What to do on the SAN side: POST /scst bodies (stopped ones last) and dump edits."""
    scst: list[dict] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)  # node -> taken_at to write
    missing: str | None = None
    twin: str | None = None
    notes: list[str] = field(default_factory=list)


def _nodes(state: dict) -> tuple[dict, dict]:
    """(master, peer) storage node records of GET /state (master: the AO one)."""
    nodes = {n["name"]: n for n in state["nodes"] if n["name"] in SAN_NODES}
    master = next(n for n in nodes.values() if n["state"] == "AO")
    peer = next(n for n in nodes.values() if n is not master)
    return master, peer


def _own_targets(state: dict, node: str) -> list[str]:
    return [t["name"] for t in state["scst"]["nodes"][node]["targets"]]


def _reported(state: dict, node: str, tpg: int) -> str:
    """The state node reports now for the group of scenario tpg id tpg."""
    dg = state["scst"]["nodes"][node]["device_groups"][0]
    return next(g["state"] for g in dg["target_groups"] if g["group_id"] == tpg)


def random_san_damage(rng: random.Random, state: dict, kinds: list[str]) -> SanDamage:
    """SAN-side damage of the given kinds, against the loaded lab (GET /state)."""
    master, peer = _nodes(state)
    luns = sorted({d for h in state["hosts"].values() for d, dev in h["devices"].items()
                   if dev["vendor"].strip() in SCST_VENDORS and d.startswith("eui.")})
    dmg = SanDamage()
    late: list[dict] = []  # renames, then stops: later controls name the node's targets as now
    stopped: list[dict] = []

    def victim(first: bool) -> str:  # the first kind hits the node taking over, others either
        return peer["name"] if first or rng.random() < 0.5 else master["name"]

    for i, kind in enumerate(kinds):
        node = victim(i == 0)
        if kind == "disable":
            targets = _own_targets(state, node)
            chosen = rng.sample(targets, rng.choice((1, len(targets))))
            dmg.scst.append({"node": node, "disable_target": chosen})
            dmg.notes.append(f"disable {node} {' '.join(chosen)}")
        elif kind == "unexport":
            lun = rng.choice(luns)
            dmg.scst.append({"node": node, "unexport": [lun]})
            dmg.notes.append(f"unexport {node} {lun}")
        elif kind == "ini_group":
            lun = rng.choice(luns)
            dmg.scst.append({"node": node, "ini_group": {lun: "esx_hosts"}})
            dmg.notes.append(f"ini_group {node} {lun}")
        elif kind == "stopped":
            stopped.append({"node": node, "stopped": True})
            dmg.notes.append(f"stopped {node}")
        elif kind == "rename":  # a node of another pair made from the same template
            targets = _own_targets(state, node)
            chosen = rng.sample(targets, rng.choice((1, len(targets))))
            late.append({"node": node, "rename_target": {
                t: t[:12] + "99" + t[14:] for t in chosen}})
            dmg.notes.append(f"rename {node} {' '.join(chosen)}")
        elif kind == "setup_id":
            sid = rng.choice((1, 5, 0x2a))
            dmg.scst.append({"node": node, "setup_id": sid})
            dmg.notes.append(f"setup_id {node} {sid}")
        elif kind == "t10":  # another LUN's first 8 characters: ESXi takes them for one LUN
            a, b = rng.sample(luns, 2)
            t10 = bytes.fromhex(b[4:20]).decode() + "-other"
            dmg.scst.append({"node": node, "t10_dev_id": {a: t10}})
            dmg.notes.append(f"t10 {node} {a}={t10}")
        elif kind in ("group_state", "split_brain", "both_active"):
            if kind == "both_active":  # the peer claims its own group active too
                node, tpg, new = peer["name"], peer["tpg_id"], "active"
            elif kind == "split_brain":  # one node says another state of the other's group
                other = master if node == peer["name"] else peer
                tpg = other["tpg_id"]
                new = rng.choice([s for s in SCST_STATES if s != _reported(state, node, tpg)])
            else:  # a node reports its own group in another state than the hosts see
                tpg = (peer if node == peer["name"] else master)["tpg_id"]
                new = rng.choice([s for s in SCST_STATES if s != _reported(state, node, tpg)])
            if _reported(state, node, tpg) == new:
                continue  # no disagreement: nothing to make
            dmg.scst.append({"node": node, "group_state": {str(tpg): new}})
            dmg.notes.append(f"{kind} {node} TPG {tpg} {new}")
        elif kind == "role":
            role = rng.choice(("promoted", "unpromoted", "stopped"))
            dmg.scst.append({"node": node, "role": role})
            dmg.notes.append(f"role {node} {role}")
        elif kind == "group_id":
            tpg = rng.choice((master, peer))["tpg_id"]
            new = rng.choice([i for i in (3, 9, 500) if i != tpg])
            dmg.scst.append({"node": node, "group_id": {str(tpg): new}})
            dmg.notes.append(f"group_id {node} TPG {tpg}={new}")
        elif kind == "rel_tgt_id":
            t = rng.choice(_own_targets(state, master["name"]) + _own_targets(state, peer["name"]))
            dmg.scst.append({"node": node, "rel_tgt_id": {t: 9}})
            dmg.notes.append(f"rel_tgt_id {node} {t}=9")
        elif kind == "extra":
            dmg.scst.append({"node": node, "extra_device": "disk99"})
            dmg.notes.append(f"extra {node} disk99")
        elif kind == "stale":
            ago = rng.choice((-3600, 1200, 86400))  # negative: ahead of this clock
            when = datetime.now(timezone.utc) - timedelta(seconds=ago)
            dmg.stale[node] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            dmg.notes.append(f"stale {node} {ago}s")
        elif kind == "missing":
            dmg.missing = node
            dmg.notes.append(f"missing {node}")
        elif kind == "twin":
            dmg.twin = node
            dmg.notes.append(f"twin {node}")
    dmg.scst += late + stopped  # a stopped node's view is frozen: every other change first
    return dmg


# ---------------------------------------------------------------- running esxpath

def esxpath(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "esxpath", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def make_dumps(lab, env: dict, dmg: SanDamage, tmp: Path) -> list[str]:
    """`esxpath san dump` per node, as each node would run it, then the dump-side damage."""
    files = []
    for node in SAN_NODES:
        proc = esxpath(env, "san", "dump", "--sysfs-root", str(lab.scst_root(node)),
                       "--crm-mon-xml", str(lab.crm_mon_xml(node)), "--node", node)
        if proc.returncode != 0:
            raise RuntimeError(f"san dump {node}: exit {proc.returncode}: {proc.stderr}")
        doc = json.loads(proc.stdout)
        if node in dmg.stale:
            doc["taken_at"] = dmg.stale[node]
        if node == dmg.missing:
            continue
        path = tmp / f"{node}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        files.append(str(path))
        if node == dmg.twin:
            path = tmp / f"{node}b.json"
            path.write_text(json.dumps(dict(doc, node=node + "b")), encoding="utf-8")
            files.append(str(path))
    return files


def run_check(env: dict, argv: list[str]) -> tuple[int, str]:
    proc = esxpath(env, "check", *argv, "-o", "json")
    return proc.returncode, proc.stdout + proc.stderr


def one_estate(lab, env: dict, rng: random.Random, index: int, tally: Tally, tmp: Path) -> None:
    sc, notes = random_estate(rng) if rng.random() < 0.3 else clean_estate(rng)
    kinds = [KINDS[index % len(KINDS)]]
    if rng.random() < 0.3:
        kinds.append(rng.choice(KINDS[1:]))
    kinds = [k for k in dict.fromkeys(kinds) if k != "none"]
    lab.post("/load", sc)
    dmg = random_san_damage(rng, lab.get("/state"), kinds)
    for body in dmg.scst:
        lab.post("/scst", body)
    for k in kinds:
        tally.kinds[k] = tally.kinds.get(k, 0) + 1
    before = lab.get("/state")
    master, peer = _nodes(before)
    files = make_dumps(lab, env, dmg, tmp)
    san = [a for f in files for a in ("--san", f)]
    answers = []
    for _name, extra, min_paths, waived in VARIANTS:
        argv = [*san, *(a.format(peer=peer["tpg_id"]) for a in extra)]
        code, output = run_check(env, argv)
        answers.append((argv, code, output, min_paths, waived))
    lab.post("/failover", {"active": peer["name"]})
    after = lab.get("/state")
    label = (f"estate {index} (master {master['name']} TPG {master['tpg_id']}, peer {peer['name']}"
             f" TPG {peer['tpg_id']}) [{'; '.join(notes + dmg.notes) or 'no damage'}]")
    tally.estates += 1
    for argv, code, output, min_paths, waived in answers:
        tally.runs += 1
        tally.exit_codes[code] = tally.exit_codes.get(code, 0) + 1
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
                shown = " ".join(a if not a.startswith("/") else Path(a).name for a in argv)
                tally.violations.append(f"{label} check {shown} said SAFE, then:"
                                        f" {'; '.join(lost)}\n{output}")
    if os.environ.get("ORACLE_VERBOSE"):
        print(label, [a[1] for a in answers], file=sys.stderr)


def run(lab, env: dict, seed: int, estates: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally(name="san oracle")
    with tempfile.TemporaryDirectory(prefix="san-oracle-") as tmp:
        for i in range(estates):
            one_estate(lab, env, rng, i, tally, Path(tmp))
    return tally


def cli_env(lab) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESXPATH_")}
    env.update({k: lab.env[k] for k in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                        "ESXPATH_CA_FILE")})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estates", type=int, default=300)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    from simlab import SimLab
    with SimLab().start() as lab:
        tally = run(lab, cli_env(lab), args.seed, args.estates)
    print(tally.line(args.seed))
    print("kinds:", dict(sorted(tally.kinds.items())))
    for v in tally.violations:
        print("VIOLATION:", v)
    return 1 if tally.violations else 0


if __name__ == "__main__":
    sys.exit(main())
