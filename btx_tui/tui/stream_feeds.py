"""Streamed feeds: the stream layer's updates posted as the same messages the polls post.

Why here and not in the feeds: a stream is not a loop that fetches, it is a connection that
pushes. :class:`StreamFeeds` owns the two connections of the stream layer
(:class:`~btx_tui.api.streams.MarketStreams`, :class:`~btx_tui.api.streams.AccountEvents`),
turns every update into the typed message the corresponding poll would have posted
(``DepthFetched``, ``TradesFetched``, ``KlinesFetched``, ``TickersFetched``, the account's
``OpenOrdersFetched`` / ``AccountFetched`` after a resync, ``OrderStreamed`` /
``BalancesStreamed`` for single events), and tells the feed runner which feeds may idle
(:meth:`live`): exactly those whose stream is in ``STREAM`` mode. A stream that is not
served, down or stale (the layer's own health) puts its feeds back to polling at once.

The store stays the only writer: this module reads it (which market, which interval) and
posts messages, like a feed. It keeps the tape, the candles and the watchlist's tickers it
has streamed so each message is a whole snapshot (a newer one may replace a queued one).
Orders are journalled here exactly as the open-orders poll does (``record_observed``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from textual.message import Message

from btx_tui.api.models import AggTrade, Kline, Ticker24h
from btx_tui.api.models_trading import Order
from btx_tui.api.journal import SqliteJournal
from btx_tui.api.reconcile import record_observed
from btx_tui.api.signing import HmacSigner
from btx_tui.api.streams import (
    AccountEvent, AccountEvents, AccountResync, BalancesUpdate, BookUpdate, HealthSnapshot, KlineUpdate,
    MarketStreams, MarketUpdate, OrderUpdate, StreamMode, TickersUpdate, TradesUpdate,
)
from btx_tui.tui.connection_health import Connection
from btx_tui.tui.feeds import FeedRunner
from btx_tui.tui.fetchers import BOOK_LIMIT, KLINES_LIMIT, TRADES_LIMIT
from btx_tui.tui.messages import (
    AccountFetched, BalancesStreamed, DepthFetched, FillsFound, KlinesFetched, OpenOrdersFetched, OrderStreamed,
    TickersFetched, TradesFetched,
)
from btx_tui.tui.state import DashboardState

__all__ = ["FEEDS_OF_KIND", "KIND_LABELS", "StreamFeeds", "order_from_event"]

log = logging.getLogger(__name__)

FEEDS_OF_KIND: dict[str, tuple[str, ...]] = {
    "book": ("book",), "trades": ("trades",), "kline": ("klines",), "tickers": ("tickers",),
    "account": ("account", "orders"),
}
"""Which polling feeds each stream kind stands in for while it is live (history and prices
always poll: no stream carries them)."""

KIND_LABELS = {"book": "book", "trades": "tape", "kline": "chart", "tickers": "tick", "account": "acct"}
"""The status bar's word for each stream kind."""


def order_from_event(u: OrderUpdate) -> Order:
    """The order as an ``executionReport`` says it is now (the shape of an open-orders row).

    A cancel's report carries the cancel request's id in ``c`` and the order's own in ``C``:
    the order keeps its own id, as in the open orders.
    """
    own_id = u.orig_client_order_id if u.execution_type == "CANCELED" and u.orig_client_order_id \
        else u.client_order_id
    return Order.model_validate({
        "symbol": u.symbol, "orderId": u.order_id, "orderListId": u.order_list_id, "clientOrderId": own_id,
        "price": u.price, "origQty": u.orig_qty, "executedQty": u.cum_qty, "cummulativeQuoteQty": u.cum_quote,
        "status": u.status, "timeInForce": u.time_in_force, "type": u.type, "side": u.side,
        "stopPrice": u.stop_price, "time": u.order_time or u.transact_time, "updateTime": u.transact_time,
        "isWorking": u.is_working,
    })


class StreamFeeds:
    """The dashboard's two stream connections, posting poll-shaped messages to ``target``."""

    market_silence_s: float = 5.0
    """Silence on the market stream before it is probed (``MarketStreams(silence_s=)``)."""
    market_probe_timeout_s: float = 3.0
    """No answer to that probe within this long → the stream is stale and polling takes over."""

    def __init__(self, target: Any, client: Any, connection: Connection, state: DashboardState,
                 runner: FeedRunner, journal: Callable[[], SqliteJournal | None],
                 watchlist: Callable[[], tuple[str, ...]]) -> None:
        self.target = target
        self.client = client
        self.connection = connection
        self.state = state
        self.runner = runner
        self._journal = journal
        self._watchlist = watchlist
        self.market: MarketStreams | None = None
        self.account: AccountEvents | None = None
        self._tape: dict[int, AggTrade] = {}
        self._candles: dict[int, Kline] = {}
        self._tickers: dict[str, Ticker24h] = {}
        self._followed: tuple[str, str] | None = None
        self._watched: tuple[str, ...] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open both connections (each retries by itself; an exchange without streams → polling)."""
        self.market = MarketStreams(self.client, self._on_market, on_health=self._on_health,
                                    book_levels=BOOK_LIMIT, trades_seed=TRADES_LIMIT, klines_seed=KLINES_LIMIT,
                                    silence_s=self.market_silence_s, probe_timeout_s=self.market_probe_timeout_s)
        await self.market.start()
        self.follow()
        self.watch()
        signer = self._signer()
        if self.connection.api_key and signer is not None:
            self.account = AccountEvents(self.client, self.connection.api_key, signer, self._on_account,
                                         symbols=(self.state.symbol,), on_health=self._on_health)
            await self.account.start()

    def _signer(self) -> Any:
        secret = self.connection.api_secret
        if secret is None:
            return None
        return HmacSigner(secret) if isinstance(secret, SecretStr) else secret

    async def aclose(self) -> None:
        for conn in (self.account, self.market):
            if conn is not None:
                try:
                    await conn.aclose()
                except Exception:  # noqa: BLE001 - closing on exit must not raise
                    log.exception("closing a stream connection failed")

    # -- what to stream ----------------------------------------------------------------------

    def follow(self) -> None:
        """Stream the store's selected market at its chart interval (a no-op when unchanged)."""
        wanted = (self.state.symbol, self.state.chart_interval)
        if self.market is None or wanted == self._followed:
            return
        if self._followed is None or self._followed[0] != wanted[0]:
            self._tape = {}
        self._candles = {}
        self._followed = wanted
        self.market.follow(*wanted)
        if self.account is not None:
            self.account.follow_symbols([wanted[0]])

    def watch(self) -> None:
        """Stream the store's watchlist (at most 100 markets on one ``!miniTicker@arr``)."""
        symbols = tuple(self._watchlist())
        if self.market is None or symbols == self._watched:
            return
        try:
            self.market.watch(list(symbols))
        except ValueError as exc:  # more than 100 markets: the tickers keep polling for them
            log.warning("watchlist not streamed: %s", exc)
            return
        self._watched = symbols
        self._tickers = {s: t for s, t in self._tickers.items() if s in symbols}
        if self._tickers:  # a removed market leaves the watchlist now; an added one comes with its seed
            self._post(TickersFetched(tuple(self._tickers[s] for s in symbols if s in self._tickers)))

    # -- health ------------------------------------------------------------------------------

    def health(self) -> dict[str, HealthSnapshot]:
        """Every kind's health now (``account`` only with a key)."""
        out = dict(self.market.health()) if self.market is not None else {}
        if self.account is not None:
            out["account"] = self.account.health()
        return out

    def live(self, feed: str) -> bool:
        """Whether ``feed``'s data arrives by a live stream now (the feed may idle)."""
        if feed == "tickers" and self._watched != tuple(self._watchlist()):
            return False  # the stream does not (yet) carry the whole watchlist: poll it
        health = self.health()
        return any(feed in feeds and kind in health and health[kind].mode is StreamMode.STREAM
                   for kind, feeds in FEEDS_OF_KIND.items())

    def _on_health(self, _changed: object) -> None:
        """A mode changed: feeds whose stream is no longer live poll again at once."""
        for feeds in FEEDS_OF_KIND.values():
            for name in feeds:
                if not self.live(name):
                    self.runner.wake(name)

    # -- market updates → poll-shaped messages -------------------------------------------------

    def _post(self, message: Message) -> None:
        if self.runner.paused:
            return  # paused: the screen keeps what it shows, as with the polls
        feed = self.runner.feeds.get(getattr(message, "feed", ""))
        if feed is not None:
            feed.streamed()
        message.started = time.monotonic()  # type: ignore[attr-defined]
        self.target.post_message(message)

    def _on_market(self, update: MarketUpdate) -> None:
        if isinstance(update, BookUpdate):
            if update.symbol == self.state.symbol:
                self._post(DepthFetched(update.symbol, update.depth))
        elif isinstance(update, TradesUpdate):
            if update.symbol != self.state.symbol:
                return
            for trade in update.trades:
                self._tape[trade.agg_id] = trade
            for old in sorted(self._tape)[:-TRADES_LIMIT]:
                del self._tape[old]
            self._post(TradesFetched(update.symbol, tuple(self._tape[k] for k in sorted(self._tape))))
        elif isinstance(update, KlineUpdate):
            if (update.symbol, update.interval) != (self.state.symbol, self.state.chart_interval):
                return
            for kline in update.klines:
                self._candles[kline.open_time] = kline
            for old in sorted(self._candles)[:-KLINES_LIMIT]:
                del self._candles[old]
            self._post(KlinesFetched(update.symbol, update.interval,
                                     tuple(self._candles[k] for k in sorted(self._candles))))
        elif isinstance(update, TickersUpdate):
            self._tickers.update({t.symbol: t for t in update.tickers})
            order = self._watchlist()
            self._post(TickersFetched(tuple(self._tickers[s] for s in order if s in self._tickers)))

    # -- account events → the store, journalled as the polls journal them -----------------------

    def _on_account(self, event: AccountEvent) -> None:
        journal = self._journal()
        if isinstance(event, OrderUpdate):
            order = order_from_event(event)
            record_observed(journal, (order,))
            self._post(OrderStreamed(order))
        elif isinstance(event, BalancesUpdate):
            self._post(BalancesStreamed(event.balances))
        elif isinstance(event, AccountResync):
            # After every (re)subscribe: whatever happened while no event could arrive.
            record_observed(journal, event.open_orders, event.trades)
            self._post(OpenOrdersFetched(event.open_orders))
            self._post(AccountFetched(event.account))
            if event.trades:
                self.target.post_message(FillsFound(event.trades))
        # ListStatusUpdate: its legs arrive as executionReports; BalanceDelta (a deposit or a
        # withdrawal) is followed by outboundAccountPosition with the absolute balances.
