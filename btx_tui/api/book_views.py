"""Market-data views the dashboard draws: order book with depth, watchlist, chart, tape.

The aggregation functions are pure (no I/O) and return frozen models, so widgets can diff
snapshots cheaply and tests need no server. The small ``fetch_*`` coroutines at the bottom
are the only I/O: one request each, then a pure function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import TYPE_CHECKING

from .models import Depth, Frozen, Kline, PriceLevel, Ticker24h, Trade
from .preflight import snap_to_step

if TYPE_CHECKING:
    from .client import BtxClient

__all__ = [
    "BookLevel",
    "BookView",
    "ChartView",
    "TapeTrade",
    "TickerSet",
    "book_view",
    "chart_view",
    "fetch_book",
    "fetch_chart",
    "fetch_tape",
    "fetch_watchlist",
    "group_levels",
    "grouping_steps",
    "tape",
    "ticker_set",
]


class BookLevel(Frozen):
    """One displayed book row with running totals from the best price outward."""

    price: Decimal
    qty: Decimal
    cumulative_qty: Decimal
    cumulative_quote: Decimal


class BookView(Frozen):
    """An order-book snapshot ready to draw.

    ``spread_pct`` is the spread relative to the mid price, in percent.
    """

    symbol: str
    last_update_id: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    best_bid: Decimal | None
    best_ask: Decimal | None
    mid: Decimal | None
    spread: Decimal | None
    spread_pct: Decimal | None
    group_step: Decimal | None = None

    @property
    def max_cumulative_qty(self) -> Decimal:
        """The largest running total on either side (scales the depth bars)."""
        tops = [side[-1].cumulative_qty for side in (self.bids, self.asks) if side]
        return max(tops, default=Decimal(0))


def group_levels(levels: Iterable[PriceLevel], step: Decimal, *, bids: bool) -> tuple[PriceLevel, ...]:
    """Aggregate levels onto a coarser price grid, best first.

    Bids are bucketed down and asks up, so a grouped level never shows a better price than
    what is really available.
    """
    if step <= 0:
        raise ValueError("group step must be positive")
    rounding = ROUND_FLOOR if bids else ROUND_CEILING
    buckets: dict[Decimal, Decimal] = {}
    for level in levels:
        key = snap_to_step(level.price, step, rounding)
        buckets[key] = buckets.get(key, Decimal(0)) + level.qty
    ordered = sorted(buckets.items(), key=lambda kv: kv[0], reverse=bids)
    return tuple(PriceLevel(price=p, qty=q) for p, q in ordered)


def grouping_steps(tick_size: Decimal, count: int = 5) -> tuple[Decimal, ...]:
    """Sensible grouping choices for a symbol: tick × 1, 10, 100, …"""
    if tick_size <= 0:
        return ()
    return tuple(snap_to_step(tick_size * (10 ** i), tick_size, ROUND_FLOOR) for i in range(count))


def _cumulate(levels: Sequence[PriceLevel]) -> tuple[BookLevel, ...]:
    out: list[BookLevel] = []
    cum_qty = Decimal(0)
    cum_quote = Decimal(0)
    for level in levels:
        cum_qty += level.qty
        cum_quote += level.qty * level.price
        out.append(BookLevel(price=level.price, qty=level.qty, cumulative_qty=cum_qty,
                             cumulative_quote=cum_quote))
    return tuple(out)


def book_view(depth: Depth, symbol: str, *, group_step: Decimal | None = None,
              levels: int | None = None) -> BookView:
    """Build a :class:`BookView` from a depth snapshot (optionally grouped and truncated)."""
    bids: Sequence[PriceLevel] = depth.bids
    asks: Sequence[PriceLevel] = depth.asks
    if group_step is not None:
        bids = group_levels(bids, group_step, bids=True)
        asks = group_levels(asks, group_step, bids=False)
    if levels is not None:
        bids, asks = bids[:levels], asks[:levels]
    # Spread from the raw book: grouping must not change what the market really offers.
    best_bid = depth.bids[0].price if depth.bids else None
    best_ask = depth.asks[0].price if depth.asks else None
    mid = spread = spread_pct = None
    if best_bid is not None and best_ask is not None:
        with localcontext() as ctx:
            ctx.prec = 40
            spread = best_ask - best_bid
            mid = (best_ask + best_bid) / 2
            spread_pct = (spread / mid * 100).quantize(Decimal("0.0001")) if mid else None
    return BookView(symbol=symbol, last_update_id=depth.last_update_id, bids=_cumulate(bids),
                    asks=_cumulate(asks), best_bid=best_bid, best_ask=best_ask, mid=mid,
                    spread=spread, spread_pct=spread_pct, group_step=group_step)


class TickerSet(Frozen):
    """24 h tickers for a watchlist, in watchlist order; symbols the exchange lacks are listed."""

    tickers: tuple[Ticker24h, ...]
    missing: tuple[str, ...] = ()

    def get(self, symbol: str) -> Ticker24h | None:
        return next((t for t in self.tickers if t.symbol == symbol), None)


def ticker_set(tickers: Iterable[Ticker24h], order: Sequence[str] | None = None) -> TickerSet:
    by_symbol = {t.symbol: t for t in tickers}
    if order is None:
        return TickerSet(tickers=tuple(by_symbol.values()))
    return TickerSet(tickers=tuple(by_symbol[s] for s in order if s in by_symbol),
                     missing=tuple(s for s in order if s not in by_symbol))


class ChartView(Frozen):
    """Candles for a chart plus the ranges to scale its axes."""

    symbol: str
    interval: str
    candles: tuple[Kline, ...]
    low: Decimal | None
    high: Decimal | None
    max_volume: Decimal

    @property
    def closes(self) -> tuple[Decimal, ...]:
        return tuple(k.close for k in self.candles)


def chart_view(symbol: str, interval: str, klines: Iterable[Kline]) -> ChartView:
    candles = tuple(sorted(klines, key=lambda k: k.open_time))
    return ChartView(
        symbol=symbol, interval=interval, candles=candles,
        low=min((k.low for k in candles), default=None),
        high=max((k.high for k in candles), default=None),
        max_volume=max((k.volume for k in candles), default=Decimal(0)),
    )


class TapeTrade(Frozen):
    """A public trade for the tape; ``side`` is the aggressor's (taker's) side."""

    id: int
    price: Decimal
    qty: Decimal
    time: int
    side: str


def tape(trades: Iterable[Trade], limit: int | None = None) -> tuple[TapeTrade, ...]:
    """Recent trades newest first; a buyer-maker trade was a SELL by the taker."""
    rows = sorted(trades, key=lambda t: (t.time, t.id), reverse=True)
    if limit is not None:
        rows = rows[:limit]
    return tuple(TapeTrade(id=t.id, price=t.price, qty=t.qty, time=t.time,
                           side="SELL" if t.is_buyer_maker else "BUY") for t in rows)


# --- the only I/O: one request each ---------------------------------------------------------

async def fetch_book(client: BtxClient, symbol: str, *, limit: int = 100,
                     group_step: Decimal | None = None, levels: int | None = None) -> BookView:
    return book_view(await client.depth(symbol, limit=limit), symbol, group_step=group_step, levels=levels)


async def fetch_watchlist(client: BtxClient, symbols: Sequence[str]) -> TickerSet:
    """The whole watchlist in ONE ``ticker/24hr?symbols=[...]`` request."""
    if not symbols:
        return TickerSet(tickers=())
    return ticker_set(await client.tickers_24hr(symbols), symbols)


async def fetch_chart(client: BtxClient, symbol: str, interval: str = "1m", limit: int = 120) -> ChartView:
    return chart_view(symbol, interval, await client.klines(symbol, interval, limit=limit))


async def fetch_tape(client: BtxClient, symbol: str, limit: int = 50) -> tuple[TapeTrade, ...]:
    return tape(await client.trades(symbol, limit=limit), limit)
