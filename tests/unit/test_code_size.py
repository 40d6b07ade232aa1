"""No file over 400 lines and no function over 60 lines in esxpath/ (CONTRIBUTING.md): a
function counts from its first decorator to its last line, docstring included. Checked on the
source with ast, so a nested function or a method counts like any other."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "esxpath"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60

# Offenders in files being split by other work of issue 24: each entry must still offend (the
# last test), so the list only shrinks. "path" for a file, "path:function" for a function.
KNOWN: set[str] = set()


def function_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    return (node.end_lineno or node.lineno) - start + 1


def offenders(source: str, name: str) -> dict[str, int]:
    """{"name" or "name:function": lines} of what in `source` is too long."""
    out = {}
    lines = len(source.splitlines())
    if lines > MAX_FILE_LINES:
        out[name] = lines
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = function_lines(node)
            if n > MAX_FUNCTION_LINES:
                out[f"{name}:{node.name}"] = n
    return out


def _all_offenders() -> dict[str, int]:
    out: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        out |= offenders(path.read_text(), path.relative_to(PACKAGE).as_posix())
    return out


def test_no_file_or_function_is_too_long() -> None:
    found = {k: n for k, n in _all_offenders().items() if k not in KNOWN}
    assert found == {}, f"over {MAX_FILE_LINES} lines a file / {MAX_FUNCTION_LINES} a function"


def test_known_offenders_still_offend() -> None:
    """An entry fixed is taken off KNOWN."""
    assert KNOWN <= set(_all_offenders())


def _body(n: int) -> str:
    return "".join(f"    x{i} = {i}\n" for i in range(n))


@pytest.mark.parametrize("source, key", [
    ("def f():\n" + _body(60), "m.py:f"),  # 61 lines
    ("@a\n@b\ndef f():\n" + _body(58), "m.py:f"),  # the decorators count
    ('def f():\n    """doc\n\n    more"""\n' + _body(57), "m.py:f"),  # so does the docstring
    ("class C:\n    def g(self):\n" + _body(60).replace("    ", "        "), "m.py:g"),
    ("def f():\n    def inner():\n" + _body(60).replace("    ", "        "), "m.py:inner"),
    ("x = 1\n" * 401, "m.py"),
], ids=["function", "decorators", "docstring", "method", "nested", "file"])
def test_the_check_catches_a_long_one(source: str, key: str) -> None:
    assert key in offenders(source, "m.py")


def test_the_limits_themselves_pass() -> None:
    assert offenders("@a\ndef f():\n" + _body(58), "m.py") == {}
    assert offenders("x = 1\n" * 400, "m.py") == {}
