"""What the market stream connection hands its consumer: immutable updates carrying the SAME
models a REST poll produces (``Depth``, ``AggTrade``, ``Kline``, ``Ticker24h``).

Why: the design rule of the stream layer is that the UI does not care whether a snapshot was
delivered by a stream or by a poll; only these wrappers say which symbol/interval they belong
to and whether they came from a REST gap fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..models import AggTrade, Depth, Kline, Ticker24h

__all__ = ["BookUpdate", "KlineUpdate", "MarketUpdate", "TickersUpdate", "TradesUpdate",
           "kline_from_event", "merge_mini_ticker"]

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """The synced local book of ``symbol`` after a diff event (or right after a resync)."""

    symbol: str
    depth: Depth


@dataclass(frozen=True, slots=True)
class TradesUpdate:
    """New aggregate trades of ``symbol``, oldest first, never one twice.

    ``gap_fill``: fetched from REST (``aggTrades?fromId=``) after a (re)connect, so trades
    executed while the stream was down are not missed.
    """

    symbol: str
    trades: tuple[AggTrade, ...]
    gap_fill: bool = False


@dataclass(frozen=True, slots=True)
class KlineUpdate:
    """Candles of ``symbol``/``interval``, oldest first: one (the current candle) from the
    stream, or the candles since the last one seen from REST (``gap_fill``)."""

    symbol: str
    interval: str
    klines: tuple[Kline, ...]
    gap_fill: bool = False


@dataclass(frozen=True, slots=True)
class TickersUpdate:
    """24 h tickers of watched symbols that changed (the watchlist's ``Ticker24h``)."""

    tickers: tuple[Ticker24h, ...]


MarketUpdate = BookUpdate | TradesUpdate | KlineUpdate | TickersUpdate


def kline_from_event(event: dict[str, Any]) -> Kline:
    """A ``kline`` event's ``k`` object → the REST :class:`Kline`."""
    k = event["k"]
    return Kline(open_time=k["t"], open=k["o"], high=k["h"], low=k["l"], close=k["c"], volume=k["v"],
                 close_time=k["T"], quote_volume=k["q"], trades=k["n"], taker_buy_base=k["V"],
                 taker_buy_quote=k["Q"])


_PCT = Decimal("0.001")


def merge_mini_ticker(base: Ticker24h, event: dict[str, Any]) -> Ticker24h:
    """A ``24hrMiniTicker`` event applied to the last REST ``Ticker24h`` of its symbol.

    The miniTicker carries close/open/high/low/volume/quote volume only. Derived here:
    ``price_change`` (c − o), ``price_change_percent`` (3 decimals, as the REST ticker),
    ``weighted_avg_price`` (q / v), ``close_time`` = ``E`` and ``open_time`` = ``E`` − 24 h.
    Kept from the REST seed (refreshed at each (re)connect and watchlist change, so possibly
    older): ``count``, ``first_id``/``last_id``, ``last_qty``, ``prev_close_price`` and the
    bid/ask fields — the watchlist shows none of them.
    """
    close, open_ = Decimal(event["c"]), Decimal(event["o"])
    volume, quote = Decimal(event["v"]), Decimal(event["q"])
    change = close - open_
    pct = (change / open_ * 100).quantize(_PCT) if open_ else Decimal(0)
    when = int(event["E"])
    return base.model_copy(update={
        "last_price": close, "open_price": open_, "high_price": Decimal(event["h"]),
        "low_price": Decimal(event["l"]), "volume": volume, "quote_volume": quote,
        "price_change": change, "price_change_percent": pct,
        "weighted_avg_price": (quote / volume) if volume else base.weighted_avg_price,
        "close_time": when, "open_time": when - DAY_MS,
    })
