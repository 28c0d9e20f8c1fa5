"""Trading and account endpoints (contract section 6, signed).

Parameter validation follows the contract's order: mandatory (-1102) -> formats
(-1100/-1118) -> enums (-1115/-1116/-1117) -> combinations (-1106/-1114) -> the Exchange
(symbol -1121, filters -1013, balance/duplicate -2010, matching).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btx_tui.exchange.state.trading import OcoRequest, OrderRequest, OtoRequest
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import (
    CANCEL_REPLACE_MODES,
    OCO_ABOVE_TYPES,
    OCO_BELOW_TYPES,
    ORDER_TYPES,
    RESP_TYPES,
    SIDES,
    TIME_IN_FORCE,
    Params,
    missing_either,
    not_required,
    side_error,
    tif_error,
    type_error,
)
from btx_tui.exchange.http.account_routes import commission_rates_for_order
from btx_tui.exchange.http.endpoints import Context, route


def _tif_not_required() -> ApiError:
    return ApiError(400, -1114, "TimeInForce parameter sent when not required.")


_STOPS = ("STOP_LOSS", "TAKE_PROFIT")
_STOP_LIMITS = ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")


def order_request(p: Params) -> OrderRequest:
    """Validate the parameters of ``POST /api/v3/order`` (and ``/order/test``, ``cancelReplace``)."""
    # 1. mandatory, including the ones the (known) order type requires
    p.require("symbol", "side", "type")
    order_type_raw = p.get("type")
    if order_type_raw == "LIMIT":
        p.require("timeInForce", "quantity", "price")
    elif order_type_raw == "LIMIT_MAKER":
        p.require("quantity", "price")
    elif order_type_raw == "MARKET":
        p.require_one_of("quantity", "quoteOrderQty")
    elif order_type_raw in _STOPS:
        p.require("quantity")
        p.require_one_of("stopPrice", "trailingDelta")
    elif order_type_raw in _STOP_LIMITS:
        p.require("timeInForce", "quantity", "price")
        p.require_one_of("stopPrice", "trailingDelta")
    # 2. formats
    symbol = p.symbol()
    quantity = p.decimal("quantity")
    quote_order_qty = p.decimal("quoteOrderQty")
    price = p.decimal("price")
    stop_price = p.decimal("stopPrice")
    trailing_delta = p.integer("trailingDelta")
    client_order_id = p.client_id("newClientOrderId")
    # 3. enums
    side = p.enum("side", SIDES, side_error)
    order_type = p.enum("type", ORDER_TYPES, type_error)
    time_in_force = p.enum("timeInForce", TIME_IN_FORCE, tif_error)
    resp_type = p.enum("newOrderRespType", RESP_TYPES)
    # 4. combinations
    if order_type in ("MARKET", *_STOPS):
        if time_in_force is not None:
            raise _tif_not_required()
        p.forbid("price")
        if order_type != "MARKET":
            p.forbid("quoteOrderQty")
        if quantity is not None and quote_order_qty is not None:
            raise not_required("quoteOrderQty")
    elif order_type == "LIMIT_MAKER":
        if time_in_force is not None:
            raise _tif_not_required()
        p.forbid("quoteOrderQty")
    else:
        p.forbid("quoteOrderQty")
    if order_type not in (*_STOPS, *_STOP_LIMITS):
        p.forbid("stopPrice", "trailingDelta")
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
        stop_price=stop_price,
        trailing_delta=trailing_delta,
    )


def _list_leg(p: Params, prefix: str, allowed: frozenset[str], symbol: str, side: str,
              quantity: Decimal) -> OrderRequest:
    """One order of a list from ``<prefix>Type`` / ``Price`` / ``StopPrice`` /
    ``TrailingDelta`` / ``TimeInForce`` / ``ClientOrderId`` (``above``, ``pendingBelow``...),
    with the mandatory parameters its type needs (-1102) and none it must not have (-1106)."""
    type_name = f"{prefix}Type"
    order_type = p.enum(type_name, allowed)
    assert order_type is not None
    price, tif = f"{prefix}Price", f"{prefix}TimeInForce"
    stop, delta = f"{prefix}StopPrice", f"{prefix}TrailingDelta"
    if order_type in ("LIMIT", *_STOP_LIMITS):
        p.require(price, tif)
    elif order_type == "LIMIT_MAKER":
        p.require(price)
    if order_type in (*_STOPS, *_STOP_LIMITS):
        p.require_one_of(stop, delta)
    else:
        p.forbid(stop, delta)
    if order_type in ("MARKET", *_STOPS):
        p.forbid(price)
    if order_type not in ("LIMIT", *_STOP_LIMITS):
        p.forbid(tif)
    return OrderRequest(
        symbol=symbol, side=side, type=order_type,
        time_in_force=p.enum(tif, TIME_IN_FORCE, tif_error),
        quantity=quantity, quote_order_qty=None, price=p.decimal(price),
        new_client_order_id=p.client_id(f"{prefix}ClientOrderId"), resp_type=None,
        stop_price=p.decimal(stop), trailing_delta=p.integer(delta))


_WORKING_TYPES = frozenset({"LIMIT", "LIMIT_MAKER"})


def _working(p: Params, symbol: str) -> OrderRequest:
    p.require("workingType", "workingSide", "workingPrice", "workingQuantity")
    quantity = p.decimal("workingQuantity")
    side = p.enum("workingSide", SIDES, side_error)
    assert side is not None and quantity is not None
    return _list_leg(p, "working", _WORKING_TYPES, symbol, side, quantity)


def oto_request(p: Params) -> OtoRequest:
    """Validate the parameters of ``POST /api/v3/orderList/oto``."""
    p.require("symbol", "workingType", "workingSide", "workingPrice", "workingQuantity",
              "pendingType", "pendingSide", "pendingQuantity")
    symbol = p.symbol()
    assert symbol is not None
    list_client_id = p.client_id("listClientOrderId")
    resp_type = p.enum("newOrderRespType", RESP_TYPES)
    working = _working(p, symbol)
    quantity = p.decimal("pendingQuantity")
    side = p.enum("pendingSide", SIDES, side_error)
    assert side is not None and quantity is not None
    pending = _list_leg(p, "pending", ORDER_TYPES, symbol, side, quantity)
    return OtoRequest(symbol, list_client_id, working, (pending,), side, resp_type)


def otoco_request(p: Params) -> OtoRequest:
    """Validate the parameters of ``POST /api/v3/orderList/otoco``."""
    p.require("symbol", "workingType", "workingSide", "workingPrice", "workingQuantity",
              "pendingSide", "pendingQuantity", "pendingAboveType")
    symbol = p.symbol()
    assert symbol is not None
    list_client_id = p.client_id("listClientOrderId")
    resp_type = p.enum("newOrderRespType", RESP_TYPES)
    working = _working(p, symbol)
    quantity = p.decimal("pendingQuantity")
    side = p.enum("pendingSide", SIDES, side_error)
    assert side is not None and quantity is not None
    above = _list_leg(p, "pendingAbove", OCO_ABOVE_TYPES, symbol, side, quantity)
    if not p.has("pendingBelowType"):
        return OtoRequest(symbol, list_client_id, working, (above,), side, resp_type)
    below = _list_leg(p, "pendingBelow", OCO_BELOW_TYPES, symbol, side, quantity)
    if above.type == "LIMIT_MAKER" and below.type == "LIMIT_MAKER":
        raise ApiError(400, -1168, "At least one OCO order must be contingent.")
    return OtoRequest(symbol, list_client_id, working, (above, below), side, resp_type)


def new_oto(ctx: Context) -> Any:
    return ctx.exchange.trading.place_oto(ctx.account_id, oto_request(ctx.params))


def new_otoco(ctx: Context) -> Any:
    return ctx.exchange.trading.place_oto(ctx.account_id, otoco_request(ctx.params))


def oco_request(p: Params) -> OcoRequest:
    """Validate the parameters of ``POST /api/v3/orderList/oco``."""
    p.require("symbol", "side", "quantity", "aboveType", "belowType")
    symbol = p.symbol()
    quantity = p.decimal("quantity")
    list_client_id = p.client_id("listClientOrderId")
    side = p.enum("side", SIDES, side_error)
    resp_type = p.enum("newOrderRespType", RESP_TYPES)
    assert symbol is not None and side is not None and quantity is not None
    above = _list_leg(p, "above", OCO_ABOVE_TYPES, symbol, side, quantity)
    below = _list_leg(p, "below", OCO_BELOW_TYPES, symbol, side, quantity)
    if above.type == "LIMIT_MAKER" and below.type == "LIMIT_MAKER":
        raise ApiError(400, -1168, "At least one OCO order must be contingent.")
    return OcoRequest(symbol=symbol, side=side, quantity=quantity,
                      list_client_order_id=list_client_id, above=above, below=below,
                      resp_type=resp_type)


def new_oco(ctx: Context) -> Any:
    return ctx.exchange.trading.place_oco(ctx.account_id, oco_request(ctx.params))


def _list_ref(p: Params) -> tuple[int | None, str | None]:
    p.require_one_of("orderListId", "listClientOrderId")
    return p.integer("orderListId"), p.orig_client_id("listClientOrderId")


def cancel_order_list(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol")
    symbol = p.symbol()
    list_id, list_cid = _list_ref(p)
    p.client_id("newClientOrderId")
    assert symbol is not None
    return ctx.exchange.trading.cancel_order_list(ctx.account_id, symbol, list_id, list_cid)


def get_order_list(ctx: Context) -> Any:
    p = ctx.params
    p.require_one_of("orderListId", "origClientOrderId")
    return ctx.exchange.trading.order_list(ctx.account_id, p.integer("orderListId"),
                                           p.orig_client_id())


def all_order_lists(ctx: Context) -> Any:
    p = ctx.params
    from_id = p.integer("fromId")
    start = p.integer("startTime")
    end = p.integer("endTime")
    limit = p.limit(500, 1000)
    if from_id is not None and (start is not None or end is not None):
        raise not_required("startTime" if start is not None else "endTime")
    return ctx.exchange.trading.all_order_lists(ctx.account_id, from_id, start, end, limit)


def open_order_lists(ctx: Context) -> Any:
    return ctx.exchange.trading.open_order_lists(ctx.account_id)


def amend_keep_priority(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol", "newQty")
    p.require_one_of("orderId", "origClientOrderId")
    symbol = p.symbol()
    order_id = p.integer("orderId")
    orig = p.orig_client_id()
    new_cid = p.client_id("newClientOrderId")
    new_qty = p.decimal("newQty")
    assert symbol is not None and new_qty is not None
    if new_qty <= 0:
        raise illegal_qty()
    return ctx.exchange.trading.amend_keep_priority(ctx.account_id, symbol, order_id, orig,
                                                    new_cid, new_qty)


def illegal_qty() -> ApiError:
    return ApiError(400, -1013, "Filter failure: LOT_SIZE")


def cancel_replace(ctx: Context) -> Any:
    p = ctx.params
    p.require("symbol", "side", "type", "cancelReplaceMode")
    if not p.has("cancelOrderId") and not p.has("cancelOrigClientOrderId"):
        raise missing_either("cancelOrderId", "cancelOrigClientOrderId")
    req = order_request(p)
    mode = p.enum("cancelReplaceMode", CANCEL_REPLACE_MODES)
    assert mode is not None
    return ctx.exchange.trading.cancel_replace(
        ctx.account_id, mode, p.integer("cancelOrderId"),
        p.orig_client_id("cancelOrigClientOrderId"), p.client_id("cancelNewClientOrderId"), req)


def new_order(ctx: Context) -> Any:
    return ctx.exchange.trading.place_order(ctx.account_id, order_request(ctx.params))


def order_test(ctx: Context) -> Any:
    """Validate and check the order without placing it: ``{}``, or with
    ``computeCommissionRates=true`` the commission rates it would pay."""
    request = order_request(ctx.params)
    compute = ctx.params.boolean("computeCommissionRates")
    ctx.exchange.trading.place_order(ctx.account_id, request, test=True)
    return commission_rates_for_order() if compute else {}




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
    route("POST", "/api/v3/orderList/oco", new_oco, places_order=True),
    route("POST", "/api/v3/orderList/oto", new_oto, places_order=True),
    route("POST", "/api/v3/orderList/otoco", new_otoco, places_order=True),
    route("DELETE", "/api/v3/orderList", cancel_order_list),
    route("GET", "/api/v3/orderList", get_order_list),
    route("GET", "/api/v3/allOrderList", all_order_lists),
    route("GET", "/api/v3/openOrderList", open_order_lists),
    route("PUT", "/api/v3/order/amend/keepPriority", amend_keep_priority),
    route("POST", "/api/v3/order/cancelReplace", cancel_replace, places_order=True),
]
