"""The dashboard: every pane on one screen, fed by :class:`FeedUpdated` messages.

The screen only routes snapshots to widgets; it never calls the exchange. Updates that
touch several widgets are wrapped in ``app.batch_update()`` so the screen repaints once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from btx_tui.tui.widgets.balances import BalancesTable
from btx_tui.tui.widgets.chart import PriceChart
from btx_tui.tui.widgets.order_book import OrderBookView
from btx_tui.tui.widgets.orders import FillsTable, OpenOrdersTable, OrderHistoryTable
from btx_tui.tui.widgets.status_bar import StatusBar, StatusInfo
from btx_tui.tui.widgets.trades import TradesTape
from btx_tui.tui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from btx_tui.tui.app import BtxApp

PANES = ("watchlist", "book", "chart", "trades", "balances", "orders")
"""Focus order of the panes; number keys 1–6 jump to them."""


class DashboardScreen(Screen[None]):
    """Watchlist, chart, book, trades, balances and orders at one glance."""

    app: BtxApp  # type: ignore[assignment]

    def __init__(self, watchlist: list[str], status: StatusInfo) -> None:
        super().__init__()
        self._watchlist = watchlist
        self._status = status

    def compose(self) -> ComposeResult:
        yield StatusBar(self._status, id="status")
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield Watchlist(self._watchlist, id="watchlist")
                with Horizontal(id="middle"):
                    yield PriceChart(id="chart")
                    yield TradesTape(id="trades")
            yield OrderBookView(id="book")
        with Horizontal(id="bottom"):
            yield BalancesTable(id="balances")
            with TabbedContent(id="account-tabs", initial="tab-open"):
                with TabPane("Open orders", id="tab-open"):
                    yield OpenOrdersTable(id="orders")
                with TabPane("Fills", id="tab-fills"):
                    yield FillsTable(id="fills")
                with TabPane("Order history", id="tab-history"):
                    yield OrderHistoryTable(id="history")
        yield Footer()

    def on_mount(self) -> None:
        titles = {"watchlist": "Watchlist [1]", "chart": "Chart [3]", "book": "Order book [2]",
                  "trades": "Trades [4]", "balances": "Balances [5]", "account-tabs": "Orders [6]"}
        for pane_id, title in titles.items():
            self.query_one(f"#{pane_id}").border_title = title

    def on_screen_resume(self) -> None:
        self.app.router.replay_held()

    # -- accessors used by the app ------------------------------------------------------

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def watchlist(self) -> Watchlist:
        return self.query_one(Watchlist)

    @property
    def book(self) -> OrderBookView:
        return self.query_one(OrderBookView)

    @property
    def chart(self) -> PriceChart:
        return self.query_one(PriceChart)

    @property
    def tape(self) -> TradesTape:
        return self.query_one(TradesTape)

    @property
    def balances(self) -> BalancesTable:
        return self.query_one(BalancesTable)

    @property
    def open_orders(self) -> OpenOrdersTable:
        return self.query_one(OpenOrdersTable)

    @property
    def fills(self) -> FillsTable:
        return self.query_one(FillsTable)

    @property
    def history(self) -> OrderHistoryTable:
        return self.query_one(OrderHistoryTable)

    def set_titles(self, symbol: str, tick: Decimal | None = None) -> None:
        self.book.border_title = f"Order book {symbol} [2]"
        self.tape.border_title = f"Trades {symbol} [4]"
        self.chart.border_title = f"Chart {symbol} {self.chart.interval} [3]"

    def focus_pane(self, index: int) -> None:
        pane = PANES[index]
        target = {"orders": "#orders"}.get(pane, f"#{pane}")
        if pane == "orders":
            tabs = self.query_one(TabbedContent)
            active = tabs.active
            target = {"tab-fills": "#fills", "tab-history": "#history"}.get(active, "#orders")
        self.query_one(target).focus()
