"""The weight window of the BTX v3 contract (section 3): how it is declared and named.

The exchange declares its REQUEST_WEIGHT window in ``exchangeInfo.rateLimits`` and names the
used-weight header after it; the client reads both back. One module, below both sides, so
the spelling cannot drift (the compressed-time soak shortens the window, and both follow).
"""

from __future__ import annotations

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

