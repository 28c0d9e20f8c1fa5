"""Frozen models of the answers of the order-list, amend and cancel-replace endpoints.

Kept apart from :mod:`btx_tui.api.models_trading` (single orders, trades, account) because
these are the compound answers: a list of orders with its own status, an amend that renames
an order, a cancel-replace that is two requests in one. Same rules: Decimal money, frozen,
camelCase on the wire, extra fields ignored.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import field_validator

from .models import Frozen
from .models_trading import Order, OrderSide, OrderStatus, OrderType, TimeInForce

__all__ = [
    "AmendResult",
    "AmendedOrder",
    "ApiErrorBody",
    "CancelReplaceResult",
    "ContingencyType",
    "ListOrderRef",
    "ListOrderStatus",
    "ListStatusType",
    "OrderList",
]


class ContingencyType(StrEnum):
    OCO = "OCO"
    OTO = "OTO"


class ListStatusType(StrEnum):
    RESPONSE = "RESPONSE"
    EXEC_STARTED = "EXEC_STARTED"
    UPDATED = "UPDATED"
    ALL_DONE = "ALL_DONE"


class ListOrderStatus(StrEnum):
    EXECUTING = "EXECUTING"
    ALL_DONE = "ALL_DONE"
    REJECT = "REJECT"


class ListOrderRef(Frozen):
    """One order of a list as the list names it (``orders[]``)."""

    symbol: str
    order_id: int
    client_order_id: str


class OrderList(Frozen):
    """An order list (OCO, OTO, OTOCO) from place, cancel, ``orderList``, ``allOrderList``,
    ``openOrderList``. ``order_reports`` is filled by place and cancel only (empty on queries):
    query the orders themselves for their state."""

    order_list_id: int
    contingency_type: str
    """``OCO`` or ``OTO`` (an OTOCO is ``OTO`` on the wire, as the standard's examples show)."""
    list_status_type: ListStatusType | str
    list_order_status: ListOrderStatus | str
    list_client_order_id: str
    transaction_time: int
    symbol: str
    orders: tuple[ListOrderRef, ...] = ()
    order_reports: tuple[Order, ...] = ()

    @property
    def is_open(self) -> bool:
        """Some order of the list can still execute (``listOrderStatus`` EXECUTING)."""
        return self.list_order_status == ListOrderStatus.EXECUTING

    @property
    def client_order_ids(self) -> tuple[str, ...]:
        """The client ids of the list's orders, in the list's order."""
        return tuple(o.client_order_id for o in self.orders)

    def report(self, client_order_id: str) -> Order | None:
        """The order report of one leg (by its client id), None if the answer had none."""
        return next((r for r in self.order_reports if r.order_client_id == client_order_id), None)


class AmendedOrder(Frozen):
    """``amendedOrder`` of ``PUT /api/v3/order/amend/keepPriority``: the order after the amend.

    ``client_order_id`` is the order's NEW client id; ``orig_client_order_id`` the one it had.
    """

    symbol: str
    order_id: int
    order_list_id: int = -1
    orig_client_order_id: str
    client_order_id: str
    price: Decimal | None = None
    qty: Decimal
    executed_qty: Decimal = Decimal(0)
    quote_order_qty: Decimal | None = None
    cumulative_quote_qty: Decimal | None = None
    status: OrderStatus | None = None
    time_in_force: TimeInForce | None = None
    type: OrderType | None = None
    side: OrderSide | None = None
    working_time: int | None = None


class AmendResult(Frozen):
    """The answer of an amend: the order as it now stands, and its list's status if it has one."""

    transact_time: int
    execution_id: int
    amended_order: AmendedOrder
    list_status: OrderList | None = None


class ApiErrorBody(Frozen):
    """``{"code", "msg"}``: how a cancel-replace answer reports the half that failed."""

    code: int
    msg: str


def _half(value: Any) -> Any:
    """A half of a cancel-replace answer: an order report, an error body, or nothing."""
    if isinstance(value, dict) and "code" in value and "orderId" not in value:
        return ApiErrorBody.model_validate(value)
    if isinstance(value, dict):
        return Order.model_validate(value)
    return value


class CancelReplaceResult(Frozen):
    """The body of ``POST /api/v3/order/cancelReplace`` — and the ``data`` of its -2021/-2022
    errors, which have the same shape with the failed half as an :class:`ApiErrorBody`.

    ``cancel_result`` / ``new_order_result``: ``SUCCESS``, ``FAILURE`` or ``NOT_ATTEMPTED``.
    """

    cancel_result: str
    new_order_result: str
    cancel_response: Order | ApiErrorBody | None = None
    new_order_response: Order | ApiErrorBody | None = None

    @field_validator("cancel_response", "new_order_response", mode="before")
    @classmethod
    def _halves(cls, value: Any) -> Any:
        return _half(value)

    @property
    def canceled(self) -> Order | None:
        """The cancel report when the cancel succeeded."""
        return self.cancel_response if isinstance(self.cancel_response, Order) else None

    @property
    def new_order(self) -> Order | None:
        """The new order when it was placed."""
        return self.new_order_response if isinstance(self.new_order_response, Order) else None
