"""The dashboard: every pane on one screen, told of changes by the state store's signals.

The screen never calls the exchange and never writes a fact: it subscribes to the
:class:`~btx_tui.tui.state.DashboardState` signals and repaints the pane a change concerns.
Panes that only paint (watchlist, chart, trades, history) are not repainted while a modal
covers the dashboard (the form on top would only slow down); they are drawn from the store
once the dashboard is back. Panes the trader must be able to trust on return (book, balances,
open orders, staleness, status) follow at once.

The streamed panes (book, watchlist, chart) are paced (:mod:`~btx_tui.tui.paint_pacing`):
a burst of store changes costs one paint of the newest state, and a change waits at most one
pace interval for its paint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from btx_tui.api.book_views import book_view
from btx_tui.api.models_trading import MyTrade
from btx_tui.api.preflight import snap_to_step
from btx_tui.tui.formatting import fmt_known_price, fmt_price
from btx_tui.tui.paint_pacing import PaintPacer
from btx_tui.tui.state import DashboardState
from btx_tui.tui.widgets.balances import BalancesTable
from btx_tui.tui.widgets.chart import ChartData, OwnMarks, PriceChart
from btx_tui.tui.widgets.order_book import BookDisplay, OrderBookView
from btx_tui.tui.widgets.orders import FillsTable, OpenOrdersTable, OrderHistoryTable
from btx_tui.tui.widgets.positions import PositionsTable
from btx_tui.tui.widgets.status_bar import StatusBar, StatusInfo
from btx_tui.tui.widgets.trades import TradesTape
from btx_tui.tui.widgets.watchlist import Watchlist

NARROW_BELOW = 120
"""Below this width (the app's ``-narrow`` breakpoint) the balances move under the watchlist."""

PANES = ("watchlist", "book", "chart", "trades", "balances", "orders")
"""Focus order of the panes; number keys 1–6 jump to them."""

PANES_OF = {"tickers": ("watchlist",), "book": ("book",), "trades": ("trades",), "klines": ("chart",),
            "account": ("balances",), "orders": ("account-tabs",), "history": ("account-tabs",)}
"""The panes each feed fills: greyed out (class ``-stale``) while that feed is failing."""

PACE_S = {"book": 0.1, "tickers": 0.25, "klines": 0.25}
"""Shortest time between two paints of a streamed pane, by the store change that paints it:
the book at 10 fps (its stream's own rate), the watchlist and the chart at 4 fps (a ticker
moves once a second). The tape is not paced: an update only stores the trades and it builds
its text once per frame (a trade is the latency figure). The status bar is not paced either
(a change of the connection's state shows at once); it skips lines that read the same."""


class DashboardScreen(Screen[None]):
    """Watchlist, chart, book, trades, balances and orders at one glance."""

    def __init__(self, state: DashboardState, watchlist: list[str], status: Callable[[], StatusInfo],
                 zone: tzinfo | None = None) -> None:
        """
        Args:
            state: the store whose facts the panes show.
            watchlist: the markets of the watchlist pane.
            status: builds the status bar's line (the app knows the client's figures).
            zone: the zone times are shown in (None: the system's).
        """
        super().__init__()
        self.zone = zone
        self.state = state
        self._watchlist = watchlist
        self._status = status
        self._held: set[str] = set()
        """Paint-only panes that changed while a modal covered the dashboard."""
        self._moving_balances = False
        self.pacers: dict[str, PaintPacer] = {}
        """The streamed panes' pacers by the change that paints them (tests read their counts)."""

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
                with TabPane("Positions", id="tab-positions"):
                    yield PositionsTable(id="positions")
        yield Footer()

    def on_mount(self) -> None:
        titles = {"watchlist": "Watchlist [1]", "chart": "Chart [3]", "book": "Order book [2]",
                  "trades": "Trades [4]", "balances": "Balances [5]", "account-tabs": "Orders [6]"}
        for pane_id, title in titles.items():
            self.query_one(f"#{pane_id}").border_title = title
        for table in (self.open_orders, self.fills, self.history):
            table.zone = self.zone
        self.chart.interval = self.state.chart_interval
        self._show_market(self.state)
        s = self.state
        painters = {"book": self._show_book, "tickers": self._show_tickers, "klines": self._show_klines}
        self.pacers = {pane: PaintPacer(self, lambda paint=paint: paint(self.state), PACE_S[pane])
                       for pane, paint in painters.items()}
        for signal, callback in (
            (s.markets_loaded, self._show_rules), (s.market_selected, self._show_market),
            (s.tickers_changed, self._held_until_shown("tickers", self._show_tickers)),
            (s.watchlist_changed, self._show_watchlist),
            (s.book_changed, self._paced("book")), (s.open_orders_changed, self._show_chart_marks),
            (s.fills_added, self._show_chart_marks), (s.trades_changed, self._held_until_shown("trades", self._show_trades)),
            (s.klines_changed, self._held_until_shown("klines", self._show_klines)),
            (s.balances_changed, self._show_balances), (s.open_orders_changed, self._show_open_orders),
            (s.history_changed, self._held_until_shown("history", self._show_history)),
            (s.fills_added, self._show_fills), (s.stale_changed, self._show_stale),
            (s.health_changed, self._show_status),
            (s.pnl_changed, self._show_positions), (s.pnl_changed, self._show_status),
        ):
            signal.subscribe(self, callback, immediate=True)

    def on_resize(self) -> None:
        self._place_balances()
        self.call_after_refresh(self._show_chart, self.state)  # the title fits the new width

    def _place_balances(self) -> None:
        """On a narrow terminal the balances sit under the watchlist, in the room the hidden
        chart leaves, with their exact free amount and value; wider, they sit at the bottom
        with every column. A pane is mounted anew where it belongs and filled from the store."""
        narrow = self.size.width < NARROW_BELOW
        if self._moving_balances or not self.is_mounted:
            return
        current = self.balances
        if current.compact == narrow:
            return
        self._moving_balances = True

        async def move() -> None:
            try:
                stale = current.has_class("-stale")
                await current.remove()
                pane = BalancesTable(id="balances", compact=narrow, classes="-stale" if stale else None)
                pane.border_title = "Balances [5]"
                if narrow:
                    await self.query_one("#left").mount(pane)
                else:
                    await self.query_one("#bottom").mount(pane, before=0)
                self._show_balances(self.state)
            finally:
                self._moving_balances = False
            self._place_balances()  # the size may have changed again meanwhile

        self.run_worker(move(), group="place-balances", exit_on_error=False)

    def on_screen_resume(self) -> None:
        """Back from a modal: paint what changed underneath it, from the store, in one frame."""
        held, self._held = self._held, set()
        painters = {"tickers": self._show_tickers, "trades": self._show_trades, "klines": self._show_klines,
                    "history": self._show_history}
        with self.app.batch_update():
            for pane in sorted(held):
                if pane in self.pacers:
                    self.pacers[pane].cancel()  # painted here, from the same store
                painters[pane](self.state)

    def _paced(self, pane: str) -> Callable[[object], None]:
        """A signal callback that has ``pane`` painted through its pacer (the store is read then)."""
        pacer = self.pacers[pane]
        return lambda _: pacer.request()

    def _held_until_shown(self, pane: str, paint: Callable[[DashboardState], None]
                          ) -> Callable[[DashboardState], None]:
        pacer = self.pacers.get(pane)

        def paint_or_hold(state: DashboardState) -> None:
            if not self.is_active:
                self._held.add(pane)
            elif pacer is not None:
                pacer.request()
            else:
                paint(state)
        return paint_or_hold

    # -- painting from the store ------------------------------------------------------------

    def _show_rules(self, state: DashboardState) -> None:
        """Tick and step sizes are known now: repaint what was drawn with fallback decimals."""
        self.watchlist.tick_sizes = {s: state.steps(s)[0] for s in state.rules.symbols or self.watchlist.symbols}
        self.watchlist.quote_assets = {s: info.quote_asset for s in state.rules.symbols
                                       if (info := state.rules.symbol(s)) is not None}
        self.watchlist.repaint()
        self.set_titles(state.symbol)
        tick, step = state.steps(state.symbol)
        self._show_chart(state)
        if self.tape.trades:
            self.tape.update_trades(self.tape.trades, tick, step, stale="trades" in state.stale)
        for table in (self.open_orders, self.fills, self.history):
            table.restep(state.steps)
        self._show_book(state)

    def _show_market(self, state: DashboardState) -> None:
        self.set_titles(state.symbol)
        self.watchlist.select_symbol(state.symbol)

    def _show_watchlist(self, state: DashboardState) -> None:
        self.watchlist.tick_sizes = {s: state.steps(s)[0] for s in state.watchlist}
        self.watchlist.set_symbols(state.watchlist)
        self.watchlist.update_tickers(state.tickers, flash=False)
        self.watchlist.select_symbol(state.symbol)

    def _show_tickers(self, state: DashboardState) -> None:
        self.watchlist.update_tickers(state.tickers)
        self._show_chart(state)  # the title's last price

    def _show_trades(self, state: DashboardState) -> None:
        tick, step = state.steps(state.symbol)
        self.tape.update_trades(state.trades, tick, step, stale="trades" in state.stale)

    def _show_klines(self, state: DashboardState) -> None:
        self._show_chart(state)

    def _show_chart(self, state: DashboardState) -> None:
        """Candles (or the depth) of the selected market with the trader's own orders and fills."""
        symbol = state.symbol
        orders = tuple((str(o.side), o.price) for o in state.open_orders if o.symbol == symbol and o.price)
        fills = tuple(("BUY" if t.is_buyer else "SELL", t.price, t.time)
                      for t in state.fills.values() if t.symbol == symbol)
        klines = state.klines
        self.chart.show(ChartData(symbol, klines, state.steps(symbol)[0], OwnMarks(orders, fills),
                                  self.zone, state.depth))
        last = next((t.last_price for t in state.tickers if t.symbol == symbol), None)
        title = f"Chart {symbol} {'depth' if self.chart.depth_mode else self.chart.interval}"
        priced = f"{title} · {fmt_known_price(last, state.steps(symbol)[0])} [3]"
        room = self.chart.size.width - 4  # the border's corners and the title's padding
        self.chart.border_title = priced if len(priced) <= room or not room > 0 else f"{title} [3]"

    def _show_chart_marks(self, _: object) -> None:
        if self.is_active:
            self._show_chart(self.state)
        else:
            self._held.add("klines")

    def _show_balances(self, state: DashboardState) -> None:
        if state.account is not None:
            for pane in self.query(BalancesTable):  # none while the pane moves (narrow ↔ wide)
                pane.update_balances(state.account.balances, state.prices)

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
        if self.chart.depth_mode and self.is_active:
            self._show_chart(state)

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

    def _show_positions(self, state: DashboardState) -> None:
        self.positions.show_report(state.pnl, state.prices, state.steps)

    def _show_status(self, state: DashboardState) -> None:
        self.status_bar.show(self._status())

    def on_order_book_view_grouping_changed(self, message: OrderBookView.GroupingChanged) -> None:
        self.set_titles(self.state.symbol)
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
    def positions(self) -> PositionsTable:
        return self.query_one(PositionsTable)

    @property
    def history(self) -> OrderHistoryTable:
        return self.query_one(OrderHistoryTable)

    def set_titles(self, symbol: str) -> None:
        multiple = self.book.group_multiple
        grouping = "" if multiple == 1 else f" · group {fmt_price(self.state.steps(symbol)[0] * multiple, self.state.steps(symbol)[0])}"
        self.book.border_title = f"Order book {symbol}{grouping} [2]"
        self.tape.border_title = f"Trades {symbol} [4]"
        self.chart.interval = self.state.chart_interval
        self._show_chart(self.state)

    def toggle_depth(self) -> None:
        """Switch the chart pane between candles and the book's cumulative depth."""
        self.chart.depth_mode = not self.chart.depth_mode
        self._show_chart(self.state)

    def focus_pane(self, index: int) -> None:
        pane = PANES[index]
        target = {"orders": "#orders"}.get(pane, f"#{pane}")
        if pane == "orders":
            tabs = self.query_one(TabbedContent)
            active = tabs.active
            target = {"tab-fills": "#fills", "tab-history": "#history",
                      "tab-positions": "#positions"}.get(active, "#orders")
        self.query_one(target).focus()
