"""Every key, from the live bindings (so remapped keys show as remapped)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from btx_tui.tui.permissions import NEEDS, PERMISSION_REASON


class HelpScreen(ModalScreen[None]):
    """A table of every binding: keys, what it does, and why it is disabled if it is."""

    rows: list[tuple[str, str, str]]
    """``(keys, action, binding id)`` as shown."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help_close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96; max-width: 100%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, permissions: frozenset[str]) -> None:
        """``permissions``: the key's permissions (a binding they forbid says so)."""
        super().__init__()
        self.permissions = permissions

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as scroll:
            scroll.border_title = "Keys — Esc closes"
            yield Static(self._table(), id="help-table")

    def _table(self) -> Table:
        app = self.app
        permissions = self.permissions
        table = Table(expand=True, box=None, show_header=True, header_style="bold")
        table.add_column("Key", width=16)
        table.add_column("Action")
        table.add_column("Id", style="dim", width=16)
        keymap = getattr(app, "_keymap", {}) or {}
        rows: list[tuple[str, str, str]] = []
        for binding in app.BINDINGS:
            assert isinstance(binding, Binding)
            keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
            label = binding.tooltip or binding.description
            need = NEEDS.get(binding.id or "")
            if need and need not in permissions:
                label += f"  (disabled: {PERMISSION_REASON[need]})"
            rows.append((_keys(keys), label, binding.id or ""))
        rows += [("tab / shift+tab", "Move between panes", ""), ("enter / click", "Select the market (watchlist)", ""),
                 ("g", "Order book: change price grouping", "book_grouping"),
                 ("ctrl+p", "Command palette", "")]
        self.rows = rows
        for key, label, ident in rows:
            table.add_row(Text(key, style="bold"), label, ident)
        return table


def _keys(keys: str) -> str:
    names = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-"}
    return " / ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))
