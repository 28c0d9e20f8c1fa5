"""Safe order submission: every placement ends ACCEPTED, REJECTED or UNKNOWN — and says which.

Why this module exists: after a 5xx, a -1006/-1007, a read timeout or a connection reset
*after* the request was sent, nobody knows whether the exchange placed the order. Resending
could buy twice. So:

1. every order is named before it is sent (``newClientOrderId`` = :data:`CLIENT_ORDER_ID_PREFIX`
   + random), and the intent is handed to an optional journal *before* sending;
2. the request is sent exactly once (a -1021 resync-and-re-sign is the only repeat, and it is
   safe because -1021 is a definite reject);
3. an unknown outcome is resolved by querying ``GET /api/v3/order?origClientOrderId=…`` with
   backoff until the order is found (→ ACCEPTED, ``resolved=True``) or has been absent for
   several queries (→ REJECTED, ``proven_absent=True``). If the queries themselves keep failing
   the result stays UNKNOWN; the journal keeps the intent so it can be resolved later.

A resend, if the user wants one, is a new order with a new id.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar

from ..backoff import Backoff
from .errors import BtxError, NetworkError, OutcomeUnknown, UnknownOrder
from .models_trading import MyTrade, Order, OrderSide, OrderType, TimeInForce
from .signing import params

__all__ = [
    "CLIENT_ORDER_ID_PREFIX",
    "CLIENT_ORDER_ID_RE",
    "OrderJournal",
    "OrderRequest",
    "OrderVenue",
    "Outcome",
    "PlacementResult",
    "ResolvePolicy",
    "is_btx_client_order_id",
    "new_client_order_id",
    "query_until_found",
    "submit_order",
]

log = logging.getLogger("btx_tui.api.orders")

T = TypeVar("T")

#: Prefix of every client order id btx-tui generates; other code uses it to recognise our orders.
CLIENT_ORDER_ID_PREFIX = "btx-"
#: The contract's format for ``newClientOrderId``.
CLIENT_ORDER_ID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,36}$")

_ALPHABET = string.ascii_letters + string.digits


def new_client_order_id() -> str:
    """``btx-`` + 24 random base-62 characters (≈143 bits): 28 chars, contract-valid."""
    return CLIENT_ORDER_ID_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def is_btx_client_order_id(client_order_id: str | None) -> bool:
    """True for ids this app generated (the dashboard marks such orders as ours)."""
    return bool(client_order_id) and client_order_id.startswith(CLIENT_ORDER_ID_PREFIX)  # type: ignore[union-attr]


#: Order types that take a ``timeInForce`` (GTC when not given).
_TIF_TYPES = frozenset({OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What to place. Values must already be rounded to the symbol's tick/step (see preflight).

    ``client_order_id`` is generated when not given, so the request is named from creation on.
    """

    symbol: str
    side: OrderSide
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    quote_order_qty: Decimal | None = None
    time_in_force: TimeInForce | None = None
    client_order_id: str = field(default_factory=new_client_order_id)
    resp_type: str = "FULL"
    stop_price: Decimal | None = None
    """Trigger price of a STOP_LOSS / TAKE_PROFIT (limit) order."""
    trailing_delta: int | None = None
    """Trailing distance in basis points of a trailing stop (with or without ``stop_price``)."""

    def __post_init__(self) -> None:
        # Accept plain strings ("BUY") as well as the enums.
        object.__setattr__(self, "side", OrderSide(self.side))
        object.__setattr__(self, "type", OrderType(self.type))
        if self.time_in_force is not None:
            object.__setattr__(self, "time_in_force", TimeInForce(self.time_in_force))
        if not CLIENT_ORDER_ID_RE.match(self.client_order_id):
            raise ValueError("client_order_id must match ^[a-zA-Z0-9-_]{1,36}$")
        for name in ("quantity", "price", "quote_order_qty", "stop_price"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"{name} must be a Decimal")
        if self.trailing_delta is not None and (
                isinstance(self.trailing_delta, bool) or not isinstance(self.trailing_delta, int)):
            raise TypeError("trailing_delta must be an int (basis points)")
        if self.type in _TIF_TYPES and self.time_in_force is None:
            object.__setattr__(self, "time_in_force", TimeInForce.GTC)

    def to_params(self) -> list[tuple[str, str]]:
        """The ordered wire parameters (without recvWindow/timestamp/signature)."""
        return params(
            ("symbol", self.symbol), ("side", self.side), ("type", self.type),
            ("timeInForce", self.time_in_force if self.type in _TIF_TYPES else None),
            ("quantity", self.quantity), ("quoteOrderQty", self.quote_order_qty),
            ("price", self.price), ("stopPrice", self.stop_price), ("trailingDelta", self.trailing_delta),
            ("newClientOrderId", self.client_order_id),
            ("newOrderRespType", self.resp_type),
        )


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class PlacementResult:
    """How a placement ended.

    Attributes:
        outcome: the final outcome after any resolution.
        request: what was asked (its ``client_order_id`` names the order).
        order: the exchange's order (with fills when known) if ACCEPTED.
        error: the typed error for REJECTED/UNKNOWN, and the original ambiguous error when an
            UNKNOWN was resolved.
        initial_outcome: what the send itself produced (UNKNOWN if resolution was needed).
        resolved: an UNKNOWN was settled by querying the id (found or proven absent).
        proven_absent: resolution showed no such order exists (rejected-equivalent).
        resolution_attempts: how many queries resolution took.
    """

    outcome: Outcome
    request: OrderRequest
    order: Order | None = None
    error: BtxError | None = None
    initial_outcome: Outcome | None = None
    resolved: bool = False
    proven_absent: bool = False
    resolution_attempts: int = 0

    @property
    def client_order_id(self) -> str:
        return self.request.client_order_id

    def describe(self) -> str:
        """One line for the trader."""
        cid = self.client_order_id
        if self.outcome is Outcome.ACCEPTED:
            how = " (confirmed by querying after an unclear answer)" if self.resolved else ""
            status = self.order.status.value if self.order and self.order.status else "accepted"
            return f"Order {cid} accepted: {status}{how}"
        if self.outcome is Outcome.REJECTED:
            if self.proven_absent:
                return f"Order {cid} was not placed (the exchange has no record of it)"
            return f"Order {cid} rejected: {self.error}"
        return (f"Order {cid}: outcome unknown — it may have been placed. "
                f"Check open orders before placing it again. ({self.error})")


class OrderJournal(Protocol):
    """Hook for a write-ahead intent journal (e.g. SQLite). Methods may be sync or async.

    ``record_intent`` is called before the request is sent; if it raises, nothing is sent.
    ``record_outcome`` is called once with the final result (UNKNOWN included).
    """

    def record_intent(self, request: OrderRequest) -> object: ...

    def record_outcome(self, result: PlacementResult) -> object: ...


@dataclass(frozen=True, slots=True)
class ResolvePolicy:
    """How hard to look for an order after an unknown outcome.

    ``absent_after`` consecutive "does not exist" answers prove absence; network failures
    during resolution do not count as absence. ``max_queries`` bounds the whole effort;
    running out of queries leaves the outcome unknown, never "absent".
    """

    absent_after: int = 3
    max_queries: int = 14
    base_delay_s: float = 0.2
    max_delay_s: float = 3.0
    settle_s: float | None = None
    """"Does not exist" counts as evidence of absence only once the request is this old:
    until then a server that read it may still execute it (a chaos run caught an order
    "proven absent" 0.6 s after a timeout that landed 1.5 s later). None means the
    request's receive window plus 1 s, after which the exchange refuses to execute it."""

    def delay(self, attempt: int) -> float:
        return Backoff(first_s=self.base_delay_s, cap_s=self.max_delay_s).delay(attempt)


class OrderVenue(Protocol):
    """What placing and resolving an order needs of a client (``BtxClient`` is one).

    A protocol, not an import of :mod:`.client`: the client calls this module, so this
    module names only the calls it makes back (no import circle).
    """

    @property
    def recv_window_ms(self) -> int: ...

    async def post_order(self, request: OrderRequest) -> Order: ...

    async def get_order(self, symbol: str, *, order_id: int | None = None,
                        orig_client_order_id: str | None = None) -> Order: ...

    async def my_trades(self, symbol: str, *, order_id: int | None = None, start_time: int | None = None,
                        end_time: int | None = None, from_id: int | None = None,
                        limit: int | None = None) -> tuple[MyTrade, ...]: ...


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value


def _is_unknown(error: BtxError) -> bool:
    """Did this failure leave the order's existence unknown?"""
    if isinstance(error, OutcomeUnknown):
        return True
    if isinstance(error, NetworkError):
        return error.maybe_sent
    return False


async def _with_fills(client: OrderVenue, order: Order) -> Order:
    """Attach fills to an order obtained by query (best effort: the trades endpoint)."""
    if order.fills or not order.executed_qty:
        return order
    try:
        trades = await client.my_trades(order.symbol, order_id=order.order_id)
    except BtxError as exc:
        log.info("could not fetch fills of order %s: %s", order.client_order_id, exc)
        return order
    return order.model_copy(update={"fills": tuple(t.as_fill() for t in trades)})


async def query_until_found(lookup: Callable[[], Awaitable[T]], policy: ResolvePolicy, recv_window_ms: int,
                            sent_at: float | None, what: str) -> tuple[T | None, bool, int]:
    """Ask ``lookup`` until it finds the thing or proves it absent: (found or None, proven_absent, queries).

    "Does not exist" (:class:`UnknownOrder`) only counts once the request is older than its
    receive window + 1 s (or ``policy.settle_s``), ``policy.absent_after`` times in a row: a
    request still in flight may land later. Network errors never count. Orders, amends and
    order lists all resolve an unknown outcome this way; only the lookup differs.
    """
    settle = policy.settle_s if policy.settle_s is not None else recv_window_ms / 1000 + 1.0
    sent_at = time.monotonic() if sent_at is None else sent_at
    absent_streak = 0
    for attempt in range(1, policy.max_queries + 1):
        try:
            found = await lookup()
        except UnknownOrder:
            if time.monotonic() - sent_at >= settle:
                absent_streak += 1
                if absent_streak >= policy.absent_after:
                    return None, True, attempt
        except BtxError as exc:
            absent_streak = 0
            log.info("resolving %s: query failed (%s)", what, type(exc).__name__)
        else:
            return found, False, attempt
        await asyncio.sleep(policy.delay(attempt))
    return None, False, policy.max_queries


async def resolve_unknown(client: OrderVenue, request: OrderRequest, policy: ResolvePolicy,
                          sent_at: float | None = None) -> tuple[Order | None, bool, int]:
    """Query the order by client id: (order with its fills or None, proven_absent, queries made).

    ``sent_at`` (``time.monotonic()`` when the request went out) starts the settle time.
    """
    order, absent, queries = await query_until_found(
        lambda: client.get_order(request.symbol, orig_client_order_id=request.client_order_id),
        policy, client.recv_window_ms, sent_at, request.client_order_id)
    return (await _with_fills(client, order) if order is not None else None), absent, queries


async def submit_order(client: OrderVenue, request: OrderRequest, *, journal: OrderJournal | None = None,
                       resolver: ResolvePolicy | None = None) -> PlacementResult:
    """Place ``request`` once and report ACCEPTED / REJECTED / UNKNOWN (resolved when possible)."""
    policy = resolver or ResolvePolicy()
    if journal is not None:
        await _maybe_await(journal.record_intent(request))
    sent_at = time.monotonic()
    try:
        order = await client.post_order(request)
    except BtxError as error:
        if not _is_unknown(error):
            result = PlacementResult(Outcome.REJECTED, request, error=error, initial_outcome=Outcome.REJECTED)
        else:
            log.warning("order %s: outcome unknown (%s); resolving by query", request.client_order_id,
                        type(error).__name__)
            found, absent, queries = await resolve_unknown(client, request, policy, sent_at)
            base = PlacementResult(Outcome.UNKNOWN, request, error=error, initial_outcome=Outcome.UNKNOWN,
                                   resolution_attempts=queries)
            if found is not None:
                result = replace(base, outcome=Outcome.ACCEPTED, order=found, resolved=True)
            elif absent:
                result = replace(base, outcome=Outcome.REJECTED, resolved=True, proven_absent=True)
            else:
                result = base
    else:
        result = PlacementResult(Outcome.ACCEPTED, request, order=order, initial_outcome=Outcome.ACCEPTED)
    log.info("order %s %s %s %s: %s", request.client_order_id, request.side.value, request.type.value,
             request.symbol, result.outcome.value)
    if journal is not None:
        await _maybe_await(journal.record_outcome(result))
    return result
