"""render(): JSON schema, table lines, one Nagios line, Prometheus text that a parser accepts."""
from __future__ import annotations

import json
import re

import pytest

from esxpath.model import (
    ChangeResult,
    Finding,
    Inventory,
    Policy,
    Report,
    Selector,
    Severity,
)
from esxpath.output import render, render_error
from esxpath.plan import plan
from esxpath.gate import check
from esxpath.verify import audit

from factory import EUI1, EUI2, HOSTS, MPX, NAA, compliant, edit_host, lab, set_paths

SEL, POL = Selector(), Policy()


def audit_report(inv: Inventory, command: str = "audit") -> Report:
    return Report(command=command, inventory=inv, selector=SEL, findings=audit(inv, SEL, POL))


def danger_estate() -> Inventory:
    return set_paths(compliant(), "esx03", EUI2, "dead", tpg=2)


def apply_report(results: bool = True, dry_run: bool = False) -> Report:
    inv = lab()
    p = plan(inv, SEL, POL)
    res = tuple(ChangeResult(c, ok=c.host != "esx02", error=None if c.host != "esx02" else "SystemError")
                for c in p.changes) if results else ()
    return Report(command="apply", inventory=inv, selector=SEL, plan=p, results=res, dry_run=dry_run)


# ---------------------------------------------------------------- json

TOP = {"schema", "command", "status", "dry_run", "hosts", "findings", "plan", "results", "timings",
       "targets", "waivers", "tpg_names", "not_judged"}
HOST = {"name", "datacenter", "cluster", "connection_state", "maintenance", "error", "devices"}
DEVICE = {"name", "vendor", "model", "mpp", "operational_state", "satp", "psp", "limit_type",
          "iops", "bytes", "use_ano", "counts", "tpgs", "paths", "ao_tpg", "ao_paths"}
COUNTS = {"ao", "ano", "standby", "unavailable", "dead"}
TPG = {"id", "state", "live", "dead", "other"}
PATH = {"name", "runtime_name", "adapter", "state", "working", "tpg_id", "tpg_state"}
FINDING = {"severity", "code", "host", "device", "message"}
CHANGE = {"host", "device", "kind", "before", "after"}
RESULT = {"host", "device", "kind", "ok", "error", "confirmed"}


@pytest.mark.parametrize("report", [
    audit_report(danger_estate()),
    audit_report(edit_host(compliant(), "esx02", connection_state="disconnected", devices=())),
    apply_report(),
    Report(command="show", inventory=lab()),
    Report(command="check", inventory=compliant(), timings=(("esx01", 1.25), ("esx02", None))),
], ids=["audit", "audit-disconnected", "apply", "show", "check-timings"])
def test_json_round_trips_with_schema_keys(report):
    doc = json.loads(render(report, "json"))
    assert set(doc) == TOP
    assert doc["schema"] == "esxpath/report/1" and doc["command"] == report.command
    assert doc["status"] in ("OK", "DRIFT", "DANGER", "UNKNOWN")
    assert len(doc["hosts"]) == len(report.inventory.hosts)
    for h in doc["hosts"]:
        assert set(h) == HOST
        for d in h["devices"]:
            assert set(d) == DEVICE and set(d["counts"]) == COUNTS
            assert all(set(t) == TPG for t in d["tpgs"]) and all(set(p) == PATH for p in d["paths"])
    assert all(set(f) == FINDING for f in doc["findings"])
    assert doc["plan"] is None if report.plan is None else all(set(c) == CHANGE for c in doc["plan"])
    assert all(set(r) == RESULT for r in doc["results"])
    assert isinstance(doc["timings"], dict)


def test_json_values():
    doc = json.loads(render(audit_report(danger_estate()), "json"))
    assert doc["status"] == "DANGER" and doc["dry_run"] is False and doc["plan"] is None
    esx03 = next(h for h in doc["hosts"] if h["name"] == "esx03")
    assert esx03["cluster"] == "storage-cluster" and esx03["datacenter"] == "DC0"
    assert [d["name"] for d in esx03["devices"]] == [EUI1, EUI2]  # NAA and local disk are out of scope
    dev = esx03["devices"][1]
    assert dev["counts"] == {"ao": 2, "ano": 0, "standby": 0, "unavailable": 0, "dead": 2}
    assert dev["tpgs"] == [{"id": 1, "state": "AO", "live": 2, "dead": 0, "other": 0},
                           {"id": 2, "state": "ANO", "live": 0, "dead": 2, "other": 0}]
    assert dev["psp"] == "VMW_PSP_RR" and dev["limit_type"] == "iops" and dev["iops"] == 1
    assert dev["paths"][0]["runtime_name"] == "vmhba2:C0:T0:L2" and dev["paths"][0]["tpg_state"] == "AO"
    assert {f["severity"] for f in doc["findings"]} == {"DANGER", "DRIFT"}
    standalone = next(h for h in doc["hosts"] if h["name"] == "esx05")
    assert standalone["cluster"] is None


def test_json_apply_plan_results_and_timings():
    doc = json.loads(render(apply_report(), "json"))
    assert doc["plan"][0] == {"host": "esx01", "device": EUI2, "kind": "psp",
                              "before": "VMW_PSP_MRU", "after": "VMW_PSP_RR"}
    assert doc["status"] == "DRIFT"  # failed changes raise the status even without findings
    assert {r["host"] for r in doc["results"] if not r["ok"]} == {"esx02"}
    doc = json.loads(render(Report("check", timings=(("esx01", 1.25), ("esx02", None))), "json"))
    assert doc["timings"] == {"esx01": 1.25, "esx02": None}


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="unknown format"):
        render(Report("show"), "yaml")


# ---------------------------------------------------------------- table

def test_table_show_rows_per_host_and_device():
    out = render(Report(command="show", inventory=danger_estate()), "table")
    lines = out.splitlines()
    assert lines[0] == "esx01 (DC0/storage-cluster) connected"
    assert "esx05 (DC0/standalone) connected" in lines
    header = next(l for l in lines if "DEVICE" in l)
    for col in ("VENDOR/MODEL", "SATP", "PSP", "RR LIMIT", "AO", "ANO", "STBY", "UNAV", "DEAD"):
        assert col in header
    rows = [l.split() for l in lines if EUI2 in l]
    assert len(rows) == len(HOSTS)
    # esx03's row: ... iops 1 AO=2 ANO=0 STBY=0 UNAV=0 DEAD=2
    esx03_row = rows[2]
    assert esx03_row[:6] == [EUI2, "SCST_BIO/SSD-RAID6-2", "VMW_SATP_ALUA", "VMW_PSP_RR", "iops", "1"]
    assert esx03_row[6:11] == ["2", "0", "0", "0", "2"]
    assert NAA not in out and MPX not in out
    assert lines[-1] == "5 hosts, 2 devices in scope"


def test_table_apply_plan_lines_and_summary():
    out = render(apply_report(), "table")
    assert f"  esx01 {EUI1}: VMW_PSP_MRU -> VMW_PSP_RR" in out.splitlines()
    assert f"  esx01 {EUI1}: default (iops 1000) -> iops 1" in out.splitlines()
    assert "Applied 16 of 20 changes on 5 hosts, 4 failed" in out
    assert f"  FAILED esx02 {EUI1} psp: SystemError" in out.splitlines()
    assert out.splitlines()[-1].startswith("DRIFT: 4 failed changes")
    dry = render(apply_report(results=False, dry_run=True), "table")
    assert "Plan (dry run, nothing written): 20 changes" in dry
    assert dry.splitlines()[-1] == "DRY RUN: 20 changes planned, nothing written (5 hosts, 2 devices)"


def test_table_apply_empty_plan_and_skipped_host():
    inv = edit_host(compliant(), "esx04", connection_state="disconnected")
    p = plan(inv, SEL, POL)
    out = render(Report(command="apply", inventory=inv, plan=p), "table").splitlines()
    assert out[0] == "Nothing to change on the hosts that could be read."
    assert "  esx04: skipped, cannot be read (disconnected)" in out
    # a host that could not be read is never reported as done
    assert out[-1].startswith("UNKNOWN: 1 host could not be read"), out[-1]


@pytest.mark.parametrize("command,inv,last", [
    ("audit", compliant(), "OK: 5 hosts, 2 devices, all compliant"),
    ("audit", danger_estate(), "DANGER: 2 danger, 1 drift (5 hosts, 2 devices)"),
    ("check", compliant(), "SAFE to fail over: 5 hosts, 2 devices verified"),
    ("check", danger_estate(), "NOT SAFE to fail over: 1 danger (5 hosts, 2 devices)"),
])
def test_table_findings_and_summary_line(command, inv, last):
    fn = check if command == "check" else audit
    findings = fn(inv, SEL, POL)
    out = render(Report(command=command, inventory=inv, findings=findings), "table").splitlines()
    assert out[-1] == last
    assert out[:-1] == [f"{f.severity.name:<7} {f.message}" for f in findings]
    if findings:
        assert any("esx03" in l and EUI2 in l for l in out[:-1])


def test_table_timings():
    out = render(Report("check", inventory=compliant(), timings=(("esx01", 2.0), ("esx02", None))),
                 "table")
    assert "  esx01: 2.0s" in out and "  esx02: never" in out


# ---------------------------------------------------------------- nagios

NAGIOS_LINE = re.compile(r"^ESXPATH (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.*))?$")


def parse_nagios(text: str) -> tuple[str, str, dict[str, int]]:
    assert text.endswith("\n") and text.count("\n") == 1, text
    m = NAGIOS_LINE.match(text.rstrip("\n"))
    assert m, text
    perf = dict(kv.split("=") for kv in m.group(3).split()) if m.group(3) else {}
    return m.group(1), m.group(2), {k: int(v) for k, v in perf.items()}


@pytest.mark.parametrize("inv,status", [
    (compliant(), "OK"),
    (lab(), "WARNING"),
    (danger_estate(), "CRITICAL"),
    (edit_host(compliant(), "esx02", connection_state="disconnected", devices=()), "UNKNOWN"),
])
def test_nagios_single_line_status_and_perfdata(inv, status):
    got, text, perf = parse_nagios(render(audit_report(inv), "nagios"))
    assert got == status
    assert set(perf) >= {"ao", "ano", "dead", "hosts", "devices"}
    assert perf["hosts"] == 5 and perf["devices"] == 2
    assert perf["ao"] == sum(d.counts()["ao"] for h in inv.hosts for d in h.devices if SEL.matches(d))
    if status == "OK":
        assert text == "5 hosts, 2 devices compliant"


def test_nagios_danger_perfdata_and_text():
    _, text, perf = parse_nagios(render(audit_report(danger_estate()), "nagios"))
    assert perf["dead"] == 2 and perf["ano"] == 18 and perf["ao"] == 20
    assert "esx03" in text and EUI2 in text and "(+2 more)" in text


def test_nagios_message_with_pipe_and_newline_stays_one_line():
    f = Finding(Severity.DANGER, "x", "esx01", EUI1, "bad | thing\nsecond line")
    got, text, perf = parse_nagios(render(Report("audit", inventory=compliant(), findings=(f,)), "nagios"))
    assert got == "CRITICAL" and "|" not in text and perf["hosts"] == 5


def test_render_error_formats():
    got, text, perf = parse_nagios(render_error("cannot connect to vc: refused", "nagios"))
    assert (got, text, perf) == ("UNKNOWN", "cannot connect to vc: refused", {})
    doc = json.loads(render_error("boom", "json"))
    assert set(doc) == TOP and doc["status"] == "UNKNOWN" and doc["findings"][0]["message"] == "boom"
    metrics = parse_prometheus(render_error("boom", "prometheus"))
    assert metrics[("esxpath_audit_status", ())] == 3


# ---------------------------------------------------------------- prometheus

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+]+|NaN|[+-]Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_labels(text: str) -> tuple[tuple[str, str], ...]:
    out, pos = [], 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        assert m, f"bad labels at {text[pos:]!r}"
        value = re.sub(r"\\(.)", lambda e: {"n": "\n"}.get(e.group(1), e.group(1)), m.group(2))
        out.append((m.group(1), value))
        pos = m.end()
    return tuple(out)


def parse_prometheus(text: str) -> dict[tuple, float]:
    """A tiny text-format parser: HELP and TYPE before every family's samples, no duplicates."""
    assert text.endswith("\n")
    samples: dict[tuple, float] = {}
    helped, typed = set(), set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in helped
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("gauge", "counter") and name in helped
            typed.add(name)
        else:
            m = SAMPLE.match(line)
            assert m, f"bad sample line {line!r}"
            name = m.group(1)
            assert name in typed, f"{name} without TYPE"
            key = (name, parse_labels(m.group(3) or ""))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = float(m.group(4))
    return samples


def series(metrics, name, **labels) -> float:
    want = tuple(labels.items())
    return metrics[(name, want)]


def test_prometheus_parses_and_has_the_families():
    m = parse_prometheus(render(audit_report(danger_estate()), "prometheus"))
    names = {k[0] for k in m}
    assert names == {"esxpath_audit_status", "esxpath_host_up", "esxpath_findings", "esxpath_paths",
                     "esxpath_device_compliant", "esxpath_device_info"}
    assert series(m, "esxpath_audit_status") == 2
    assert series(m, "esxpath_paths", host="esx03", device=EUI2, tpg="2", state="dead") == 2
    assert series(m, "esxpath_paths", host="esx03", device=EUI2, tpg="2", state="ano") == 0
    assert series(m, "esxpath_paths", host="esx01", device=EUI1, tpg="1", state="ao") == 2
    assert series(m, "esxpath_device_compliant", host="esx03", device=EUI2) == 0
    assert series(m, "esxpath_device_compliant", host="esx03", device=EUI1) == 1
    assert series(m, "esxpath_findings", severity="danger") == 2
    assert series(m, "esxpath_findings", severity="drift") == 1
    assert series(m, "esxpath_findings", severity="unknown") == 0
    assert all(series(m, "esxpath_host_up", host=h) == 1 for h in HOSTS)
    assert not any(NAA in dict(k[1]).get("device", "") for k in m)


def test_prometheus_host_down():
    inv = edit_host(compliant(), "esx02", connection_state="disconnected")
    m = parse_prometheus(render(audit_report(inv), "prometheus"))
    assert series(m, "esxpath_host_up", host="esx02") == 0
    assert series(m, "esxpath_audit_status") == 3
    assert series(m, "esxpath_device_compliant", host="esx02", device=EUI1) == 0


def test_prometheus_label_escaping():
    nasty = 'esx"01\\lab\nx'
    inv = edit_host(compliant(), "esx01", name=nasty)
    text = render(Report("audit", inventory=inv), "prometheus")
    m = parse_prometheus(text)
    assert series(m, "esxpath_host_up", host=nasty) == 1
    assert 'host="esx\\"01\\\\lab\\nx"' in text



def test_apply_with_an_unreadable_host_is_not_ok_in_json():
    inv = edit_host(compliant(), "esx04", connection_state="disconnected")
    report = Report(command="apply", inventory=inv, selector=SEL, plan=plan(inv, SEL, POL))
    assert json.loads(render(report, "json"))["status"] == "UNKNOWN"


def test_after_failover_summary_does_not_call_it_a_gate():
    done = Report(command="check", inventory=compliant(), selector=SEL,
                  timings=tuple((h, 0.5) for h in HOSTS))
    assert render(done, "table").splitlines()[-1].startswith("FAILOVER COMPLETE")
    waiting = Report(command="check", inventory=compliant(), selector=SEL,
                     timings=tuple((h, None) for h in HOSTS),
                     findings=(Finding(Severity.DANGER, "not-ao-yet", "esx01", EUI1, "esx01: not AO"),))
    assert render(waiting, "table").splitlines()[-1].startswith("FAILOVER NOT COMPLETE")
