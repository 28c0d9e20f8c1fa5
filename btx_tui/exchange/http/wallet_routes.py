"""Withdrawal endpoints (contract section 7, signed).

The HTTP layer checks formats only; the Exchange decides whether a coin, network, address
or amount is acceptable (-4xxx, HTTP 400).
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.http.endpoints import Context, route


def withdraw_apply(ctx: Context) -> Any:
    p = ctx.params
    p.require("coin", "address", "amount")
    coin = p.coin()
    network = p.coin("network")
    address = p.text("address")
    address_tag = p.text("addressTag")
    amount = p.decimal("amount")
    withdraw_order_id = p.text("withdrawOrderId")
    return ctx.exchange.wallet.withdraw_apply(
        ctx.account_id, coin, network, address, address_tag, amount, withdraw_order_id
    )


def withdraw_history(ctx: Context) -> Any:
    p = ctx.params
    coin = p.coin()
    withdraw_order_id = p.text("withdrawOrderId")
    status = p.integer("status", lo=0, hi=6)
    offset = p.integer("offset")
    limit = p.limit(1000, 1000)
    start = p.integer("startTime")
    end = p.integer("endTime")
    return ctx.exchange.wallet.withdraw_history(
        ctx.account_id, coin, withdraw_order_id, status, offset, limit, start, end
    )


def capital_config(ctx: Context) -> Any:
    return ctx.exchange.wallet.capital_config(ctx.account_id)


def no_margin_pairs(ctx: Context) -> Any:
    """Spot only: no cross or isolated margin pairs.

    ccxt's ``binance.load_markets()`` asks for these whenever it has an API key; answering
    with an empty list (as an exchange without margin trading would) lets it work unchanged.
    """
    return []


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("POST", "/sapi/v1/capital/withdraw/apply", withdraw_apply),
    route("GET", "/sapi/v1/capital/withdraw/history", withdraw_history),
    route("GET", "/sapi/v1/capital/config/getall", capital_config),
    route("GET", "/sapi/v1/margin/allPairs", no_margin_pairs),
    route("GET", "/sapi/v1/margin/isolated/allPairs", no_margin_pairs),
]
