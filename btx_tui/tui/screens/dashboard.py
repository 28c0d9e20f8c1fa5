"""The dashboard: every pane on one screen, told of changes by the state store's signals.

The screen never calls the exchange and never writes a fact: it subscribes to the
:class:`~btx_tui.tui.state.DashboardState` signals and repaints the pane a change concerns.
Panes that only paint (watchlist, chart, trades, history) are not repainted while a modal
covers the dashboard (the form on top would only slow down); they are drawn from the store
once the dashboard is back. Panes the trader must be able to trust on return (book, balances,
open orders, staleness, status) follow at once.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from btx_tui.api.book_views import book_view
from btx_tui.api.models_trading import MyTrade
from btx_tui.api.preflight import snap_to_step
from btx_tui.tui.state import DashboardState
from btx_tui.tui.widgets.balances import BalancesTable
from btx_tui.tui.widgets.chart import PriceChart
from btx_tui.tui.widgets.order_book import BookDisplay, OrderBookView
from btx_tui.tui.widgets.orders import FillsTable, OpenOrdersTable, OrderHistoryTable
from btx_tui.tui.widgets.status_bar import StatusBar, StatusInfo
from btx_tui.tui.widgets.trades import TradesTape
from btx_tui.tui.widgets.watchlist import Watchlist

PANES = ("watchlist", "book", "chart", "trades", "balances", "orders")
"""Focus order of the panes; number keys 1–6 jump to them."""

PANES_OF = {"tickers": ("watchlist",), "book": ("book",), "trades": ("trades",), "klines": ("chart",),
            "account": ("balances",), "orders": ("account-tabs",), "history": ("account-tabs",)}
"""The panes each feed fills: greyed out (class ``-stale``) while that feed is failing."""


class DashboardScreen(Screen[None]):
    """Watchlist, chart, book, trades, balances and orders at one glance."""

    def __init__(self, state: DashboardState, watchlist: list[str], status: Callable[[], StatusInfo]) -> None:
        """
        Args:
            state: the store whose facts the panes show.
            watchlist: the markets of the watchlist pane.
            status: builds the status bar's line (the app knows the client's figures).
        """
        super().__init__()
        self.state = state
        self._watchlist = watchlist
        self._status = status
        self._held: set[str] = set()
        """Paint-only panes that changed while a modal covered the dashboard."""

    def compose(self) -> ComposeResult:
        yield StatusBar(self._status(), id="status")
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
        self.chart.interval = self.state.chart_interval
        self._show_market(self.state)
        s = self.state
        for signal, callback in (
            (s.markets_loaded, self._show_rules), (s.market_selected, self._show_market),
            (s.tickers_changed, self._held_until_shown("tickers", self._show_tickers)),
            (s.book_changed, self._show_book), (s.trades_changed, self._held_until_shown("trades", self._show_trades)),
            (s.klines_changed, self._held_until_shown("klines", self._show_klines)),
            (s.balances_changed, self._show_balances), (s.open_orders_changed, self._show_open_orders),
            (s.history_changed, self._held_until_shown("history", self._show_history)),
            (s.fills_added, self._show_fills), (s.stale_changed, self._show_stale),
            (s.health_changed, self._show_status),
        ):
            signal.subscribe(self, callback, immediate=True)

    def on_screen_resume(self) -> None:
        held, self._held = self._held, set()
        painters = {"tickers": self._show_tickers, "trades": self._show_trades, "klines": self._show_klines,
                    "history": self._show_history}
        with self.app.batch_update():
            for pane in sorted(held):
                painters[pane](self.state)

    def _held_until_shown(self, pane: str, paint: Callable[[DashboardState], None]
                          ) -> Callable[[DashboardState], None]:
        def paint_or_hold(state: DashboardState) -> None:
            if self.is_active:
                paint(state)
            else:
                self._held.add(pane)
        return paint_or_hold

    # -- painting from the store ------------------------------------------------------------

    def _show_rules(self, state: DashboardState) -> None:
        """Tick and step sizes are known now: repaint what was drawn with fallback decimals."""
        self.watchlist.tick_sizes = {s: state.steps(s)[0] for s in self.watchlist.symbols}
        self.watchlist.repaint()
        tick, step = state.steps(state.symbol)
        if self.chart.klines:
            self.chart.update_klines(self.chart.symbol, self.chart.klines, tick)
        if self.tape.trades:
            self.tape.update_trades(self.tape.trades, tick, step, stale="trades" in state.stale)
        for table in (self.open_orders, self.fills, self.history):
            table.restep(state.steps)
        self._show_book(state)

    def _show_market(self, state: DashboardState) -> None:
        self.set_titles(state.symbol)
        self.watchlist.select_symbol(state.symbol)

    def _show_tickers(self, state: DashboardState) -> None:
        self.watchlist.update_tickers(state.tickers)

    def _show_trades(self, state: DashboardState) -> None:
        tick, step = state.steps(state.symbol)
        self.tape.update_trades(state.trades, tick, step, stale="trades" in state.stale)

    def _show_klines(self, state: DashboardState) -> None:
        self.chart.update_klines(state.symbol, state.klines, state.steps(state.symbol)[0])

    def _show_balances(self, state: DashboardState) -> None:
        if state.account is not None:
            self.balances.update_balances(state.account.balances, state.prices)

    def _show_open_orders(self, state: DashboardState) -> None:
        self.open_orders.update_orders(state.open_orders, state.pending_intents, state.steps)

    def _show_history(self, state: DashboardState) -> None:
        self.history.update_orders(state.history_orders, state.steps)

    def _show_fills(self, trades: tuple[MyTrade, ...]) -> None:
        self.fills.add_fills(trades, self.state.steps)

    def _show_book(self, state: DashboardState) -> None:
        widget = self.book
        tick, step = state.steps(state.symbol)
        if state.depth is None:
            widget.update_book(BookDisplay(None, tick, step))
            return
        group = tick * widget.group_multiple
        book = book_view(state.depth, state.symbol, group_step=group if widget.group_multiple > 1 else None)
        # Own orders are marked on the level they fall into (bids round down, asks up).
        own_bids = frozenset(snap_to_step(p, group, ROUND_FLOOR) for p in state.own_prices("BUY"))
        own_asks = frozenset(snap_to_step(p, group, ROUND_CEILING) for p in state.own_prices("SELL"))
        stops = frozenset(snap_to_step(p, group, rounding) for p in state.stop_levels()
                          for rounding in (ROUND_FLOOR, ROUND_CEILING))
        widget.update_book(BookDisplay(book, group, step, own_bids, own_asks, stale="book" in state.stale,
                                       stops=stops))

    def _show_stale(self, change: tuple[str, bool]) -> None:
        """Grey out what a failing feed shows, so old data is never mistaken for live."""
        feed, stale = change
        for pane in PANES_OF.get(feed, ()):
            widget = self.query_one(f"#{pane}")
            widget.set_class(stale, "-stale")
            widget.border_subtitle = "stale — retrying" if stale else ""
        if feed == "book" and (stale or self.state.depth is not None):
            self._show_book(self.state)
        elif feed == "trades" and stale and self.tape.trades:
            tick, step = self.state.steps(self.state.symbol)
            self.tape.update_trades(self.tape.trades, tick, step, stale=True)

    def _show_status(self, state: DashboardState) -> None:
        self.status_bar.show(self._status())

    def on_order_book_view_grouping_changed(self, message: OrderBookView.GroupingChanged) -> None:
        self._show_book(self.state)

    # -- panes --------------------------------------------------------------------------------

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

    def set_titles(self, symbol: str) -> None:
        self.book.border_title = f"Order book {symbol} [2]"
        self.tape.border_title = f"Trades {symbol} [4]"
        self.chart.interval = self.state.chart_interval
        self.chart.border_title = f"Chart {symbol} {self.chart.interval} [3]"

    def focus_pane(self, index: int) -> None:
        pane = PANES[index]
        target = {"orders": "#orders"}.get(pane, f"#{pane}")
        if pane == "orders":
            tabs = self.query_one(TabbedContent)
            active = tabs.active
            target = {"tab-fills": "#fills", "tab-history": "#history"}.get(active, "#orders")
        self.query_one(target).focus()
