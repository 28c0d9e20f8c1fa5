"""The withdrawal history table: one row per withdrawal, newest first, status in words.

A slow pane (refreshed every few seconds while the withdraw screen is open), so a keyed
``DataTable`` with fixed column widths is enough; the rows are rebuilt only when the
snapshot actually changed, and the cursor stays on the withdrawal it was on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from rich.text import Text
from textual.widgets import DataTable

from btx_tui.api.models_trading import Withdrawal, WithdrawStatus
from btx_tui.tui.widgets.columns import add_columns

STATUS_WORDS: dict[int, str] = {
    WithdrawStatus.EMAIL_SENT: "email sent",
    WithdrawStatus.CANCELLED: "cancelled",
    WithdrawStatus.AWAITING_APPROVAL: "awaiting approval",
    WithdrawStatus.REJECTED: "rejected",
    WithdrawStatus.PROCESSING: "processing",
    WithdrawStatus.FAILURE: "failed",
    WithdrawStatus.COMPLETED: "completed",
}
"""The contract's numeric statuses in the words a trader reads."""

STATUS_STYLE: dict[int, str] = {
    WithdrawStatus.COMPLETED: "bold green",
    WithdrawStatus.PROCESSING: "bold yellow",
    WithdrawStatus.EMAIL_SENT: "yellow",
    WithdrawStatus.AWAITING_APPROVAL: "yellow",
    WithdrawStatus.CANCELLED: "dim",
    WithdrawStatus.REJECTED: "bold red",
    WithdrawStatus.FAILURE: "bold red",
}


def status_words(status: int) -> str:
    """``4`` → ``processing``; an unknown number stays visible as ``status 9``."""
    return STATUS_WORDS.get(status, f"status {status}")


def shorten(text: str | None, head: int = 6, tail: int = 4) -> str:
    """``TXyz…abcd``: enough of an address or txId to recognise it, in little space."""
    if not text:
        return "—"
    if len(text) <= head + tail + 1:
        return text
    return f"{text[:head]}…{text[-tail:]}"


def plain(value: Decimal) -> str:
    """A Decimal exactly, without exponent or trailing zeros: ``10.50000000`` → ``10.5``."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _when(value: datetime | None) -> str:
    return " " + value.strftime("%m-%d %H:%M:%S") if value is not None else " —"


class WithdrawalsTable(DataTable):
    """The account's withdrawals (``withdraw/history``), newest first, keyed by withdrawal id."""

    COLUMNS = (("Time (UTC)", "time", 16), ("Coin", "coin", 7), ("Network", "network", 9),
               ("Amount", "qty", 16), ("Fee", "fee", 12), ("Address", "address", 14),
               ("Status", "status", 19), ("TxId", "txid", 13))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self.withdrawals: dict[str, Withdrawal] = {}
        """Withdrawal id → the latest snapshot of it, in display order."""

    def on_mount(self) -> None:
        add_columns(self, self.COLUMNS)

    def status_of(self, withdraw_order_id: str) -> str | None:
        """The status words of the withdrawal with this client id, None if not listed."""
        for w in self.withdrawals.values():
            if w.withdraw_order_id == withdraw_order_id:
                return status_words(w.status)
        return None

    def update_withdrawals(self, rows: Sequence[Withdrawal]) -> bool:
        """Show ``rows`` newest first; returns False (and repaints nothing) if nothing changed."""
        timed = sorted((w for w in rows if w.apply_time is not None), key=lambda w: w.apply_time, reverse=True)
        ordered = timed + [w for w in rows if w.apply_time is None]
        fresh = {w.id: w for w in ordered}
        if list(fresh.items()) == list(self.withdrawals.items()) and self.row_count == len(fresh):
            return False
        cursor_key = None
        if self.row_count:
            cursor_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        self.withdrawals = fresh
        self.clear()
        for w in ordered:
            self.add_row(
                _when(w.apply_time), " " + w.coin, " " + (w.network or "—"),
                Text(plain(w.amount), justify="right"), Text(plain(w.transaction_fee), justify="right"),
                " " + shorten(w.address), Text(" " + status_words(w.status), style=STATUS_STYLE.get(w.status, "")),
                " " + shorten(w.tx_id), key=w.id,
            )
        if cursor_key in fresh:
            self.move_cursor(row=self.get_row_index(cursor_key))
        return True
