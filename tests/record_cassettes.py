#!/usr/bin/env python3
"""Re-record cassettes/ from the simulator: `python3 tests/record_cassettes.py [NAME ...]`.

Starts the simulator (tests/simlab.py builds it when needed), and for each scenario below:
resets the lab, brings it into the scenario's state through the control API (and, where the
scenario needs a configured estate, an unrecorded `esxpath apply`), runs
`esxpath --record cassettes/<name>.yaml <argv>` as a subprocess, checks the exit code, replays the
cassette at once (it must give the same output), and writes cassettes/expected.json with each
cassette's argv, exit code and stdout. Nothing in cassettes/ changes unless every scenario
recorded and replayed. The offline tests (tests/e2e/test_offline_cassettes.py) replay the cassettes
against that file. With NAMEs, only those are re-recorded.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cassette_replay import CASSETTES, EXPECTED, clean_env, esxpath, normalize, replay  # noqa: E402
from simlab import SimLab  # noqa: E402

CONFIGURED = [("esxpath", ["apply"])]  # the estate after a successful apply
ANO_PATHS_DEAD_ON_ESX02 = [("control", "/path", {"host": "esx02", "path": f"vmhba{a}:C0:T1:L1",
                                                   "state": "dead"}) for a in (2, 3)]


@dataclass(frozen=True)
class Scenario:
    name: str
    argv: list[str]
    exit: int
    setup: list = field(default_factory=list)  # ("control", path, body) | ("esxpath", argv)
    env: dict = field(default_factory=dict)  # overrides of the simulator's connection env
    stderr_contains: str | None = None  # a phrase the replay's stderr must show too


SCENARIOS = [
    Scenario("show", ["show"], 0),
    Scenario("show-json", ["show", "-o", "json"], 0),
    Scenario("apply-dry-run", ["apply", "--dry-run", "-o", "json"], 0),
    Scenario("apply", ["apply"], 0, stderr_contains="applying"),
    Scenario("apply-json", ["apply", "-o", "json", "--cluster", "storage-cluster"], 0),
    Scenario("apply-again", ["apply"], 0, setup=CONFIGURED),
    Scenario("audit-drift-nagios", ["audit", "--format", "nagios"], 1),
    Scenario("audit-table", ["audit"], 0, setup=CONFIGURED),
    Scenario("audit-json", ["audit", "--format", "json"], 0, setup=CONFIGURED),
    Scenario("audit-nagios", ["audit", "--format", "nagios", "--expect", "ao=2,ano=2"], 0,
             setup=CONFIGURED),
    Scenario("audit-prometheus", ["audit", "--format", "prometheus"], 0, setup=CONFIGURED),
    Scenario("audit-host-disconnected", ["audit", "--format", "nagios"], 3,
             setup=CONFIGURED + [("control", "/host", {"name": "esx03", "connection": "disconnected"})]),
    Scenario("check-safe", ["check", "--cluster", "storage-cluster"], 0, setup=CONFIGURED),
    Scenario("check-unsafe", ["check", "--cluster", "storage-cluster", "-o", "json"], 2,
             setup=CONFIGURED + ANO_PATHS_DEAD_ON_ESX02),
    Scenario("check-unsafe-table", ["check", "--cluster", "storage-cluster"], 2,
             setup=CONFIGURED + ANO_PATHS_DEAD_ON_ESX02),
    Scenario("check-after-failover", ["check", "--after-failover", "--cluster", "storage-cluster",
                                      "--to-tpg", "2", "-o", "json"], 0,
             setup=CONFIGURED + [("control", "/failover", {"active": "storage2"})]),
    Scenario("show-esxcli-fault", ["show", "-o", "json"], 3,
             setup=[("control", "/faults", {"method": "storage nmp path list", "count": 100,
                                            "fault": "SystemError", "host": "esx02"})]),
    Scenario("provision-dry-run", ["provision", "--create-datastores", "--size", "1G", "--dry-run",
                                   "-o", "json"], 0),
    Scenario("provision", ["provision", "--create-datastores", "--size", "1G", "--yes", "-o", "json"], 0),
    Scenario("provision-unconfirmed", ["provision", "--create-datastores", "--size", "1G"], 64,
             stderr_contains="--yes"),
    Scenario("unprovision", ["unprovision", "--datastores", "--yes", "-o", "json"], 0,
             setup=[("esxpath", ["provision", "--create-datastores", "--size", "1G", "--yes"])]),
    Scenario("error-wrong-password", ["show"], 77, env={"ESXPATH_PASSWORD": "not-the-password"},
             stderr_contains="login failed"),
    Scenario("error-unknown-cluster", ["show", "--cluster", "no-such-cluster"], 65,
             stderr_contains="no-such-cluster"),
]


def prepare(lab: SimLab, env: dict, scenario: Scenario) -> None:
    lab.reset()
    for step in scenario.setup:
        if step[0] == "control":
            lab.post(step[1], step[2])
        else:
            proc = esxpath(step[1], env)
            if proc.returncode != 0:
                raise SystemExit(f"{scenario.name}: setup `esxpath {' '.join(step[1])}` exited "
                                 f"{proc.returncode}:\n{proc.stderr}")


def record(lab: SimLab, scenario: Scenario, directory: Path) -> dict:
    env = clean_env(**{k: v for k, v in lab.env.items() if k.startswith("ESXPATH_")})
    prepare(lab, env, scenario)
    path = directory / f"{scenario.name}.yaml"
    proc = esxpath(["--record", str(path), *scenario.argv], {**env, **scenario.env})
    problems = []
    if proc.returncode != scenario.exit:
        problems.append(f"exit {proc.returncode}, want {scenario.exit}")
    if scenario.stderr_contains and scenario.stderr_contains not in proc.stderr:
        problems.append(f"stderr lacks {scenario.stderr_contains!r}")
    if not path.exists():
        problems.append("no cassette written")
    if not problems:
        again = replay(scenario.name, scenario.argv, directory=directory)
        if (again.returncode, normalize(again.stdout)) != (proc.returncode, normalize(proc.stdout)):
            problems.append(f"replay differs: exit {again.returncode}\n{again.stdout}\n{again.stderr}")
    if problems:
        raise SystemExit(f"{scenario.name}: " + "; ".join(problems)
                         + f"\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    print(f"recorded {scenario.name} (exit {proc.returncode})", file=sys.stderr)
    return {"argv": scenario.argv, "exit": proc.returncode, "stdout": proc.stdout,
            "stderr_contains": scenario.stderr_contains}


def main(names: list[str]) -> int:
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    unknown = set(names) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    expected = json.loads(EXPECTED.read_text()) if names and EXPECTED.exists() else {}
    CASSETTES.mkdir(exist_ok=True)
    # Recorded into a scratch directory first: a failed run leaves cassettes/ as it was.
    staging = Path(tempfile.mkdtemp(prefix=".recording-", dir=CASSETTES.parent))
    lab = SimLab()
    lab.start()
    try:
        for scenario in chosen:
            expected[scenario.name] = record(lab, scenario, staging)
        if not names:  # a full run drops cassettes of scenarios that no longer exist
            for stale in set(p.stem for p in CASSETTES.glob("*.yaml")) - set(expected):
                (CASSETTES / f"{stale}.yaml").unlink()
        for scenario in chosen:
            shutil.move(staging / f"{scenario.name}.yaml", CASSETTES / f"{scenario.name}.yaml")
    finally:
        lab.stop()
        shutil.rmtree(staging, ignore_errors=True)
    EXPECTED.write_text(json.dumps(dict(sorted(expected.items())), indent=1) + "\n")
    print(f"wrote {len(chosen)} cassette(s) and {EXPECTED.relative_to(CASSETTES.parent)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
