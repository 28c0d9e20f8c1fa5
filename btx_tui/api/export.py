"""Fills and order history as CSV: exact decimals, a header, times in ISO 8601 with their zone.

Decimals are written exactly as the exchange sent them (``str`` of the parsed ``Decimal``,
never a float), so a spreadsheet or a tax tool reads the same digits the exchange reported.
Times are the exchange's millisecond timestamps shown in ``tz`` with its UTC offset
(``2026-12-01T09:30:00.123+01:00``), so a row is unambiguous wherever it is read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from typing import TextIO

from .models_trading import MyTrade, Order

__all__ = ["FILL_COLUMNS", "ORDER_COLUMNS", "iso_time", "write_fills_csv", "write_orders_csv"]

FILL_COLUMNS = ("time", "symbol", "trade_id", "order_id", "side", "price", "qty", "quote_qty",
                "commission", "commission_asset", "role")
ORDER_COLUMNS = ("time", "update_time", "symbol", "order_id", "client_order_id", "side", "type",
                 "time_in_force", "status", "price", "stop_price", "orig_qty", "executed_qty",
                 "cummulative_quote_qty", "orig_quote_order_qty")


def iso_time(ms: int | None, tz: tzinfo = timezone.utc) -> str:
    """A millisecond timestamp as ISO 8601 with the zone's offset ('' when unknown)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="milliseconds")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # never an exponent: 1E-8 is written 0.00000001
    return str(value)


def write_fills_csv(fills: Iterable[MyTrade], out: TextIO, tz: tzinfo = timezone.utc) -> int:
    """Write a header and one row per fill; returns the number of rows."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FILL_COLUMNS)
    n = 0
    for t in fills:
        w.writerow([iso_time(t.time, tz), t.symbol, t.id, t.order_id, "BUY" if t.is_buyer else "SELL",
                    _text(t.price), _text(t.qty), _text(t.quote_qty), _text(t.commission),
                    t.commission_asset, "maker" if t.is_maker else "taker"])
        n += 1
    return n


def write_orders_csv(orders: Iterable[Order], out: TextIO, tz: tzinfo = timezone.utc) -> int:
    """Write a header and one row per order; returns the number of rows."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(ORDER_COLUMNS)
    n = 0
    for o in orders:
        w.writerow([iso_time(o.time, tz), iso_time(o.update_time, tz), o.symbol, o.order_id,
                    o.order_client_id, _text(o.side), _text(o.type), _text(o.time_in_force),
                    _text(o.status), _text(o.price), _text(o.stop_price), _text(o.orig_qty),
                    _text(o.executed_qty), _text(o.cummulative_quote_qty), _text(o.orig_quote_order_qty)])
        n += 1
    return n
