"""An account's whole trading history, fetched page by page (fills, orders, markets, P&L).

``myTrades`` and ``allOrders`` answer at most 1000 rows per symbol and request; exports and
P&L need all of them, so these helpers walk the pages (``fromId`` / ``orderId`` upwards)
until a short page, one symbol at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from .client import BtxClient
from .models_trading import MyTrade, Order
from .pnl import PnlReport, Prices, compute_pnl

__all__ = ["PAGE", "fetch_markets", "fetch_fills", "fetch_orders", "fetch_pnl"]

PAGE = 1000
"""The most rows the contract returns per request."""


async def fetch_markets(client: BtxClient) -> dict[str, tuple[str, str]]:
    """``symbol -> (base, quote)`` of every listed market."""
    info = await client.exchange_info()
    return {s.symbol: (s.base_asset, s.quote_asset) for s in info.symbols}


async def fetch_fills(client: BtxClient, symbols: Iterable[str], *, since_ms: int | None = None,
                      until_ms: int | None = None) -> list[MyTrade]:
    """Every fill of the account on ``symbols`` (time in [since, until]), by symbol then id."""
    out: list[MyTrade] = []
    for symbol in symbols:
        page = await client.my_trades(symbol, start_time=since_ms, limit=PAGE) if since_ms is not None \
            else await client.my_trades(symbol, from_id=0, limit=PAGE)
        while True:
            out.extend(t for t in page if (since_ms is None or t.time >= since_ms)
                       and (until_ms is None or t.time <= until_ms))
            if len(page) < PAGE:
                break
            page = await client.my_trades(symbol, from_id=page[-1].id + 1, limit=PAGE)
    return out


async def fetch_orders(client: BtxClient, symbols: Iterable[str], *, since_ms: int | None = None,
                       until_ms: int | None = None) -> list[Order]:
    """Every order of the account on ``symbols`` (placed in [since, until]), by symbol then id."""
    out: list[Order] = []
    for symbol in symbols:
        page = await client.all_orders(symbol, start_time=since_ms, limit=PAGE) if since_ms is not None \
            else await client.all_orders(symbol, order_id=0, limit=PAGE)
        while True:
            out.extend(o for o in page if (since_ms is None or (o.time or 0) >= since_ms)
                       and (until_ms is None or (o.time or 0) <= until_ms))
            if len(page) < PAGE:
                break
            page = await client.all_orders(symbol, order_id=page[-1].order_id + 1, limit=PAGE)
    return out


async def fetch_pnl(client: BtxClient, symbols: Sequence[str] | None = None, *,
                    valuation: str = "USDT") -> PnlReport:
    """P&L of the account's fills on ``symbols`` (default: every market), at the last prices."""
    markets = await fetch_markets(client)
    fills = await fetch_fills(client, symbols if symbols is not None else sorted(markets))
    last: dict[str, Decimal] = {p.symbol: p.price for p in await client.ticker_prices()}
    return compute_pnl(fills, markets, Prices(last, markets), last, valuation=valuation)
