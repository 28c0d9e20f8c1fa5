"""Frozen pydantic models of the signed endpoints: orders, trades, account, withdrawals.

Same rules as :mod:`btx_tui.api.models`: Decimal money, immutable, extra fields ignored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import field_validator

from .models import Frozen

__all__ = [
    "Account",
    "ApiRestrictions",
    "Balance",
    "CoinConfig",
    "CommissionRates",
    "MyTrade",
    "NetworkConfig",
    "Order",
    "OrderFill",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "TimeInForce",
    "Withdrawal",
    "WithdrawApplyResult",
    "WithdrawStatus",
]


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PENDING_NEW = "PENDING_NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    PENDING_CANCEL = "PENDING_CANCEL"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"

    @property
    def is_open(self) -> bool:
        """Still on the book (can fill or be cancelled)."""
        return self in (OrderStatus.NEW, OrderStatus.PENDING_NEW, OrderStatus.PARTIALLY_FILLED)


_STOP_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT,
                         OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT})


class OrderFill(Frozen):
    """One execution in a FULL order response."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int | None = None


class Order(Frozen):
    """An order as returned by place (ACK/RESULT/FULL), query, cancel and the list endpoints.

    Fields absent from a given response shape are None. On a cancel report ``client_order_id``
    is the *cancel's* id and ``orig_client_order_id`` the order's, as in the contract.
    """

    symbol: str
    order_id: int
    order_list_id: int = -1
    client_order_id: str
    orig_client_order_id: str | None = None
    transact_time: int | None = None
    price: Decimal | None = None
    orig_qty: Decimal | None = None
    executed_qty: Decimal | None = None
    cummulative_quote_qty: Decimal | None = None
    orig_quote_order_qty: Decimal | None = None
    status: OrderStatus | None = None
    time_in_force: TimeInForce | None = None
    type: OrderType | None = None
    side: OrderSide | None = None
    stop_price: Decimal | None = None
    trailing_delta: int | None = None
    """Trailing stop distance in basis points (None for a non-trailing order)."""
    trailing_time: int | None = None
    iceberg_qty: Decimal | None = None
    time: int | None = None
    update_time: int | None = None
    is_working: bool | None = None
    working_time: int | None = None
    self_trade_prevention_mode: str | None = None
    fills: tuple[OrderFill, ...] = ()

    @property
    def order_client_id(self) -> str:
        """The order's own client id, whether this is an order or a cancel report."""
        return self.orig_client_order_id or self.client_order_id

    @property
    def is_stop(self) -> bool:
        """A stop-loss / take-profit order (market or limit), triggered or not."""
        return self.type in _STOP_TYPES

    @property
    def is_untriggered(self) -> bool:
        """A stop order still waiting for its trigger (open, not in the book: ``workingTime`` -1)."""
        return (self.is_stop and self.status is OrderStatus.NEW
                and (self.working_time == -1 or self.is_working is False))

    @property
    def in_list(self) -> bool:
        """The order belongs to an order list (OCO / OTO / OTOCO)."""
        return self.order_list_id != -1

    @property
    def avg_price(self) -> Decimal | None:
        """Average execution price, None when nothing executed."""
        if not self.executed_qty or self.cummulative_quote_qty is None:
            return None
        return self.cummulative_quote_qty / self.executed_qty


class MyTrade(Frozen):
    symbol: str
    id: int
    order_id: int
    order_list_id: int = -1
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    is_best_match: bool = True

    def as_fill(self) -> OrderFill:
        return OrderFill(price=self.price, qty=self.qty, commission=self.commission,
                         commission_asset=self.commission_asset, trade_id=self.id)


class Balance(Frozen):
    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


class CommissionRates(Frozen):
    maker: Decimal
    taker: Decimal
    buyer: Decimal = Decimal(0)
    seller: Decimal = Decimal(0)


class Account(Frozen):
    maker_commission: int = 10
    taker_commission: int = 10
    commission_rates: CommissionRates | None = None
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool = True
    update_time: int = 0
    account_type: str = "SPOT"
    balances: tuple[Balance, ...]
    permissions: tuple[str, ...] = ()
    uid: int | None = None

    def balance(self, asset: str) -> Balance:
        """The balance of ``asset`` (zero when the account has none)."""
        for b in self.balances:
            if b.asset == asset:
                return b
        return Balance(asset=asset, free=Decimal(0), locked=Decimal(0))

    def free(self) -> dict[str, Decimal]:
        """asset → free amount, for the pre-flight checks."""
        return {b.asset: b.free for b in self.balances}


class ApiRestrictions(Frozen):
    ip_restrict: bool = False
    create_time: int | None = None
    enable_reading: bool = True
    enable_spot_and_margin_trading: bool = False
    enable_withdrawals: bool = False


class WithdrawApplyResult(Frozen):
    id: str


class WithdrawStatus(IntEnum):
    EMAIL_SENT = 0
    CANCELLED = 1
    AWAITING_APPROVAL = 2
    REJECTED = 3
    PROCESSING = 4
    FAILURE = 5
    COMPLETED = 6


def _parse_utc(value: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            return value
    if value == "":
        return None
    return value


class Withdrawal(Frozen):
    id: str
    amount: Decimal
    transaction_fee: Decimal = Decimal(0)
    coin: str
    status: int
    address: str
    address_tag: str | None = None
    tx_id: str | None = None
    apply_time: datetime | None = None
    network: str | None = None
    transfer_type: int = 0
    withdraw_order_id: str | None = None
    info: str | None = None
    confirm_no: int | None = None
    complete_time: datetime | None = None

    @field_validator("apply_time", "complete_time", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        return _parse_utc(value)

    @property
    def status_name(self) -> str:
        try:
            return WithdrawStatus(self.status).name.replace("_", " ").lower()
        except ValueError:
            return f"status {self.status}"


class NetworkConfig(Frozen):
    network: str
    coin: str
    is_default: bool = False
    withdraw_enable: bool = True
    withdraw_fee: Decimal
    withdraw_min: Decimal
    withdraw_max: Decimal
    address_regex: str | None = None
    memo_regex: str | None = None


class CoinConfig(Frozen):
    coin: str
    name: str = ""
    free: Decimal = Decimal(0)
    locked: Decimal = Decimal(0)
    withdraw_all_enable: bool = True
    network_list: tuple[NetworkConfig, ...] = ()

    @property
    def default_network(self) -> NetworkConfig | None:
        return next((n for n in self.network_list if n.is_default), None)
