"""Market-data endpoints (contract section 5, security NONE).

Single-symbol requests (``symbol=``) answer with one object, otherwise arrays: the Exchange
always returns lists, the handlers unwrap ``[0]``.
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import INTERVALS, Params
from btx_tui.exchange.http.endpoints import Context, route
from btx_tui.exchange.state.market_data import mini_ticker


def _one_or_many(params: Params, rows: list[dict]) -> Any:
    return rows[0] if params.has("symbol") else rows


def ping(ctx: Context) -> Any:
    return {}


def server_time(ctx: Context) -> Any:
    return {"serverTime": ctx.now_ms}


def exchange_info(ctx: Context) -> Any:
    info = ctx.exchange.market_data.exchange_info(ctx.params.symbol_list())
    # The declared limits are the ones this server enforces (tests may configure smaller).
    info["rateLimits"] = ctx.limiter.limits.rate_limits()
    return info


def _required_symbol(params: Params) -> str:
    params.require("symbol")
    symbol = params.symbol()
    assert symbol is not None
    return symbol


def depth(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    limit = p.limit(100, 5000)
    return ctx.exchange.market_data.depth(symbol, limit)


def trades(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    limit = p.limit(500, 1000)
    return ctx.exchange.market_data.trades(symbol, limit)


def agg_trades(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    from_id = p.integer("fromId")
    start = p.integer("startTime")
    end = p.integer("endTime")
    limit = p.limit(500, 1000)
    return ctx.exchange.market_data.agg_trades(symbol, limit, from_id=from_id, start=start, end=end)


def klines(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol", "interval")
    symbol = p.symbol()
    start = p.integer("startTime")
    end = p.integer("endTime")
    limit = p.limit(500, 1000)
    interval = p.enum("interval", INTERVALS, _interval_error)
    return ctx.exchange.market_data.klines(symbol, interval, start, end, limit)


def _interval_error() -> ApiError:
    return ApiError(400, -1120, "Invalid interval.")


def ticker_24hr(ctx: Context) -> Any:
    p = ctx.params
    symbols = p.symbol_list()
    rows = ctx.exchange.market_data.ticker_24hr(symbols)
    if p.enum("type", frozenset({"FULL", "MINI"})) == "MINI":
        rows = [mini_ticker(row) for row in rows]
    return _one_or_many(p, rows)


def historical_trades(ctx: Context) -> Any:
    """Older trades from ``fromId`` on (oldest first), else the most recent; as ``trades``."""
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    limit = p.limit(500, 1000)
    from_id = p.integer("fromId")
    return ctx.exchange.market_data.historical_trades(symbol, limit, from_id)


def ticker_price(ctx: Context) -> Any:
    p = ctx.params
    return _one_or_many(p, ctx.exchange.market_data.ticker_price(p.symbol_list()))


def book_ticker(ctx: Context) -> Any:
    p = ctx.params
    return _one_or_many(p, ctx.exchange.market_data.book_ticker(p.symbol_list()))


def avg_price(ctx: Context) -> Any:
    return ctx.exchange.market_data.avg_price(_required_symbol(ctx.params))


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("GET", "/api/v3/ping", ping),
    route("GET", "/api/v3/time", server_time),
    route("GET", "/api/v3/exchangeInfo", exchange_info),
    route("GET", "/api/v3/depth", depth),
    route("GET", "/api/v3/trades", trades),
    route("GET", "/api/v3/aggTrades", agg_trades),
    route("GET", "/api/v3/klines", klines),
    # uiKlines: the same candles "modified for presentation"; ours have no gaps already.
    route("GET", "/api/v3/uiKlines", klines),
    route("GET", "/api/v3/historicalTrades", historical_trades),
    route("GET", "/api/v3/ticker/24hr", ticker_24hr),
    route("GET", "/api/v3/ticker/price", ticker_price),
    route("GET", "/api/v3/ticker/bookTicker", book_ticker),
    route("GET", "/api/v3/avgPrice", avg_price),
]
