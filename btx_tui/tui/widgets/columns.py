"""DataTable columns: numbers right-aligned under right-aligned headers, fixed or sized to content.

Tables here use ``cell_padding=0`` to fit narrow panes, so every cell carries its own
separator: text columns start with a space of their own and numeric cells keep one spare
cell on their left (:func:`cell`). A column of width ``None`` is as wide as its widest cell,
so no value is ever cut and two values never touch.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

NUMERIC = frozenset({"last", "change", "high", "low", "volume", "free", "locked", "total", "value",
                     "price", "qty", "filled", "fee", "avg", "unrealized", "realized"})


def add_columns(table: DataTable, columns: Iterable[tuple[str, str, int | None]]) -> None:
    """Add ``(label, key, width)`` columns; numeric keys get right-aligned headers.

    ``width=None`` sizes the column to its widest cell (header included).
    """
    for label, key, width in columns:
        if key in NUMERIC:
            header = Text(" " + label, justify="right")
        else:
            header = Text(" " + label)
        table.add_column(header, key=key, width=width)


def cell(value: str, *, numeric: bool = False, style: Style | str = "") -> Text:
    """One cell with its leading separator space: numbers right-aligned, text left-aligned."""
    return Text(" " + value, style=style, justify="right" if numeric else "left")
