"""Changing a live order safely: amend keepPriority and cancel-replace, with three outcomes.

Why apart from :mod:`btx_tui.api.orders`: both change an order that exists rather than place
one, and both *rename* it — the amended order takes ``newClientOrderId``; cancel-replace
cancels one order and places another under a new id. Naming and resolution follow the same
rules as placement (design.md, "three outcomes"):

- **amend** (``PUT /api/v3/order/amend/keepPriority``): the new client id is chosen before
  sending and journalled with the order it renames. Unknown → query the order by the new id:
  found → the amend happened; absent (-2013 for several queries after the receive window)
  → it did not (the order keeps its old id).
- **cancel-replace** (``POST /api/v3/order/cancelReplace``): the new order is an ordinary
  named intent (journalled before sending). Unknown → resolve the NEW order by its client id,
  exactly as a placement; the cancel half needs no resolving (reconciliation sees it).
  -2021 (one half failed) and -2022 (cancel failed, nothing replaced) are definite answers
  whose ``data`` says which half took effect: :class:`CancelReplaceOutcome` carries it.
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from .errors import BtxError, CancelReplaceFailed
from .models_orderlists import AmendResult, CancelReplaceResult
from .models_trading import Order
from .orders import (
    CLIENT_ORDER_ID_RE,
    OrderRequest,
    OrderVenue,
    Outcome,
    PlacementResult,
    ResolvePolicy,
    _is_unknown,
    new_client_order_id,
    query_until_found,
    resolve_unknown,
)
from .signing import params

__all__ = [
    "AmendJournal",
    "AmendOutcome",
    "AmendRequest",
    "AmendVenue",
    "CancelReplaceJournal",
    "CancelReplaceMode",
    "CancelReplaceOutcome",
    "CancelReplaceRequest",
    "CancelReplaceVenue",
    "submit_amend",
    "submit_cancel_replace",
]

log = logging.getLogger("btx_tui.api.order_changes")


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value


# --- amend keepPriority ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AmendRequest:
    """Lower an order's quantity in place, keeping its queue priority.

    Name the order by ``orig_client_order_id`` (preferred: the journal knows it) or
    ``order_id``. ``new_client_order_id`` is the order's id after the amend (generated).
    """

    symbol: str
    new_qty: Decimal
    orig_client_order_id: str | None = None
    order_id: int | None = None
    new_client_order_id: str = field(default_factory=new_client_order_id)

    def __post_init__(self) -> None:
        if self.order_id is None and self.orig_client_order_id is None:
            raise ValueError("give order_id or orig_client_order_id")
        if not isinstance(self.new_qty, Decimal):
            raise TypeError("new_qty must be a Decimal")
        if self.new_qty <= 0:
            raise ValueError("new_qty must be above zero")
        if not CLIENT_ORDER_ID_RE.match(self.new_client_order_id):
            raise ValueError("new_client_order_id must match ^[a-zA-Z0-9-_]{1,36}$")

    def to_params(self) -> list[tuple[str, str]]:
        return params(("symbol", self.symbol), ("orderId", self.order_id),
                      ("origClientOrderId", self.orig_client_order_id),
                      ("newClientOrderId", self.new_client_order_id), ("newQty", self.new_qty))


@dataclass(frozen=True, slots=True)
class AmendOutcome:
    """How an amend ended.

    ``result`` is the exchange's answer when it arrived; ``order`` the order as queried when an
    unknown outcome was resolved (found under the new id → ACCEPTED).
    """

    outcome: Outcome
    request: AmendRequest
    result: AmendResult | None = None
    order: Order | None = None
    error: BtxError | None = None
    initial_outcome: Outcome | None = None
    resolved: bool = False
    proven_absent: bool = False
    resolution_attempts: int = 0

    def describe(self) -> str:
        new = self.request.new_client_order_id
        if self.outcome is Outcome.ACCEPTED:
            how = " (confirmed by querying after an unclear answer)" if self.resolved else ""
            return f"Amended to {self.request.new_qty:f}, priority kept{how} (now {new})"
        if self.outcome is Outcome.REJECTED:
            if self.proven_absent:
                return "The amend did not happen (no order carries its new id)"
            return f"Amend refused: {self.error}"
        return f"Amend outcome unknown — check the order before amending again. ({self.error})"


class AmendJournal(Protocol):
    """Write-ahead hook for amends (``SqliteJournal`` is one)."""

    def record_amend_intent(self, request: AmendRequest) -> object: ...

    def record_amend_outcome(self, outcome: AmendOutcome) -> object: ...


class AmendVenue(Protocol):
    @property
    def recv_window_ms(self) -> int: ...

    async def put_amend(self, request: AmendRequest) -> AmendResult: ...

    async def get_order(self, symbol: str, *, order_id: int | None = None,
                        orig_client_order_id: str | None = None) -> Order: ...


async def _resolve_amend(client: AmendVenue, request: AmendRequest, policy: ResolvePolicy,
                         sent_at: float) -> tuple[Order | None, bool, int]:
    return await query_until_found(
        lambda: client.get_order(request.symbol, orig_client_order_id=request.new_client_order_id),
        policy, client.recv_window_ms, sent_at, f"amend {request.new_client_order_id}")


async def submit_amend(client: AmendVenue, request: AmendRequest, *, journal: AmendJournal | None = None,
                       resolver: ResolvePolicy | None = None) -> AmendOutcome:
    """Send the amend once; ACCEPTED / REJECTED / UNKNOWN (resolved by the new id when possible)."""
    policy = resolver or ResolvePolicy()
    if journal is not None:
        await _maybe_await(journal.record_amend_intent(request))
    sent_at = time.monotonic()
    try:
        answer = await client.put_amend(request)
    except BtxError as error:
        if not _is_unknown(error):
            out = AmendOutcome(Outcome.REJECTED, request, error=error, initial_outcome=Outcome.REJECTED)
        else:
            found, absent, queries = await _resolve_amend(client, request, policy, sent_at)
            base = AmendOutcome(Outcome.UNKNOWN, request, error=error, initial_outcome=Outcome.UNKNOWN,
                                resolution_attempts=queries)
            if found is not None:
                out = replace(base, outcome=Outcome.ACCEPTED, order=found, resolved=True)
            elif absent:
                out = replace(base, outcome=Outcome.REJECTED, resolved=True, proven_absent=True)
            else:
                out = base
    else:
        out = AmendOutcome(Outcome.ACCEPTED, request, result=answer, initial_outcome=Outcome.ACCEPTED)
    log.info("amend %s -> %s: %s", request.orig_client_order_id or request.order_id,
             request.new_client_order_id, out.outcome.value)
    if journal is not None:
        await _maybe_await(journal.record_amend_outcome(out))
    return out


# --- cancel-replace ----------------------------------------------------------------------------

class CancelReplaceMode(StrEnum):
    STOP_ON_FAILURE = "STOP_ON_FAILURE"
    """A failed cancel places nothing (-2022)."""
    ALLOW_FAILURE = "ALLOW_FAILURE"
    """The new order is placed even if the cancel failed (-2021 if one half failed)."""


@dataclass(frozen=True, slots=True)
class CancelReplaceRequest:
    """Cancel one order and place ``new_order`` in one request (priority is lost).

    Name the order to cancel by ``cancel_orig_client_order_id`` or ``cancel_order_id``;
    ``new_order`` is a complete, named :class:`OrderRequest`.
    """

    new_order: OrderRequest
    cancel_orig_client_order_id: str | None = None
    cancel_order_id: int | None = None
    mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE
    cancel_new_client_order_id: str = field(default_factory=new_client_order_id)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", CancelReplaceMode(self.mode))
        if self.cancel_order_id is None and self.cancel_orig_client_order_id is None:
            raise ValueError("give cancel_order_id or cancel_orig_client_order_id")

    @property
    def symbol(self) -> str:
        return self.new_order.symbol

    def to_params(self) -> list[tuple[str, str]]:
        return [*self.new_order.to_params(),
                *params(("cancelReplaceMode", self.mode), ("cancelOrderId", self.cancel_order_id),
                        ("cancelOrigClientOrderId", self.cancel_orig_client_order_id),
                        ("cancelNewClientOrderId", self.cancel_new_client_order_id))]


@dataclass(frozen=True, slots=True)
class CancelReplaceOutcome:
    """How a cancel-replace ended.

    ``outcome`` is about the NEW order (the named intent): ACCEPTED when it was placed
    (even if the cancel failed under ALLOW_FAILURE — see ``canceled``), REJECTED when it was
    not, UNKNOWN when neither the answer nor the queries could tell.

    Attributes:
        result: the exchange's two halves, from the 200 answer or from a -2021/-2022 ``data``.
        new_order: the placed order (from the answer or, after an unknown outcome, the query).
        canceled: the cancel report when the cancel is known to have happened.
        partial: -2021 — exactly one half took effect.
    """

    outcome: Outcome
    request: CancelReplaceRequest
    result: CancelReplaceResult | None = None
    new_order: Order | None = None
    canceled: Order | None = None
    error: BtxError | None = None
    initial_outcome: Outcome | None = None
    resolved: bool = False
    proven_absent: bool = False
    resolution_attempts: int = 0
    partial: bool = False

    def placement(self) -> PlacementResult:
        """The new order's placement, as a :class:`PlacementResult` (what the journal records)."""
        return PlacementResult(self.outcome, self.request.new_order, order=self.new_order, error=self.error,
                               initial_outcome=self.initial_outcome, resolved=self.resolved,
                               proven_absent=self.proven_absent, resolution_attempts=self.resolution_attempts)

    def describe(self) -> str:
        cid = self.request.new_order.client_order_id
        if self.outcome is Outcome.ACCEPTED:
            if self.canceled is None and self.result is not None and self.result.cancel_result != "SUCCESS":
                return f"New order {cid} placed, but the old order was NOT cancelled ({self.error})"
            return f"Order replaced by {cid} (queue priority lost)"
        if self.outcome is Outcome.REJECTED:
            if self.canceled is not None:
                return f"Old order cancelled, but the new order {cid} was rejected: {self.error}"
            if self.proven_absent:
                return f"The replacement {cid} was not placed (the exchange has no record of it)"
            return f"Nothing replaced: {self.error}"
        return (f"Replace outcome unknown — {cid} may have been placed. "
                f"Check open orders before trying again. ({self.error})")


class CancelReplaceJournal(Protocol):
    """What cancel-replace writes: the new order's intent and outcome, and the cancel report."""

    def record_intent(self, request: OrderRequest) -> object: ...

    def record_outcome(self, result: PlacementResult) -> object: ...

    def record_order(self, order: Order) -> object: ...


class CancelReplaceVenue(OrderVenue, Protocol):
    async def post_cancel_replace(self, request: CancelReplaceRequest) -> CancelReplaceResult: ...


def _result_from(error: CancelReplaceFailed) -> CancelReplaceResult | None:
    try:
        return CancelReplaceResult.model_validate(error.data) if isinstance(error.data, dict) else None
    except ValidationError:
        return None


async def submit_cancel_replace(client: CancelReplaceVenue, request: CancelReplaceRequest, *,
                                journal: CancelReplaceJournal | None = None,
                                resolver: ResolvePolicy | None = None) -> CancelReplaceOutcome:
    """Send once; the new order ends ACCEPTED / REJECTED / UNKNOWN (resolved by its client id)."""
    policy = resolver or ResolvePolicy()
    new = request.new_order
    if journal is not None:
        await _maybe_await(journal.record_intent(new))
    sent_at = time.monotonic()
    try:
        answer = await client.post_cancel_replace(request)
    except CancelReplaceFailed as error:
        result = _result_from(error)
        placed = result.new_order if result else None
        out = CancelReplaceOutcome(Outcome.ACCEPTED if placed else Outcome.REJECTED, request, result=result,
                                   new_order=placed, canceled=result.canceled if result else None, error=error,
                                   initial_outcome=Outcome.ACCEPTED if placed else Outcome.REJECTED,
                                   partial=error.partial)
    except BtxError as error:
        if not _is_unknown(error):
            out = CancelReplaceOutcome(Outcome.REJECTED, request, error=error, initial_outcome=Outcome.REJECTED)
        else:
            found, absent, queries = await resolve_unknown(client, new, policy, sent_at)
            base = CancelReplaceOutcome(Outcome.UNKNOWN, request, error=error, initial_outcome=Outcome.UNKNOWN,
                                        resolution_attempts=queries)
            if found is not None:
                out = replace(base, outcome=Outcome.ACCEPTED, new_order=found, resolved=True)
            elif absent:
                out = replace(base, outcome=Outcome.REJECTED, resolved=True, proven_absent=True)
            else:
                out = base
    else:
        out = CancelReplaceOutcome(Outcome.ACCEPTED, request, result=answer, new_order=answer.new_order,
                                   canceled=answer.canceled, initial_outcome=Outcome.ACCEPTED)
    log.info("cancel-replace -> %s: %s", new.client_order_id, out.outcome.value)
    if journal is not None:
        if out.canceled is not None:
            await _maybe_await(journal.record_order(out.canceled))
        await _maybe_await(journal.record_outcome(out.placement()))
    return out
