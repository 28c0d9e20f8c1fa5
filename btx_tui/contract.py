"""Request weights of the BTX v3 contract (section 3) that depend on parameters.

Both sides of the wire charge by these rules: the service layer to keep its budget, the
paper exchange to enforce its limits. The rules live here, in a module that belongs to
neither, so the client still imports nothing of the exchange and the two cannot drift.
"""

from __future__ import annotations


def depth_weight(limit: int) -> int:
    """``GET /api/v3/depth``: 5 (limit ≤ 100), 25 (≤ 500), 50 (≤ 1000), 250 (more)."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def ticker_24hr_weight(symbols: int | None) -> int:
    """``GET /api/v3/ticker/24hr`` for ``symbols`` markets (None: all of them)."""
    if symbols is None:
        return 80
    if symbols <= 20:
        return 2
    if symbols <= 100:
        return 40
    return 80


_INTERVAL_LETTER = {"SECOND": "s", "MINUTE": "m", "HOUR": "h", "DAY": "d"}
_INTERVAL_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


def interval_seconds(interval: str, interval_num: int) -> int | None:
    """Length of an ``exchangeInfo.rateLimits`` interval (``"MINUTE"``, 1 → 60); None if unknown."""
    unit = _INTERVAL_SECONDS.get(interval.upper())
    return unit * max(1, interval_num) if unit is not None else None


def weight_interval(seconds: int) -> tuple[str, int]:
    """The ``(interval, intervalNum)`` that declares a weight window of ``seconds``."""
    for name in ("DAY", "HOUR", "MINUTE"):
        unit = _INTERVAL_SECONDS[name]
        if seconds % unit == 0:
            return name, seconds // unit
    return "SECOND", seconds


def used_weight_header(seconds: int = 60) -> str:
    """The response header counting the weight used in a window of ``seconds``, lower case.

    The contract's window is one minute: ``x-mbx-used-weight-1m``. The name follows the
    exchange convention ``X-MBX-USED-WEIGHT-<intervalNum><interval letter>``, so an exchange
    declaring another window (the paper exchange's compressed-time soak) names it truthfully.
    """
    interval, num = weight_interval(seconds)
    return f"x-mbx-used-weight-{num}{_INTERVAL_LETTER[interval]}"


def per_symbol_ticker_weight(symbols: int) -> int:
    """``GET /api/v3/ticker`` (rolling window) and ``/api/v3/ticker/tradingDay``: 4 per symbol,
    capped at 200 once more than 50 symbols are asked for."""
    return 200 if symbols > 50 else 4 * max(1, symbols)


def prevented_matches_weight(by_prevented_match_id: bool) -> int:
    """``GET /api/v3/myPreventedMatches``: 2 by ``preventedMatchId``, else 20."""
    return 2 if by_prevented_match_id else 20
