#!/usr/bin/env python3
"""The failover oracle: random SAN estates, `esxpath check`, the failover, and what esxpath says after.

For each estate (a scenario built from the seed lab with random damage), the simulator is loaded
with it (POST /load), `esxpath check` runs in a few variants (default, --to-tpg naming the peer,
--to-tpg naming the group that is AO now, --min-paths 2, --allow-redundancy-loss), then the
simulator performs the controller failover a Pacemaker master move does (POST /failover to the
peer node) and the judge below reads every host back from the simulator's own state.

Then the after part: the estate is loaded again, damage that only the move shows is staged (a
host whose view of the old master stays AO or of the new one never becomes AO: POST /host-alua;
a path to the new master dead: POST /path; a slow host in All-Paths-Down for N simulated
seconds: /failover slow_hosts), the move is made, and `esxpath check --after-failover --to-tpg
T --baseline FILE` (FILE: the default check's JSON from before the move) is judged; on some
estates `esxpath watch --until-switched`, started before the move, is judged too.

The judge does not import esxpath: it counts, per host and SCST device, the paths whose esxcli
group state is "active" (AO) before and after the move, from GET /state. esxpath's promise for a
SAFE answer (README, "The failover rule"): every connected host keeps, on every device, at least
--min-paths AO paths and at least as many as it had before (unless --allow-redundancy-loss, then
--min-paths); a host that is not connected before the move has paths nobody can know, so a SAFE
answer with one in scope is a violation too. After the move, COMPLETE (exit 0) and "switched"
promise, on every host and device: T AO with at least that many AO paths, no other group still
AO, some live path (no All-Paths-Down); a host that is not connected breaks that promise as
well. An answer that refused although the promise held is counted as over-caution, to be
looked at, not failed.

    python3 tests/failover_oracle.py --estates 2000 --seed 7     # a longer run than the suite's
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from seedlab import SAN_NODES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
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


def clean_estate(rng: random.Random) -> tuple[dict, list[str]]:
    """The seed lab as the gate wants it (RR on the SCST LUNs), random TPG ids and master."""
    sc = copy.deepcopy(SEED_LAB)
    ids = rng.sample([0, 1, 2, 7, 101, 102], 2)
    master = rng.choice(SAN_NODES)
    for node in sc["storage_nodes"]:
        if node["name"] in SAN_NODES:
            node["tpg_id"] = ids[SAN_NODES.index(node["name"])]
            node["state"] = "AO" if node["name"] == master else "ANO"
    for lun in sc["luns"]:
        if lun["vendor"] in SCST_VENDORS:
            lun.update(psp="VMW_PSP_RR", rr={"limit_type": "iops", "iops": 1, "bytes": 10485760,
                                             "use_ano": False})
    return sc, []


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


def unknown(state: dict) -> list[str]:
    """Hosts whose paths nobody can know: not connected (vCenter cannot read them)."""
    return [f"{h} is {v['connection']}: its paths are unknown"
            for h, v in sorted(state["hosts"].items()) if v["connection"] != "connected"]


def shortfalls(before: dict, after: dict, min_paths: int, waived: bool) -> list[str]:
    """Where the move (GET /state before and after) left a connected host with fewer AO paths
    than a SAFE answer promised; and every host not connected before the move (unknown harm)."""
    out = unknown(before)
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


# what keeps a failover to T from being complete on a host: the rule each finding breaks
RULES = ("unknown", "apd", "not-ao", "fewer", "old-ao")


def after_harm(before: dict, after: dict, tpg: int, min_paths: int = 1,
               waived: bool = False) -> dict[str, list[tuple[str, str]]]:
    """{host: [(rule, text)]}: where, after a failover to TPG `tpg`, a host is not done: not
    connected ("unknown"), a device without any live path ("apd"), without an AO path in `tpg`
    ("not-ao"), with fewer than max(min_paths, AO paths before) ("fewer", only min_paths when
    waived), or with another group still AO ("old-ao")."""
    harm: dict[str, list[tuple[str, str]]] = {}
    for h, v in sorted(after["hosts"].items()):
        if v["connection"] != "connected" or before["hosts"][h]["connection"] != "connected":
            harm.setdefault(h, []).append(("unknown", f"{h} not connected: unknown"))
    had_ao = ao_counts(before)
    for h, host in sorted(after["hosts"].items()):
        if h in harm:
            continue
        for d, dev in sorted(host["devices"].items()):
            if dev["vendor"].strip() not in SCST_VENDORS or not d.startswith("eui."):
                continue
            ao = [p["tpg_id"] for p in dev["paths"] if p["group_state"] == "active"]
            new, old = ao.count(tpg), sorted({t for t in ao if t != tpg})
            had = had_ao.get((h, d), 0)
            need = max(min_paths, 0 if waived else had)
            found = []
            if all(p["group_state"] == "dead" for p in dev["paths"]):
                found.append(("apd", f"{h} {d}: no live path (All-Paths-Down)"))
            elif new == 0:
                found.append(("not-ao", f"{h} {d}: TPG {tpg} not AO"))
            elif new < need:
                found.append(("fewer", f"{h} {d}: {new} AO path(s) in TPG {tpg}, {had} before"))
            if old:
                found.append(("old-ao", f"{h} {d}: TPG {', '.join(map(str, old))} still AO"))
            if found:
                harm.setdefault(h, []).extend(found)
    return harm


def projection(state: dict) -> dict:
    """What the judge reads of a state: to tell whether it changed while a command ran."""
    return {h: (v["connection"], {d: sorted((p["name"], p["group_state"], p["tpg_id"])
                                          for p in dev["paths"])
                                  for d, dev in v["devices"].items()})
            for h, v in state["hosts"].items()}


# ---------------------------------------------------------------- running it

@dataclass
class Tally:
    name: str = "failover oracle"  # the summary line's first words (tests/san_oracle.py: san)
    command: str = "check"  # what ran, and its "yes" answer
    yes: str = "SAFE"
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
        return (f"{self.name}: seed {seed}, {self.estates} estates, {self.runs} {self.command} runs,"
                f" {self.safe} {self.yes}, {len(self.violations)} violations; over-caution: refused"
                f" {self.refused_harmless} of {self.harmless} runs on estates the move left"
                f" harmless; exit codes {dict(sorted(self.exit_codes.items()))}; refusals of"
                f" harmless runs by finding code {dict(sorted(self.caution.items()))}"
                + (f"; damage {dict(sorted(self.kinds.items()))}" if self.kinds else ""))

    def count(self, code: int, harmless: bool, output: str) -> None:
        """One run: its exit code, and over-caution when it refused a harmless estate."""
        self.runs += 1
        self.exit_codes[code] = self.exit_codes.get(code, 0) + 1
        self.safe += code == 0
        if harmless:
            self.harmless += 1
            if code != 0:
                self.refused_harmless += 1
                for c in finding_codes(output):
                    self.caution[c] = self.caution.get(c, 0) + 1


@dataclass
class Tallies:
    """The gate before the move, check --after-failover and watch after it: judged apart."""
    gate: Tally = field(default_factory=Tally)
    after: Tally = field(default_factory=lambda: Tally(
        "after-failover oracle", "check --after-failover", "COMPLETE"))
    watch: Tally = field(default_factory=lambda: Tally(
        "watch oracle", "watch --until-switched", "switched"))

    def lines(self, seed: int) -> list[str]:
        return [t.line(seed) for t in (self.gate, self.after, self.watch)]

    @property
    def violations(self) -> list[str]:
        return self.gate.violations + self.after.violations + self.watch.violations


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


def one_estate(lab, env: dict, sc: dict, notes: list[str], tally: Tally, label: str) -> str:
    """The gate's variants, each followed by the move; returns the default check's output."""
    tally.estates += 1
    verdicts = []
    baseline = ""
    for name, extra, min_paths, waived in VARIANTS:
        lab.post("/load", sc)
        before = lab.get("/state")
        master, peer = master_and_peer(before)
        argv = [a.format(master=master["tpg_id"], peer=peer["tpg_id"]) for a in extra]
        code, output = run_check(env, argv)
        baseline = baseline or output
        lab.post("/failover", {"active": peer["name"]})
        after = lab.get("/state")
        lost = shortfalls(before, after, min_paths, waived)
        tally.count(code, not lost, output)
        if code == 0 and lost:
            tally.violations.append(
                f"{label} [{'; '.join(notes) or 'no damage'}] check {' '.join(argv) or '(default)'}"
                f" said SAFE, then: {'; '.join(lost)}\n{output}")
        verdicts.append((name, code))
    if os.environ.get("ORACLE_VERBOSE"):
        print(label, notes, verdicts, file=sys.stderr)
    return baseline


# ---------------------------------------------------------------- after the move

POST_DAMAGE = ("stale-old", "stale-new", "ao-dead", "slow")


@dataclass
class Staged:
    """Damage only the move shows, made just before it (invisible to a check before it)."""
    alua: list[dict] = field(default_factory=list)  # POST /host-alua bodies
    paths: list[dict] = field(default_factory=list)  # POST /path bodies
    slow: dict[str, float] = field(default_factory=dict)  # /failover slow_hosts
    notes: list[str] = field(default_factory=list)


def post_damage(rng: random.Random, before: dict, kinds: list[str]) -> Staged:
    master, peer = master_and_peer(before)
    up = sorted(connected(before))
    st = Staged()
    for kind in kinds:
        h = rng.choice(up or sorted(before["hosts"]))
        if kind == "stale-old":  # the host keeps seeing the old master AO
            st.alua.append({"host": h, "node": master["name"], "state": "AO"})
            st.notes.append(f"after: {h} keeps {master['name']} AO")
        elif kind == "stale-new":  # the host never sees the new master AO
            state = rng.choice(("ANO", "STBY", "UNAV", "TRANS", "OFFL"))
            st.alua.append({"host": h, "node": peer["name"], "state": state})
            st.notes.append(f"after: {h} sees {peer['name']} {state}")
        elif kind == "ao-dead":  # one or both paths of a device to the new master die
            devs = {d: [p["runtime"] for p in dev["paths"] if p["tpg_id"] == peer["tpg_id"]]
                    for d, dev in before["hosts"][h]["devices"].items()
                    if dev["vendor"].strip() in SCST_VENDORS and d.startswith("eui.")}
            devs = {d: rts for d, rts in devs.items() if rts}
            if not devs:
                continue
            d = rng.choice(sorted(devs))
            for rt in rng.sample(devs[d], rng.choice((1, len(devs[d])))):
                st.paths.append({"host": h, "path": rt, "device": d, "state": "dead"})
                st.notes.append(f"after: {h} {rt} dead")
        elif kind == "slow":  # All-Paths-Down long after the commands end (no clock advance)
            st.slow[h] = float(rng.choice((60, 120, 300)))
            st.notes.append(f"after: {h} slow {st.slow[h]:.0f}s")
    return st


def run_after(env: dict, argv: list[str]) -> tuple[int, str]:
    """esxpath check --after-failover (the real CLI, in this process). A CLI without
    --baseline is run without it (and judged all the same: the promise does not change)."""
    code, output = run_check(env, ["--after-failover", *argv])
    if "No such option '--baseline'" in output and "--baseline" in argv:
        i = argv.index("--baseline")
        code, output = run_check(env, ["--after-failover", *argv[:i], *argv[i + 2:]])
    return code, output


def cli_env(env: dict) -> dict:
    out = {k: v for k, v in os.environ.items() if not k.startswith("ESXPATH_")}
    out.update(env)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return out


def start_watch(env: dict, duration: float) -> subprocess.Popen:
    """esxpath watch --until-switched as a process, returned once it has its first sample."""
    proc = subprocess.Popen([sys.executable, "-m", "esxpath", "watch", "--until-switched",
                             "--interval", "0.25", "--duration", str(duration), "-o", "json"],
                            env=cli_env(env), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("esxpath: watching"):
            break
    return proc


def reported_switched(host: dict) -> bool:
    """What watch's JSON says of a host (`switched`; before that field: a new AO group seen)."""
    if "switched" in host:
        return bool(host["switched"])
    return host.get("new_ao_after") is not None and host.get("new_ao") != host.get("old_ao")


# the rules a "switched" answer of watch is judged by (all of them, as for COMPLETE)
WATCH_RULES = set(RULES)


def judge_watch(tally: Tally, label: str, code: int, out: str, harm: dict) -> None:
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {"hosts": []}
    bad = {h: [t for r, t in found if r in WATCH_RULES] for h, found in harm.items()}
    bad = {h: texts for h, texts in bad.items() if texts}
    said = [h["name"] for h in doc.get("hosts") or [] if reported_switched(h)]
    wrong = [f"{h} switched, but: {'; '.join(bad[h])}" for h in said if h in bad]
    if code == 0 and bad and not wrong:
        wrong = [f"exit 0 (every host switched), but: {'; '.join(t for ts in bad.values() for t in ts)}"]
    tally.count(code, not bad, out)
    if wrong:
        tally.violations.append(f"{label} watch --until-switched: {' | '.join(wrong)}\n{out}")


def after_estate(lab, env: dict, sc: dict, notes: list[str], baseline: str, rng: random.Random,
                 tallies: Tallies, label: str, watch: bool, kinds: list[str] | None = None) -> None:
    """Load the estate again, stage damage only the move shows, move, judge the after-check
    (and watch, started before the move)."""
    if kinds is None:
        kinds = rng.sample(POST_DAMAGE, rng.choice((0, 0, 1, 1, 2)))
    lab.post("/load", sc)
    before = lab.get("/state")
    master, peer = master_and_peer(before)
    st = post_damage(rng, before, kinds)
    proc = start_watch(env, 2.0) if watch else None
    for body in st.alua:
        lab.post("/host-alua", body)
    for body in st.paths:
        lab.post("/path", body)
    lab.post("/failover", {"active": peer["name"], **({"slow_hosts": st.slow} if st.slow else {})})
    what = f"{label} [{'; '.join(notes + st.notes) or 'no damage'}]"
    after = lab.get("/state")
    if proc is not None:
        out, _err = proc.communicate(timeout=120)
        now = lab.get("/state")
        if projection(now) == projection(after):  # else the state moved on: not judged
            tallies.watch.estates += 1
            judge_watch(tallies.watch, what, proc.returncode, out,
                        after_harm(before, after, peer["tpg_id"]))
        after = now
    name, extra, min_paths, waived = rng.choice([v for v in VARIANTS if v[0] in
                                                  ("default", "min-2", "waived")])
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="baseline-") as fh:
        fh.write(baseline[baseline.index("{"):baseline.rindex("}") + 1] if "{" in baseline else "")
        fh.flush()
        argv = ["--to-tpg", str(peer["tpg_id"]), "--baseline", fh.name, *extra]
        code, output = run_after(env, argv)
    if projection(lab.get("/state")) != projection(after):
        return
    tallies.after.estates += 1
    for k in kinds:
        tallies.after.kinds[k] = tallies.after.kinds.get(k, 0) + 1
    harm = after_harm(before, after, peer["tpg_id"], min_paths, waived)
    tallies.after.count(code, not harm, output)
    if code == 0 and harm:
        shown = " ".join("FILE" if a == fh.name else a for a in argv)
        tallies.after.violations.append(
            f"{what} check --after-failover {shown} said COMPLETE, but:"
            f" {'; '.join(t for found in harm.values() for _, t in found)}\n{output}")


def run(lab, env: dict, seed: int, estates: int, watch_every: int = 0,
        post_kinds: list[str] | None = None) -> Tallies:
    """`estates` estates: the gate's variants, then the after-check on each; watch on every
    `watch_every`-th (0: never); post_kinds: the damage after the move (default: random)."""
    rng = random.Random(seed)
    tallies = Tallies()
    for i in range(estates):
        sc, notes = random_estate(rng)
        baseline = one_estate(lab, env, sc, notes, tallies.gate, f"estate {i}")
        after_estate(lab, env, sc, notes, baseline, rng, tallies, f"estate {i}",
                     bool(watch_every) and i % watch_every == 0, post_kinds)
    return tallies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--estates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--watch-every", type=int, default=5,
                        help="run watch --until-switched on every Nth estate (0: never) [5]")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from simlab import SimLab
    with SimLab().start() as lab:
        env = {k: lab.env[k] for k in ("ESXPATH_VCENTER", "ESXPATH_USER", "ESXPATH_PASSWORD",
                                       "ESXPATH_CA_FILE")}
        tallies = run(lab, env, args.seed, args.estates, args.watch_every)
    for line in tallies.lines(args.seed):
        print(line)
    for t in (tallies.gate, tallies.after, tallies.watch):
        for v in t.violations:
            print(f"VIOLATION ({t.name}):", v)
    return 1 if tallies.violations else 0


if __name__ == "__main__":
    sys.exit(main())
