"""The stream layer: WebSocket market data and account events turned into the same typed
snapshots the REST polls produce, with per-stream health so the caller polls where a stream
is not served, down or stale. No Textual imports here.

- :class:`MarketStreams` (:mod:`.market_streams`) — one combined-stream connection: book,
  trades, klines of the followed market, ``!miniTicker@arr`` for the watchlist;
- :class:`OrderBookSync` (:mod:`.order_book_sync`) — the standard's local-book sync rules;
- :class:`AccountEvents` (:mod:`.account_events`) — order and balance events over the
  WebSocket API (listenKey fallback), gaps filled from REST;
- :class:`WsOrderVenue` (:mod:`.ws_orders`) — order.place / order.cancel over the WebSocket
  API with the three outcomes;
- :mod:`.stream_health` — mode (stream / polling), lag, reconnects per stream kind.
"""

from .account_events import (
    AccountEvents,
    AccountEvent,
    AccountResync,
    BalanceDelta,
    BalancesUpdate,
    ListStatusUpdate,
    OrderUpdate,
)
from .market_streams import MAX_STREAMS, MAX_WATCHLIST, MarketStreams
from .market_updates import BookUpdate, KlineUpdate, MarketUpdate, TickersUpdate, TradesUpdate
from .order_book_sync import BookOutOfSync, OrderBookSync
from .stream_health import HealthSnapshot, StreamHealth, StreamMode
from .ws_orders import WsOrderVenue

__all__ = [
    "MAX_STREAMS",
    "MAX_WATCHLIST",
    "AccountEvent",
    "AccountEvents",
    "AccountResync",
    "BalanceDelta",
    "BalancesUpdate",
    "BookOutOfSync",
    "BookUpdate",
    "HealthSnapshot",
    "KlineUpdate",
    "ListStatusUpdate",
    "MarketStreams",
    "MarketUpdate",
    "OrderBookSync",
    "OrderUpdate",
    "StreamHealth",
    "StreamMode",
    "TickersUpdate",
    "TradesUpdate",
    "WsOrderVenue",
]
