"""The WebSocket API's methods, each one a REST endpoint of the one endpoint table.

A method name maps to ``(HTTP method, path)`` of ``http/route_table.py``: the request's
``params`` object becomes the same :class:`~btx_tui.exchange.http.params.Params` a REST
request would have produced, and the endpoint's own weight, security, order-count rule and
handler run unchanged - so weights, order limits and error codes are REST's by construction.

Signing (the standard's WebSocket API): ``apiKey``, ``timestamp`` and ``signature`` travel in
``params``; the signed payload is every other parameter, sorted by name, ``k=v`` joined with
``&`` (values as sent: strings as they are, numbers and booleans in their JSON spelling).
"""

from __future__ import annotations

import json
from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import SIGNATURE, Params

__all__ = ["METHODS", "params_from_json"]

#: WebSocket API method -> the REST endpoint it runs.
METHODS: dict[str, tuple[str, str]] = {
    "ping": ("GET", "/api/v3/ping"),
    "time": ("GET", "/api/v3/time"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
    "depth": ("GET", "/api/v3/depth"),
    "trades.recent": ("GET", "/api/v3/trades"),
    "trades.aggregate": ("GET", "/api/v3/aggTrades"),
    "klines": ("GET", "/api/v3/klines"),
    "avgPrice": ("GET", "/api/v3/avgPrice"),
    "ticker.24hr": ("GET", "/api/v3/ticker/24hr"),
    "ticker.price": ("GET", "/api/v3/ticker/price"),
    "ticker.book": ("GET", "/api/v3/ticker/bookTicker"),
    "order.place": ("POST", "/api/v3/order"),
    "order.test": ("POST", "/api/v3/order/test"),
    "order.status": ("GET", "/api/v3/order"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "openOrders.cancelAll": ("DELETE", "/api/v3/openOrders"),
    "allOrders": ("GET", "/api/v3/allOrders"),
    "myTrades": ("GET", "/api/v3/myTrades"),
    "account.status": ("GET", "/api/v3/account"),
    "account.rateLimits.orders": ("GET", "/api/v3/rateLimit/order"),
}

API_KEY = "apiKey"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    raise ApiError(400, -1100, "Illegal characters found in a parameter.")


def params_from_json(raw: Any) -> tuple[Params, str | None]:
    """``params`` of a request -> (Params with the signed payload, the apiKey if sent)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ApiError(400, -1000, "Invalid request: 'params' must be an object.")
    values = {str(k): _text(v) for k, v in raw.items() if v is not None}
    signature = values.pop(SIGNATURE, None)
    payload = "&".join(f"{k}={values[k]}" for k in sorted(values)).encode("utf-8")
    api_key = values.pop(API_KEY, None)
    return Params(values, payload, signature), api_key
