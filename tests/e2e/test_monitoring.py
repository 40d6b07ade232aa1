"""commands/monitoring/: the Prometheus alerting rules and the Grafana dashboard.

The structure of both files is checked, and every metric their PromQL uses must be one esxpath
really exports: the names are taken from a scrape of a running exporter against the simulator
(its targets' page and its own page), not from a list written here. PromQL is read with a small
tokenizer (`promtool check rules`, in tests/e2e/test_promtool.py, checks the syntax, not the names):
strings, label matchers, ranges and label lists are removed, identifiers followed by "(" are
functions, the rest are metric names.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from exporter_process import sample_names, start, write_config

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "commands" / "monitoring"
RULES = MONITORING / "esxpath-rules.yml"
DASHBOARD = MONITORING / "esxpath-dashboard.json"

# Series Prometheus makes itself for every scrape (not esxpath's): the target-down alert.
PROMETHEUS_OWN = {"up"}

_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "atan2"}
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = _LABEL_LIST.sub(" ", text)  # by (...), on (...), ...: label names
    text = re.sub(r"\$\w+", " ", text)  # Grafana variables
    return {m.group(1) for m in _IDENT.finditer(text)
            if not m.group(2) and m.group(1) not in _KEYWORDS}


@pytest.mark.parametrize("expr,names", [
    ('esxpath_audit_status == 2', {"esxpath_audit_status"}),
    ('sum without (tpg, state) (esxpath_paths{state="ao"}) == 1 or sum without (tpg, state) '
     '(esxpath_paths{state="ano"}) == 1', {"esxpath_paths"}),
    ('time() - esxpath_audit_last_success_timestamp_seconds{vcenter=~"$vcenter"} > 3600',
     {"esxpath_audit_last_success_timestamp_seconds"}),
    ('rate(a_total{x="b{c}"}[$__rate_interval]) * 60 and on (instance) group_left (y) b:c',
     {"a_total", "b:c"}),
    ('count by (vcenter) (esxpath_host_up) offset 5m', {"esxpath_host_up"}),
])
def test_the_tokenizer_finds_metric_names(expr, names):
    assert metric_names(expr) == names


def templating_metrics(query: str) -> set[str]:
    """Grafana's label_values(METRIC, LABEL): the metric; other queries are PromQL."""
    m = re.fullmatch(r"\s*label_values\(\s*(.*?)\s*,\s*\w+\s*\)\s*", query)
    return metric_names(m.group(1)) if m else metric_names(query)


def test_grafana_label_values_names_its_metric_only():
    assert templating_metrics("label_values(esxpath_audit_status, vcenter)") == {"esxpath_audit_status"}
    assert templating_metrics('label_values(esxpath_paths{state="ao"}, host)') == {"esxpath_paths"}


# ---------------------------------------------------------------- the rules file

def rules() -> list[dict]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    assert set(doc) == {"groups"} and isinstance(doc["groups"], list) and doc["groups"]
    out = []
    for group in doc["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"} and group["name"]
        out += group["rules"]
    return out


def test_rules_file_structure():
    alerts = rules()
    names = [r["alert"] for r in alerts]
    assert len(names) == len(set(names))
    for r in alerts:
        assert set(r) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}, r
        assert isinstance(r["expr"], str) and r["expr"].strip()
        assert re.fullmatch(r"\d+[smhdwy]", r["for"]), r["for"]
        assert r["labels"]["severity"] in ("critical", "warning", "info")
        assert r["annotations"]["summary"] and r["annotations"]["description"]
        assert r["expr"].count("(") == r["expr"].count(")")
    # what issue 18 asks the rules to catch
    assert {"EsxpathDanger", "EsxpathUnknown", "EsxpathAuditStale", "EsxpathRedundancyLost",
            "EsxpathExporterDown"} <= set(names)
    by_name = {r["alert"]: r for r in alerts}
    assert "esxpath_audit_last_success_timestamp_seconds" in by_name["EsxpathAuditStale"]["expr"]


# ---------------------------------------------------------------- the dashboard

def dashboard_queries() -> list[str]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert doc["title"] and doc["uid"] and isinstance(doc["schemaVersion"], int)
    ids = [p["id"] for p in doc["panels"]]
    assert len(ids) == len(set(ids)) and ids
    queries = []
    for p in doc["panels"]:
        assert {"type", "title", "gridPos", "targets"} <= set(p), p.get("title")
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert t["expr"].strip() and t["refId"]
            queries.append(t["expr"])
    for v in doc["templating"]["list"]:
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        queries.append(("template", q))
    return queries


def used_metrics() -> dict[str, set[str]]:
    """Metric name -> where it is used (rule or dashboard panel query)."""
    out: dict[str, set[str]] = {}
    for r in rules():
        for name in metric_names(r["expr"]):
            out.setdefault(name, set()).add(f"rule {r['alert']}")
    for q in dashboard_queries():
        names = templating_metrics(q[1]) if isinstance(q, tuple) else metric_names(q)
        for name in names:
            out.setdefault(name, set()).add("dashboard")
    return out


def test_dashboard_structure():
    used = used_metrics()
    assert any("dashboard" in w for w in used.values())


@pytest.mark.sim
def test_every_metric_used_is_one_esxpath_exports(lab, tmp_path):
    exp = start(write_config(tmp_path, lab, interval=3600))
    try:
        exp.wait_for(lambda s: s["esxpath_audit_pending"] == 0, "the first result")
        exported = set()
        for query in ("target=lab", ""):
            status, text = exp.get(query)
            assert status == 200
            exported |= sample_names(text)
    finally:
        exp.stop()
    used = used_metrics()
    assert {"esxpath_audit_status", "esxpath_paths", "esxpath_audit_last_success_timestamp_seconds",
            "esxpath_exporter_refreshes_total", "up"} <= set(used)  # the tokenizer saw them
    unknown = {n: sorted(w) for n, w in used.items() if n not in exported | PROMETHEUS_OWN}
    assert unknown == {}
