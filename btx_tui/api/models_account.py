"""Frozen models of the account, fee, wallet-status and deposit answers, and the ``MINI``
ticker (the standard's endpoints beyond trading that widely used clients call).

Money is ``Decimal`` (rates included); see :mod:`btx_tui.api.models` for the conventions.
"""

from __future__ import annotations

from decimal import Decimal

from .models import Frozen

__all__ = ["AccountCommission", "AccountStatus", "AssetDetail", "CommissionRates", "Deposit",
           "DepositAddress", "Discount", "MiniTicker", "OrderCommissionRates", "PreventedMatch",
           "SystemStatus", "TradeFee"]


class MiniTicker(Frozen):
    """A ``type=MINI`` ticker (24hr, rolling window, trading day): no change, bid/ask fields."""

    symbol: str
    open_price: Decimal
    high_price: Decimal
    low_price: Decimal
    last_price: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_time: int
    close_time: int
    first_id: int
    last_id: int
    count: int


class CommissionRates(Frozen):
    maker: Decimal
    taker: Decimal
    buyer: Decimal = Decimal(0)
    seller: Decimal = Decimal(0)


class Discount(Frozen):
    enabled_for_account: bool
    enabled_for_symbol: bool
    discount_asset: str | None = None
    discount: Decimal


class AccountCommission(Frozen):
    """``GET /api/v3/account/commission``: the rates one symbol's orders pay."""

    symbol: str
    standard_commission: CommissionRates
    special_commission: CommissionRates | None = None
    tax_commission: CommissionRates
    discount: Discount


class OrderCommissionRates(Frozen):
    """``POST /api/v3/order/test`` with ``computeCommissionRates=true``."""

    standard_commission_for_order: CommissionRates
    tax_commission_for_order: CommissionRates
    discount: Discount


class PreventedMatch(Frozen):
    """One entry of ``GET /api/v3/myPreventedMatches``."""

    symbol: str
    prevented_match_id: int
    taker_order_id: int
    maker_order_id: int
    trade_group_id: int
    self_trade_prevention_mode: str
    price: Decimal
    maker_prevented_quantity: Decimal
    transact_time: int


class SystemStatus(Frozen):
    """``GET /sapi/v1/system/status``: 0 normal, 1 system maintenance."""

    status: int
    msg: str


class AccountStatus(Frozen):
    """``GET /sapi/v1/account/status``: ``data`` is "Normal" when the account may trade."""

    data: str


class TradeFee(Frozen):
    """One entry of ``GET /sapi/v1/asset/tradeFee``."""

    symbol: str
    maker_commission: Decimal
    taker_commission: Decimal


class AssetDetail(Frozen):
    """One coin of ``GET /sapi/v1/asset/assetDetail``."""

    min_withdraw_amount: Decimal
    deposit_status: bool
    withdraw_fee: Decimal
    withdraw_status: bool
    deposit_tip: str | None = None


class DepositAddress(Frozen):
    """``GET /sapi/v1/capital/deposit/address``."""

    address: str
    coin: str
    tag: str
    url: str = ""


class Deposit(Frozen):
    """One entry of ``GET /sapi/v1/capital/deposit/hisrec`` (status 1 = success)."""

    id: str
    amount: Decimal
    coin: str
    network: str
    status: int
    address: str
    address_tag: str
    tx_id: str
    insert_time: int
    complete_time: int | None = None
    transfer_type: int = 0
    confirm_times: str = ""
