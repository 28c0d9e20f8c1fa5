"""Safe order-list placement (OCO, OTO, OTOCO): ACCEPTED, REJECTED or UNKNOWN — like one order.

Why a module of its own: a list is several orders placed by one request, and the same
ambiguity as :mod:`btx_tui.api.orders` applies — after a 5xx, -1006/-1007, a read timeout or a
reset after sending, the list may exist. So the same three rules hold, with the list's names:

1. the list is named before it is sent (``listClientOrderId``) and so is every leg
   (``aboveClientOrderId``, ``workingClientOrderId``…, all ``btx-`` ids); the journal gets the
   intent (the list and each leg) before sending;
2. the request is sent once;
3. an unknown outcome is resolved by ``GET /api/v3/orderList?origClientOrderId=<list id>``
   until the list is found or has been absent (-2013) for several queries after the request's
   receive window has passed — never by resending.

The request objects also serve as the wire format: :meth:`to_params` gives the standard's
parameter names (``aboveType``, ``belowStopPrice``, ``pendingAboveTrailingDelta``…).
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol

from .errors import BtxError
from .models_orderlists import OrderList
from .models_trading import OrderSide, OrderType, TimeInForce
from .orders import (
    CLIENT_ORDER_ID_RE,
    OrderRequest,
    Outcome,
    ResolvePolicy,
    _is_unknown,
    new_client_order_id,
    query_until_found,
)
from .signing import params

__all__ = [
    "ListJournal",
    "ListLeg",
    "ListPlacementResult",
    "ListVenue",
    "OcoRequest",
    "OrderListRequest",
    "OtoRequest",
    "OtocoRequest",
    "resolve_unknown_list",
    "submit_order_list",
]

log = logging.getLogger("btx_tui.api.order_lists")

_TIF_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
_PRICED = frozenset({OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.STOP_LOSS_LIMIT,
                     OrderType.TAKE_PROFIT_LIMIT})


@dataclass(frozen=True, slots=True)
class ListLeg:
    """One order of a list, without side and quantity (the list gives those).

    ``price`` for LIMIT / LIMIT_MAKER / *_LIMIT legs, ``stop_price`` and/or ``trailing_delta``
    (bps) for stop legs; ``time_in_force`` defaults to GTC where the type takes one. Values must
    already be rounded (see :func:`btx_tui.api.preflight.check_oco`).
    """

    type: OrderType
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trailing_delta: int | None = None
    time_in_force: TimeInForce | None = None
    client_order_id: str = field(default_factory=new_client_order_id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", OrderType(self.type))
        if self.time_in_force is not None:
            object.__setattr__(self, "time_in_force", TimeInForce(self.time_in_force))
        elif self.type in _TIF_TYPES:
            object.__setattr__(self, "time_in_force", TimeInForce.GTC)
        if not CLIENT_ORDER_ID_RE.match(self.client_order_id):
            raise ValueError("client_order_id must match ^[a-zA-Z0-9-_]{1,36}$")
        for name in ("price", "stop_price"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"{name} must be a Decimal")

    def wire(self, prefix: str) -> list[tuple[str, str]]:
        """``<prefix>Type``, ``<prefix>Price``… as the standard names them."""
        return params(
            (f"{prefix}Type", self.type),
            (f"{prefix}Price", self.price if self.type in _PRICED else None),
            (f"{prefix}StopPrice", self.stop_price), (f"{prefix}TrailingDelta", self.trailing_delta),
            (f"{prefix}TimeInForce", self.time_in_force if self.type in _TIF_TYPES else None),
            (f"{prefix}ClientOrderId", self.client_order_id),
        )

    def as_order(self, symbol: str, side: OrderSide, quantity: Decimal) -> OrderRequest:
        """The leg as a single :class:`OrderRequest` (what the journal records per leg)."""
        return OrderRequest(symbol=symbol, side=side, type=self.type, quantity=quantity,
                            price=self.price if self.type in _PRICED else None,
                            time_in_force=self.time_in_force, client_order_id=self.client_order_id,
                            stop_price=self.stop_price, trailing_delta=self.trailing_delta)


def _check_list_id(list_client_order_id: str) -> None:
    if not CLIENT_ORDER_ID_RE.match(list_client_order_id):
        raise ValueError("list_client_order_id must match ^[a-zA-Z0-9-_]{1,36}$")


@dataclass(frozen=True, slots=True)
class OcoRequest:
    """``POST /api/v3/orderList/oco``: one-cancels-the-other around the last price.

    A SELL OCO: ``above`` LIMIT_MAKER / TAKE_PROFIT(_LIMIT), ``below`` STOP_LOSS(_LIMIT); a BUY
    OCO the reverse (``above`` a stop-loss, ``below`` a LIMIT_MAKER or take-profit).
    """

    symbol: str
    side: OrderSide
    quantity: Decimal
    above: ListLeg
    below: ListLeg
    list_client_order_id: str = field(default_factory=new_client_order_id)
    resp_type: str = "FULL"

    path = "/api/v3/orderList/oco"

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", OrderSide(self.side))
        if not isinstance(self.quantity, Decimal):
            raise TypeError("quantity must be a Decimal")
        _check_list_id(self.list_client_order_id)

    def to_params(self) -> list[tuple[str, str]]:
        return [*params(("symbol", self.symbol), ("listClientOrderId", self.list_client_order_id),
                        ("side", self.side), ("quantity", self.quantity)),
                *self.above.wire("above"), *self.below.wire("below"),
                *params(("newOrderRespType", self.resp_type))]

    def leg_requests(self) -> tuple[OrderRequest, ...]:
        return (self.above.as_order(self.symbol, self.side, self.quantity),
                self.below.as_order(self.symbol, self.side, self.quantity))


@dataclass(frozen=True, slots=True)
class OtoRequest:
    """``POST /api/v3/orderList/oto``: a working LIMIT / LIMIT_MAKER order; when it fills, the
    pending order goes live (it is ``PENDING_NEW`` until then and locks nothing)."""

    symbol: str
    working_side: OrderSide
    working_quantity: Decimal
    working: ListLeg
    pending_side: OrderSide
    pending_quantity: Decimal
    pending: ListLeg
    list_client_order_id: str = field(default_factory=new_client_order_id)
    resp_type: str = "FULL"

    path = "/api/v3/orderList/oto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "working_side", OrderSide(self.working_side))
        object.__setattr__(self, "pending_side", OrderSide(self.pending_side))
        if not isinstance(self.working_quantity, Decimal) or not isinstance(self.pending_quantity, Decimal):
            raise TypeError("working_quantity and pending_quantity must be Decimals")
        _check_list_id(self.list_client_order_id)

    def to_params(self) -> list[tuple[str, str]]:
        return [*params(("symbol", self.symbol), ("listClientOrderId", self.list_client_order_id),
                        ("workingSide", self.working_side), ("workingQuantity", self.working_quantity)),
                *self.working.wire("working"),
                *params(("pendingSide", self.pending_side), ("pendingQuantity", self.pending_quantity)),
                *self.pending.wire("pending"), *params(("newOrderRespType", self.resp_type))]

    def leg_requests(self) -> tuple[OrderRequest, ...]:
        return (self.working.as_order(self.symbol, self.working_side, self.working_quantity),
                self.pending.as_order(self.symbol, self.pending_side, self.pending_quantity))


@dataclass(frozen=True, slots=True)
class OtocoRequest:
    """``POST /api/v3/orderList/otoco``: a working order, then an OCO pair (or one order when
    ``pending_below`` is None) once it fills — the bracket order."""

    symbol: str
    working_side: OrderSide
    working_quantity: Decimal
    working: ListLeg
    pending_side: OrderSide
    pending_quantity: Decimal
    pending_above: ListLeg
    pending_below: ListLeg | None = None
    list_client_order_id: str = field(default_factory=new_client_order_id)
    resp_type: str = "FULL"

    path = "/api/v3/orderList/otoco"

    def __post_init__(self) -> None:
        object.__setattr__(self, "working_side", OrderSide(self.working_side))
        object.__setattr__(self, "pending_side", OrderSide(self.pending_side))
        if not isinstance(self.working_quantity, Decimal) or not isinstance(self.pending_quantity, Decimal):
            raise TypeError("working_quantity and pending_quantity must be Decimals")
        _check_list_id(self.list_client_order_id)

    def to_params(self) -> list[tuple[str, str]]:
        below = self.pending_below.wire("pendingBelow") if self.pending_below else []
        return [*params(("symbol", self.symbol), ("listClientOrderId", self.list_client_order_id),
                        ("workingSide", self.working_side), ("workingQuantity", self.working_quantity)),
                *self.working.wire("working"),
                *params(("pendingSide", self.pending_side), ("pendingQuantity", self.pending_quantity)),
                *self.pending_above.wire("pendingAbove"), *below,
                *params(("newOrderRespType", self.resp_type))]

    def leg_requests(self) -> tuple[OrderRequest, ...]:
        legs = [self.working.as_order(self.symbol, self.working_side, self.working_quantity),
                self.pending_above.as_order(self.symbol, self.pending_side, self.pending_quantity)]
        if self.pending_below is not None:
            legs.append(self.pending_below.as_order(self.symbol, self.pending_side, self.pending_quantity))
        return tuple(legs)


OrderListRequest = OcoRequest | OtoRequest | OtocoRequest
"""Any list placement request."""


def contingency_of(request: OrderListRequest) -> str:
    """``OCO`` / ``OTO`` / ``OTOCO``: what the journal and the dashboard call the list."""
    return {OcoRequest: "OCO", OtoRequest: "OTO", OtocoRequest: "OTOCO"}[type(request)]


@dataclass(frozen=True, slots=True)
class ListPlacementResult:
    """How a list placement ended (see :class:`btx_tui.api.orders.PlacementResult`).

    ``order_list`` is the exchange's list when ACCEPTED (with ``order_reports`` when the
    placement answer itself arrived; a list found by resolution has only ``orders`` — query
    the legs for their state).
    """

    outcome: Outcome
    request: OrderListRequest
    order_list: OrderList | None = None
    error: BtxError | None = None
    initial_outcome: Outcome | None = None
    resolved: bool = False
    proven_absent: bool = False
    resolution_attempts: int = 0

    @property
    def list_client_order_id(self) -> str:
        return self.request.list_client_order_id

    def describe(self) -> str:
        """One line for the trader."""
        name = f"{contingency_of(self.request)} {self.list_client_order_id}"
        if self.outcome is Outcome.ACCEPTED:
            how = " (confirmed by querying after an unclear answer)" if self.resolved else ""
            return f"{name} accepted{how}"
        if self.outcome is Outcome.REJECTED:
            if self.proven_absent:
                return f"{name} was not placed (the exchange has no record of it)"
            return f"{name} rejected: {self.error}"
        return (f"{name}: outcome unknown — it may have been placed. "
                f"Check open orders before placing it again. ({self.error})")


class ListJournal(Protocol):
    """Write-ahead hook for lists (``SqliteJournal`` is one); methods may be sync or async.

    ``record_list_intent`` runs before sending (raising stops the send);
    ``record_list_outcome`` once with the final result.
    """

    def record_list_intent(self, request: OrderListRequest) -> object: ...

    def record_list_outcome(self, result: ListPlacementResult) -> object: ...


class ListVenue(Protocol):
    """What placing and resolving a list needs of a client (``BtxClient`` is one)."""

    @property
    def recv_window_ms(self) -> int: ...

    async def post_order_list(self, request: OrderListRequest) -> OrderList: ...

    async def get_order_list(self, *, order_list_id: int | None = None,
                             orig_client_order_id: str | None = None) -> OrderList: ...


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value


async def resolve_unknown_list(client: ListVenue, list_client_order_id: str, policy: ResolvePolicy,
                               sent_at: float | None = None) -> tuple[OrderList | None, bool, int]:
    """Query the list by ``listClientOrderId``: (list or None, proven_absent, queries made).

    "Does not exist" counts only once the request is older than its receive window + 1 s
    (or ``policy.settle_s``); network errors never count.
    """
    return await query_until_found(lambda: client.get_order_list(orig_client_order_id=list_client_order_id),
                                   policy, client.recv_window_ms, sent_at, f"list {list_client_order_id}")


async def submit_order_list(client: ListVenue, request: OrderListRequest, *,
                            journal: ListJournal | None = None,
                            resolver: ResolvePolicy | None = None) -> ListPlacementResult:
    """Place ``request`` once and report ACCEPTED / REJECTED / UNKNOWN (resolved when possible)."""
    policy = resolver or ResolvePolicy()
    if journal is not None:
        await _maybe_await(journal.record_list_intent(request))
    sent_at = time.monotonic()
    try:
        order_list = await client.post_order_list(request)
    except BtxError as error:
        if not _is_unknown(error):
            result = ListPlacementResult(Outcome.REJECTED, request, error=error, initial_outcome=Outcome.REJECTED)
        else:
            log.warning("order list %s: outcome unknown (%s); resolving by query",
                        request.list_client_order_id, type(error).__name__)
            found, absent, queries = await resolve_unknown_list(client, request.list_client_order_id,
                                                                policy, sent_at)
            base = ListPlacementResult(Outcome.UNKNOWN, request, error=error, initial_outcome=Outcome.UNKNOWN,
                                       resolution_attempts=queries)
            if found is not None:
                result = replace(base, outcome=Outcome.ACCEPTED, order_list=found, resolved=True)
            elif absent:
                result = replace(base, outcome=Outcome.REJECTED, resolved=True, proven_absent=True)
            else:
                result = base
    else:
        result = ListPlacementResult(Outcome.ACCEPTED, request, order_list=order_list,
                                     initial_outcome=Outcome.ACCEPTED)
    log.info("order list %s %s %s: %s", request.list_client_order_id, contingency_of(request),
             request.symbol, result.outcome.value)
    if journal is not None:
        await _maybe_await(journal.record_list_outcome(result))
    return result
