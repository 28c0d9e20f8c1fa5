"""Market stream names (``btcusdt@depth@100ms``) and the JSON of each stream's events.

Names follow the standard: lower-case symbol, ``@``, type; plus the all-market arrays
``!miniTicker@arr`` and ``!ticker@arr``.  Parsing accepts any symbol-shaped prefix (a name of
an unlisted symbol is a valid subscription that never carries data, as the standard does);
an unknown *type* is refused.  The payload builders turn engine events and the parts'
answers into the standard's event objects; Decimals are formatted by ``numbers.fmt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btx_tui.exchange.numbers import fmt
from btx_tui.exchange.state.events import TradeExecuted

__all__ = ["Stream", "parse_stream", "MAX_STREAMS"]

MAX_STREAMS = 1024
INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
             "1d", "3d", "1w", "1M")
_NAME_RE = re.compile(
    r"^(?P<symbol>[a-z0-9._-]{1,20})@(?P<kind>trade|aggTrade|miniTicker|ticker|bookTicker|avgPrice"
    r"|kline_(?P<interval>1s|1m|3m|5m|15m|30m|1h|2h|4h|6h|8h|12h|1d|3d|1w|1M)"
    r"|depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?)$")
ALL_MARKET = {"!miniTicker@arr": "miniTicker", "!ticker@arr": "ticker"}


@dataclass(frozen=True, slots=True)
class Stream:
    """One parsed stream name."""

    name: str
    symbol: str | None
    """Upper-case symbol; None for the all-market arrays."""
    kind: str
    """trade, aggTrade, kline, miniTicker, ticker, bookTicker, avgPrice, depth (diffs),
    partial (depth5/10/20), miniTicker@arr, ticker@arr."""
    interval: str | None = None
    levels: int = 0
    speed_ms: int = 1000


def parse_stream(name: str) -> Stream | None:
    """The stream a name means, or None if no such stream type exists."""
    if name in ALL_MARKET:
        return Stream(name, None, ALL_MARKET[name] + "@arr")
    m = _NAME_RE.match(name)
    if m is None:
        return None
    symbol = m["symbol"].upper()
    kind = m["kind"]
    if kind.startswith("kline_"):
        return Stream(name, symbol, "kline", interval=m["interval"])
    if kind.startswith("depth"):
        speed = 100 if m["speed"] == "100ms" else 1000
        if m["levels"]:
            return Stream(name, symbol, "partial", levels=int(m["levels"]), speed_ms=speed)
        return Stream(name, symbol, "depth", speed_ms=speed)
    return Stream(name, symbol, kind)


# ---- payloads ------------------------------------------------------------------------------

def trade_event(t: TradeExecuted, now: int) -> dict[str, Any]:
    return {"e": "trade", "E": now, "s": t.symbol, "t": t.trade_id, "p": fmt(t.price),
            "q": fmt(t.qty), "T": t.time, "m": t.taker_side == "SELL", "M": True}


def agg_trade_event(trades: list[TradeExecuted], now: int) -> dict[str, Any]:
    """One aggregate: fills of one taker at one price (consecutive trade ids)."""
    first = trades[0]
    qty = sum((t.qty for t in trades), Decimal(0))
    return {"e": "aggTrade", "E": now, "s": first.symbol, "a": first.agg_id, "p": fmt(first.price),
            "q": fmt(qty), "f": first.trade_id, "l": trades[-1].trade_id, "T": first.time,
            "m": first.taker_side == "SELL", "M": True}


def levels_json(levels: Any) -> list[list[str]]:
    return [[fmt(p), fmt(q)] for p, q in levels]


def depth_update_event(symbol: str, first_id: int, last_id: int, bids: dict[Decimal, Decimal],
                       asks: dict[Decimal, Decimal], now: int) -> dict[str, Any]:
    return {"e": "depthUpdate", "E": now, "s": symbol, "U": first_id, "u": last_id,
            "b": levels_json(sorted(bids.items(), reverse=True)),
            "a": levels_json(sorted(asks.items()))}


def partial_depth_event(depth: dict[str, Any]) -> dict[str, Any]:
    """``depth5|10|20``: the REST snapshot's shape (``lastUpdateId``, ``bids``, ``asks``)."""
    return {"lastUpdateId": depth["lastUpdateId"], "bids": depth["bids"], "asks": depth["asks"]}


def book_ticker_event(row: dict[str, Any], update_id: int) -> dict[str, Any]:
    return {"u": update_id, "s": row["symbol"], "b": row["bidPrice"], "B": row["bidQty"],
            "a": row["askPrice"], "A": row["askQty"]}


def kline_event(symbol: str, interval: str, k: list[Any], now: int) -> dict[str, Any]:
    open_time, o, h, l, c, v, close_time, qv, n, tbb, tbq, _ = k
    return {"e": "kline", "E": now, "s": symbol, "k": {
        "t": open_time, "T": close_time, "s": symbol, "i": interval, "f": -1, "L": -1,
        "o": o, "c": c, "h": h, "l": l, "v": v, "n": n, "x": close_time < now, "q": qv,
        "V": tbb, "Q": tbq, "B": "0"}}


def ticker_event(t: dict[str, Any], now: int) -> dict[str, Any]:
    return {"e": "24hrTicker", "E": now, "s": t["symbol"], "p": t["priceChange"],
            "P": t["priceChangePercent"], "w": t["weightedAvgPrice"], "x": t["prevClosePrice"],
            "c": t["lastPrice"], "Q": t["lastQty"], "b": t["bidPrice"], "B": t["bidQty"],
            "a": t["askPrice"], "A": t["askQty"], "o": t["openPrice"], "h": t["highPrice"],
            "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"], "O": t["openTime"],
            "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]}


def mini_ticker_event(t: dict[str, Any], now: int) -> dict[str, Any]:
    return {"e": "24hrMiniTicker", "E": now, "s": t["symbol"], "c": t["lastPrice"],
            "o": t["openPrice"], "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"],
            "q": t["quoteVolume"]}


def avg_price_event(symbol: str, avg: dict[str, Any], now: int) -> dict[str, Any]:
    return {"e": "avgPrice", "E": now, "s": symbol, "i": f"{avg['mins']}m", "w": avg["price"],
            "T": avg["closeTime"]}
