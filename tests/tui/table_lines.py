"""A DataTable read back as the terminal shows it: the rendered lines, not the data behind them.

Shared by the tests that check what a trader sees in the account tables and the positions tab.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import DataTable


def screen_lines(table: DataTable) -> list[str]:
    """The table's visible lines as the terminal shows them."""
    strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return ["".join(segment.text for segment in strip) for strip in strips]


def row_line(table: DataTable, key: str) -> str:
    """The rendered line of the row ``key``."""
    return screen_lines(table)[1 + table.get_row_index(key)]  # line 0 is the header
