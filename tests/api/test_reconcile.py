"""Reconciliation against a real paper exchange: every pending intent ends found or proven absent.

Each test gets an account of its own (``fresh_account``), so "adopted" and "ignored" count
only what the test itself placed.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import httpx

from btx_tui.api import OrderRequest, Outcome
from btx_tui.api.journal import JournalState, SqliteJournal
from btx_tui.api.models_trading import OrderStatus
from btx_tui.api.orders import new_client_order_id
from btx_tui.api.reconcile import ReconcilePolicy, reconcile

from .conftest import CONNECT_FAIL, FAST_RESOLVE, FAST_RETRY, PASS, FaultTransport

D = Decimal
FAST = ReconcilePolicy(resolve=FAST_RESOLVE, settle_s=0)
QUERY = ("GET", "/api/v3/order")
POST = ("POST", "/api/v3/order")


def _limit(price: str, side: str = "BUY", cid: str | None = None) -> OrderRequest:
    extra = {"client_order_id": cid} if cid else {}
    return OrderRequest("BTCUSDT", side, "LIMIT", quantity=D("0.001"), price=D(price), **extra)


async def test_a_pending_intent_that_exists_is_resolved_with_its_fills(make_client, fresh_account,
                                                                       tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    resting, crossing = _limit("20000"), _limit("19000", side="SELL")
    async with make_client("full", exchange=fresh_account) as c:
        for req in (resting, crossing):
            journal.record_intent(req)
            await c.post_order(req)  # sent and executed; the answer "was lost": journal says pending
        assert {e.client_order_id for e in journal.pending()} == {resting.client_order_id,
                                                                  crossing.client_order_id}
        report = await reconcile(c, journal, policy=FAST)

    states = {r.client_order_id: r.state for r in report.resolved}
    # The SELL crossed the resting BUY: one fill each, so both end FILLED.
    assert states == {resting.client_order_id: JournalState.FILLED, crossing.client_order_id: JournalState.FILLED}
    assert report.absent == () and report.still_unknown == () and report.adopted == ()
    assert report.changed and "2 unclear order(s) found" in report.summary()
    assert journal.pending() == []
    for req in (resting, crossing):
        assert journal.get(req.client_order_id).executed_qty == D("0.001")
        assert len(journal.fills(req.client_order_id)) == 1
    assert report.new_fills == 2


async def test_a_pending_open_order_is_adopted_as_accepted_after_a_restart(make_client, fresh_account,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    req = _limit("20001")
    first = SqliteJournal(path)
    first.record_intent(req)
    async with make_client("full", exchange=fresh_account) as c:
        await c.post_order(req)
    first.close()  # the app died before the answer was recorded

    journal = SqliteJournal(path)  # a new process: new journal object, new client
    transport = FaultTransport()
    async with make_client("full", exchange=fresh_account, transport=transport) as c:
        report = await reconcile(c, journal, policy=FAST)
        assert [(r.client_order_id, r.state) for r in report.resolved] == [(req.client_order_id,
                                                                            JournalState.ACCEPTED)]
        entry = journal.get(req.client_order_id)
        assert entry.state is JournalState.ACCEPTED and entry.exchange_status == "NEW"
        assert entry.order_id == (await c.get_order("BTCUSDT", orig_client_order_id=req.client_order_id)).order_id
        assert transport.count(*POST) == 0  # never resent
        assert report.mismatches == ()  # the USDT locked covers the open BUY

        # Canceled from elsewhere while we were away: the next pass says so.
        await c.cancel_order("BTCUSDT", orig_client_order_id=req.client_order_id)
        again = await reconcile(c, journal, policy=FAST)
        assert again.updated == (req.client_order_id,) and again.resolved == ()
        assert journal.get(req.client_order_id).state is JournalState.CANCELED
        # Nothing new: a third pass reports no change.
        assert not (await reconcile(c, journal, policy=FAST)).changed


async def test_a_pending_intent_never_sent_is_proven_absent(make_client, fresh_account, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    req = _limit("20002")
    journal.record_intent(req)  # the app crashed between writing the intent and sending it
    transport = FaultTransport()
    async with make_client("full", exchange=fresh_account, transport=transport) as c:
        report = await reconcile(c, journal, policy=FAST)
    assert report.absent == (req.client_order_id,) and report.resolved == ()
    assert journal.get(req.client_order_id).state is JournalState.ABSENT
    assert transport.count(*QUERY) == FAST_RESOLVE.absent_after
    assert transport.count(*POST) == 0
    assert "never placed" in report.summary()


async def test_network_errors_never_count_as_absence(make_client, fresh_account, tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    req = _limit("20003")
    journal.record_intent(req)
    transport = FaultTransport(plan=lambda r: CONNECT_FAIL if (r.method, r.url.path) == QUERY else PASS)
    async with make_client("full", exchange=fresh_account, transport=transport) as c:
        report = await reconcile(c, journal, policy=FAST)
    assert report.still_unknown == (req.client_order_id,) and report.absent == ()
    assert journal.get(req.client_order_id).state is JournalState.PENDING
    # Every query was made (each retried by the client), none counted as "does not exist".
    assert transport.count(*QUERY) == FAST_RESOLVE.max_queries * FAST_RETRY.attempts


async def test_in_flight_intents_are_left_to_their_own_placement(make_client, fresh_account,
                                                                 tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    req = _limit("20004")
    journal.record_intent(req)
    transport = FaultTransport()
    async with make_client("full", exchange=fresh_account, transport=transport) as c:
        report = await reconcile(c, journal, policy=FAST, skip={req.client_order_id})
    assert transport.count(*QUERY) == 0 and report.absent == () and report.still_unknown == ()
    assert journal.get(req.client_order_id).state is JournalState.PENDING


async def test_btx_orders_from_elsewhere_are_adopted_and_others_ignored(make_client, fresh_account,
                                                                        tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    ours_open, ours_done, foreign = _limit("20005"), _limit("20006"), _limit("20007", cid="web_12345")
    async with make_client("full", exchange=fresh_account) as other:  # another btx-tui, another client
        for req in (ours_open, ours_done, foreign):
            assert (await other.place_order(req)).outcome is Outcome.ACCEPTED
        await other.cancel_order("BTCUSDT", orig_client_order_id=ours_done.client_order_id)
    async with make_client("trade", exchange=fresh_account) as c:
        report = await reconcile(c, journal, policy=FAST, symbols=["BTCUSDT"])
    assert set(report.adopted) == {ours_open.client_order_id, ours_done.client_order_id}
    assert "2 btx-tui order(s) from elsewhere adopted" in report.summary()
    assert journal.get(foreign.client_order_id) is None
    assert journal.get(ours_open.client_order_id).state is JournalState.ACCEPTED
    assert journal.get(ours_done.client_order_id).state is JournalState.CANCELED
    assert {e.origin for e in journal.entries()} == {"adopted"}


async def test_an_order_thought_absent_that_exists_is_a_mismatch(make_client, fresh_account,
                                                                 tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    req = _limit("20008")
    journal.record_intent(req)
    journal.mark_absent(req.client_order_id)
    async with make_client("full", exchange=fresh_account) as c:
        order = await c.post_order(req)  # it landed after all (e.g. a delayed packet)
        assert order.status is OrderStatus.NEW
        report = await reconcile(c, journal, policy=FAST)
    assert len(report.mismatches) == 1 and req.client_order_id in report.mismatches[0]
    assert journal.get(req.client_order_id).state is JournalState.ACCEPTED



ALL_ORDERS = "/api/v3/allOrders"
DAY_S = 24 * 3600


def _market_buy(cid: str) -> OrderRequest:
    return OrderRequest("BTCUSDT", "BUY", "MARKET", quantity=D("0.001"), client_order_id=cid)


def _backdate(path: Path, cid: str, seconds: float) -> None:
    """Move an entry's last change into the past, as if written by an earlier run (another connection)."""
    db = sqlite3.connect(path)
    db.execute("UPDATE intents SET updated_ms = updated_ms - ? WHERE client_order_id = ?", (int(seconds * 1000), cid))
    db.commit()
    db.close()


class _Symbols:
    """A transport plan that records which markets' order history was read (and faults nothing)."""

    def __init__(self) -> None:
        self.history: list[str] = []

    def __call__(self, request: httpx.Request) -> str:
        if request.url.path == ALL_ORDERS:
            self.history.append(request.url.params["symbol"])
        return PASS


async def _absent_order_that_filled(c, journal: SqliteJournal) -> OrderRequest:
    """An intent proven absent whose order landed after all and filled at once (never open)."""
    req = _market_buy(new_client_order_id())
    journal.record_intent(req)
    journal.mark_absent(req.client_order_id)
    # Liquidity: a resting SELL with a foreign id (not ours, so reconciliation ignores it).
    await c.post_order(_limit("20000", side="SELL", cid="web_maker_1"))
    order = await c.post_order(req)
    assert order.status is OrderStatus.FILLED
    assert await c.open_orders("BTCUSDT") == ()
    return req


async def test_a_recently_absent_intent_that_filled_is_found_in_history(make_client, fresh_account,
                                                                        tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    seen = _Symbols()
    async with make_client("full", exchange=fresh_account, transport=FaultTransport(plan=seen)) as c:
        req = await _absent_order_that_filled(c, journal)
        _backdate(path, req.client_order_id, 3600)  # proven absent an hour ago: inside the horizon
        report = await reconcile(c, journal, policy=FAST)  # no pending/accepted intents, no symbols
        real = await c.get_order("BTCUSDT", orig_client_order_id=req.client_order_id)

    assert seen.history == ["BTCUSDT"]
    assert len(report.mismatches) == 1
    assert req.client_order_id in report.mismatches[0] and "never placed" in report.mismatches[0]
    entry = journal.get(req.client_order_id)
    assert entry.state is JournalState.FILLED and entry.exchange_status == "FILLED"
    assert entry.order_id == real.order_id and entry.executed_qty == D("0.001")
    (fill,) = journal.fills(req.client_order_id)
    assert fill.qty == D("0.001") and fill.price == D("20000")
    assert report.new_fills == 1 and report.adopted == ()
    # Healed: the next pass has nothing to say (and the market is no longer rescanned for it).
    again = await _reconcile_again(make_client, fresh_account, journal)
    assert not again.changed and again.mismatches == ()


async def _reconcile_again(make_client, exchange, journal: SqliteJournal):
    async with make_client("full", exchange=exchange) as c:
        return await reconcile(c, journal, policy=FAST)


async def test_an_old_absent_intent_does_not_make_its_market_scanned(make_client, fresh_account,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    seen = _Symbols()
    async with make_client("full", exchange=fresh_account, transport=FaultTransport(plan=seen)) as c:
        req = await _absent_order_that_filled(c, journal)
        _backdate(path, req.client_order_id, 2 * DAY_S)  # past the 24 h horizon
        report = await reconcile(c, journal, policy=FAST)
        assert seen.history == [] and report.mismatches == () and not report.changed
        assert journal.get(req.client_order_id).state is JournalState.ABSENT

        # A wider horizon (policy) reaches it: the same journal, the same exchange.
        wide = await reconcile(c, journal, policy=replace(FAST, absent_recheck_s=3 * DAY_S))
    assert seen.history == ["BTCUSDT"] and len(wide.mismatches) == 1
    assert journal.get(req.client_order_id).state is JournalState.FILLED


async def test_finished_orders_the_journal_pruned_are_not_adopted_again(make_client, fresh_account,
                                                                        tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    done, still_open = _limit("20009"), _limit("20010")
    async with make_client("full", exchange=fresh_account) as c:
        for req in (done, still_open):
            assert (await c.place_order(req, journal=journal, resolver=FAST_RESOLVE)).outcome is Outcome.ACCEPTED
        await c.cancel_order("BTCUSDT", orig_client_order_id=done.client_order_id)
        assert journal.get(done.client_order_id).state is JournalState.ACCEPTED  # the cancel was not journaled
        first = await reconcile(c, journal, policy=FAST)
        assert first.updated == (done.client_order_id,)

        # A month later (simulated: prune with a clock 31 days ahead) the canceled order is forgotten.
        later = int(time.time() * 1000) + 31 * DAY_S * 1000
        assert journal.prune(30 * DAY_S, now_ms=later) == 1
        assert journal.get(done.client_order_id) is None
        report = await reconcile(c, journal, policy=FAST, symbols=["BTCUSDT"])  # its history is read again
    # ... but it is not "a btx-tui order from elsewhere": pruned on purpose, not adopted back.
    assert report.adopted == () and not report.changed
    assert journal.get(done.client_order_id) is None
    assert journal.get(still_open.client_order_id).state is JournalState.ACCEPTED
