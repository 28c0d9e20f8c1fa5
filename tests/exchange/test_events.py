"""Engine events (``state/events.py``): what a future WebSocket surface will subscribe to.

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
