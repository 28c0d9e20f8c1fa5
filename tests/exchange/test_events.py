"""Engine events (``state/events.py``): what the WebSocket surface subscribes to.

A subscriber hears about trades, depth changes, order updates and balance changes from a
real placement, only after the transaction committed; a rejected order or a rolled-back
batch tells it nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.events import BalanceChanged, DepthChanged, OrderUpdated, TradeExecuted

from .core_support import D, open_exchange, req


def test_a_real_placement_reports_trade_and_depth_events(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[object] = []
    ex.events.subscribe(seen.append)

    ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
    depth_after_rest = [e for e in seen if isinstance(e, DepthChanged)]
    assert [(e.symbol, e.update_id) for e in depth_after_rest] == [
        ("BTCUSDT", ex.market_data.depth("BTCUSDT", 5)["lastUpdateId"])]
    assert not any(isinstance(e, TradeExecuted) for e in seen)

    seen.clear()
    taker = ex.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.004", "95000"))
    trades = [e for e in seen if isinstance(e, TradeExecuted)]
    assert len(trades) == 1
    trade = trades[0]
    assert (trade.symbol, trade.price, trade.qty, trade.taker_side) == ("BTCUSDT", D("95000"), D("0.004"), "BUY")
    assert trade.trade_id == taker["fills"][0]["tradeId"]
    assert trade.buyer_order_id == taker["orderId"]
    depth = [e for e in seen if isinstance(e, DepthChanged)]
    assert [(e.symbol, e.update_id) for e in depth] == [
        ("BTCUSDT", ex.market_data.depth("BTCUSDT", 5)["lastUpdateId"])]
    updates = {e.order_id: e for e in seen if isinstance(e, OrderUpdated)}
    assert updates[taker["orderId"]].status == "FILLED"
    assert updates[trade.seller_order_id].status == "PARTIALLY_FILLED"
    assert updates[trade.seller_order_id].executed_qty == D("0.004")
    balances = {(e.account_id, e.asset): e for e in seen if isinstance(e, BalanceChanged)}
    kinds = [type(e).__name__ for e in seen]
    assert kinds.index("TradeExecuted") < kinds.index("DepthChanged") < kinds.index("OrderUpdated") \
        < kinds.index("BalanceChanged")
    usdt = balances[(acct, "USDT")]
    assert (usdt.free, usdt.locked) == (ex.accounts.ledger.free(acct, "USDT"),
                                        ex.accounts.ledger.locked(acct, "USDT"))


def test_rejections_and_rollbacks_publish_nothing(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[object] = []
    ex.events.subscribe(seen.append)

    with pytest.raises(ApiError):  # -2010: more BTC than the account holds
        ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "5", "95000"))
    assert seen == []

    with pytest.raises(RuntimeError), ex.batch():
        ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
        ex.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.01", "95000"))
        raise RuntimeError("a bug after two placements")
    assert seen == []
    assert ex.market_data.trades("BTCUSDT", 10) == []
    ex.check_invariants()


def test_a_batch_publishes_after_its_commit_and_unsubscribe_stops_delivery(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[object] = []
    stop = ex.events.subscribe(seen.append)
    with ex.batch():
        ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
        ex.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.01", "95000"))
        assert seen == []  # nothing before the commit
    assert sum(isinstance(e, TradeExecuted) for e in seen) == 1
    assert sum(isinstance(e, DepthChanged) for e in seen) == 1  # one per symbol per transaction

    stop()
    seen.clear()
    ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "96000"))
    assert seen == []


def test_a_failing_subscriber_does_not_disturb_others_or_the_exchange(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[object] = []

    def broken(event: object) -> None:
        raise ValueError("subscriber bug")

    ex.events.subscribe(broken)
    ex.events.subscribe(seen.append)
    ack = ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
    assert any(isinstance(e, OrderUpdated) and e.order_id == ack["orderId"] for e in seen)
    assert ex.orders.get_order(acct, "BTCUSDT", ack["orderId"], None)["status"] == "NEW"


def test_depth_events_carry_consecutive_id_ranges_and_the_changed_levels(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[DepthChanged] = []
    ex.events.subscribe(lambda e: seen.append(e) if isinstance(e, DepthChanged) else None)

    resting = ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
    with ex.batch():  # two changes of one book in one transaction: one event, two ids
        ex.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000"))
        ex.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.004", "95000"))
    ex.trading.cancel_order(acct, "BTCUSDT", resting["orderId"], None, None)

    assert [(e.first_update_id, e.update_id) for e in seen] == [(1, 1), (2, 3), (4, 4)]
    assert seen[0].asks == ((D("95000"), D("0.01")),) and seen[0].bids == ()
    assert seen[1].bids == ((D("90000"), D("0.01")),) and seen[1].asks == ((D("95000"), D("0.006")),)
    assert seen[2].asks == ((D("95000"), D("0")),) and seen[2].bids == ()
    assert ex.market_data.depth("BTCUSDT", 5)["lastUpdateId"] == seen[-1].update_id


def test_a_late_first_subscriber_gets_diffs_against_the_committed_book(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))  # nobody listens
    seen: list[DepthChanged] = []
    ex.events.subscribe(lambda e: seen.append(e) if isinstance(e, DepthChanged) else None)
    ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.02", "96000"))
    assert seen[0].asks == ((D("96000"), D("0.02")),)  # only what changed since subscribing


def test_a_failed_commit_leaves_the_diff_baseline_at_the_committed_book(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[DepthChanged] = []
    ex.events.subscribe(lambda e: seen.append(e) if isinstance(e, DepthChanged) else None)
    real_commit = ex.store.commit

    def failing_commit() -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ex.store, "commit", failing_commit)
    with pytest.raises(OSError):
        ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
    monkeypatch.setattr(ex.store, "commit", real_commit)
    assert seen == [] and ex.market_data.depth("BTCUSDT", 5)["asks"] == []

    ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.02", "96000"))
    assert [(e.first_update_id, e.update_id, e.asks) for e in seen] == [(1, 1, ((D("96000"), D("0.02")),))]


def test_a_batch_that_reads_midway_reports_consecutive_diffs(tmp_path: Path) -> None:
    ex = open_exchange(tmp_path)
    acct = ex.accounts.demo_account_id
    seen: list[DepthChanged] = []
    ex.events.subscribe(lambda e: seen.append(e) if isinstance(e, DepthChanged) else None)
    with ex.batch():
        placed = ex.trading.place_order(acct, req("BTCUSDT", "SELL", "LIMIT", "0.01", "95000"))
        ex.market_data.trades("BTCUSDT", 5)  # a read inside the batch flushes the parts early
        ex.trading.cancel_order(acct, "BTCUSDT", placed["orderId"], None, None)
    assert len(seen) == 2  # one event per flush: the early one and the final one
    book: dict = {}
    last = 0
    for e in seen:
        assert e.first_update_id == last + 1
        last = e.update_id
        for price, qty in e.asks:
            book[price] = qty
    assert {p: q for p, q in book.items() if q} == {}  # placed then canceled: nothing rests
    assert last == ex.market_data.depth("BTCUSDT", 5)["lastUpdateId"]
