#!/usr/bin/env python3
"""esxpath against its peers, on the bundled simulator with a per-call latency.

    python3 bench/run.py [--quick] [--latency-ms 10] [--parallel 8] [--peer-hosts N]

Starts the simulator (tests/sim, built on demand) once per estate size and measures, one fresh
process tree each: wall time, SOAP calls and esxcli commands the simulator answered (GET /stats,
reset before every run), writes, and peak memory. Side by side on 8 hosts x 8 LUNs:
  esxpath audit | esxpath apply (default policy, from the scenario) | esxpath apply (compliant)
  the seed article's loops through Broadcom's esxcli (bench/peers/esxcli_apply.sh)
  and their audit equivalent (bench/peers/esxcli_audit.sh)
  a pyVmomi script that walks host attributes (bench/peers/pyvmomi_walk.py)
and esxpath alone at 64 x 32 and 256 x 32. The official client starts a Python process, logs in
and rediscovers the esxcli types for every command (about 1 s each), so its loops run on all 8
hosts only in the full run (about 2.5 of its 5 minutes); --quick or --peer-hosts N runs them on
N hosts and the table says "extrapolated" (linear in hosts: the loop is one host after another).
Prints the tables and writes bench/results/latest.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

from measure import Measurement, run_measured  # noqa: E402
from scenarios import generated_scenario  # noqa: E402

PEERS = HERE / "peers"
MARKDOWN = False  # table() renders Markdown while this is set (for bench/README.md)


def esxpath_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "esxpath", *args]


def env_for(lab) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ESXPATH_", "VI_", "GOVC_"))}
    env.update({k: v for k, v in lab.env.items() if k.startswith("ESXPATH_")})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


PAGE_SIZE = 100  # esxpath.vsphere.inventory.PAGE_SIZE: objects per page of the collection


def collection_pages(lab) -> int:
    """Pages of esxpath's one collection: every host, its compute resource (a cluster, or its
    own for a standalone host), the datacenter and its folders (root, host, vm, datastore,
    network)."""
    hosts = lab.get("/state")["hosts"]
    clusters = {h.get("cluster") for h in hosts.values() if h.get("cluster")}
    standalone = sum(1 for h in hosts.values() if not h.get("cluster"))
    return math.ceil((len(hosts) + len(clusters) + standalone + 6) / PAGE_SIZE)


def lower_bound_s(latency_ms: float, hosts: int, parallel: int, pages: int) -> float:
    """The calls esxpath really needs, at the latency: the collection's pages one after the
    other, then per host RetrieveManagedMethodExecuter and two esxcli commands, spread over
    `parallel` workers."""
    return latency_ms / 1000 * (pages + math.ceil(3 * hosts / parallel))


def fresh(lab, latency_ms: float) -> None:
    """Back to the scenario; POST /reset also drops the start-up latency, so set it again."""
    lab.reset()
    lab.post("/latency", {"ms": int(latency_ms)})


def host_names(lab) -> list[str]:
    return sorted(lab.get("/state")["hosts"])


def median_of(n: int, once) -> Measurement:
    """Run once() n times; keep the run with the median wall time (noted when n > 1)."""
    runs = sorted((once() for _ in range(n)), key=lambda m: m.wall_s)
    m = runs[len(runs) // 2]
    if n > 1:
        m.note = (m.note + "; " if m.note else "") + f"median of {n}"
    return m


def measure_esxpath(lab, env, parallel: int, label: str, latency_ms: float,
                    repeat: int = 1, audit_repeat: int | None = None) -> list[Measurement]:
    """audit (from the scenario), apply (from the scenario), apply again (compliant), audit.
    Audits run audit_repeat times (default: repeat), applies repeat times; the median is kept."""
    par = ["--parallel", str(parallel)]

    def runs(name):
        return (audit_repeat or repeat) if name.startswith("esxpath audit") else repeat

    def from_scenario(name, *args, **want):
        def once():
            fresh(lab, latency_ms)
            return expect(run_measured(name, esxpath_argv(*args, *par), env, lab, note=label),
                          **want)
        return median_of(runs(name), once)

    def as_is(name, *args, **want):
        return median_of(runs(name), lambda: expect(run_measured(
            name, esxpath_argv(*args, *par), env, lab, note=label), **want))

    return [
        # `esxpath audit` as typed (table) and as monitoring runs it (nagios), then JSON, whose
        # 20 MB document at 256 x 32 costs ~0.8 s of rendering alone
        from_scenario("esxpath audit", "audit", rc=1),  # drift: the scenario is MRU
        from_scenario("esxpath audit --format nagios", "audit", "--format", "nagios", rc=1),
        from_scenario("esxpath audit --format json", "audit", "--format", "json", rc=1),
        from_scenario("esxpath apply", "apply", "-o", "json", writes=True),
        as_is("esxpath apply (compliant)", "apply", "-o", "json", writes=False),
        as_is("esxpath audit (compliant)", "audit"),
        as_is("esxpath audit (compliant) --format json", "audit", "--format", "json"),
    ]


FAILURES: list[str] = []


def expect(m: Measurement, rc: int = 0, writes: bool | None = None) -> Measurement:
    """A run that did not do its job is no measurement: flag it, and fail the bench at the end."""
    wrong = []
    if m.rc != rc:
        wrong.append(f"exit {m.rc}, want {rc}")
    if writes is not None and bool(m.writes) != writes:
        wrong.append(f"{m.writes} writes")
    if wrong:
        FAILURES.append(f"{m.name} ({m.note}): {'; '.join(wrong)}\n{m.stderr_tail}")
        m.note = (m.note + "; " if m.note else "") + "UNEXPECTED " + ", ".join(wrong)
    return m


def scale(m: Measurement, factor: float, note: str) -> Measurement:
    """A subset run extrapolated to the whole estate (linear: the loop is one host at a time)."""
    return Measurement(name=m.name, wall_s=round(m.wall_s * factor, 3), rc=m.rc,
                       peak_rss_mib=m.peak_rss_mib, soap_calls=round(m.soap_calls * factor),
                       esxcli_commands=round(m.esxcli_commands * factor),
                       writes=round(m.writes * factor), note=note, stderr_tail=m.stderr_tail)


def measure_peers(lab, env_file: str, env, hosts: list[str], esxcli_hosts: int,
                  pyvmomi_hosts: int, latency_ms: float, repeat: int = 1) -> list[dict]:
    """Each peer on its first N hosts; extrapolated to all hosts when that is fewer."""
    rows = []
    peers = [
        ("esxcli loop apply (article)", esxcli_hosts, True,
         lambda sub: [str(PEERS / "esxcli_apply.sh"), env_file, *sub]),
        ("esxcli loop audit", esxcli_hosts, False,
         lambda sub: [str(PEERS / "esxcli_audit.sh"), env_file, *sub]),
        ("pyVmomi walk audit", pyvmomi_hosts, False,
         lambda sub: [sys.executable, str(PEERS / "pyvmomi_walk.py"), *sub]),
    ]
    for name, n, writes_expected, argv in peers:
        subset = hosts[:max(1, min(n, len(hosts)))]
        factor = len(hosts) / len(subset)
        label = (f"measured on {len(subset)} of {len(hosts)} hosts, extrapolated x{factor:g}"
                 if factor != 1 else f"measured on all {len(hosts)} hosts")
        fresh(lab, latency_ms)
        if not writes_expected:  # the audits read a compliant estate, like esxpath audit (compliant)
            expect(run_measured("setup: esxpath apply", esxpath_argv("apply"), env, lab),
                   writes=True)
        m = median_of(repeat if name.startswith("pyVmomi") else 1, lambda: expect(
            run_measured(name, argv(subset), env, lab, note=label), writes=writes_expected))
        rows.append({"measured": m.as_dict(),
                     "estate": (scale(m, factor, label) if factor != 1 else m).as_dict()})
    return rows


def table(rows: list[list[str]]) -> str:
    if MARKDOWN:
        return "\n".join(["| " + " | ".join(rows[0]) + " |",
                          "|" + "|".join("---" if i == 0 else "---:" for i in range(len(rows[0]))) + "|"]
                         + ["| " + " | ".join(r) + " |" for r in rows[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(r, widths, strict=False))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "-"


def side_by_side(esx: dict[str, dict], peers: list[dict]) -> tuple[str, list[dict]]:
    """Peer rows against the esxpath command doing the same job."""
    counterpart = {"esxcli loop apply (article)": "esxpath apply",
                   "esxcli loop audit": "esxpath audit (compliant)",
                   "pyVmomi walk audit": "esxpath audit (compliant)"}
    rows = [["tool", "wall s", "SOAP calls", "esxcli cmds", "writes", "peak MiB", "rc",
             "vs esxpath (time)", "vs esxpath (calls)", "note"]]
    ratios = []
    for m in esx.values():
        rows.append([m["name"], f"{m['wall_s']:.2f}", str(m["soap_calls"]),
                     str(m["esxcli_commands"]), str(m["writes"]), f"{m['peak_rss_mib']:.0f}",
                     str(m["rc"]), "", "", m["note"].partition("; ")[2]])
    for p in peers:
        m = p["estate"]
        ref = esx[counterpart[m["name"]]]
        rt, rc = fmt_ratio(m["wall_s"], ref["wall_s"]), fmt_ratio(m["soap_calls"], ref["soap_calls"])
        ratios.append({"peer": m["name"], "esxpath": ref["name"], "time_ratio": rt,
                       "calls_ratio": rc})
        rows.append([m["name"], f"{m['wall_s']:.2f}", str(m["soap_calls"]),
                     str(m["esxcli_commands"]), str(m["writes"]), f"{m['peak_rss_mib']:.0f}",
                     str(m["rc"]), rt, rc, m["note"]])
    return table(rows), ratios


def scaling_table(sizes: list[dict]) -> str:
    rows = [["estate", "command", "wall s", "SOAP calls", "esxcli cmds", "writes", "peak MiB",
             "rc", "lower bound s", "start-up s", "x bound", "x (bound + start-up)", "note"]]
    for s in sizes:
        startup = s["startup_s"]
        for m in s["esxpath"]:
            audit = m["name"].startswith("esxpath audit")
            rows.append([s["label"], m["name"], f"{m['wall_s']:.2f}", str(m["soap_calls"]),
                         str(m["esxcli_commands"]), str(m["writes"]), f"{m['peak_rss_mib']:.0f}",
                         str(m["rc"]), f"{s['lower_bound_s']:.2f}" if audit else "",
                         f"{startup:.2f}" if audit else "",
                         fmt_ratio(m["wall_s"], s["lower_bound_s"]) if audit else "",
                         fmt_ratio(m["wall_s"], s["lower_bound_s"] + startup) if audit else "",
                         m["note"].partition("; ")[2]])
    return table(rows)


def startup_s(env) -> float:
    """Process start-up: the interpreter plus every module a run imports (pyVmomi included),
    best of 3; the floor under every esxpath run besides the calls themselves. Measured again
    for every estate, just before its runs: a small cloud machine's CPU speed drifts by 20-30%
    over the minutes of a bench run, and the ratio wants both under the same conditions."""
    import subprocess
    code = ("import esxpath.cli, esxpath.core.gate, esxpath.vsphere.inventory, esxpath.vsphere.session, "
            "esxpath.vsphere.writes, esxpath.core.plan, esxpath.core.verify, esxpath.render.output")
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
        best = min(best, time.perf_counter() - t)
    return round(best, 3)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "mem_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "kernel": platform.release()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="about 1 minute: esxcli loops on 2 hosts (extrapolated), no 256 x 32")
    ap.add_argument("--latency-ms", type=float, default=10, help="simulated latency per call")
    ap.add_argument("--parallel", type=int, default=8, help="esxpath --parallel")
    ap.add_argument("--peer-hosts", type=int, default=None,
                    help="hosts the official-client loops run on (default all 8, --quick 2); "
                         "the rest is extrapolated")
    ap.add_argument("--pyvmomi-hosts", type=int, default=None,
                    help="hosts the pyVmomi walk runs on (default all 8)")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs per esxpath command and pyVmomi walk on 8 x 8, median kept "
                         "(they take under 3 s; the esxcli loops run once)")
    ap.add_argument("--big-audit-repeat", type=int, default=3,
                    help="runs per esxpath audit on the big estates, median kept (a run-to-run "
                         "spread of 20%% is common on a small shared machine); applies run once")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    ap.add_argument("--markdown", metavar="PATH", help="also write the tables as Markdown")
    args = ap.parse_args(argv)
    if not shutil.which("esxcli"):
        print("bench: Broadcom's esxcli (pip vmware-esxcli) is not on PATH", file=sys.stderr)
        return 2
    from simlab import SimLab

    peer_hosts = args.peer_hosts or (2 if args.quick else 8)
    sizes = [(8, 8)] + ([(64, 32)] if args.quick else [(64, 32), (256, 32)])
    started = time.perf_counter()
    result = {"schema": "esxpath-bench/1", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "machine": machine(), "latency_ms": args.latency_ms, "parallel": args.parallel,
              "sizes": [], "peers": [], "ratios": []}
    with tempfile.TemporaryDirectory(prefix="esxpath-bench-") as work:
        for hosts, luns in sizes:
            label = f"{hosts} x {luns}"
            print(f"bench: {label}: starting the simulator", file=sys.stderr)
            lab = SimLab()
            lab.start(generated_scenario(hosts, luns, work), latency_ms=args.latency_ms)
            try:
                env = env_for(lab)
                startup = startup_s(env)
                result.setdefault("startup_s", startup)  # the first estate's, for the peer table
                print(f"bench: {label}: esxpath", file=sys.stderr)
                esx = measure_esxpath(lab, env, args.parallel, label, args.latency_ms,
                                      repeat=args.repeat if hosts <= 8 else 1,
                                      audit_repeat=None if hosts <= 8 else args.big_audit_repeat)
                size = {"label": label, "hosts": hosts, "luns": luns,
                        "lower_bound_s": round(lower_bound_s(args.latency_ms, hosts,
                                                             args.parallel, collection_pages(lab)), 3),
                        "startup_s": startup,
                        "esxpath": [m.as_dict() for m in esx]}
                result["sizes"].append(size)
                if (hosts, luns) == (8, 8):
                    names = host_names(lab)
                    env_file = os.path.join(work, "sim.env")
                    with open(env_file, "w") as f:
                        f.writelines(f"{k}={v}\n" for k, v in lab.env.items())
                    print(f"bench: {label}: peers (esxcli on {peer_hosts} host(s))",
                          file=sys.stderr)
                    result["peers"] = measure_peers(lab, env_file, env, names, peer_hosts,
                                                    args.pyvmomi_hosts or len(names), args.latency_ms,
                                                    repeat=args.repeat)
            finally:
                lab.stop()
    result["failures"] = FAILURES
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    esx8 = {m["name"]: m for m in result["sizes"][0]["esxpath"]}
    side, result["ratios"] = side_by_side(esx8, result["peers"])
    text = (f"Latency {args.latency_ms:g} ms per call, esxpath --parallel {args.parallel}; "
            f"start-up (interpreter + imports) {result['startup_s']:.2f} s at 8 x 8\n\n"
            f"8 hosts x 8 LUNs, side by side\n{side}\n\n"
            f"esxpath alone (lower bound = latency x (pages + ceil(3 x hosts / parallel)); start-up "
            f"measured before each estate's runs)\n"
            f"{scaling_table(result['sizes'])}\n\nbench took {result['elapsed_s']} s")
    result["text"] = text
    print(text)
    if args.markdown:
        global MARKDOWN
        MARKDOWN = True
        md_side, _ = side_by_side(esx8, result["peers"])
        Path(args.markdown).write_text(
            f"8 hosts x 8 LUNs, {args.latency_ms:g} ms per call, esxpath --parallel {args.parallel}:\n\n"
            f"{md_side}\n\nesxpath alone; lower bound = latency x (pages + ceil(3 x hosts / parallel)), "
            f"start-up (interpreter + imports) measured before each estate's runs:\n\n"
            f"{scaling_table(result['sizes'])}\n")
        MARKDOWN = False
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"bench: wrote {args.out}", file=sys.stderr)
    for f in FAILURES:
        print(f"bench: FAILED: {f}", file=sys.stderr)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
