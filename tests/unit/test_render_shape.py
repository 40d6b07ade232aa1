"""esxpath/render/ is the one place that prints: one JSON envelope and printer, one column
aligner, one summary per command kind (an enum). Checked on the source and on the outputs."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from esxpath.core.model import Report, Severity
from esxpath.render.columns import align
from esxpath.render.document import envelope, json_text
from esxpath.render.summary import Kind, summary

from factory import compliant

ESXPATH = Path(__file__).resolve().parents[2] / "esxpath"


def _calls(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every call of json.dumps and of str.ljust/rjust with one argument (a
    column width; a padding byte string is left alone)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        f = node.func
        if f.attr == "dumps" and isinstance(f.value, ast.Name) and f.value.id == "json":
            out.append((node.lineno, "json.dumps"))
        elif f.attr in ("ljust", "rjust") and len(node.args) == 1:
            out.append((node.lineno, f.attr))
    return out


def test_json_is_printed_and_columns_aligned_only_in_their_render_module() -> None:
    allowed = {"json.dumps": ESXPATH / "render" / "document.py",
               "ljust": ESXPATH / "render" / "columns.py",
               "rjust": ESXPATH / "render" / "columns.py"}
    stray = [f"{p.relative_to(ESXPATH)}:{line}: {name}"
             for p in sorted(ESXPATH.rglob("*.py")) for line, name in _calls(p)
             if p != allowed[name]]
    assert stray == []


def test_summary_does_not_branch_on_command_names() -> None:
    """render/ compares report.command with no string: Kind.of() maps it once."""
    for p in sorted((ESXPATH / "render").rglob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) \
                    and node.left.attr == "command":
                raise AssertionError(f"{p.name}:{node.lineno} compares .command")


def test_align_pads_left_or_right_and_drops_trailing_blanks() -> None:
    rows = [("NAME", "N", "WHY"), ("a", 10, ""), ("long-name", 7, "x")]
    assert align(rows, indent="  ", right={1}) == [
        "  NAME        N  WHY", "  a          10", "  long-name   7  x"]
    assert align([]) == []


def test_envelope_and_json_text() -> None:
    doc = envelope("fio", "fio-report", Severity.DRIFT, fio=[])
    assert list(doc) == ["schema", "command", "status", "fio"]
    assert doc["schema"] == "esxpath/fio/1" and doc["status"] == "DRIFT"
    assert json_text(doc).endswith("}\n") and not json_text(doc, newline=False).endswith("\n")
    assert json.loads(json_text(doc)) == doc


@pytest.mark.parametrize(("command", "kind"), [
    ("audit", Kind.AUDIT), ("show", Kind.SHOW), ("check", Kind.CHECK), ("apply", Kind.APPLY),
    ("watch", Kind.AUDIT), ("san check", Kind.AUDIT), ("config show", Kind.AUDIT)])
def test_each_command_has_a_kind(command: str, kind: Kind) -> None:
    assert Kind.of(Report(command=command)) is kind


def test_one_summary_per_kind() -> None:
    inv = compliant()
    lines = {k: summary(Report(command=k.value, inventory=inv)) for k in Kind}
    assert lines[Kind.AUDIT] == "OK: 5 hosts, 2 devices, all compliant"
    assert lines[Kind.SHOW] == "5 hosts, 2 devices in scope"
    assert lines[Kind.CHECK].startswith("SAFE to fail over")
    assert lines[Kind.APPLY] == lines[Kind.AUDIT]  # no plan: read like an audit


# names that have a constant in core/model.py: the code uses the constant
CONSTANTS = {"NMP": "MPP_NMP", "HPP": "MPP_HPP", "VMW_PSP_RR": "PSP_RR",
             "VMW_SATP_ALUA": "SATP_ALUA"}
# cli/common.py is being split (issue 24, s-cli): its --psp choice moves with the option groups
NOT_YET = {"cli/common.py"}


def test_literals_that_have_a_constant_use_it() -> None:
    stray = []
    for p in sorted(ESXPATH.rglob("*.py")):
        rel = str(p.relative_to(ESXPATH))
        if rel == "core/model.py" or rel in NOT_YET:
            continue
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Constant) and node.value in CONSTANTS:
                stray.append(f"{rel}:{node.lineno}: {node.value!r} (use {CONSTANTS[node.value]})")
    assert stray == []


def test_a_note_is_its_own_severity_and_never_a_status() -> None:
    """Severity.NOTE, not OK doubling as one: the table names it NOTE, JSON keeps "OK" (the
    documented schema), and a report of notes only is OK (exit 0)."""
    from esxpath.core.model import Finding
    from esxpath.errors import ExitStatus, exit_status
    from esxpath.render.output import render

    note = Finding(Severity.NOTE, "path-disagrees", "esx01", None, "a path disagrees")
    report = Report(command="check", inventory=compliant(), findings=(note,))
    assert Severity.NOTE < Severity.OK and report.status is Severity.OK
    assert "NOTE    a path disagrees" in render(report).splitlines()
    doc = json.loads(render(report, "json"))
    assert doc["status"] == "OK" and doc["findings"][0]["severity"] == "OK"
    assert exit_status(severity=report.status) == ExitStatus.OK
