"""`esxpath config show`: the resolved settings and where each came from, as a table or the
esxpath/config/1 JSON document. Pure: the CLI gathers the settings, this prints them."""
from __future__ import annotations

from typing import Any

from ..core.model import Severity
from .columns import align
from .document import envelope, json_text


def config_text(fmt: str, source: str | None, profiles: list[str], profile: str | None,
                rows: dict[str, dict[str, Any]]) -> str:
    """rows: {setting: {"value": JSON-able value, "from": its origin}}. No trailing newline
    (emit adds it)."""
    if fmt == "json":
        return json_text(envelope("config", "config show", Severity.OK, source=source,
                                  profiles=profiles, profile=profile, settings=rows),
                         newline=False)
    lines = [f"config: {source or 'none found'}"
             + (f" (profiles: {', '.join(profiles)})" if profiles else ""),
             f"profile: {profile or 'none'}"]
    table = [("SETTING", "VALUE", "FROM")] + [
        (key, _text(row["value"]), row["from"]) for key, row in rows.items()]
    return "\n".join(lines + align(table, indent="  "))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(value) or "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
