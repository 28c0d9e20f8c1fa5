"""The three outcomes of an order-list placement, an amend and a cancel-replace, with faults
injected around REAL requests (as test_live_outcomes does for single orders).

Each test proves what exists on the exchange afterwards — exactly one list with the
``listClientOrderId`` when the exchange executed it, none when it did not — that the request
was sent once, and what the journal holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from btx_tui.api import NetworkError, OrderRequest, Outcome, ServerError
from btx_tui.api.journal import JournalState, SqliteJournal
from btx_tui.api.order_changes import AmendRequest, CancelReplaceRequest
from btx_tui.api.order_lists import ListLeg, OcoRequest
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

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
from .stop_market import SYMBOL, set_last_price

D = Decimal
OCO = ("POST", "/api/v3/orderList/oco")
AMEND = ("PUT", "/api/v3/order/amend/keepPriority")
REPLACE = ("POST", "/api/v3/order/cancelReplace")


@pytest.fixture(scope="module")
def lists_exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(Path(tmp_path_factory.mktemp("live-lists")) / "paper", market=False, seed=1)
    try:
        yield ex
    finally:
        ex.stop()


def _oco() -> OcoRequest:
    return OcoRequest(SYMBOL, "SELL", D("0.01"), above=ListLeg("LIMIT_MAKER", price=D("99000")),
                      below=ListLeg("STOP_LOSS", stop_price=D("90000")))


async def _lists_named(client, list_cid: str) -> int:
    return sum(1 for x in await client.all_order_lists(limit=1000) if x.list_client_order_id == list_cid)


async def _cleanup(client) -> None:
    if await client.open_orders(SYMBOL):
        await client.cancel_open_orders(SYMBOL)


@pytest.mark.parametrize("fault", [RESET_AFTER, STATUS_503_AFTER, GARBAGE_AFTER])
async def test_list_executed_then_fault_resolves_to_accepted(make_client, lists_exchange, tmp_path, fault) -> None:
    async with make_client("full", exchange=lists_exchange) as setup:
        await set_last_price(setup, D("95000"))
    transport = FaultTransport(plan=once(*OCO, fault))
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    async with make_client("full", exchange=lists_exchange, transport=transport) as c:
        req = _oco()
        res = await c.place_order_list(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.initial_outcome is Outcome.UNKNOWN
        assert res.outcome is Outcome.ACCEPTED and res.resolved and not res.proven_absent, res.describe()
        assert res.order_list is not None and res.order_list.list_client_order_id == req.list_client_order_id
        assert transport.count(*OCO) == 1  # never resent
        assert await _lists_named(c, req.list_client_order_id) == 1
        entry = journal.get_list(req.list_client_order_id)
        assert entry is not None and entry.state is JournalState.ACCEPTED and entry.contingency == "OCO"
        assert entry.order_list_id == res.order_list.order_list_id
        legs = journal.list_legs(req.list_client_order_id)
        assert {e.client_order_id for e in legs} == {req.above.client_order_id, req.below.client_order_id}
        assert {e.state for e in legs} == {JournalState.ACCEPTED}
        assert {e.stop_price for e in legs} == {None, D("90000")}
        await _cleanup(c)
    journal.close()


async def test_list_never_sent_is_rejected_without_resolution(make_client, lists_exchange, tmp_path) -> None:
    transport = FaultTransport(plan=once(*OCO, CONNECT_FAIL))
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    async with make_client("full", exchange=lists_exchange, transport=transport) as c:
        req = _oco()
        res = await c.place_order_list(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.outcome is Outcome.REJECTED and not res.resolved and isinstance(res.error, NetworkError)
        assert not res.error.maybe_sent
        assert transport.count("GET", "/api/v3/orderList") == 0  # nothing to resolve
        assert await _lists_named(c, req.list_client_order_id) == 0
        assert journal.get_list(req.list_client_order_id).state is JournalState.REJECTED  # type: ignore[union-attr]
        assert {e.state for e in journal.list_legs(req.list_client_order_id)} == {JournalState.REJECTED}
    journal.close()


async def test_503_before_the_exchange_proves_the_list_absent(make_client, lists_exchange, tmp_path) -> None:
    transport = FaultTransport(plan=once(*OCO, STATUS_503_BEFORE))
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    async with make_client("full", exchange=lists_exchange, transport=transport) as c:
        req = _oco()
        res = await c.place_order_list(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.initial_outcome is Outcome.UNKNOWN and isinstance(res.error, ServerError)
        assert res.outcome is Outcome.REJECTED and res.resolved and res.proven_absent
        assert res.resolution_attempts >= FAST_RESOLVE.absent_after
        assert transport.count("GET", "/api/v3/orderList") == res.resolution_attempts  # queried by listClientOrderId
        assert await _lists_named(c, req.list_client_order_id) == 0
        assert journal.get_list(req.list_client_order_id).state is JournalState.ABSENT  # type: ignore[union-attr]
        assert {e.state for e in journal.list_legs(req.list_client_order_id)} == {JournalState.ABSENT}
    journal.close()


async def test_list_stays_unknown_while_queries_fail(make_client, lists_exchange, tmp_path) -> None:
    def plan(request):
        if (request.method, request.url.path) == OCO:
            return RESET_AFTER
        if request.url.path == "/api/v3/orderList":
            return CONNECT_FAIL
        return "pass"

    journal = SqliteJournal(tmp_path / "j.sqlite3")
    async with make_client("full", exchange=lists_exchange, transport=FaultTransport(plan=plan)) as c:
        req = _oco()
        res = await c.place_order_list(req, journal=journal, resolver=FAST_RESOLVE)
        assert res.outcome is Outcome.UNKNOWN and not res.resolved and "may have been placed" in res.describe()
        assert journal.get_list(req.list_client_order_id).state is JournalState.PENDING  # type: ignore[union-attr]
    async with make_client("full", exchange=lists_exchange) as c:
        assert await _lists_named(c, req.list_client_order_id) == 1  # it was placed: reconciliation's job
        await _cleanup(c)
    journal.close()


async def test_amend_answer_lost_resolves_by_the_new_id(make_client, lists_exchange, tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    transport = FaultTransport(plan=once(*AMEND, RESET_AFTER))
    async with make_client("full", exchange=lists_exchange, transport=transport) as c:
        placed = await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.03"), price=D("80000")),
                                     journal=journal)
        am = AmendRequest(SYMBOL, D("0.01"), orig_client_order_id=placed.client_order_id)
        out = await c.amend_order(am, journal=journal, resolver=FAST_RESOLVE)
        assert out.initial_outcome is Outcome.UNKNOWN and out.outcome is Outcome.ACCEPTED and out.resolved
        assert out.order is not None and out.order.orig_qty == D("0.01")
        assert transport.count(*AMEND) == 1
        # The journal entry now carries the new id and quantity; the old id is gone.
        assert journal.get(placed.client_order_id) is None
        entry = journal.get(am.new_client_order_id)
        assert entry is not None and entry.quantity == D("0.01") and entry.state is JournalState.ACCEPTED
        assert journal.get_amend(am.new_client_order_id).state is JournalState.ACCEPTED  # type: ignore[union-attr]
        await _cleanup(c)
    journal.close()


async def test_amend_that_never_arrived_is_proven_absent(make_client, lists_exchange, tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    transport = FaultTransport(plan=once(*AMEND, STATUS_503_BEFORE))
    async with make_client("full", exchange=lists_exchange, transport=transport) as c:
        placed = await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.03"), price=D("80000")),
                                     journal=journal)
        am = AmendRequest(SYMBOL, D("0.01"), orig_client_order_id=placed.client_order_id)
        out = await c.amend_order(am, journal=journal, resolver=FAST_RESOLVE)
        assert out.outcome is Outcome.REJECTED and out.proven_absent
        still = await c.get_order(SYMBOL, orig_client_order_id=placed.client_order_id)
        assert still.orig_qty == D("0.03")
        assert journal.get(placed.client_order_id) is not None
        assert journal.get_amend(am.new_client_order_id).state is JournalState.ABSENT  # type: ignore[union-attr]
        await _cleanup(c)
    journal.close()


async def test_cancel_replace_answer_lost_resolves_the_new_order(make_client, lists_exchange, tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    transport = FaultTransport(plan=once(*REPLACE, RESET_AFTER))
    async with make_client("full", exchange=lists_exchange, transport=transport) as c:
        old = await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.01"), price=D("80000")),
                                  journal=journal)
        req = CancelReplaceRequest(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.01"), price=D("81000")),
                                   cancel_orig_client_order_id=old.client_order_id)
        out = await c.cancel_replace(req, journal=journal, resolver=FAST_RESOLVE)
        assert out.initial_outcome is Outcome.UNKNOWN and out.outcome is Outcome.ACCEPTED and out.resolved
        assert out.new_order is not None and out.new_order.client_order_id == req.new_order.client_order_id
        assert transport.count(*REPLACE) == 1
        new_entry = journal.get(req.new_order.client_order_id)
        assert new_entry is not None and new_entry.state is JournalState.ACCEPTED
        gone = await c.get_order(SYMBOL, orig_client_order_id=old.client_order_id)
        assert gone.status.value == "CANCELED"  # type: ignore[union-attr]
        await _cleanup(c)
    journal.close()
