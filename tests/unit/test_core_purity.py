"""esxpath/core/ is the pure domain: nothing under it may do I/O, read the clock or reach a library
that does (DESIGN.md). Checked on the source, so that a lazy import inside a function counts too."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "esxpath" / "core"

# modules whose import alone means I/O, threads, a server, the clock or the file system
FORBIDDEN_MODULES = {
    "click", "pyVmomi", "pyVim", "tenacity", "vcrpy", "vcr", "socket", "ssl", "http", "urllib",
    "subprocess", "threading", "multiprocessing", "concurrent", "asyncio", "os", "pathlib",
    "shutil", "tempfile", "io", "glob", "time", "signal", "fcntl", "select", "logging",
    "prometheus_client", "sys",
}
# calls that read the clock or the file system without an import of their own
FORBIDDEN_CALLS = {"open", "input", "print", "breakpoint", "exec", "eval", "__import__"}
FORBIDDEN_ATTRIBUTES = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                        ("date", "today")}
# esxpath packages outside the core: those that do I/O, and san (it builds on the core: the
# gate's SAN half is core/gate_san.py, the dumps answer it through a protocol)
FORBIDDEN_ESXPATH = ("esxpath.cli", "esxpath.app", "esxpath.vsphere", "esxpath.render", "esxpath.san")


def _absolute(module: str | None, level: int, here: str) -> str:
    if level == 0:
        return module or ""
    base = here.split(".")[:-level]
    return ".".join(base + ([module] if module else []))


def violations(source: str, module: str) -> list[str]:
    """What in `source` (the text of core module `module`) breaks the purity rule."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node.module, node.level, module)
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: calls {node.func.id}()")
            continue
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in FORBIDDEN_ATTRIBUTES:
                found.append(f"line {node.lineno}: reads the clock ({node.value.id}.{node.attr})")
            continue
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in FORBIDDEN_MODULES or name.startswith(FORBIDDEN_ESXPATH):
                found.append(f"line {node.lineno}: imports {name}")
    return found


def _core_modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_the_core_exists() -> None:
    names = {p.stem for p in _core_modules()}
    assert {"model", "plan", "verify", "gate", "timeline", "storage_events"} <= names


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.name)
def test_core_module_is_pure(path: Path) -> None:
    module = "esxpath.core" if path.stem == "__init__" else "esxpath.core." + path.stem
    assert violations(path.read_text(), module) == []


@pytest.mark.parametrize("snippet", [
    "import socket", "import click", "from pyVmomi import vim", "import tenacity", "import vcr",
    "import subprocess", "import threading", "import os", "from pathlib import Path",
    "import time", "from datetime import datetime\nx = datetime.now()", "open('x')",
    "def f():\n    import subprocess", "from ..vsphere import connect", "from ..app import config",
    "from esxpath.cli import run", "def f():\n    from ..san.audit import findings",
])
def test_the_check_catches_a_forbidden_import(snippet: str) -> None:
    """The rule must be able to fail: each of these in a core module is caught."""
    assert violations(snippet, "esxpath.core.gate")


def test_pure_code_passes() -> None:
    ok = "from dataclasses import dataclass\nfrom .model import Host\nfrom ..errors import UsageError\n" \
         "import json, re, math\nfrom datetime import datetime, timedelta\n"
    assert violations(ok, "esxpath.core.gate") == []
