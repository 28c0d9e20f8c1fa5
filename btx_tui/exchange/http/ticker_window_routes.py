"""Tickers over other windows than the 24 h one (security NONE): the rolling-window
``GET /api/v3/ticker`` (``windowSize`` 1m..59m, 1h..23h, 1d..7d) and the current trading day
``GET /api/v3/ticker/tradingDay`` (``timeZone``), each ``type=FULL`` or ``MINI``.

As the standard defines them: ``symbol`` or ``symbols`` (one of them mandatory, at most 100),
``openTime`` on a minute boundary, weight 4 per symbol capped at 200 beyond 50 symbols.
"""

from __future__ import annotations

import re
from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.endpoints import Context, route
from btx_tui.exchange.http.params import Params, illegal, missing_either
from btx_tui.exchange.state.market_data import DAY, MINUTE, align

MAX_SYMBOLS = 100
TICKER_TYPES = frozenset({"FULL", "MINI"})
WINDOW_PATTERN = r"^([1-9]|[1-5][0-9])m$|^([1-9]|1[0-9]|2[0-3])h$|^[1-7]d$"
_WINDOW_RE = re.compile(WINDOW_PATTERN)
_UNIT_MS = {"m": MINUTE, "h": 60 * MINUTE, "d": DAY}
TIME_ZONE_PATTERN = r"^[+-]?[0-9]{1,2}(:[0-5][0-9])?$ within [-12:00, +14:00]"
_TIME_ZONE_RE = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-5][0-9]))?$")


def _symbols(params: Params) -> list[str]:
    symbols = params.symbol_list()
    if symbols is None:
        raise missing_either("symbol", "symbols")
    if len(symbols) > MAX_SYMBOLS:
        raise ApiError(400, -1101, f"Too many values sent for parameter 'symbols', maximum allowed up to {MAX_SYMBOLS}.")
    return symbols


def _mini(params: Params) -> bool:
    return params.enum("type", TICKER_TYPES) == "MINI"


def window_ms(text: str | None) -> int:
    """``windowSize`` in ms (default ``1d``); -1100 outside 1m..59m, 1h..23h, 1d..7d."""
    if text is None:
        return DAY
    if not _WINDOW_RE.match(text):
        raise illegal("windowSize", WINDOW_PATTERN)
    return int(text[:-1]) * _UNIT_MS[text[-1]]


def time_zone_offset_ms(text: str | None) -> int:
    """``timeZone`` (hours, or hours:minutes, e.g. ``-1:00``, ``05:45``) in ms; -1100 if malformed
    or outside [-12:00, +14:00]. Default 0 (UTC)."""
    if text is None:
        return 0
    match = _TIME_ZONE_RE.match(text)
    if not match:
        raise illegal("timeZone", TIME_ZONE_PATTERN)
    sign = -1 if match.group(1) == "-" else 1
    minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
    offset = sign * minutes
    if not -12 * 60 <= offset <= 14 * 60:
        raise illegal("timeZone", TIME_ZONE_PATTERN)
    return offset * MINUTE


def _one_or_many(params: Params, rows: list[dict]) -> Any:
    return rows[0] if params.has("symbol") else rows


def rolling_ticker(ctx: Context) -> Any:
    p = ctx.params
    symbols = _symbols(p)
    window = window_ms(p.get("windowSize"))
    mini = _mini(p)
    now = ctx.now_ms
    rows = ctx.exchange.market_data.window_tickers(symbols, align("1m", now - window), now, mini)
    return _one_or_many(p, rows)


def trading_day_ticker(ctx: Context) -> Any:
    p = ctx.params
    symbols = _symbols(p)
    offset = time_zone_offset_ms(p.get("timeZone"))
    mini = _mini(p)
    local_now = ctx.now_ms + offset
    day_open = local_now - local_now % DAY - offset
    rows = ctx.exchange.market_data.window_tickers(symbols, day_open, day_open + DAY - 1, mini)
    return _one_or_many(p, rows)


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("GET", "/api/v3/ticker", rolling_ticker),
    route("GET", "/api/v3/ticker/tradingDay", trading_day_ticker),
]
