"""The three outcomes of a placement, with faults injected around REAL requests.

Each test proves what exists on the exchange afterwards: exactly one order with the client
id when the exchange executed it, none when it did not — and that the POST was sent once.
"""

from __future__ import annotations

from decimal import Decimal

from btx_tui.api import NetworkError, OrderRequest, Outcome, OutcomeUnknown, ServerError, is_btx_client_order_id
from btx_tui.api.models_trading import OrderStatus
from btx_tui.api.orders import CLIENT_ORDER_ID_PREFIX, CLIENT_ORDER_ID_RE, new_client_order_id

from .conftest import (
    CONNECT_FAIL,
    FAST_RESOLVE,
    GARBAGE_AFTER,
    RESET_AFTER,
    STATUS_503_AFTER,
    STATUS_503_BEFORE,
    FaultTransport,
    once,
)

D = Decimal
ORDER = ("POST", "/api/v3/order")


class Journal:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def record_intent(self, request: OrderRequest) -> None:
        self.events.append(("intent", request.client_order_id))

    async def record_outcome(self, result) -> None:  # async hooks are supported too
        self.events.append(("outcome", result.outcome))


async def _count_with_id(client, symbol: str, cid: str) -> int:
    return sum(1 for o in await client.all_orders(symbol, limit=1000) if o.client_order_id == cid)


def test_client_order_ids() -> None:
    ids = {new_client_order_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(i.startswith(CLIENT_ORDER_ID_PREFIX) and CLIENT_ORDER_ID_RE.match(i) and len(i) <= 36 for i in ids)
    assert is_btx_client_order_id(next(iter(ids))) and not is_btx_client_order_id("web_123")


async def test_executed_then_connection_reset_resolves_to_accepted(make_client) -> None:
    async with make_client("full") as setup:  # a resting SELL so the faulted BUY really fills
        sell = await setup.place_order(OrderRequest("ETHUSDT", "SELL", "LIMIT", quantity=D("0.02"), price=D("2500")))
        assert sell.outcome is Outcome.ACCEPTED
    transport = FaultTransport(plan=once(*ORDER, RESET_AFTER))
    journal = Journal()
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("ETHUSDT", "BUY", "LIMIT", quantity=D("0.02"), price=D("2500"))
        res = await c.place_order(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.initial_outcome is Outcome.UNKNOWN and isinstance(res.error, NetworkError)
        assert res.error.maybe_sent
        assert res.outcome is Outcome.ACCEPTED and res.resolved and not res.proven_absent
        assert res.resolution_attempts >= 1
        assert res.order is not None and res.order.client_order_id == req.client_order_id
        assert res.order.status is OrderStatus.FILLED and sum(f.qty for f in res.order.fills) == D("0.02")
        assert transport.count(*ORDER) == 1  # never resent
        assert await _count_with_id(c, "ETHUSDT", req.client_order_id) == 1
        assert journal.events == [("intent", req.client_order_id), ("outcome", Outcome.ACCEPTED)]


async def test_503_after_executing_resolves_to_accepted(make_client) -> None:
    transport = FaultTransport(plan=once(*ORDER, STATUS_503_AFTER))
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("20000"))
        res = await c.place_order(req, resolver=FAST_RESOLVE)
        assert res.initial_outcome is Outcome.UNKNOWN and isinstance(res.error, ServerError)
        assert res.outcome is Outcome.ACCEPTED and res.resolved
        assert res.order is not None and res.order.status is OrderStatus.NEW
        assert transport.count(*ORDER) == 1
        assert await _count_with_id(c, "BTCUSDT", req.client_order_id) == 1
        await c.cancel_order("BTCUSDT", orig_client_order_id=req.client_order_id)


async def test_unparsable_2xx_resolves_to_accepted(make_client) -> None:
    transport = FaultTransport(plan=once(*ORDER, GARBAGE_AFTER))
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("20001"))
        res = await c.place_order(req, resolver=FAST_RESOLVE)
        assert isinstance(res.error, OutcomeUnknown) and res.outcome is Outcome.ACCEPTED and res.resolved
        assert transport.count(*ORDER) == 1
        assert await _count_with_id(c, "BTCUSDT", req.client_order_id) == 1
        await c.cancel_order("BTCUSDT", orig_client_order_id=req.client_order_id)


async def test_503_without_executing_is_proven_absent(make_client) -> None:
    transport = FaultTransport(plan=once(*ORDER, STATUS_503_BEFORE))
    journal = Journal()
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("20002"))
        res = await c.place_order(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.initial_outcome is Outcome.UNKNOWN
        assert res.outcome is Outcome.REJECTED and res.proven_absent and res.resolved and res.order is None
        assert res.resolution_attempts == FAST_RESOLVE.absent_after
        assert transport.count(*ORDER) == 1  # not resent
        assert await _count_with_id(c, "BTCUSDT", req.client_order_id) == 0
        assert "not placed" in res.describe()
        assert journal.events[-1] == ("outcome", Outcome.REJECTED)


async def test_connection_refused_before_sending_is_rejected_without_resolution(make_client) -> None:
    transport = FaultTransport(plan=once(*ORDER, CONNECT_FAIL))
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("20003"))
        res = await c.place_order(req, resolver=FAST_RESOLVE)
        assert res.outcome is Outcome.REJECTED and res.initial_outcome is Outcome.REJECTED
        assert isinstance(res.error, NetworkError) and not res.error.maybe_sent
        assert res.resolution_attempts == 0 and transport.count("GET", "/api/v3/order") == 0


async def test_unresolvable_stays_unknown(make_client) -> None:
    def plan(request):
        if request.url.path == "/api/v3/order":
            return RESET_AFTER if request.method == "POST" else STATUS_503_BEFORE
        return "pass"

    transport = FaultTransport(plan=plan)
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("20004"))
        res = await c.place_order(req, resolver=FAST_RESOLVE)
        assert res.outcome is Outcome.UNKNOWN and not res.resolved
        assert res.resolution_attempts == FAST_RESOLVE.max_queries
        assert "may have been placed" in res.describe()
        assert transport.count(*ORDER) == 1
    async with make_client("full") as clean:  # the order does exist; the caller was told "unknown"
        assert await _count_with_id(clean, "BTCUSDT", req.client_order_id) == 1
        await clean.cancel_order("BTCUSDT", orig_client_order_id=req.client_order_id)


async def test_retried_cancel_meeting_2011_is_resolved_by_query(make_client) -> None:
    transport = FaultTransport(plan=once("DELETE", "/api/v3/order", RESET_AFTER))
    async with make_client("full", transport=transport) as c:
        req = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("20005"))
        assert (await c.place_order(req)).outcome is Outcome.ACCEPTED
        got = await c.cancel_order("BTCUSDT", orig_client_order_id=req.client_order_id)
        assert got.status is OrderStatus.CANCELED and got.client_order_id == req.client_order_id
        assert transport.count("DELETE", "/api/v3/order") == 2  # first cancelled (reply lost), retry -2011
        assert transport.count("GET", "/api/v3/order") == 1  # then asked
