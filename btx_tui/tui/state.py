"""The dashboard's state store: every fact the screens show, and the only code that writes it.

Why a store: the facts (markets and their rules, the selected market, the book, the account,
the open orders, the orders in flight, the feeds' health) used to be scattered over the feed
router, the app and the widgets, and two places wrote the open orders. Here each fact has one
writer — :meth:`DashboardState.apply`, fed only with the typed past-tense messages of
:mod:`btx_tui.tui.messages` — and everyone else reads it and is *told* of changes through the
store's :class:`~textual.signal.Signal` s (the dashboard repaints its panes, an open order form
re-evaluates its draft) instead of polling.

Why a plain object rather than a widget-less ``MessagePump`` with reactives: the messages
already travel through the app's queue (coalescing, ``run_test(message_hook=…)`` sees them);
a second queue would only reorder them (an ``OrderPlaced`` overtaken by an older
``OpenOrdersFetched``), and a plain object is testable without a running app. Signals need a
DOM node as their owner: the app lends itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.signal import Signal

from btx_tui.api.order_lists import contingency_of
from btx_tui.api.models import AggTrade, Depth, ExchangeInfo, Kline, SymbolInfo, Ticker24h
from btx_tui.api.models_trading import Account, MyTrade, Order, OrderStatus
from btx_tui.api.orders import Outcome
from btx_tui.api.pnl import PnlReport, Prices, SessionPnl, compute_pnl
from btx_tui.tui.messages import (
    AccountFetched, BalancesStreamed, DepthFetched, FeedFailed, Fetched, FillHistoryLoaded, FillsFound, HealthChecked, HistoryFetched, IntervalChosen,
    JournalChanged,
    KlinesFetched, MarketSelected, MarketsLoaded, OpenOrdersFetched, OrderAmended, OrderListPlaced,
    OrderListSubmitted, OrderNotSent, OrderPlaced, OrderReplaced, OrdersCanceled, OrderStreamed, OrderSubmitted, PricesFetched,
    Reconciled, TickersFetched, TradesFetched, WatchlistChanged,
)

if TYPE_CHECKING:
    from textual.dom import DOMNode

__all__ = ["FACTS", "FALLBACK_STEP", "DashboardState", "MarketRules", "fill_key"]

FALLBACK_STEP = Decimal("0.00000001")
"""Tick and step size used until ``exchangeInfo`` says the market's own."""

OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_NEW})

FACTS = ("rules", "permissions", "symbol", "chart_interval", "watchlist", "tickers", "depth", "trades", "klines", "account",
         "prices", "open_orders", "history_orders", "fills", "in_flight", "connection", "connection_error", "stale",
         "pnl_fills", "pnl", "session_pnl")
"""The store's facts: attributes only :class:`DashboardState` assigns (a test checks it)."""


def fill_key(trade: MyTrade) -> tuple[str, int, int]:
    """A fill's identity: a self-trade is two fills with one trade id."""
    return trade.symbol, trade.id, trade.order_id


@dataclass(frozen=True)
class MarketRules:
    """What the dashboard needs from ``exchangeInfo``, by symbol."""

    info: ExchangeInfo | None = None

    def symbol(self, name: str) -> SymbolInfo | None:
        if self.info is None:
            return None
        try:
            return self.info.symbol(name)
        except KeyError:
            return None

    @property
    def symbols(self) -> list[str]:
        return [s.symbol for s in self.info.symbols] if self.info else []


class DashboardState:
    """The facts of one dashboard session; :meth:`apply` is their only writer."""

    def __init__(self, owner: DOMNode, *, symbol: str, chart_interval: str, watchlist: tuple[str, ...] = (),
                 journal_pending: Callable[[], Mapping[str, str]] = dict) -> None:
        """
        Args:
            owner: the node that owns the signals (the app).
            symbol: the market selected at start.
            chart_interval: the chart's candle interval at start.
            watchlist: the markets of the watchlist at start, in order.
            journal_pending: reads the order journal's unresolved intents (client id →
                "symbol|side|type"); the journal is written by the service layer alone.
        """
        self._journal_pending = journal_pending
        self.rules = MarketRules()
        self.permissions: frozenset[str] = frozenset()
        self.symbol = symbol
        self.chart_interval = chart_interval
        self.watchlist: tuple[str, ...] = watchlist
        self.tickers: tuple[Ticker24h, ...] = ()
        self.depth: Depth | None = None
        """The book of :attr:`symbol` (None until fetched, and after a market change)."""
        self.trades: tuple[AggTrade, ...] = ()
        self.klines: tuple[Kline, ...] = ()
        self.account: Account | None = None
        self.prices: dict[str, Decimal] = {}
        self.open_orders: tuple[Order, ...] = ()
        """Every open order of the account: the latest poll plus orders placed since it started."""
        self.history_orders: tuple[Order, ...] = ()
        self.fills: dict[tuple[str, int, int], MyTrade] = {}
        """Own trades seen, by :func:`fill_key`."""
        self.in_flight: dict[str, str] = {}
        """Client order id → "symbol|side|type" of orders sent whose answer has not arrived."""
        self.connection = "connecting"
        self.connection_error = ""
        self.stale: frozenset[str] = frozenset()
        """Feeds whose panes are greyed out until their next answer."""
        self.pnl_fills: dict[tuple[str, int, int], MyTrade] | None = None
        """Every own fill on the markets held (the history loaded at start, then each new fill);
        None until the history is loaded: a P&L from part of the fills would be wrong."""
        self.pnl: PnlReport | None = None
        """Average cost, realized and unrealized P&L per market and asset, valued in USDT."""
        self.session_pnl: Decimal | None = None
        """P&L since the first report of this session (the app's launch), in USDT."""
        self._session_start: SessionPnl | None = None
        self._placed: dict[str, tuple[Order, float]] = {}
        """Client order id → (open order as the placement answer had it, ``time.monotonic()`` when
        it was learned); kept until an open-orders poll started after that moment."""

        self.markets_loaded: Signal[DashboardState] = Signal(owner, "markets_loaded")
        self.market_selected: Signal[DashboardState] = Signal(owner, "market_selected")
        self.tickers_changed: Signal[DashboardState] = Signal(owner, "tickers_changed")
        self.watchlist_changed: Signal[DashboardState] = Signal(owner, "watchlist_changed")
        self.book_changed: Signal[DashboardState] = Signal(owner, "book_changed")
        """The book or the own orders marked on it changed."""
        self.trades_changed: Signal[DashboardState] = Signal(owner, "trades_changed")
        self.klines_changed: Signal[DashboardState] = Signal(owner, "klines_changed")
        self.balances_changed: Signal[DashboardState] = Signal(owner, "balances_changed")
        """The account or the prices valuing it changed."""
        self.open_orders_changed: Signal[DashboardState] = Signal(owner, "open_orders_changed")
        """Open orders or unresolved intents changed."""
        self.history_changed: Signal[DashboardState] = Signal(owner, "history_changed")
        self.fills_added: Signal[tuple[MyTrade, ...]] = Signal(owner, "fills_added")
        self.stale_changed: Signal[tuple[str, bool]] = Signal(owner, "stale_changed")
        self.health_changed: Signal[DashboardState] = Signal(owner, "health_changed")
        self.pnl_changed: Signal[DashboardState] = Signal(owner, "pnl_changed")
        """The P&L report or the session P&L changed."""

        self._appliers: dict[type[Message], Callable[[Any], None]] = {
            MarketsLoaded: self._markets_loaded, MarketSelected: self._market_selected,
            IntervalChosen: self._interval_chosen, WatchlistChanged: self._watchlist, TickersFetched: self._tickers, DepthFetched: self._depth,
            TradesFetched: self._trades, KlinesFetched: self._klines, AccountFetched: self._account,
            PricesFetched: self._prices, OpenOrdersFetched: self._open_orders, HistoryFetched: self._history,
            FeedFailed: self._feed_failed, HealthChecked: self._health, OrderSubmitted: self._submitted,
            OrderNotSent: self._not_sent, OrderPlaced: self._placed_order, OrdersCanceled: self._canceled,
            OrderListSubmitted: self._list_submitted, OrderListPlaced: self._list_placed,
            OrderAmended: self._amended, OrderReplaced: self._replaced,
            FillsFound: self._fills_found, FillHistoryLoaded: self._fill_history, OrderStreamed: self._order_streamed,
            BalancesStreamed: self._balances_streamed, Reconciled: self._reconciled, JournalChanged: self._reconciled,
        }

    # -- the one writer ---------------------------------------------------------------------

    def apply(self, message: Message) -> None:
        """Change the facts ``message`` reports, then tell whoever subscribed.

        Raises:
            TypeError: for a message the store does not know (a bug, never silently ignored).
        """
        applier = self._appliers.get(type(message))
        if applier is None:
            raise TypeError(f"DashboardState cannot apply {type(message).__name__}")
        if isinstance(message, Fetched) and message.feed in self.stale:
            self._set_stale(message.feed, False)
        applier(message)

    # -- reading ----------------------------------------------------------------------------

    @property
    def pending_intents(self) -> dict[str, str]:
        """Orders sent whose outcome is not known yet: the journal's (they survive a restart)
        plus those in flight now; client id → "symbol|side|type"."""
        return {**self._journal_pending(), **self.in_flight}

    def steps(self, symbol: str) -> tuple[Decimal, Decimal]:
        """``(tick size, step size)`` of ``symbol`` (fallbacks until exchangeInfo arrives)."""
        info = self.rules.symbol(symbol)
        tick = info.price_filter.tick_size if info and info.price_filter else FALLBACK_STEP
        step = info.lot_size.step_size if info and info.lot_size else FALLBACK_STEP
        return tick, step

    def list_legs(self, order: Order) -> tuple[Order, ...]:
        """The open orders of ``order``'s list (just ``order`` if it is in none).

        Open order lists are derived from the open orders' ``orderListId`` rather than polled
        from ``openOrderList``: the legs carry everything the panes need, and a second signed
        poll would cost weight on every open-orders cycle for nothing new.
        """
        if not order.in_list:
            return (order,)
        return tuple(o for o in self.open_orders
                     if o.symbol == order.symbol and o.order_list_id == order.order_list_id) or (order,)

    def own_prices(self, side: str) -> list[Decimal]:
        """Prices of the account's open orders on the selected market on ``side`` (BUY/SELL)."""
        return [o.price for o in self.open_orders
                if o.symbol == self.symbol and o.price and str(o.side) == side and not o.is_untriggered]

    def stop_levels(self) -> list[Decimal]:
        """Stop prices of the account's untriggered stop orders on the selected market (the
        book and the chart mark them apart from resting orders: they are not in the book)."""
        return [o.stop_price for o in self.open_orders
                if o.symbol == self.symbol and o.stop_price and o.is_untriggered]

    # -- appliers ---------------------------------------------------------------------------

    def _markets_loaded(self, m: MarketsLoaded) -> None:
        self.rules = MarketRules(m.info)
        self.permissions = m.permissions
        self.markets_loaded.publish(self)
        self._recompute_pnl()

    def _market_selected(self, m: MarketSelected) -> None:
        if m.symbol == self.symbol:
            return
        self.symbol = m.symbol
        self.depth = None  # never paint the old market's book under the new title
        self.market_selected.publish(self)
        self.book_changed.publish(self)

    def _interval_chosen(self, m: IntervalChosen) -> None:
        self.chart_interval = m.interval
        self.market_selected.publish(self)

    def _watchlist(self, m: WatchlistChanged) -> None:
        if not m.symbols or m.symbols == self.watchlist:
            return  # the watchlist never empties
        self.watchlist = m.symbols
        self.tickers = tuple(t for t in self.tickers if t.symbol in m.symbols)
        self.watchlist_changed.publish(self)

    def _tickers(self, m: TickersFetched) -> None:
        self.tickers = m.tickers
        self.tickers_changed.publish(self)

    def _depth(self, m: DepthFetched) -> None:
        if m.symbol != self.symbol:
            return  # a slow answer about a market the trader has left
        self.depth = m.depth
        self.book_changed.publish(self)

    def _trades(self, m: TradesFetched) -> None:
        if m.symbol != self.symbol:
            return
        self.trades = m.trades
        self.trades_changed.publish(self)

    def _klines(self, m: KlinesFetched) -> None:
        if (m.symbol, m.interval) != (self.symbol, self.chart_interval):
            return
        self.klines = m.klines
        self.klines_changed.publish(self)

    def _account(self, m: AccountFetched) -> None:
        self.account = m.account
        self.balances_changed.publish(self)

    def _balances_streamed(self, m: BalancesStreamed) -> None:
        """Merge the balances an account event changed into the account (known once polled/resynced)."""
        if self.account is None:
            return  # the account stream's resync brings the whole account first
        changed = {b.asset: b for b in m.balances}
        kept = [changed.pop(b.asset, b) for b in self.account.balances]
        balances = tuple(b for b in (*kept, *changed.values()) if b.free or b.locked)
        self.account = self.account.model_copy(update={"balances": balances})
        self.balances_changed.publish(self)

    def _prices(self, m: PricesFetched) -> None:
        self.prices = m.prices
        self.balances_changed.publish(self)
        self._recompute_pnl()

    def _open_orders(self, m: OpenOrdersFetched) -> None:
        self._set_open_orders(self._with_placed(m.orders, m.started))

    def _order_streamed(self, m: OrderStreamed) -> None:
        """An account event: the order is open (added / replaced) or done (removed)."""
        order = m.order
        others = tuple(o for o in self.open_orders if o.client_order_id != order.client_order_id)
        if order.status in OPEN_STATUSES:
            self._set_open_orders((*others, order))
        else:
            self._placed.pop(order.client_order_id, None)  # an older poll must not bring it back
            if len(others) != len(self.open_orders):
                self._set_open_orders(others)

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

    def _set_open_orders(self, orders: tuple[Order, ...]) -> None:
        self.open_orders = orders
        self.open_orders_changed.publish(self)
        self.book_changed.publish(self)  # own orders are marked on the book

    def _history(self, m: HistoryFetched) -> None:
        if m.symbol != self.symbol:
            return
        self.history_orders = m.orders
        self.history_changed.publish(self)
        self._add_fills(m.trades)

    def _fills_found(self, m: FillsFound) -> None:
        self._add_fills(m.trades)

    def _add_fills(self, trades: Iterable[MyTrade]) -> None:
        new = tuple(t for t in trades if fill_key(t) not in self.fills)
        if new:
            self.fills = {**self.fills, **{fill_key(t): t for t in new}}
            self.fills_added.publish(new)
        if self.pnl_fills is not None:
            fresh = {fill_key(t): t for t in trades if fill_key(t) not in self.pnl_fills}
            if fresh:
                self.pnl_fills = {**self.pnl_fills, **fresh}
                self._recompute_pnl()

    def _fill_history(self, m: FillHistoryLoaded) -> None:
        # Fills seen while the history loaded are kept: the history may predate them.
        self.pnl_fills = {**{fill_key(t): t for t in m.trades}, **self.fills}
        self._recompute_pnl()

    def _recompute_pnl(self) -> None:
        """The P&L of :attr:`pnl_fills` at the last prices; the first one is the session's start."""
        if self.pnl_fills is None or self.rules.info is None or not self.prices:
            return
        markets = {s.symbol: (s.base_asset, s.quote_asset) for s in self.rules.info.symbols}
        trades = [t for t in self.pnl_fills.values() if t.symbol in markets]
        self.pnl = compute_pnl(trades, markets, Prices(self.prices, markets), self.prices)
        if self._session_start is None:
            self._session_start = SessionPnl(self.pnl)
        self.session_pnl = self._session_start.since_start(self.pnl)
        self.pnl_changed.publish(self)

    def _feed_failed(self, m: FeedFailed) -> None:
        self._set_stale(m.feed, True)

    def _health(self, m: HealthChecked) -> None:
        for feed in sorted(m.overdue - self.stale):
            self._set_stale(feed, True)
        self.connection, self.connection_error = m.connection, m.last_error
        self.health_changed.publish(self)

    def _set_stale(self, feed: str, stale: bool) -> None:
        self.stale = self.stale | {feed} if stale else self.stale - {feed}
        self.stale_changed.publish((feed, stale))

    def _submitted(self, m: OrderSubmitted) -> None:
        r = m.request
        self.in_flight = {**self.in_flight, r.client_order_id: f"{r.symbol}|{r.side}|{r.type}"}
        self.open_orders_changed.publish(self)

    def _not_sent(self, m: OrderNotSent) -> None:
        self._settle(m.client_order_id)
        self.open_orders_changed.publish(self)

    def _settle(self, client_order_id: str) -> None:
        self.in_flight = {k: v for k, v in self.in_flight.items() if k != client_order_id}

    def _placed_order(self, m: OrderPlaced) -> None:
        """Show an order the exchange just accepted at once, without waiting for a poll."""
        result = m.result
        self._settle(result.client_order_id)
        order = result.order
        if result.outcome is not Outcome.ACCEPTED or order is None or order.status not in OPEN_STATUSES:
            self.open_orders_changed.publish(self)
            return
        if order.time is None:  # a placement answer stamps transactTime; the table sorts by time
            order = order.model_copy(update={"time": order.transact_time})
        self._placed[order.client_order_id] = (order, time.monotonic())
        self._set_open_orders((*(o for o in self.open_orders if o.client_order_id != order.client_order_id),
                               order))

    def _list_submitted(self, m: OrderListSubmitted) -> None:
        """Every leg of a list on its way shows as "unknown — checking" (like a single order)."""
        contingency = contingency_of(m.request)
        self.in_flight = {**self.in_flight, **{
            leg.client_order_id: f"{leg.symbol}|{leg.side}|{contingency} {leg.type}" for leg in m.request.leg_requests()}}
        self.open_orders_changed.publish(self)

    def _list_placed(self, m: OrderListPlaced) -> None:
        """The legs' outcome is known (or journalled as unknown): the next poll shows the legs."""
        for leg in m.result.request.leg_requests():
            self._settle(leg.client_order_id)
        self.open_orders_changed.publish(self)

    def _amended(self, m: OrderAmended) -> None:
        """Nothing to write: the next open-orders poll (woken at once) shows the new quantity."""

    def _replaced(self, m: OrderReplaced) -> None:
        """The replacement is placed like any order (shown at once if accepted)."""
        self._placed_order(OrderPlaced(m.outcome.placement()))

    def _canceled(self, m: OrdersCanceled) -> None:
        """Nothing to write: the next open-orders poll (woken at once) is the exchange's word."""

    def _reconciled(self, m: Reconciled | JournalChanged) -> None:
        self.open_orders_changed.publish(self)  # the journal's unresolved intents may have changed
