"""Price alerts on screen: the form ``a`` opens and the list ``A`` opens.

The screens only gather input and show the alerts: every change goes through
:class:`~btx_tui.api.alerts.AlertBook` (its one writer, which saves it atomically in the data
dir) via the :class:`AlertDesk` the app hands them. Bad input is refused by the book itself
(:class:`~btx_tui.api.alerts.AlertError`); the form shows its words and saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Select, Static

from btx_tui.api.alerts import Alert, AlertError, AlertKind
from btx_tui.tui.formatting import fmt_price

KINDS = (("above a price", AlertKind.ABOVE.value), ("below a price", AlertKind.BELOW.value),
         ("crossing a price", AlertKind.CROSS.value), ("a % move", AlertKind.MOVE.value))


class AlertDesk(Protocol):
    """What the alert screens need from the app."""

    def add_alert(self, symbol: str, kind: str, text: str) -> Alert: ...
    def remove_alert(self, alert_id: str) -> Alert: ...
    def alerts(self) -> list[Alert]: ...


def describe(alert: Alert, tick: Decimal) -> str:
    """An alert in words, its prices on the market's tick (like the panes show them)."""
    if alert.kind is AlertKind.MOVE:
        return (f"{alert.symbol} moves {alert.pct:+}% from {fmt_price(alert.ref_price, tick)} "
                f"(to {fmt_price(alert.level, tick)})")
    word = {"cross": "crosses"}.get(alert.kind.value, alert.kind.value)
    return f"{alert.symbol} {word} {fmt_price(alert.level, tick)}"


class AlertForm(ModalScreen[Alert | None]):
    """Set an alert on one market: a kind and a price (or a percentage); Enter saves, Esc backs out."""

    BINDINGS = [Binding("escape", "back", "Back", id="alert_form_back")]

    DEFAULT_CSS = """
    AlertForm { align: center middle; }
    AlertForm > Vertical { width: 60; height: auto; padding: 1 2; border: thick $accent; background: $surface; }
    AlertForm .alert-error { color: $error; height: auto; }
    AlertForm Label { margin-top: 1; }
    """

    def __init__(self, symbol: str, last: str, desk: AlertDesk) -> None:
        super().__init__()
        self.symbol = symbol
        self.last = last
        self.desk = desk

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Alert on {self.symbol} (last {self.last})", classes="alert-title")
            yield Select(KINDS, value=AlertKind.ABOVE.value, allow_blank=False, id="alert-kind")
            yield Label("Price (or % for a move; e.g. 5 or -3)")
            yield Input(placeholder="price or %", id="alert-value")
            yield Static("", classes="alert-error", id="alert-error")

    def on_mount(self) -> None:
        self.query_one("#alert-value", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        kind = str(self.query_one("#alert-kind", Select).value)
        try:
            alert = self.desk.add_alert(self.symbol, kind, event.value)
        except AlertError as exc:
            self.query_one("#alert-error", Static).update(str(exc))
            return
        self.dismiss(alert)

    def action_back(self) -> None:
        self.dismiss(None)


class AlertsScreen(ModalScreen[None]):
    """Every alert, set and fired; ``delete`` or ``d`` removes the highlighted one."""

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="alerts_back"),
        Binding("delete,d", "remove", "Remove", id="alert_remove", tooltip="Remove the highlighted alert"),
    ]

    DEFAULT_CSS = """
    AlertsScreen { align: center middle; }
    AlertsScreen > Vertical { width: 90%; height: 80%; border: thick $accent; background: $surface; }
    """

    def __init__(self, desk: AlertDesk, tick: Callable[[str], Decimal]) -> None:
        super().__init__()
        self.desk = desk
        self.tick = tick

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Price alerts — d: remove, Esc: back", classes="alert-title")
            yield DataTable(cursor_type="row", id="alerts-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Alert", "Status")
        self.fill()
        table.focus()

    def fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for a in self.desk.alerts():
            tick = self.tick(a.symbol)
            status = f"fired at {fmt_price(a.fired_price, tick)}" if a.fired_price is not None else "waiting"
            table.add_row(describe(a, tick), status, key=a.id)

    def action_remove(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is None:
            return
        try:
            gone = self.desk.remove_alert(key)
        except (AlertError, OSError) as exc:
            self.notify(str(exc), severity="error", timeout=5)
            return
        self.notify(f"Alert removed: {describe(gone, self.tick(gone.symbol))}", timeout=3)
        self.fill()

    def action_back(self) -> None:
        self.dismiss(None)
