"""Open orders, fills and order history tables.

Open orders are keyed by client order id, so an order whose outcome is still unknown
(sent, no answer yet) shows as "unknown — checking" on the same row the confirmed
order later takes. The highlighted row is the one ``c`` cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from rich.text import Text
from textual.widgets import DataTable

from btx_tui.api.models_trading import MyTrade, Order
from btx_tui.tui.formatting import fmt_amount, fmt_fixed, fmt_price
from btx_tui.tui.widgets.columns import add_columns


def _time(ms: int | None) -> str:
    if not ms:
        return "—"
    return " " + datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def _num(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{value.normalize():f}"
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _side(side: object) -> Text:
    s = str(getattr(side, "value", side) or "")
    return Text(" " + s, style="bold green" if s == "BUY" else "bold red")


TYPE_SHORT = {"LIMIT": "LIMIT", "MARKET": "MARKET", "LIMIT_MAKER": "MAKER"}
STATUS_SHORT = {"NEW": " NEW", "PARTIALLY_FILLED": " PARTIAL", "FILLED": " FILLED", "CANCELED": " CANCELED",
                "EXPIRED": " EXPIRED", "REJECTED": " REJECTED"}


def _type(order: Order) -> str:
    t = str(getattr(order.type, "value", order.type))
    return " " + TYPE_SHORT.get(t, t)


def _status(order: Order) -> str:
    s = str(getattr(order.status, "value", order.status))
    return STATUS_SHORT.get(s, " " + s)


Steps = Callable[[str], tuple[Decimal, Decimal]]
"""symbol → (tick size, step size), so prices and quantities show the market's decimals."""


def _price(order: Order, steps: Steps | None) -> str:
    if order.price is None or steps is None or not order.price:
        return _num(order.price) if order.price else "market"
    return fmt_price(order.price, steps(order.symbol)[0])


def _qty(order: Order, steps: Steps | None) -> str:
    if order.orig_qty is None or steps is None:
        return _num(order.orig_qty)
    return fmt_amount(order.orig_qty, steps(order.symbol)[1])


def filled_pct(order: Order) -> Decimal:
    if not order.orig_qty:
        return Decimal(0)
    return (order.executed_qty or Decimal(0)) / order.orig_qty * 100


class OpenOrdersTable(DataTable):
    """The account's open orders (all symbols), newest first."""

    COLUMNS = (("Time", "time", 9), ("Market", "symbol", 8), ("Side", "side", 5), ("Type", "type", 7),
               ("Price", "price", 13), ("Qty", "qty", 10), ("Fill", "filled", 5), ("Status", "status", 9))

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self.orders: dict[str, Order] = {}
        self.pending: dict[str, str] = {}
        """client order id → description of orders whose outcome is still unknown."""

    def on_mount(self) -> None:
        add_columns(self, self.COLUMNS)

    @property
    def selected(self) -> Order | None:
        """The order under the cursor, if it is a confirmed open order."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.orders.get(key or "")

    def update_orders(self, orders: Sequence[Order], pending: Mapping[str, str] | None = None,
                      steps: Steps | None = None) -> None:
        """Replace the rows with ``orders`` (plus unresolved intents), keeping the cursor's order."""
        current = self.selected
        self.orders = {o.client_order_id: o for o in sorted(orders, key=lambda o: -(o.time or 0))}
        self.pending = {k: v for k, v in (pending or {}).items() if k not in self.orders}
        self.clear()
        for cid, desc in self.pending.items():
            symbol, side, kind = (desc.split("|") + ["", "", ""])[:3]
            self.add_row(Text(" now"), " " + symbol, _side(side), " " + kind, "", "", "",
                         Text(" unknown — checking", style="bold yellow"), key=cid)
        for cid, o in self.orders.items():
            self.add_row(
                _time(o.time), " " + o.symbol, _side(o.side), _type(o),
                Text(_price(o, steps), justify="right"), Text(_qty(o, steps), justify="right"),
                Text(f"{filled_pct(o):.0f}%", justify="right"), _status(o), key=cid,
            )
        if current is not None and current.client_order_id in self.orders:
            self.move_cursor(row=self.get_row_index(current.client_order_id))


def fill_key(trade: MyTrade) -> tuple[str, int, int]:
    """A fill's identity: a self-trade is two fills with one trade id."""
    return trade.symbol, trade.id, trade.order_id


class FillsTable(DataTable):
    """The account's recent fills (my trades), newest first."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self.fills: dict[tuple[str, int, int], MyTrade] = {}
        """By (symbol, trade id, order id): both sides of a self-trade share the trade id."""

    def on_mount(self) -> None:
        add_columns(self, (("Time", "time", 9), ("Market", "symbol", 9), ("Side", "side", 5),
                           ("Price", "price", 13), ("Qty", "qty", 11), ("Fee", "fee", 16), ("Role", "role", 6)))

    def add_fills(self, trades: Iterable[MyTrade]) -> list[MyTrade]:
        """Merge ``trades`` (deduplicated by symbol, trade and order id); returns the new ones."""
        new = [t for t in trades if fill_key(t) not in self.fills]
        if not new:
            return []
        for t in new:
            self.fills[fill_key(t)] = t
        self.clear()
        for t in sorted(self.fills.values(), key=lambda t: -t.time)[:200]:
            self.add_row(_time(t.time), " " + t.symbol, _side("BUY" if t.is_buyer else "SELL"),
                         Text(_num(t.price), justify="right"), Text(_num(t.qty), justify="right"),
                         Text(f"{fmt_fixed(t.commission, 8)} {t.commission_asset}", justify="right"),
                         " maker" if t.is_maker else " taker", key=f"{t.symbol}:{t.id}:{t.order_id}")
        return new


class OrderHistoryTable(DataTable):
    """All recent orders of the selected market (filled, canceled, expired too)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        add_columns(self, OpenOrdersTable.COLUMNS)

    def update_orders(self, orders: Sequence[Order], steps: Steps | None = None) -> None:
        self.clear()
        for o in sorted(orders, key=lambda o: -(o.update_time or o.time or 0))[:200]:
            status = str(getattr(o.status, "value", o.status))
            style = {"FILLED": "green", "CANCELED": "dim", "EXPIRED": "dim", "REJECTED": "red"}.get(status, "")
            self.add_row(_time(o.update_time or o.time), " " + o.symbol, _side(o.side), _type(o),
                         Text(_price(o, steps), justify="right"), Text(_qty(o, steps), justify="right"),
                         Text(f"{filled_pct(o):.0f}%", justify="right"), Text(_status(o), style=style),
                         key=f"{o.symbol}:{o.order_id}")
