"""Every `esxpath COMMAND [--option]` the docs and commands/ tell someone to run exists in the CLI.

An on-call reads an alert's text at 3 a.m. and runs what it says: the EsxpathDrift rule once
said `esxpath plan`, which never existed. Looked at: code in README.md and docs/*.md (fenced
blocks, `spans`), and in commands/ the `spans` (alert texts) and the indented examples of
comments (`#   esxpath audit ...`). Prose ("esxpath never builds one") is not code and is left
alone. A command's long options up to the end of its shell command are checked too.
"""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from esxpath.cli import main

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_EXAMPLE = re.compile(r"^\s*#\s{2,}(esxpath .*)$", re.M)
# esxpath as a word of its own (not esxpath-failover, not id=esxpath), then its command words;
# a word followed by = is an argument of something else (pcs alert ... esxpath value=...)
_CALL = re.compile(r"(?:^|(?<=[\s'\"(|;&/]))esxpath((?: [a-z][a-z0-9-]*(?![\w=-]))+)(.*)")
_END = re.compile(r"[|;&)`'\"]|\s#")  # where the shell command (or its quoted string) ends
_LONG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")


def files() -> list[Path]:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return docs + sorted(p for p in (ROOT / "commands").rglob("*") if p.is_file())


def snippets(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".md":
        blocks = [b.replace("\\\n", " ") for b in _FENCE.findall(text)]  # continued lines joined
        return [line for b in blocks for line in b.splitlines()] + _SPAN.findall(_FENCE.sub("", text))
    return _SPAN.findall(text) + _EXAMPLE.findall(text)


def calls(path: Path) -> list[tuple[list[str], list[str], str]]:
    """(command words, long options, the snippet) of every esxpath call in the file."""
    out = []
    for snippet in snippets(path):
        for m in _CALL.finditer(snippet):
            tail = _END.split(m.group(2), 1)[0]
            out.append((m.group(1).split(), _LONG.findall(tail), snippet))
    return out


def resolve(words: list[str]) -> tuple[click.Command | None, list[str]]:
    """The command the words name (a group's words go on to its subcommands), and the words used."""
    ctx = click.Context(main)
    cmd: click.Command = main
    used: list[str] = []
    for w in words:
        if not isinstance(cmd, click.Group):
            break  # an argument (a file name, a profile, ...)
        sub = cmd.get_command(ctx, w)
        if sub is None:
            return None, used + [w]
        cmd = sub
        used.append(w)
    return cmd, used


def options(cmd: click.Command) -> set[str]:
    names = {"--help"}
    for c in (main, cmd):
        for p in c.params:
            names.update(o for o in (*p.opts, *p.secondary_opts) if o.startswith("--"))
    return names


def test_the_docs_and_commands_call_esxpath_often_enough_to_check():
    """The extraction finds the calls people run (a broken regex would pass everything)."""
    found = {" ".join(resolve(words)[1]) for p in files() for words, _, _ in calls(p)}
    assert {"audit", "apply", "check", "watch", "exporter", "san dump", "san check",
            "provision", "config show"} <= found, found


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_esxpath_command_named_exists(path):
    wrong = []
    for words, longs, snippet in calls(path):
        cmd, used = resolve(words)
        if cmd is None:
            wrong.append(f"no command `esxpath {' '.join(used)}`: {snippet.strip()}")
            continue
        wrong += [f"`esxpath {' '.join(used)}` has no {o}: {snippet.strip()}"
                  for o in longs if o not in options(cmd)]
    assert wrong == []


@pytest.mark.parametrize("text,ok", [
    ("run `esxpath plan` first", False),
    ("`esxpath apply --dry-run` shows it", True),
    ("`esxpath apply --dryrun`", False),
    ("`esxpath san dump --resource ms_scst_alua`", True),
    ("`esxpath san dunp`", False),
    ("pcs alert recipient add esxpath value=/var/log/x", True),  # not an esxpath call
    ("`ssh root@storage1 esxpath san dump' --san-cmd x`", True),  # --san-cmd is ssh's caller's
])
def test_the_check_itself(tmp_path, text, ok):
    f = tmp_path / "x.md"
    f.write_text(text + "\n", encoding="utf-8")
    bad = [w for w, longs, _ in calls(f)
           if resolve(w)[0] is None or any(o not in options(resolve(w)[0]) for o in longs)]
    assert (bad == []) == ok, bad
