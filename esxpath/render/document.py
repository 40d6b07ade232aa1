"""The JSON documents: one envelope (the keys every document starts with) and one way to print
a document. Pure: returns text."""
from __future__ import annotations

import json
from typing import Any

from ..core.model import Severity


def envelope(kind: str, command: str, status: Severity, **body: Any) -> dict[str, Any]:
    """The keys every JSON document starts with: `schema` names its shape (esxpath/<kind>/1,
    docs/json.md), `command` the command that made it, `status` its outcome; then the body."""
    return {"schema": f"esxpath/{kind}/1", "command": command, "status": Severity(status).name,
            **body}


def json_text(doc: Any, newline: bool = True) -> str:
    """A document as printed: indented by two; newline=False for emit(), which adds its own."""
    return json.dumps(doc, indent=2) + ("\n" if newline else "")
