"""Past-tense messages: one class per thing that happened, each carrying typed, immutable data.

Data flows one way: feed worker / action worker → service layer → pydantic snapshot →
message → :class:`~btx_tui.tui.state.DashboardState` (the only writer of each fact) →
widgets, which are told through the store's signals. A newer snapshot of a feed replaces an
older one still queued (:meth:`Fetched.can_replace`), so a slow screen never works through a
backlog of stale data; events (an order placed, a cancel) are never coalesced.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

from textual.message import Message

from btx_tui.api.models import AggTrade, Depth, ExchangeInfo, Kline, Ticker24h
from btx_tui.api.models_trading import Account, Balance, MyTrade, Order
from btx_tui.api.order_changes import AmendOutcome, AmendRequest, CancelReplaceOutcome, CancelReplaceRequest
from btx_tui.api.order_lists import ListPlacementResult, OrderListRequest
from btx_tui.api.orders import OrderRequest, PlacementResult
from btx_tui.api.reconcile import ReconcileReport

__all__ = [
    "FillHistoryLoaded",
    "AccountFetched", "BalancesStreamed", "DepthFetched", "FeedFailed", "Fetched", "FillsFound", "HealthChecked", "HistoryFetched",
    "IntervalChosen", "JournalChanged", "KlinesFetched", "MarketSelected", "MarketsLoaded", "OpenOrdersFetched", "OrderConfirmed",
    "OrderAmended", "OrderChangeConfirmed", "OrderListConfirmed", "OrderListPlaced", "OrderListSubmitted",
    "OrderNotSent", "OrderPlaced", "OrderReplaced", "OrderStreamed", "OrderSubmitted", "OrdersCanceled", "PricesFetched", "Reconciled",
    "TickersFetched", "TradesFetched",
]


# -- snapshots from the polling feeds ---------------------------------------------------------


class Fetched(Message):
    """A feed fetched a fresh snapshot (base class: one subclass per feed).

    Attributes:
        started: ``time.monotonic()`` when the fetch began (None: unknown), so a snapshot taken
            before something the app learned since (an order just placed) cannot erase it.
        latency_ms: round trip of the request that fetched it (set by the feed runner).
    """

    feed: ClassVar[str] = ""
    """The feed's name (``tickers``, ``book``, …): which panes it fills, which health it proves."""

    def __init__(self) -> None:
        super().__init__()
        self.started: float | None = None
        self.latency_ms: float | None = None

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


class TickersFetched(Fetched):
    """24h tickers of the watchlist."""

    feed = "tickers"

    def __init__(self, tickers: tuple[Ticker24h, ...]) -> None:
        super().__init__()
        self.tickers = tickers


class DepthFetched(Fetched):
    """The order book of ``symbol``."""

    feed = "book"

    def __init__(self, symbol: str, depth: Depth) -> None:
        super().__init__()
        self.symbol = symbol
        self.depth = depth


class TradesFetched(Fetched):
    """Recent (aggregate) trades of ``symbol``."""

    feed = "trades"

    def __init__(self, symbol: str, trades: tuple[AggTrade, ...]) -> None:
        super().__init__()
        self.symbol = symbol
        self.trades = trades


class KlinesFetched(Fetched):
    """Candles of ``symbol`` at ``interval``."""

    feed = "klines"

    def __init__(self, symbol: str, interval: str, klines: tuple[Kline, ...]) -> None:
        super().__init__()
        self.symbol = symbol
        self.interval = interval
        self.klines = klines


class AccountFetched(Fetched):
    """Balances, commission rates and permissions of the account."""

    feed = "account"

    def __init__(self, account: Account) -> None:
        super().__init__()
        self.account = account


class PricesFetched(Fetched):
    """Last price of every symbol (values balances)."""

    feed = "prices"

    def __init__(self, prices: Mapping[str, Decimal]) -> None:
        super().__init__()
        self.prices = dict(prices)


class OpenOrdersFetched(Fetched):
    """Every open order of the account."""

    feed = "orders"

    def __init__(self, orders: tuple[Order, ...]) -> None:
        super().__init__()
        self.orders = orders


class OrderStreamed(Fetched):
    """One order changed, as an account event reported it (the order as it is now).

    An event, not a snapshot: never coalesced (each one changes one order of the open orders).
    """

    feed = "orders"

    def __init__(self, order: Order) -> None:
        super().__init__()
        self.order = order

    def can_replace(self, message: Message) -> bool:
        return False


class BalancesStreamed(Fetched):
    """Balances of the assets one account event changed (absolute free/locked)."""

    feed = "account"

    def __init__(self, balances: tuple[Balance, ...]) -> None:
        super().__init__()
        self.balances = balances

    def can_replace(self, message: Message) -> bool:
        return False


class HistoryFetched(Fetched):
    """Recent orders and own trades of ``symbol``."""

    feed = "history"

    def __init__(self, symbol: str, orders: tuple[Order, ...], trades: tuple[MyTrade, ...]) -> None:
        super().__init__()
        self.symbol = symbol
        self.orders = orders
        self.trades = trades


class FeedFailed(Message):
    """A feed's fetch failed; the worker backs off and tries again by itself."""

    def __init__(self, feed: str, error: BaseException, retry_in_s: float) -> None:
        super().__init__()
        self.feed = feed
        self.error = error
        self.retry_in_s = retry_in_s

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedFailed) and message.feed == self.feed


# -- the session ----------------------------------------------------------------------------


class MarketsLoaded(Message):
    """``exchangeInfo`` and the key's permissions arrived: the session has started."""

    def __init__(self, info: ExchangeInfo, permissions: frozenset[str]) -> None:
        super().__init__()
        self.info = info
        self.permissions = permissions


class MarketSelected(Message):
    """The trader chose ``symbol`` for the book, chart, trades and order form."""

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol


class IntervalChosen(Message):
    """The trader chose the chart's candle ``interval``."""

    def __init__(self, interval: str) -> None:
        super().__init__()
        self.interval = interval


class WatchlistChanged(Message):
    """The trader added a market to the watchlist or removed one: ``symbols``, in order."""

    def __init__(self, symbols: tuple[str, ...]) -> None:
        super().__init__()
        self.symbols = symbols


class HealthChecked(Message):
    """The clock looked at the feeds: the connection's state and the feeds silent for too long.

    Attributes:
        connection: ``connecting`` | ``live`` | ``degraded`` | ``down`` | ``paused``.
        last_error: a few words about the first failing feed's error ("" if none).
        overdue: feeds that neither answered nor failed for longer than their timeout.
    """

    def __init__(self, connection: str, last_error: str, overdue: frozenset[str]) -> None:
        super().__init__()
        self.connection = connection
        self.last_error = last_error
        self.overdue = overdue

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HealthChecked)


# -- trading -------------------------------------------------------------------------------


class OrderConfirmed(Message):
    """The trader answered y to the order form's confirmation: ``request`` is to be sent."""

    def __init__(self, request: OrderRequest) -> None:
        super().__init__()
        self.request = request


class OrderSubmitted(Message):
    """``request`` is on its way: its row shows "unknown — checking" until the outcome is known."""

    def __init__(self, request: OrderRequest) -> None:
        super().__init__()
        self.request = request


class OrderNotSent(Message):
    """``client_order_id`` never left: its intent could not be written down (``reason``)."""

    def __init__(self, client_order_id: str, reason: str) -> None:
        super().__init__()
        self.client_order_id = client_order_id
        self.reason = reason


class OrderPlaced(Message):
    """An order submission finished: accepted, rejected, or unknown-then-resolved."""

    def __init__(self, result: PlacementResult) -> None:
        super().__init__()
        self.result = result


class OrderListConfirmed(Message):
    """The trader answered y to the OCO form's confirmation: ``request`` (both legs) is to be sent."""

    def __init__(self, request: OrderListRequest) -> None:
        super().__init__()
        self.request = request


class OrderListSubmitted(Message):
    """``request`` is on its way: each leg shows "unknown — checking" until the outcome is known."""

    def __init__(self, request: OrderListRequest) -> None:
        super().__init__()
        self.request = request


class OrderListPlaced(Message):
    """An order-list placement finished: accepted, rejected, or unknown-then-resolved."""

    def __init__(self, result: ListPlacementResult) -> None:
        super().__init__()
        self.result = result


class OrderChangeConfirmed(Message):
    """The trader confirmed a change of an open order: an amend (quantity down, priority kept)
    or a cancel-replace (a new order in its place, priority lost)."""

    def __init__(self, request: AmendRequest | CancelReplaceRequest) -> None:
        super().__init__()
        self.request = request


class OrderAmended(Message):
    """An amend (keepPriority) finished: accepted, rejected, or unknown-then-resolved."""

    def __init__(self, outcome: AmendOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class OrderReplaced(Message):
    """A cancel-replace finished; ``outcome`` is about the new order (and says if the old one went)."""

    def __init__(self, outcome: CancelReplaceOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class OrdersCanceled(Message):
    """Cancels finished; ``results`` pairs each order's description with its error (None: done)."""

    def __init__(self, results: list[tuple[str, BaseException | None]]) -> None:
        super().__init__()
        self.results = results


class FillsFound(Message):
    """Own trades not seen before, found after an open order vanished or grew its executed quantity."""

    def __init__(self, trades: tuple[MyTrade, ...]) -> None:
        super().__init__()
        self.trades = trades


class FillHistoryLoaded(Message):
    """The account's whole fill history on the markets it holds, fetched once at the session's
    start (pages of ``myTrades``): the base of the P&L; later fills arrive as usual."""

    def __init__(self, trades: tuple[MyTrade, ...]) -> None:
        super().__init__()
        self.trades = trades


class JournalChanged(Message):
    """The order journal was opened, or written outside the dashboard's own actions (another
    process, a test): its unresolved intents are to be read again."""


class Reconciled(Message):
    """Reconciliation of the order journal with the exchange finished (``report``: what changed)."""

    def __init__(self, report: ReconcileReport) -> None:
        super().__init__()
        self.report = report
