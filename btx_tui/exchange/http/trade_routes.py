"""Trading and account endpoints (contract section 6, signed).

Parameter validation follows the contract's order: mandatory (-1102) -> formats
(-1100/-1118) -> enums (-1115/-1116/-1117) -> combinations (-1106/-1114) -> the Exchange
(symbol -1121, filters -1013, balance/duplicate -2010, matching).
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.state.trading import OrderRequest
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import (
    ORDER_TYPES,
    RESP_TYPES,
    SIDES,
    TIME_IN_FORCE,
    Params,
    not_required,
    side_error,
    tif_error,
    type_error,
)
from btx_tui.exchange.http.endpoints import Context, route


def _tif_not_required() -> ApiError:
    return ApiError(400, -1114, "TimeInForce parameter sent when not required.")


def order_request(p: Params) -> OrderRequest:
    """Validate the parameters of ``POST /api/v3/order`` (and ``/order/test``)."""
    # 1. mandatory, including the ones the (known) order type requires
    p.require("symbol", "side", "type")
    order_type_raw = p.get("type")
    if order_type_raw == "LIMIT":
        p.require("timeInForce", "quantity", "price")
    elif order_type_raw == "LIMIT_MAKER":
        p.require("quantity", "price")
    elif order_type_raw == "MARKET":
        p.require_one_of("quantity", "quoteOrderQty")
    # 2. formats
    symbol = p.symbol()
    quantity = p.decimal("quantity")
    quote_order_qty = p.decimal("quoteOrderQty")
    price = p.decimal("price")
    client_order_id = p.client_id("newClientOrderId")
    # 3. enums
    side = p.enum("side", SIDES, side_error)
    order_type = p.enum("type", ORDER_TYPES, type_error)
    time_in_force = p.enum("timeInForce", TIME_IN_FORCE, tif_error)
    resp_type = p.enum("newOrderRespType", RESP_TYPES)
    # 4. combinations
    if order_type == "MARKET":
        if time_in_force is not None:
            raise _tif_not_required()
        p.forbid("price")
        if quantity is not None and quote_order_qty is not None:
            raise not_required("quoteOrderQty")
    elif order_type == "LIMIT_MAKER":
        if time_in_force is not None:
            raise _tif_not_required()
        p.forbid("quoteOrderQty")
    else:
        p.forbid("quoteOrderQty")
    assert symbol is not None and side is not None and order_type is not None
    return OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        time_in_force=time_in_force,
        quantity=quantity,
        quote_order_qty=quote_order_qty,
        price=price,
        new_client_order_id=client_order_id,
        resp_type=resp_type,
    )


def new_order(ctx: Context) -> Any:
    return ctx.exchange.trading.place_order(ctx.account_id, order_request(ctx.params))


def order_test(ctx: Context) -> Any:
    ctx.exchange.trading.place_order(ctx.account_id, order_request(ctx.params), test=True)
    return {}


def _order_ref(p: Params) -> tuple[str, int | None, str | None]:
    p.require("symbol")
    p.require_one_of("orderId", "origClientOrderId")
    symbol = p.symbol()
    assert symbol is not None
    return symbol, p.integer("orderId"), p.orig_client_id()


def get_order(ctx: Context) -> Any:
    symbol, order_id, orig = _order_ref(ctx.params)
    return ctx.exchange.orders.get_order(ctx.account_id, symbol, order_id, orig)


def cancel_order(ctx: Context) -> Any:
    symbol, order_id, orig = _order_ref(ctx.params)
    new_id = ctx.params.client_id("newClientOrderId")
    return ctx.exchange.trading.cancel_order(ctx.account_id, symbol, order_id, orig, new_id)


def cancel_open_orders(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    return ctx.exchange.trading.cancel_open_orders(ctx.account_id, p.symbol())


def open_orders(ctx: Context) -> Any:
    return ctx.exchange.orders.open_orders(ctx.account_id, ctx.params.symbol())


def all_orders(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    order_id = p.integer("orderId")
    start = p.integer("startTime")
    end = p.integer("endTime")
    limit = p.limit(500, 1000)
    return ctx.exchange.orders.all_orders(ctx.account_id, symbol, order_id, start, end, limit)


def my_trades(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    order_id = p.integer("orderId")
    start = p.integer("startTime")
    end = p.integer("endTime")
    from_id = p.integer("fromId")
    limit = p.limit(500, 1000)
    return ctx.exchange.orders.my_trades(ctx.account_id, symbol, order_id, start, end, from_id, limit)


def rate_limit_order(ctx: Context) -> Any:
    count10, count_day = ctx.limiter.order_counts(ctx.account_id, ctx.now_ms)
    limits = ctx.limiter.limits
    return [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
         "limit": limits.orders_per_10s, "count": count10},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
         "limit": limits.orders_per_day, "count": count_day},
    ]


def account(ctx: Context) -> Any:
    return ctx.exchange.accounts.account(ctx.account_id, ctx.params.boolean("omitZeroBalances"))


def api_restrictions(ctx: Context) -> Any:
    return ctx.exchange.accounts.api_restrictions(ctx.key)


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("POST", "/api/v3/order", new_order, places_order=True),
    route("POST", "/api/v3/order/test", order_test),
    route("GET", "/api/v3/order", get_order),
    route("DELETE", "/api/v3/order", cancel_order),
    route("GET", "/api/v3/openOrders", open_orders),
    route("DELETE", "/api/v3/openOrders", cancel_open_orders),
    route("GET", "/api/v3/allOrders", all_orders),
    route("GET", "/api/v3/myTrades", my_trades),
    route("GET", "/api/v3/rateLimit/order", rate_limit_order),
    route("GET", "/api/v3/account", account),
    route("GET", "/sapi/v1/account/apiRestrictions", api_restrictions),
]
