"""app.audit: the one audit the CLI and the exporter call, without click, from any Reader."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from esxpath.app.audit import AuditOptions, audit, show
from esxpath.core.model import Expectation, Policy, Scope, Selector
from esxpath.core.storage_events import StorageWindow

from factory import compliant

PKG = Path(__file__).resolve().parents[2] / "esxpath"
POLICY = Policy(psp="VMW_PSP_RR", limit_type="iops", iops=1)


@dataclass(frozen=True)
class Where:
    scope: Scope = field(default_factory=Scope)
    selector: Selector = field(default_factory=Selector)
    parallel: int = 8
    expect: Expectation = field(default_factory=Expectation)


class Reader:
    """Stands in for the CLI's Runtime and the exporter's runner; logs what was asked, in order."""

    def __init__(self, window: StorageWindow | None = None) -> None:
        self.calls: list = []
        self.window = window

    def read(self, conn, where):
        self.calls.append(("read", conn))
        return compliant()

    def storage_events(self, conn, inventory, start=None, back=0.0):
        self.calls.append(("storage_events", conn, back))
        assert self.window is not None
        return self.window


def test_audit_reads_no_events_without_since_and_holds_the_policy():
    r = Reader()
    rep = audit(r, "conn", Where(), AuditOptions(POLICY))
    assert r.calls == [("read", "conn")]
    assert (rep.command, rep.findings, rep.storage) == ("audit", (), None)


def test_audit_reads_the_san_first_then_the_hosts_then_since_seconds_of_events():
    from esxpath.san.audit import SanDumps
    window = StorageWindow(None, None, error="vCenter's clock: gone")
    r = Reader(window)
    seen: list = []

    def san():
        seen.append(list(r.calls))  # the dumps are read before any vCenter read
        return SanDumps((), datetime.now(timezone.utc), 3600)
    rep = audit(r, "c", Where(), AuditOptions(POLICY, san=san, since=900))
    assert seen == [[]]
    assert r.calls == [("read", "c"), ("storage_events", "c", 900)]
    assert rep.storage is window
    assert [f.code for f in rep.findings][-1] == "storage-events-unread"


def test_expect_wins_over_the_profile_key_by_key():
    r = Reader()
    rep = audit(r, None, Where(expect=Expectation(ao=2, ano=2)), AuditOptions(POLICY, {"ao": 3}))
    assert {f.code for f in rep.findings} >= {"path-count"}


def test_show_is_the_inventory_in_scope():
    rep = show(Reader(), None, Where())
    assert rep.command == "show" and rep.findings == ()


@pytest.mark.parametrize("name", ["audit.py", "san.py", "provision.py", "exporter.py"])
def test_the_use_cases_import_neither_click_nor_the_cli(name):
    tree = ast.parse((PKG / "app" / name).read_text(encoding="utf-8"))
    imported = {n.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for n in node.names}
    imported |= {("." * node.level) + (node.module or "") for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] == "click" or m.startswith("..cli")}
