"""The one column aligner of every table. Pure."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any


def align(rows: Sequence[Sequence[Any]], indent: str = "",
          right: Collection[int] = ()) -> list[str]:
    """rows (the heading first) as lines whose columns line up, two spaces apart; cells are
    str()'d, columns in `right` (their indexes) right-aligned, trailing blanks dropped."""
    if not rows:
        return []
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    return [(indent + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                for i, (c, w) in enumerate(zip(r, widths, strict=True)))).rstrip()
            for r in cells]
