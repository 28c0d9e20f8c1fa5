"""The one table of the BTX v3 endpoints: method, path, security type and request weight.

Contract sections 2, 3 and 5–7 as data. Three readers, so the two sides of the wire cannot
drift (they had: ``capital/config/getall`` weighed 1 for the client and 10 on the exchange):

* the client's budget (``btx_tui.api.ratebudget.request_weight``) books what a request costs
  before sending it;
* the paper exchange's routes (``btx_tui.exchange.http.*_routes``) take their security type
  and weight from their row (``route(...)`` refuses a route without one);
* the exchange's limiter charges requests to no endpoint :data:`UNKNOWN_ENDPOINT_WEIGHT`;
* the WebSocket API runs each method as its REST endpoint (``exchange/ws/api_methods.py``),
  so it charges the same weights by construction.

A weight is an ``int`` or a function of the request's parameters (a ``Mapping[str, str]``
of raw values as they travel: ``symbols`` is the JSON array text). The functions are lenient:
a malformed value weighs as if absent, because validation (and its error) comes later and
the weight is charged first. Where section 3 is silent the public Binance Spot documentation
decides, as the contract says (``capital/config/getall`` and ``margin/isolated/allPairs``: 10).

To add an endpoint, add one row to :data:`ENDPOINTS`; ``tests/test_endpoint_table.py`` proves
every exchange route has its row and that both sides weigh every row alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ENDPOINTS",
    "PERMISSION",
    "UNKNOWN_ENDPOINT_WEIGHT",
    "EndpointSpec",
    "Security",
    "depth_weight",
    "find_endpoint",
    "per_symbol_ticker_weight",
    "prevented_matches_weight",
    "request_weight",
    "ticker_24hr_weight",
]


class Security(StrEnum):
    """Security types of contract section 2 (what a request must carry)."""

    NONE = "NONE"
    USER_DATA = "USER_DATA"
    TRADE = "TRADE"
    WITHDRAW = "WITHDRAW"
    USER_STREAM = "USER_STREAM"
    """The API key only, no signature (the listenKey endpoints)."""


#: The key permission each security type but NONE needs (contract section 2).
PERMISSION: dict[str, str] = {
    Security.USER_DATA: "READ",
    Security.TRADE: "TRADE",
    Security.WITHDRAW: "WITHDRAW",
    Security.USER_STREAM: "READ",
}

#: What a request to no endpoint of the table weighs (a 404 or 405 is charged too).
UNKNOWN_ENDPOINT_WEIGHT = 1

Params = Mapping[str, str]
WeightRule = Callable[[Params], int]


# --- the weight rules that depend on parameters (contract section 3) --------------------------


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


def per_symbol_ticker_weight(symbols: int) -> int:
    """``GET /api/v3/ticker`` (rolling window) and ``/api/v3/ticker/tradingDay``: 4 per symbol,
    capped at 200 once more than 50 symbols are asked for."""
    return 200 if symbols > 50 else 4 * max(1, symbols)


def prevented_matches_weight(by_prevented_match_id: bool) -> int:
    """``GET /api/v3/myPreventedMatches``: 2 by ``preventedMatchId``, else 20."""
    return 2 if by_prevented_match_id else 20


def _symbol_count(params: Params) -> int | None:
    """Markets a request names: 1 for ``symbol``, n for a ``symbols`` array, None for all."""
    if params.get("symbol"):
        return 1
    raw = params.get("symbols")
    if not raw:
        return None
    return raw.count(",") + 1


def _int_or_none(params: Params, name: str) -> int | None:
    value = params.get(name)
    if value and value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    return None


def _depth(params: Params) -> int:
    return depth_weight(_int_or_none(params, "limit") or 100)


def _ticker_24hr(params: Params) -> int:
    return ticker_24hr_weight(_symbol_count(params))


def _one_or_several(params: Params) -> int:
    """``ticker/price``, ``ticker/bookTicker``: 2 for one market, 4 for several or all."""
    return 2 if _symbol_count(params) == 1 else 4


def _per_symbol_ticker(params: Params) -> int:
    return per_symbol_ticker_weight(_symbol_count(params) or 1)


def _prevented_matches(params: Params) -> int:
    return prevented_matches_weight(bool(params.get("preventedMatchId")))


def _order_test(params: Params) -> int:
    """1, or 20 with ``computeCommissionRates=true`` (as the standard charges)."""
    return 20 if (params.get("computeCommissionRates") or "").lower() == "true" else 1


def _open_orders(params: Params) -> int:
    return 6 if params.get("symbol") else 80


def _my_trades(params: Params) -> int:
    return 5 if params.get("orderId") else 20


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    """One row: an endpoint of the contract and what it costs."""

    method: str
    path: str
    security: Security
    weight: int | WeightRule
    """A constant, or a function of the request's raw parameters."""

    def weigh(self, params: Params) -> int:
        """The request weight of one request with ``params``."""
        weight = self.weight
        return weight if isinstance(weight, int) else weight(params)


_NONE, _USER_DATA, _TRADE, _WITHDRAW, _USER_STREAM = (
    Security.NONE, Security.USER_DATA, Security.TRADE, Security.WITHDRAW, Security.USER_STREAM)

ENDPOINTS: tuple[EndpointSpec, ...] = (
    # Market data (section 5).
    EndpointSpec("GET", "/api/v3/ping", _NONE, 1),
    EndpointSpec("GET", "/api/v3/time", _NONE, 1),
    EndpointSpec("GET", "/api/v3/exchangeInfo", _NONE, 20),
    EndpointSpec("GET", "/api/v3/depth", _NONE, _depth),
    EndpointSpec("GET", "/api/v3/trades", _NONE, 25),
    EndpointSpec("GET", "/api/v3/aggTrades", _NONE, 2),
    EndpointSpec("GET", "/api/v3/klines", _NONE, 2),
    EndpointSpec("GET", "/api/v3/uiKlines", _NONE, 2),
    EndpointSpec("GET", "/api/v3/historicalTrades", _NONE, 25),
    EndpointSpec("GET", "/api/v3/ticker/24hr", _NONE, _ticker_24hr),
    EndpointSpec("GET", "/api/v3/ticker/price", _NONE, _one_or_several),
    EndpointSpec("GET", "/api/v3/ticker/bookTicker", _NONE, _one_or_several),
    EndpointSpec("GET", "/api/v3/avgPrice", _NONE, 2),
    EndpointSpec("GET", "/api/v3/ticker", _NONE, _per_symbol_ticker),
    EndpointSpec("GET", "/api/v3/ticker/tradingDay", _NONE, _per_symbol_ticker),
    # Orders (section 6).
    EndpointSpec("POST", "/api/v3/order", _TRADE, 1),
    EndpointSpec("POST", "/api/v3/order/test", _TRADE, _order_test),
    EndpointSpec("GET", "/api/v3/order", _USER_DATA, 4),
    EndpointSpec("DELETE", "/api/v3/order", _TRADE, 1),
    EndpointSpec("GET", "/api/v3/openOrders", _USER_DATA, _open_orders),
    EndpointSpec("DELETE", "/api/v3/openOrders", _TRADE, 1),
    EndpointSpec("GET", "/api/v3/allOrders", _USER_DATA, 20),
    EndpointSpec("GET", "/api/v3/myTrades", _USER_DATA, _my_trades),
    EndpointSpec("GET", "/api/v3/rateLimit/order", _USER_DATA, 40),
    EndpointSpec("PUT", "/api/v3/order/amend/keepPriority", _TRADE, 4),
    EndpointSpec("POST", "/api/v3/order/cancelReplace", _TRADE, 1),
    # Order lists (OCO, OTO, OTOCO).
    EndpointSpec("POST", "/api/v3/orderList/oco", _TRADE, 1),
    EndpointSpec("POST", "/api/v3/orderList/oto", _TRADE, 1),
    EndpointSpec("POST", "/api/v3/orderList/otoco", _TRADE, 1),
    EndpointSpec("DELETE", "/api/v3/orderList", _TRADE, 1),
    EndpointSpec("GET", "/api/v3/orderList", _USER_DATA, 4),
    EndpointSpec("GET", "/api/v3/allOrderList", _USER_DATA, 20),
    EndpointSpec("GET", "/api/v3/openOrderList", _USER_DATA, 6),
    # Account (sections 2 and 6).
    EndpointSpec("GET", "/api/v3/account", _USER_DATA, 20),
    EndpointSpec("GET", "/sapi/v1/account/apiRestrictions", _USER_DATA, 1),
    EndpointSpec("GET", "/api/v3/account/commission", _USER_DATA, 20),
    EndpointSpec("GET", "/api/v3/myPreventedMatches", _USER_DATA, _prevented_matches),
    EndpointSpec("GET", "/sapi/v1/system/status", _NONE, 1),
    EndpointSpec("GET", "/sapi/v1/account/status", _USER_DATA, 1),
    EndpointSpec("GET", "/sapi/v1/asset/tradeFee", _USER_DATA, 1),
    EndpointSpec("GET", "/sapi/v1/asset/assetDetail", _USER_DATA, 1),
    # User data stream (section 9): the listenKey, API key only.
    EndpointSpec("POST", "/api/v3/userDataStream", _USER_STREAM, 2),
    EndpointSpec("PUT", "/api/v3/userDataStream", _USER_STREAM, 2),
    EndpointSpec("DELETE", "/api/v3/userDataStream", _USER_STREAM, 2),
    # Withdrawals (section 7).
    EndpointSpec("POST", "/sapi/v1/capital/withdraw/apply", _WITHDRAW, 1),
    EndpointSpec("GET", "/sapi/v1/capital/withdraw/history", _USER_DATA, 1),
    EndpointSpec("GET", "/sapi/v1/capital/config/getall", _USER_DATA, 10),
    # Deposits.
    EndpointSpec("GET", "/sapi/v1/capital/deposit/address", _USER_DATA, 10),
    EndpointSpec("GET", "/sapi/v1/capital/deposit/hisrec", _USER_DATA, 1),
    # Spot only, no margin: answered empty so ccxt's load_markets works unchanged.
    EndpointSpec("GET", "/sapi/v1/margin/allPairs", _USER_DATA, 1),
    EndpointSpec("GET", "/sapi/v1/margin/isolated/allPairs", _USER_DATA, 10),
    # The paper exchange's own (section 8): credits a deposit; loopback and the admin token only.
    EndpointSpec("POST", "/admin/deposit", _NONE, 1),
    # The paper exchange's own: a new account funded and keyed like the demo one; loopback and
    # the admin token only (the test suite's fresh account per test).
    EndpointSpec("POST", "/admin/accounts", _NONE, 1),
)


def _index_by_route(rows: Sequence[EndpointSpec]) -> dict[tuple[str, str], EndpointSpec]:
    index: dict[tuple[str, str], EndpointSpec] = {}
    for row in rows:
        key = (row.method, row.path)
        if key in index:
            raise ValueError(f"two rows for {row.method} {row.path}")
        index[key] = row
    return index


_BY_ROUTE = _index_by_route(ENDPOINTS)


def find_endpoint(method: str, path: str) -> EndpointSpec | None:
    """The row of ``METHOD path``, or None if the contract has no such endpoint."""
    return _BY_ROUTE.get((method.upper(), path))


def request_weight(method: str, path: str, params: Params | Sequence[tuple[str, str]] = ()) -> int:
    """The weight one REST request costs; :data:`UNKNOWN_ENDPOINT_WEIGHT` off the table."""
    row = _BY_ROUTE.get((method.upper(), path))
    if row is None:
        return UNKNOWN_ENDPOINT_WEIGHT
    return row.weigh(params if isinstance(params, Mapping) else dict(params))

