"""Deposits (signed): ``GET /sapi/v1/capital/deposit/address`` and ``/capital/deposit/hisrec``,
plus the paper exchange's own ``POST /admin/deposit`` that credits a deposit to one of its
generated addresses (the CLI's ``btx-tui exchange deposit`` calls it on a running exchange).

The admin endpoint answers loopback callers only, with the token the running exchange wrote to
``DATA_DIR/admin-token`` (0600) in ``X-BTX-ADMIN-TOKEN`` (``admin_access.py``): whoever can read
the data directory can mint paper money, nobody else.
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.admin_access import require_admin
from btx_tui.exchange.http.endpoints import Context, route

ADMIN_DEPOSIT_PATH = "/admin/deposit"


def deposit_address(ctx: Context) -> Any:
    p = ctx.params
    p.require("coin")
    coin = p.coin()
    network = p.coin("network")
    p.decimal("amount")  # accepted (the standard uses it for some networks), not needed here
    assert coin is not None
    return ctx.exchange.deposits.address(ctx.account_id, coin, network)


def deposit_history(ctx: Context) -> Any:
    p = ctx.params
    coin = p.coin()
    status = p.integer("status", lo=0, hi=8)
    start = p.integer("startTime")
    end = p.integer("endTime")
    offset = p.integer("offset", default=0)
    limit = p.limit(1000, 1000)
    tx_id = p.text("txId")
    return ctx.exchange.deposits.history(ctx.account_id, coin, status, start, end, offset or 0, limit, tx_id)


def admin_deposit(ctx: Context) -> Any:
    """Credit ``amount`` sent to ``address`` (one this exchange generated), or to the deposit
    address of ``account`` (default: the demo account) for ``coin`` on ``network``."""
    require_admin(ctx)
    p = ctx.params
    p.require("amount")
    if not p.has("address"):
        p.require("coin")
    address = p.text("address")
    amount = p.decimal("amount")
    tx_id = p.text("txId")
    assert amount is not None
    if address is None:  # to the account's own address for coin/network (default: the demo account)
        coin = p.coin()
        assert coin is not None
        account = p.integer("account")
        deposits = ctx.exchange.deposits
        if account is None:
            account = ctx.exchange.accounts.demo_account_id
        elif not ctx.exchange.accounts.exists(account):
            raise ApiError(400, -1100, "Illegal characters found in parameter 'account'; legal range is 'an account id'.")
        address = deposits.address(account, coin, p.coin("network"))["address"]
    return ctx.exchange.deposits.credit(address, amount, tx_id)


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("GET", "/sapi/v1/capital/deposit/address", deposit_address),
    route("GET", "/sapi/v1/capital/deposit/hisrec", deposit_history),
    route("POST", ADMIN_DEPOSIT_PATH, admin_deposit),
]
