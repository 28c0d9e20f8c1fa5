"""``X-MBX-TIME-UNIT: MICROSECOND``: every time field in microseconds, both ways.

The standard lets a client ask for microseconds (``MICROSECOND`` / ``microsecond``; the default
``MILLISECOND``): time parameters it sends (``startTime``, ``endTime``) are then read as
microseconds, and every time field of the answer (``serverTime``, ``transactTime``, ``time``,
kline open/close times, …) is written in microseconds. ``timestamp`` of a signed request may be
in milliseconds or microseconds whatever the header says (``auth.check_timing``).

The exchange keeps milliseconds inside; this module converts at the edge only.
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import Params

__all__ = ["TIME_FIELDS", "TIME_PARAMS", "parse_time_unit", "params_to_ms", "result_to_us"]

TIME_FIELDS = frozenset({
    "serverTime", "time", "transactTime", "updateTime", "workingTime", "openTime", "closeTime",
    "createTime", "insertTime", "completeTime", "transactionTime", "T", "E",
})
"""Keys of answer objects that hold a time (integers in ms inside the exchange)."""

TIME_PARAMS = ("startTime", "endTime")

_KLINE_PATHS = frozenset({"/api/v3/klines", "/api/v3/uiKlines"})


def parse_time_unit(header: bytes | None) -> bool:
    """True for microseconds; -1100 for a value other than MILLISECOND/MICROSECOND (any case)."""
    if header is None:
        return False
    value = header.decode("latin-1").strip().upper()
    if value == "MICROSECOND":
        return True
    if value in ("MILLISECOND", ""):
        return False
    raise ApiError(400, -1100, "Illegal characters found in header 'X-MBX-TIME-UNIT'; legal range is "
                   "'MILLISECOND, MICROSECOND'.")


def params_to_ms(params: Params) -> None:
    """Read ``startTime``/``endTime`` given in microseconds as milliseconds (in place; the
    signed payload is kept as received)."""
    for name in TIME_PARAMS:
        value = params.values.get(name)
        if value and value.isdigit():
            params.values[name] = str(int(value) // 1000)


def result_to_us(result: Any, path: str) -> Any:
    """The answer with every time field multiplied by 1000."""
    if path in _KLINE_PATHS and isinstance(result, list):
        return [[row[0] * 1000, *row[1:6], row[6] * 1000, *row[7:]] if isinstance(row, list) else row
                for row in result]
    return _convert(result)


def _convert(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (v * 1000 if k in TIME_FIELDS and type(v) is int and v > 0 else _convert(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_convert(v) for v in value]
    return value
