"""Account and wallet-status endpoints widely used clients call besides trading:
``/api/v3/account/commission``, ``/api/v3/myPreventedMatches``, ``/sapi/v1/system/status``,
``/sapi/v1/account/status``, ``/sapi/v1/asset/tradeFee`` and ``/sapi/v1/asset/assetDetail``.

Shapes and weights as the standard defines them. The paper exchange charges one flat rate
(``ledger.COMMISSION_RATE``, maker = taker, no discounts, no tax) and never prevents a match
(every symbol's self-trade prevention mode is ``NONE``), so the prevented-match list is always
empty — after the parameters were checked like any other request.
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.endpoints import Context, route
from btx_tui.exchange.http.params import missing, missing_either, not_required
from btx_tui.exchange.numbers import fmt
from btx_tui.exchange.state.ledger import COMMISSION_RATE
from btx_tui.exchange.state.symbols import spec_for
from btx_tui.exchange.state.withdrawal_networks import COINS

ZERO_RATE = "0.00000000"


def commission_rates() -> dict[str, str]:
    """``{"maker","taker","buyer","seller"}`` of the standard commission."""
    rate = fmt(COMMISSION_RATE)
    return {"maker": rate, "taker": rate, "buyer": ZERO_RATE, "seller": ZERO_RATE}


def no_discount() -> dict[str, Any]:
    return {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": "BNB",
            "discount": ZERO_RATE}


def commission_rates_for_order() -> dict[str, Any]:
    """``POST /api/v3/order/test`` with ``computeCommissionRates=true``."""
    rate = fmt(COMMISSION_RATE)
    return {"standardCommissionForOrder": {"maker": rate, "taker": rate},
            "specialCommissionForOrder": {"maker": ZERO_RATE, "taker": ZERO_RATE},
            "taxCommissionForOrder": {"maker": ZERO_RATE, "taker": ZERO_RATE},
            "discount": no_discount()}


def _known_symbol(ctx: Context, name: str = "symbol") -> str:
    symbol = ctx.params.symbol(name)
    assert symbol is not None
    spec_for(ctx.exchange.symbols, symbol)  # -1121 for an unknown symbol
    return symbol


def account_commission(ctx: Context) -> Any:
    ctx.params.require("symbol")
    symbol = _known_symbol(ctx)
    zeros = {"maker": ZERO_RATE, "taker": ZERO_RATE, "buyer": ZERO_RATE, "seller": ZERO_RATE}
    return {"symbol": symbol, "standardCommission": commission_rates(), "specialCommission": dict(zeros),
            "taxCommission": dict(zeros), "discount": no_discount()}


def my_prevented_matches(ctx: Context) -> Any:
    """``symbol`` + ``preventedMatchId``, or ``symbol`` + ``orderId`` [+ ``fromPreventedMatchId``,
    ``limit``]. Nothing is ever prevented here (STP mode NONE), so the answer is ``[]``."""
    p = ctx.params
    p.require("symbol")
    if not p.has("preventedMatchId") and not p.has("orderId"):
        if p.has("fromPreventedMatchId"):
            raise missing("orderId")
        raise missing_either("preventedMatchId", "orderId")
    _known_symbol(ctx)
    p.integer("preventedMatchId")
    p.integer("orderId")
    p.integer("fromPreventedMatchId")
    p.limit(500, 1000)
    if p.has("preventedMatchId") and p.has("fromPreventedMatchId"):
        raise not_required("fromPreventedMatchId")
    return []


def system_status(ctx: Context) -> Any:
    return {"status": 0, "msg": "normal"}


def account_status(ctx: Context) -> Any:
    return {"data": "Normal"}


def trade_fee(ctx: Context) -> Any:
    symbols = [_known_symbol(ctx)] if ctx.params.has("symbol") else sorted(ctx.exchange.symbols)
    rate = str(COMMISSION_RATE)
    return [{"symbol": s, "makerCommission": rate, "takerCommission": rate} for s in symbols]


def asset_detail(ctx: Context) -> Any:
    asset = ctx.params.coin("asset")
    if asset is not None and asset not in COINS:
        raise ApiError(400, -1100, f"Illegal characters found in parameter 'asset'; legal range is "
                       f"'{', '.join(sorted(COINS))}'.")
    out = {}
    for coin in ([COINS[asset]] if asset else COINS.values()):
        net = coin.default or coin.networks[0]
        out[coin.coin] = {"minWithdrawAmount": fmt(net.min), "depositStatus": True,
                          "withdrawFee": fmt(net.fee), "withdrawStatus": net.enabled,
                          "depositTip": ""}
    return out


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("GET", "/api/v3/account/commission", account_commission),
    route("GET", "/api/v3/myPreventedMatches", my_prevented_matches),
    route("GET", "/sapi/v1/system/status", system_status),
    route("GET", "/sapi/v1/account/status", account_status),
    route("GET", "/sapi/v1/asset/tradeFee", trade_fee),
    route("GET", "/sapi/v1/asset/assetDetail", asset_detail),
]
