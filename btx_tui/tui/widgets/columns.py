"""Fixed-width DataTable columns with numbers right-aligned under right-aligned headers."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

NUMERIC = frozenset({"last", "change", "high", "low", "volume", "free", "locked", "total", "value",
                     "price", "qty", "filled", "fee"})


def add_columns(table: DataTable, columns: Iterable[tuple[str, str, int]]) -> None:
    """Add ``(label, key, width)`` columns; numeric keys get right-aligned headers.

    Tables here use ``cell_padding=0`` to fit 120 columns, so text columns start with a
    space of their own and numeric columns keep one spare cell on their left.
    """
    for label, key, width in columns:
        if key in NUMERIC:
            header = Text(label, justify="right")
        else:
            header = Text(" " + label)
        table.add_column(header, key=key, width=width)
