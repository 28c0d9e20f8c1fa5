"""What each feed fetches, and where each snapshot goes.

``fetch_*`` run inside feed workers and only call the service layer; ``apply`` runs on
the UI side and only touches widgets. A snapshot whose key names a market the user has
since left is dropped, so a slow response never paints the wrong book.
"""

from __future__ import annotations

import logging
import time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from btx_tui.api.market import book_view
from btx_tui.api.models import Depth
from btx_tui.api.preflight import snap_to_step
from btx_tui.api.models_trading import Account, MyTrade, Order, OrderStatus
from btx_tui.tui.fills import FillWatcher
from btx_tui.tui.messages import FeedUpdated
from btx_tui.tui.widgets.order_book import BookDisplay

if TYPE_CHECKING:
    from btx_tui.tui.app import BtxApp

log = logging.getLogger(__name__)

BOOK_LIMIT = 100
"""Depth levels fetched (weight 5): enough to fill a tall book even when grouped."""
TRADES_LIMIT = 60
KLINES_LIMIT = 240
FALLBACK_STEP = Decimal("0.00000001")
PAINT_ONLY = frozenset({"tickers", "trades", "klines", "history"})
PANES_OF = {"tickers": ("watchlist",), "book": ("book",), "trades": ("trades",), "klines": ("chart",),
            "account": ("balances",), "orders": ("account-tabs",), "history": ("account-tabs",)}
"""The panes each feed fills: greyed out (class ``-stale``) while that feed is failing."""
"""Feeds nothing but the dashboard's panes reads (held while a modal is open)."""
OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_NEW})


class FeedRouter:
    """Fetches for the feeds and routes their snapshots to the dashboard."""

    def __init__(self, app: BtxApp) -> None:
        self.app = app
        self.depth: Depth | None = None
        self.account: Account | None = None
        self.prices: dict[str, Decimal] = {}
        self.open_orders: tuple[Order, ...] = ()
        self.fills = FillWatcher(app)
        self._stale: set[str] = set()
        self._held: dict[str, FeedUpdated] = {}
        self._placed: dict[str, tuple[Order, float]] = {}
        """Client order id → (open order as the placement answer had it, ``time.monotonic()``
        when it was learned); kept until an open-orders poll started after that moment."""

    @property
    def client(self) -> Any:
        return self.app.client

    # -- fetch (worker side) --------------------------------------------------------------

    async def fetch_tickers(self) -> tuple[str, Any]:
        return "", await self.client.tickers_24hr(list(self.app.settings.ui.watchlist))

    async def fetch_book(self) -> tuple[str, Any]:
        symbol = self.app.symbol
        return symbol, await self.client.depth(symbol, BOOK_LIMIT)

    async def fetch_trades(self) -> tuple[str, Any]:
        # Aggregate trades carry what the tape shows at a tenth of the weight of /trades.
        symbol = self.app.symbol
        return symbol, await self.client.agg_trades(symbol, TRADES_LIMIT)

    async def fetch_klines(self) -> tuple[str, Any]:
        symbol, interval = self.app.symbol, self.app.chart_interval
        return f"{symbol}:{interval}", await self.client.klines(symbol, interval, KLINES_LIMIT)

    async def fetch_account(self) -> tuple[str, Any]:
        return "", await self.client.account(omit_zero_balances=True)

    async def fetch_prices(self) -> tuple[str, Any]:
        return "", {p.symbol: p.price for p in await self.client.ticker_prices()}

    async def fetch_orders(self) -> tuple[str, Any]:
        return "", await self.client.open_orders()

    async def fetch_history(self) -> tuple[str, Any]:
        symbol = self.app.symbol
        orders = await self.client.all_orders(symbol, limit=100)
        trades = await self.client.my_trades(symbol, limit=100)
        return symbol, (orders, trades)

    # -- apply (UI side) ------------------------------------------------------------------

    def apply(self, message: FeedUpdated) -> None:
        """Route a snapshot to its widgets — or hold it while a modal covers the dashboard.

        Feeds that only paint (tickers, trades, chart, history) are held, newest only, and
        replayed by :meth:`replay_held` when the dashboard is back: repainting hidden panes
        would only slow down the form on top. Feeds the order form reads keep flowing.
        """
        if message.feed in self._stale:
            self._stale.discard(message.feed)
            self._mark_panes(message.feed, stale=False)
        if message.feed in PAINT_ONLY and self.app.screen is not self.app.dashboard:
            self._held[message.feed] = message
            return
        getattr(self, f"_apply_{message.feed}")(message)

    def replay_held(self) -> None:
        held, self._held = self._held, {}
        for message in held.values():
            getattr(self, f"_apply_{message.feed}")(message)

    def _current(self, key: str) -> bool:
        return key == self.app.symbol

    def _apply_tickers(self, message: FeedUpdated) -> None:
        self.app.dashboard.watchlist.update_tickers(message.data)

    def _apply_book(self, message: FeedUpdated) -> None:
        if not self._current(message.key):
            return
        self.depth = message.data
        self._show_book()

    def _apply_trades(self, message: FeedUpdated) -> None:
        if not self._current(message.key):
            return
        tick, step = self.steps(self.app.symbol)
        self.app.dashboard.tape.update_trades(message.data, tick, step)

    def _apply_klines(self, message: FeedUpdated) -> None:
        if message.key != f"{self.app.symbol}:{self.app.chart_interval}":
            return
        self.app.dashboard.chart.update_klines(self.app.symbol, message.data, self.steps(self.app.symbol)[0])

    def _apply_account(self, message: FeedUpdated) -> None:
        account: Account = message.data
        previous, self.account = self.account, account
        if previous is not None and previous.balances != account.balances:
            # Something filled, or an order came or went (maybe from elsewhere): look now.
            self.app.feeds.wake("orders", "history")
        self.app.dashboard.balances.update_balances(account.balances, self.prices)

    def _apply_prices(self, message: FeedUpdated) -> None:
        self.prices = message.data
        if self.account is not None:
            self.app.dashboard.balances.update_balances(self.account.balances, self.prices)

    def _apply_orders(self, message: FeedUpdated) -> None:
        orders: tuple[Order, ...] = self._with_placed(message.data, message.started)
        self.fills.check(self.open_orders, orders)
        self.open_orders = orders
        self.app.dashboard.open_orders.update_orders(orders, self.app.pending_intents(), self.steps)
        self._show_book()

    def _with_placed(self, orders: tuple[Order, ...], started: float | None) -> tuple[Order, ...]:
        """``orders`` plus the placed orders a poll that started before their placement missed.

        A snapshot started after an order was learned is the exchange's newer word: an order
        it lacks has filled or been canceled, and is dropped like any other.
        """
        listed = {o.client_order_id for o in orders}
        missed = []
        for cid, (order, learned) in list(self._placed.items()):
            if started is None or started >= learned:
                del self._placed[cid]
            elif cid not in listed:
                missed.append(order)
        return (*orders, *missed)

    def order_placed(self, order: Order) -> None:
        """Show an order the exchange just accepted at once, without waiting for a poll."""
        if order.status not in OPEN_STATUSES:
            return
        if order.time is None:  # a placement answer stamps transactTime; the table sorts by time
            order = order.model_copy(update={"time": order.transact_time})
        self._placed[order.client_order_id] = (order, time.monotonic())
        self.open_orders = (*(o for o in self.open_orders if o.client_order_id != order.client_order_id), order)
        self.app.dashboard.open_orders.update_orders(self.open_orders, self.app.pending_intents(), self.steps)
        self._show_book()

    def _apply_history(self, message: FeedUpdated) -> None:
        if not self._current(message.key):
            return
        orders, trades = message.data
        self.app.dashboard.history.update_orders(orders, self.steps)
        self.add_fills(trades)

    def add_fills(self, trades: tuple[MyTrade, ...]) -> None:
        self.app.dashboard.fills.add_fills(trades, self.steps)

    # -- helpers ----------------------------------------------------------------------------

    def steps(self, symbol: str) -> tuple[Decimal, Decimal]:
        """``(tick size, step size)`` of ``symbol`` (fallbacks until exchangeInfo arrives)."""
        info = self.app.rules.symbol(symbol)
        tick = info.price_filter.tick_size if info and info.price_filter else FALLBACK_STEP
        step = info.lot_size.step_size if info and info.lot_size else FALLBACK_STEP
        return tick, step

    def _show_book(self, stale: bool = False) -> None:
        depth = self.depth
        if depth is None:
            return
        widget = self.app.dashboard.book
        tick, step = self.steps(self.app.symbol)
        group = tick * widget.group_multiple
        book = book_view(depth, self.app.symbol, group_step=group if widget.group_multiple > 1 else None)
        # Own orders are marked on the level they fall into (bids round down, asks up).
        own_bids = frozenset(snap_to_step(p, group, ROUND_FLOOR) for p in self._own_prices("BUY"))
        own_asks = frozenset(snap_to_step(p, group, ROUND_CEILING) for p in self._own_prices("SELL"))
        widget.update_book(BookDisplay(book, group, step, own_bids, own_asks,
                                       stale=stale or "book" in self._stale))

    def _own_prices(self, side: str) -> list[Decimal]:
        return [o.price for o in self.open_orders
                if o.symbol == self.app.symbol and o.price and str(o.side) == side]

    def rules_loaded(self) -> None:
        """Tick and step sizes are known now: repaint what was drawn with fallback decimals."""
        dash = self.app.dashboard
        dash.watchlist.tick_sizes = {s: self.steps(s)[0] for s in dash.watchlist.symbols}
        dash.watchlist.repaint()
        tick, step = self.steps(self.app.symbol)
        if dash.chart.klines:
            dash.chart.update_klines(dash.chart.symbol, dash.chart.klines, tick)
        if dash.tape.trades:
            dash.tape.update_trades(dash.tape.trades, tick, step)
        for table in (dash.open_orders, dash.fills, dash.history):
            table.restep(self.steps)
        self._show_book()

    def market_changed(self) -> None:
        self.depth = None
        self.app.dashboard.book.update_book(BookDisplay(None, *self.steps(self.app.symbol)))

    def regroup(self) -> None:
        self._show_book()

    @property
    def stale(self) -> frozenset[str]:
        """Feeds whose panes are greyed out until their next answer."""
        return frozenset(self._stale)

    def mark_stale(self, feed: str) -> None:
        """Grey out what a failing feed shows, so old data is never mistaken for live."""
        self._stale.add(feed)
        self._mark_panes(feed, stale=True)
        if feed == "book":
            self._show_book(stale=True)
        elif feed == "trades" and self.app.dashboard.tape.trades:
            tick, step = self.steps(self.app.symbol)
            self.app.dashboard.tape.update_trades(self.app.dashboard.tape.trades, tick, step, stale=True)

    def _mark_panes(self, feed: str, *, stale: bool) -> None:
        for pane in PANES_OF.get(feed, ()):
            widget = self.app.dashboard.query_one(f"#{pane}")
            widget.set_class(stale, "-stale")
            widget.border_subtitle = "stale — retrying" if stale else ""
