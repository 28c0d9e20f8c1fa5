"""Reconciliation of stop orders, order lists and amends against a real paper exchange.

Each test gets an account of its own (``fresh_account``): a trigger fired while the client
was away, lists whose answer was lost, ``btx-`` lists from elsewhere, lost amends, and the
lock check (an OCO's legs as one lock, PENDING_NEW OTO legs as nothing, a market BUY stop's
reservation).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from btx_tui.api import OrderRequest, Outcome
from btx_tui.api.journal import JournalState, SqliteJournal
from btx_tui.api.order_changes import AmendRequest
from btx_tui.api.order_lists import ListLeg, OcoRequest, OtoRequest
from btx_tui.api.reconcile import ReconcilePolicy, reconcile

from .conftest import FAST_RESOLVE
from .stop_market import SYMBOL, set_last_price

D = Decimal
FAST = ReconcilePolicy(resolve=FAST_RESOLVE, settle_s=0)


def _oco(qty: str = "0.01") -> OcoRequest:
    return OcoRequest(SYMBOL, "SELL", D(qty), above=ListLeg("LIMIT_MAKER", price=D("99000")),
                      below=ListLeg("STOP_LOSS_LIMIT", price=D("89000"), stop_price=D("90000")))


async def test_a_stop_that_fires_while_away_is_filled_after_reconnect(make_client, fresh_account,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = SqliteJournal(path)
    stop = OrderRequest(SYMBOL, "SELL", "STOP_LOSS", quantity=D("0.01"), stop_price=D("94000"))
    async with make_client("full", exchange=fresh_account) as c:
        await set_last_price(c, D("95000"))
        res = await c.place_order(stop, journal=journal)
        assert res.outcome is Outcome.ACCEPTED and res.order is not None and res.order.working_time == -1
    entry = journal.get(stop.client_order_id)
    assert entry is not None and entry.state is JournalState.ACCEPTED and entry.stop_price == D("94000")
    journal.close()  # the client stops

    # Meanwhile another client (no journal: another program) trades through the trigger.
    async with make_client("trade", exchange=fresh_account) as other:
        await other.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.05"), price=D("93900")))
        await other.place_order(OrderRequest(SYMBOL, "SELL", "MARKET", quantity=D("0.001")))

    journal = SqliteJournal(path)  # the client is back
    assert journal.get(stop.client_order_id).state is JournalState.ACCEPTED  # type: ignore[union-attr]
    async with make_client("full", exchange=fresh_account) as c:
        report = await reconcile(c, journal, policy=FAST)
    entry = journal.get(stop.client_order_id)
    assert entry is not None and entry.state is JournalState.FILLED and entry.exchange_status == "FILLED"
    assert entry.executed_qty == D("0.01")
    assert stop.client_order_id in report.updated and "changed while away" in report.summary()
    assert sum(f.qty for f in journal.fills(stop.client_order_id)) == D("0.01")
    assert report.mismatches == ()
    journal.close()


async def test_a_pending_list_is_resolved_by_its_list_client_id(make_client, fresh_account, tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    placed, lost = _oco(), _oco()
    async with make_client("full", exchange=fresh_account) as c:
        await set_last_price(c, D("95000"))
        journal.record_list_intent(placed)
        await c.post_order_list(placed)  # executed; the answer "was lost"
        journal.record_list_intent(lost)  # written, never sent (crash before sending)
        assert {e.state for e in journal.list_legs(placed.list_client_order_id)} == {JournalState.PENDING}
        report = await reconcile(c, journal, policy=FAST)
    assert report.lists_resolved == (placed.list_client_order_id,)
    assert report.lists_absent == (lost.list_client_order_id,)
    assert journal.get_list(placed.list_client_order_id).state is JournalState.ACCEPTED  # type: ignore[union-attr]
    assert {e.state for e in journal.list_legs(placed.list_client_order_id)} == {JournalState.ACCEPTED}
    assert journal.get_list(lost.list_client_order_id).state is JournalState.ABSENT  # type: ignore[union-attr]
    assert {e.state for e in journal.list_legs(lost.list_client_order_id)} == {JournalState.ABSENT}
    assert journal.pending() == [] and report.mismatches == ()  # the OCO's legs are one lock
    journal.close()


async def test_a_list_that_finished_while_away_is_done_and_foreign_btx_lists_are_adopted(
        make_client, fresh_account, tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    ours, elsewhere = _oco(), _oco()
    async with make_client("full", exchange=fresh_account) as c:
        await set_last_price(c, D("95000"))
        assert (await c.place_order_list(ours, journal=journal)).outcome is Outcome.ACCEPTED
        assert (await c.place_order_list(elsewhere)).outcome is Outcome.ACCEPTED  # another btx-tui
        await c.cancel_order(SYMBOL, orig_client_order_id=ours.above.client_order_id)  # cancels the list
        report = await reconcile(c, journal, policy=FAST)
    assert report.lists_updated == (ours.list_client_order_id,)
    assert journal.get_list(ours.list_client_order_id).state is JournalState.DONE  # type: ignore[union-attr]
    assert {e.state for e in journal.list_legs(ours.list_client_order_id)} == {JournalState.CANCELED}
    assert report.lists_adopted == (elsewhere.list_client_order_id,)
    adopted = journal.get_list(elsewhere.list_client_order_id)
    assert adopted is not None and adopted.origin == "adopted" and adopted.state is JournalState.ACCEPTED
    assert {e.client_order_id for e in journal.list_legs(elsewhere.list_client_order_id)} == {
        elsewhere.above.client_order_id, elsewhere.below.client_order_id}
    assert report.mismatches == ()
    journal.close()


async def test_lock_check_counts_lists_pending_legs_and_market_buy_stops(make_client, fresh_account,
                                                                         tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    async with make_client("full", exchange=fresh_account) as c:
        await set_last_price(c, D("95000"))
        before = await c.account()
        oco = _oco("0.02")
        oto = OtoRequest(SYMBOL, "BUY", D("0.01"), ListLeg("LIMIT", price=D("80000")),
                         "SELL", D("0.01"), ListLeg("LIMIT", price=D("99000")))
        buy_stop = OrderRequest(SYMBOL, "BUY", "STOP_LOSS", quantity=D("0.01"), stop_price=D("96000"))
        for req in (oco, oto):
            assert (await c.place_order_list(req, journal=journal)).outcome is Outcome.ACCEPTED
        assert (await c.place_order(buy_stop, journal=journal)).outcome is Outcome.ACCEPTED
        after = await c.account()
        # What the exchange locked: BTC once for the OCO; USDT the OTO's working BUY and the stop's reservation.
        assert after.balance("BTC").locked - before.balance("BTC").locked == D("0.02")
        assert after.balance("USDT").locked - before.balance("USDT").locked == D("800") + D("1008")
        report = await reconcile(c, journal, policy=FAST)
        assert report.mismatches == ()
        # The check can fail: a stricter slack than the exchange's makes the stop's need exceed the lock.
        strict = ReconcilePolicy(resolve=FAST_RESOLVE, settle_s=0, market_buy_stop_slack=D("1.10"))
        report = await reconcile(c, journal, policy=strict)
        assert any(m.startswith("USDT:") for m in report.mismatches)
    journal.close()


async def test_a_lost_amend_is_resolved_by_reconciliation(make_client, fresh_account, tmp_path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite3")
    async with make_client("full", exchange=fresh_account) as c:
        placed = await c.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=D("0.03"), price=D("80000")),
                                     journal=journal)
        done, never = (AmendRequest(SYMBOL, D("0.02"), orig_client_order_id=placed.client_order_id),
                       AmendRequest(SYMBOL, D("0.01"), orig_client_order_id=placed.client_order_id))
        journal.record_amend_intent(done)
        await c.put_amend(done)  # executed; the answer "was lost"
        journal.record_amend_intent(never)  # written, never sent
        report = await reconcile(c, journal, policy=FAST)
    assert report.amends_resolved == (done.new_client_order_id,)
    assert report.amends_absent == (never.new_client_order_id,)
    assert report.adopted == ()  # the renamed order is ours, not a stranger
    assert journal.get(placed.client_order_id) is None
    entry = journal.get(done.new_client_order_id)
    assert entry is not None and entry.quantity == D("0.02") and entry.state is JournalState.ACCEPTED
    assert report.mismatches == ()
    journal.close()
