"""What each polling feed fetches, and the typed message each snapshot travels in.

The fetches run inside feed workers and only call the service layer; they read the store
(which market, which interval) but never write it. The open-orders and history polls go
through :mod:`btx_tui.api.reconcile`, which records what they saw in the order journal (the
journal's one writer is the service layer). Each snapshot names what it is about
(the symbol, the interval), so the store can drop an answer about a market the trader
has since left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from btx_tui.api.journal import SqliteJournal
from btx_tui.api.reconcile import observed_history, observed_open_orders
from btx_tui.config import UiSettings
from btx_tui.tui.feeds import Feed
from btx_tui.tui.messages import (
    AccountFetched, DepthFetched, HistoryFetched, KlinesFetched, OpenOrdersFetched, PricesFetched, TickersFetched,
    TradesFetched,
)
from btx_tui.tui.state import DashboardState

__all__ = ["BOOK_LIMIT", "KLINES_LIMIT", "TRADES_LIMIT", "Fetchers"]

BOOK_LIMIT = 100
"""Depth levels fetched (weight 5): enough to fill a tall book even when grouped."""
TRADES_LIMIT = 60
KLINES_LIMIT = 240


class Fetchers:
    """The fetch of every feed, on the client the app has now (``client()``)."""

    def __init__(self, client: Callable[[], Any], state: DashboardState,
                 journal: Callable[[], SqliteJournal | None] = lambda: None) -> None:
        self._client = client
        self._journal = journal
        self.state = state

    @property
    def client(self) -> Any:
        return self._client()

    async def tickers(self) -> TickersFetched:
        return TickersFetched(await self.client.tickers_24hr(list(self.state.watchlist)))

    async def book(self) -> DepthFetched:
        symbol = self.state.symbol
        return DepthFetched(symbol, await self.client.depth(symbol, BOOK_LIMIT))

    async def trades(self) -> TradesFetched:
        # Aggregate trades carry what the tape shows at a tenth of the weight of /trades.
        symbol = self.state.symbol
        return TradesFetched(symbol, await self.client.agg_trades(symbol, TRADES_LIMIT))

    async def klines(self) -> KlinesFetched:
        symbol, interval = self.state.symbol, self.state.chart_interval
        return KlinesFetched(symbol, interval, await self.client.klines(symbol, interval, KLINES_LIMIT))

    async def account(self) -> AccountFetched:
        return AccountFetched(await self.client.account(omit_zero_balances=True))

    async def prices(self) -> PricesFetched:
        return PricesFetched({p.symbol: p.price for p in await self.client.ticker_prices()})

    async def orders(self) -> OpenOrdersFetched:
        return OpenOrdersFetched(await observed_open_orders(self.client, self._journal()))

    async def history(self) -> HistoryFetched:
        symbol = self.state.symbol
        orders, trades = await observed_history(self.client, self._journal(), symbol, limit=100)
        return HistoryFetched(symbol, orders, trades)

    def feeds(self, ui: UiSettings, signed: Callable[[], bool], timeout_s: float) -> list[Feed]:
        """One feed per snapshot, at the intervals of ``ui``; signed feeds idle without a key."""
        feeds = [
            Feed("tickers", ui.tickers_interval_s, self.tickers),
            Feed("book", ui.book_interval_s, self.book),
            Feed("trades", ui.trades_interval_s, self.trades),
            Feed("klines", ui.klines_interval_s, self.klines),
            Feed("account", ui.account_interval_s, self.account, signed),
            Feed("prices", ui.prices_interval_s, self.prices),
            Feed("orders", ui.orders_interval_s, self.orders, signed),
            Feed("history", ui.history_interval_s, self.history, signed),
        ]
        for feed in feeds:
            feed.timeout_s = timeout_s
        return feeds
