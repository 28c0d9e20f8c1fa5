"""Open orders, fills and order history tables.

Open orders are keyed by client order id, so an order whose outcome is still unknown
(sent, no answer yet) shows as "unknown — checking" on the same row the confirmed
order later takes. The highlighted row is the one ``c`` cancels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from btx_tui.api.models_trading import MyTrade, Order
from btx_tui.tui.formatting import fmt_amount, fmt_exact, fmt_price
from btx_tui.tui.state import fill_key
from btx_tui.tui.widgets.columns import add_columns, cell


def _time(ms: int | None, zone: tzinfo | None = None) -> str:
    """``ms`` in local time (``zone``; None: the system's): the clock time today, else with the date."""
    if not ms:
        return "—"
    when = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone)
    today = datetime.now(UTC).astimezone(zone).date()
    return when.strftime("%H:%M:%S" if when.date() == today else "%m-%d %H:%M:%S")


def zone_name(zone: tzinfo | None) -> str:
    """The zone's short name now (``CET``, ``UTC``), shown in the time columns' headers."""
    return datetime.now(UTC).astimezone(zone).tzname() or ""


TYPE_SHORT = {"LIMIT": "LIMIT", "MARKET": "MARKET", "LIMIT_MAKER": "MAKER"}
STATUS_SHORT = {"NEW": "NEW", "PARTIALLY_FILLED": "PARTIAL", "FILLED": "FILLED", "CANCELED": "CANCELED",
                "EXPIRED": "EXPIRED", "REJECTED": "REJECTED"}
PENDING_STATUS = "unknown — checking"
"""What an order whose outcome is not known yet shows as its status, whole."""


def _type(order: Order) -> str:
    t = str(getattr(order.type, "value", order.type))
    return TYPE_SHORT.get(t, t)


def _status(order: Order) -> str:
    s = str(getattr(order.status, "value", order.status))
    return STATUS_SHORT.get(s, s)


Steps = Callable[[str], tuple[Decimal, Decimal]]
"""symbol → (tick size, step size), so prices and quantities show the market's decimals."""


def _price(symbol: str, price: Decimal | None, steps: Steps | None) -> str:
    if not price:
        return "market"
    return fmt_price(price, steps(symbol)[0]) if steps is not None else fmt_exact(price)


def _qty(symbol: str, qty: Decimal | None, steps: Steps | None) -> str:
    if qty is None:
        return "—"
    return fmt_amount(qty, steps(symbol)[1]) if steps is not None else fmt_exact(qty)


def filled_pct(order: Order) -> Decimal:
    if not order.orig_qty:
        return Decimal(0)
    return (order.executed_qty or Decimal(0)) / order.orig_qty * 100


class AccountTable(DataTable):
    """A slow-moving account table whose columns are as wide as their widest value.

    Every refill re-measures the columns (:meth:`refill`), so a value is never cut and two
    never touch, whatever the market's decimals; side and status words are coloured from the
    theme (component classes), not hard-coded colours.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "account-table--buy", "account-table--sell", "account-table--pending",
        "account-table--filled", "account-table--done", "account-table--rejected",
    }

    DEFAULT_CSS = """
    AccountTable > .account-table--buy { color: $success; text-style: bold; }
    AccountTable > .account-table--sell { color: $error; text-style: bold; }
    AccountTable > .account-table--pending { color: $warning; text-style: bold; }
    AccountTable > .account-table--filled { color: $success; }
    AccountTable > .account-table--done { color: $text-muted; }
    AccountTable > .account-table--rejected { color: $error; }
    """

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()
    """``(header, key)`` of each column, left to right."""

    DROP_FIRST: ClassVar[tuple[str, ...]] = ()
    """Keys of the columns left out, in this order, while the rest would not fit the pane."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", cell_padding=0, **kwargs)  # type: ignore[arg-type]
        self._rows: list[tuple[Sequence[Text], str]] = []
        self._fitted_width = 0
        self.shown_columns: tuple[str, ...] = tuple(key for _, key in self.COLUMNS)
        """Keys of the columns on screen now (all of them when the pane is wide enough)."""

    zone: tzinfo | None = None
    """The zone times are shown in (None: the system's); set before mounting."""

    def label(self, label: str) -> str:
        """A column's header: time columns name the zone."""
        return f"{label} {zone_name(self.zone)}" if label == "Time" else label

    def on_mount(self) -> None:
        add_columns(self, ((self.label(label), key, None) for label, key in self.COLUMNS))

    def on_resize(self) -> None:
        if self.size.width != self._fitted_width:
            self.refill(self._rows)

    def _columns_that_fit(self, rows: Sequence[tuple[Sequence[Text], str]]) -> list[int]:
        """Indexes of the columns to show: all, unless the pane is too narrow for them."""
        widths = [len(self.label(label)) + 1 for label, _ in self.COLUMNS]
        for cells, _ in rows:
            for i, text in enumerate(cells):
                widths[i] = max(widths[i], text.cell_len)
        room = self.size.width - 1  # one cell for the vertical scrollbar
        keys = [key for _, key in self.COLUMNS]
        shown = list(range(len(keys)))
        for key in self.DROP_FIRST:
            if room <= 0 or sum(widths[i] for i in shown) <= room:
                break
            shown.remove(keys.index(key))
        return shown

    def refill(self, rows: Iterable[tuple[Sequence[Text], str]]) -> None:
        """Replace every row with ``rows`` (cells, row key), sizing the columns to them anew.

        Columns are as wide as their widest cell; if they would not all fit the pane, the
        ones in :attr:`DROP_FIRST` are left out in turn, so what is shown is always whole.
        """
        self._rows = list(rows)
        cursor = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value if self.row_count else None
        self._fitted_width = self.size.width
        shown = self._columns_that_fit(self._rows)
        self.shown_columns = tuple(self.COLUMNS[i][1] for i in shown)
        self.clear(columns=True)
        add_columns(self, ((self.label(self.COLUMNS[i][0]), self.COLUMNS[i][1], None) for i in shown))
        for cells, key in self._rows:
            self.add_row(*(cells[i] for i in shown), key=key)
        if cursor is not None and cursor in self.rows:
            self.move_cursor(row=self.get_row_index(cursor))

    def styled(self, name: str) -> Style:
        """The theme's style for ``account-table--{name}`` (buy, sell, pending, ...)."""
        return self.get_component_rich_style(f"account-table--{name}", partial=True)

    def side(self, side: object) -> Text:
        s = str(getattr(side, "value", side) or "")
        return cell(s, style=self.styled("buy" if s == "BUY" else "sell"))

    def order_cells(self, o: Order, time_ms: int | None, steps: Steps | None, status: Text) -> list[Text]:
        """Time, market, side, type, price, quantity, filled % and ``status`` of order ``o``."""
        return [cell(_time(time_ms, self.zone)), cell(o.symbol), self.side(o.side), cell(_type(o)),
                cell(_price(o.symbol, o.price, steps), numeric=True),
                cell(_qty(o.symbol, o.orig_qty, steps), numeric=True),
                cell(f"{filled_pct(o):.0f}%", numeric=True), status]


ORDER_COLUMNS = (("Time", "time"), ("Market", "symbol"), ("Side", "side"), ("Type", "type"),
                 ("Price", "price"), ("Qty", "qty"), ("Fill", "filled"), ("Status", "status"))


class OpenOrdersTable(AccountTable):
    """The account's open orders (all symbols), newest first."""

    COLUMNS = ORDER_COLUMNS
    DROP_FIRST = ("time", "type", "filled")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.orders: dict[str, Order] = {}
        self.pending: dict[str, str] = {}
        """client order id → description of orders whose outcome is still unknown."""

    def restep(self, steps: Steps) -> None:
        """Show the same orders on the markets' tick and step (known once exchangeInfo arrived)."""
        self.update_orders(list(self.orders.values()), self.pending, steps)

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
        rows: list[tuple[Sequence[Text], str]] = []
        for cid, desc in self.pending.items():
            symbol, side, kind = (desc.split("|") + ["", "", ""])[:3]
            rows.append(([cell("now"), cell(symbol), self.side(side), cell(kind), cell(""), cell(""), cell(""),
                          cell(PENDING_STATUS, style=self.styled("pending"))], cid))
        for cid, o in self.orders.items():
            rows.append((self.order_cells(o, o.time, steps, cell(_status(o))), cid))
        self.refill(rows)
        if current is not None and current.client_order_id in self.orders:
            self.move_cursor(row=self.get_row_index(current.client_order_id))


class FillsTable(AccountTable):
    """The account's recent fills (my trades), newest first."""

    COLUMNS = (("Time", "time"), ("Market", "symbol"), ("Side", "side"), ("Price", "price"),
               ("Qty", "qty"), ("Fee", "fee"), ("Role", "role"))
    DROP_FIRST = ("time", "role")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.fills: dict[tuple[str, int, int], MyTrade] = {}
        """By (symbol, trade id, order id): both sides of a self-trade share the trade id."""

    def add_fills(self, trades: Iterable[MyTrade], steps: Steps | None = None) -> list[MyTrade]:
        """Merge ``trades`` (deduplicated by symbol, trade and order id); returns the new ones."""
        new = [t for t in trades if fill_key(t) not in self.fills]
        if not new:
            return []
        for t in new:
            self.fills[fill_key(t)] = t
        self.restep(steps)
        return new

    def restep(self, steps: Steps | None) -> None:
        """Show every fill again, on the markets' tick and step when ``steps`` knows them."""
        self.refill(
            ([cell(_time(t.time, self.zone)), cell(t.symbol), self.side("BUY" if t.is_buyer else "SELL"),
              cell(_price(t.symbol, t.price, steps), numeric=True), cell(_qty(t.symbol, t.qty, steps), numeric=True),
              cell(f"{fmt_exact(t.commission)} {t.commission_asset}", numeric=True),
              cell("maker" if t.is_maker else "taker")], f"{t.symbol}:{t.id}:{t.order_id}")
            for t in sorted(self.fills.values(), key=lambda t: -t.time)[:200])


STATUS_STYLE = {"FILLED": "filled", "CANCELED": "done", "EXPIRED": "done", "REJECTED": "rejected"}


class OrderHistoryTable(AccountTable):
    """All recent orders of the selected market (filled, canceled, expired too)."""

    COLUMNS = (("Placed", "time"), *ORDER_COLUMNS[1:])
    """When the order was placed (its status says what became of it since)."""
    DROP_FIRST = ("time", "type", "filled")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.shown_orders: tuple[Order, ...] = ()

    def restep(self, steps: Steps) -> None:
        """Show the same orders on the market's tick and step (known once exchangeInfo arrived)."""
        self.update_orders(self.shown_orders, steps)

    def update_orders(self, orders: Sequence[Order], steps: Steps | None = None) -> None:
        self.shown_orders = tuple(orders)
        rows: list[tuple[Sequence[Text], str]] = []
        for o in sorted(orders, key=lambda o: -(o.update_time or o.time or 0))[:200]:
            status = str(getattr(o.status, "value", o.status))
            style = self.styled(STATUS_STYLE[status]) if status in STATUS_STYLE else ""
            rows.append((self.order_cells(o, o.time or o.transact_time, steps, cell(_status(o), style=style)),
                         f"{o.symbol}:{o.order_id}"))
        self.refill(rows)
