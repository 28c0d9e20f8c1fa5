"""Stop-loss / take-profit orders through the trading part: locking while untriggered, the
would-trigger rule, firing atomically with the trade that crosses, trailing stops, cascades,
events, restart and schema migration, amend keepPriority."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.events import OrderUpdated
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.trading import OrderRequest

from .core_support import D, FakeClock, bal, open_exchange, req, snapshot

SYM = "BTCUSDT"


@pytest.fixture
def ex(tmp_path) -> Exchange:
    e = open_exchange(tmp_path, FakeClock())
    yield e
    e.check_invariants()
    e.close()


@pytest.fixture
def maker(ex: Exchange) -> int:
    return ex.accounts.create_account({"USDT": D("10000000"), "BTC": D("100")})


@pytest.fixture
def trader(ex: Exchange) -> int:
    return ex.accounts.create_account({"USDT": D("100000"), "BTC": D("10")})


def stop(side: str, type_: str, qty: str, *, stop: str | None = None, price: str | None = None,
         delta: int | None = None, cid: str | None = None, resp: str | None = "RESULT") -> OrderRequest:
    tif = "GTC" if type_.endswith("_LIMIT") else None
    return OrderRequest(SYM, side, type_, tif, D(qty), None, D(price) if price else None, cid, resp,
                        D(stop) if stop else None, delta)


def trade_at(ex: Exchange, maker: int, price: str, qty: str = "0.01") -> None:
    """One trade at ``price`` between the maker and itself (sets the last price)."""
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", qty, price))
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", qty, price, tif="IOC"))


def api_error(fn, *args, **kw) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kw)
    return info.value


def test_untriggered_stop_limit_sell_locks_base_and_stays_out_of_the_book(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS_LIMIT", "0.5", stop="94000", price="93000"))
    assert (r["status"], r["workingTime"], r["stopPrice"], r["type"]) == \
        ("NEW", -1, "94000.00000000", "STOP_LOSS_LIMIT")
    assert bal(ex, trader, "BTC") == (D("9.5"), D("0.5"))
    assert ex.books[SYM].get(r["orderId"]) is None
    [o] = ex.orders.open_orders(trader, SYM)
    assert (o["isWorking"], o["workingTime"], o["orderListId"]) == (False, -1, -1)
    ex.check_invariants()
    ex.trading.cancel_order(trader, SYM, r["orderId"], None, None)
    assert bal(ex, trader, "BTC") == (D("10"), D("0"))
    assert len(ex.trading.triggers[SYM]) == 0


def test_stop_types_default_to_ack(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS", "0.1", stop="94000", resp=None))
    assert set(r) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}


@pytest.mark.parametrize("side,type_,stop_price", [
    ("SELL", "STOP_LOSS", "95000"), ("SELL", "STOP_LOSS", "96000"),
    ("BUY", "STOP_LOSS", "95000"), ("BUY", "STOP_LOSS", "94000"),
    ("SELL", "TAKE_PROFIT", "94000"), ("BUY", "TAKE_PROFIT", "96000"),
])
def test_stop_price_already_met_is_rejected_without_trace(ex, maker, trader, side, type_, stop_price):
    trade_at(ex, maker, "95000")
    before = snapshot(ex)
    e = api_error(ex.trading.place_order, trader, stop(side, type_, "0.1", stop=stop_price))
    assert (e.code, e.msg) == (-2010, "Order would trigger immediately.")
    assert snapshot(ex) == before


def test_trailing_delta_outside_the_filter_is_1013(ex, maker, trader):
    for delta in (0, 9, 2001):
        e = api_error(ex.trading.place_order, trader, stop("SELL", "STOP_LOSS", "0.1", delta=delta))
        assert (e.code, e.msg) == (-1013, "Filter failure: TRAILING_DELTA")
    e = api_error(ex.trading.place_order, trader, stop("SELL", "STOP_LOSS", "0.1", stop="94000.005"))
    assert (e.code, e.msg) == (-1013, "Filter failure: PRICE_FILTER")


def test_trade_through_the_stop_fires_it_in_the_same_step_and_it_matches(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS_LIMIT", "0.5", stop="94000", price="93000"))
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "1", "93500"))
    seen: list = []
    ex.events.subscribe(seen.append)
    # The maker sells into its own 93,500 bid: the last price falls to 93,500 <= 94,000.
    out = ex.trading.place_order(maker, req(SYM, "SELL", "MARKET", "0.01"))
    assert [f["price"] for f in out["fills"]] == ["93500.00000000"]
    o = ex.orders.get_order(trader, SYM, r["orderId"], None)
    assert (o["status"], o["executedQty"], o["isWorking"]) == ("FILLED", "0.50000000", True)
    assert o["workingTime"] == ex.now_ms()
    assert bal(ex, trader, "BTC") == (D("9.5"), D("0"))
    assert bal(ex, trader, "USDT")[0] == D("100000") + D("46750") - D("46.75")
    updates = [e for e in seen if isinstance(e, OrderUpdated) and e.order_id == r["orderId"]]
    assert len(updates) == 1 and updates[0].status == "FILLED" and updates[0].is_working


def test_triggered_limit_that_cannot_cross_rests_working(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS_LIMIT", "0.5", stop="94000", price="93900"))
    trade_at(ex, maker, "94000")
    o = ex.orders.get_order(trader, SYM, r["orderId"], None)
    assert (o["status"], o["isWorking"], o["executedQty"]) == ("NEW", True, "0.00000000")
    assert ex.books[SYM].get(r["orderId"]) is not None
    assert bal(ex, trader, "BTC") == (D("9.5"), D("0.5"))


def test_market_buy_stop_reserves_with_slack_and_releases_the_rest(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("BUY", "STOP_LOSS", "0.1", stop="96000"))
    assert bal(ex, trader, "USDT") == (D("100000") - D("10080"), D("10080"))  # 0.1*96000*1.05
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "1", "96100"))
    trade_at(ex, maker, "96000")
    o = ex.orders.get_order(trader, SYM, r["orderId"], None)
    assert (o["status"], o["executedQty"], o["cummulativeQuoteQty"]) == \
        ("FILLED", "0.10000000", "9610.00000000")
    assert bal(ex, trader, "USDT") == (D("100000") - D("9610"), D("0"))


def test_trailing_sell_stop_follows_the_high_and_fires_on_the_drop(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS", "0.2", delta=100))  # 1 %
    assert r["trailingDelta"] == 100 and r["trailingTime"] == ex.now_ms()
    trade_at(ex, maker, "97000")
    row = ex.trading.open_by_id[r["orderId"]]
    assert row.extreme_ticks * ex.symbols[SYM].tick_size == D("97000")
    trade_at(ex, maker, "96100")       # -0.93 %: not yet
    assert row.working_time == -1
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "1", "95000"))
    trade_at(ex, maker, "96030")       # exactly 97,000 * 0.99: fires, sells into the 95,000 bid
    o = ex.orders.get_order(trader, SYM, r["orderId"], None)
    assert (o["status"], o["executedQty"]) == ("FILLED", "0.20000000")


def test_a_triggered_order_can_trigger_the_next(ex, maker, trader):
    trade_at(ex, maker, "95000")
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.1", "93000"))
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "1", "92000"))
    first = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS", "0.2", stop="94000"))
    second = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS", "0.3", stop="92500"))
    trade_at(ex, maker, "94000")
    # first sells 0.1 @ 93,000 then 0.1 @ 92,000: 92,000 <= 92,500 fires the second.
    a = ex.orders.get_order(trader, SYM, first["orderId"], None)
    b = ex.orders.get_order(trader, SYM, second["orderId"], None)
    assert (a["status"], a["cummulativeQuoteQty"]) == ("FILLED", "18500.00000000")
    assert (b["status"], b["executedQty"]) == ("FILLED", "0.30000000")
    assert b["workingTime"] == a["workingTime"] == ex.now_ms()


def test_untriggered_stops_and_trailing_state_survive_restart(tmp_path):
    clock = FakeClock()
    ex = open_exchange(tmp_path, clock)
    maker = ex.accounts.create_account({"USDT": D("10000000"), "BTC": D("100")})
    trader = ex.accounts.create_account({"USDT": D("100000"), "BTC": D("10")})
    trade_at(ex, maker, "95000")
    plain = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS", "0.1", stop="89000"))
    trail = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS", "0.2", stop="94500", delta=200))
    trail_id = trail["orderId"]
    assert trail["trailingTime"] == -1  # tracking starts when a trade is <= 94,500
    before = snapshot(ex)
    ex.close()
    ex = open_exchange(tmp_path, clock)
    assert snapshot(ex) == before
    trade_at(ex, maker, "94400")
    row = ex.trading.open_by_id[trail_id]
    assert row.trailing_time != -1 and row.extreme_ticks * ex.symbols[SYM].tick_size == D("94400")
    assert row.working_time == -1
    ex.close()
    ex = open_exchange(tmp_path, clock)
    assert ex.trading.triggers[SYM].get(trail_id).tracking
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "1", "90000"))
    trade_at(ex, maker, "92513")   # above 94,400 * 0.98 = 92,512: still waiting
    assert ex.orders.get_order(trader, SYM, trail_id, None)["status"] == "NEW"
    trade_at(ex, maker, "92512")
    assert ex.orders.get_order(trader, SYM, trail_id, None)["status"] == "FILLED"
    assert ex.orders.get_order(trader, SYM, plain["orderId"], None)["status"] == "NEW"
    ex.check_invariants()
    ex.close()


def test_a_database_of_the_previous_schema_still_opens(tmp_path):
    ex = open_exchange(tmp_path, FakeClock())
    acct = ex.accounts.create_account({"USDT": D("100000")})
    r = ex.trading.place_order(acct, req(SYM, "BUY", "LIMIT", "0.1", "90000"))
    ex.close()
    db = sqlite3.connect(tmp_path / "exchange.sqlite3")
    for column in ("stop_price", "trailing_delta", "trailing_time", "extreme_ticks", "reserved",
                   "order_list_id"):
        db.execute(f"ALTER TABLE orders DROP COLUMN {column}")
    db.execute("DROP TABLE order_lists")
    db.commit()
    db.close()
    ex = open_exchange(tmp_path, FakeClock())
    o = ex.orders.get_order(acct, SYM, r["orderId"], None)
    assert (o["status"], o["orderListId"], o["isWorking"], o["stopPrice"]) == \
        ("NEW", -1, True, "0.00000000")
    ex.check_invariants()
    assert ex.trading.open_order_lists(acct) == []
    ex.close()


def test_amend_keep_priority_reduces_in_place_and_unlocks(ex, maker, trader):
    first = ex.trading.place_order(trader, req(SYM, "BUY", "LIMIT", "0.5", "90000", cid="mine"))
    other = ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.3", "90000"))
    seq = ex.books[SYM].get(first["orderId"]).seq
    out = ex.trading.amend_keep_priority(trader, SYM, first["orderId"], None, "mine2", D("0.2"))
    a = out["amendedOrder"]
    assert (a["qty"], a["origClientOrderId"], a["clientOrderId"], a["status"], a["orderListId"]) == \
        ("0.20000000", "mine", "mine2", "NEW", -1)
    assert out["executionId"] >= 1 and out["transactTime"] == ex.now_ms()
    assert ex.books[SYM].get(first["orderId"]).seq == seq
    assert bal(ex, trader, "USDT") == (D("100000") - D("18000"), D("18000"))
    assert ex.books[SYM].depth(1)[0] == [(90000 * 100, 50000)]  # 0.2 + 0.3 BTC in lots
    # Still first in the queue: a 0.2 sell fills the amended order, not the other one.
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.2", "90000"))
    assert ex.orders.get_order(trader, SYM, first["orderId"], None)["status"] == "FILLED"
    assert ex.orders.get_order(maker, SYM, other["orderId"], None)["executedQty"] == "0.00000000"


def test_amend_rejections_leave_no_trace(ex, maker, trader):
    r = ex.trading.place_order(trader, req(SYM, "BUY", "LIMIT", "0.5", "90000"))
    before = snapshot(ex)
    for qty, code, msg in (
        ("0.5", -2038, "The requested action would change no state; rejecting"),
        ("0.6", -2038, "Order amend (quantity increase) is not supported."),
        ("0.123456", -1013, "Filter failure: LOT_SIZE"),
        ("0.00005", -1013, "Filter failure: NOTIONAL"),   # 0.00005 * 90,000 = 4.5 < 5
    ):
        e = api_error(ex.trading.amend_keep_priority, trader, SYM, r["orderId"], None, None, D(qty))
        assert (e.code, e.msg) == (code, msg)
    e = api_error(ex.trading.amend_keep_priority, trader, SYM, 999_999, None, None, D("0.1"))
    assert (e.code, e.msg) == (-2038, "Unknown order sent.")
    assert snapshot(ex) == before


def test_amend_untriggered_stop_lowers_its_reservation(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("BUY", "STOP_LOSS_LIMIT", "0.4", stop="96000", price="97000"))
    assert bal(ex, trader, "USDT")[1] == D("38800")
    ex.trading.amend_keep_priority(trader, SYM, r["orderId"], None, None, D("0.1"))
    assert bal(ex, trader, "USDT")[1] == D("9700")
    assert ex.orders.get_order(trader, SYM, r["orderId"], None)["origQty"] == "0.10000000"


def test_cancel_replace_modes(ex, maker, trader):
    r = ex.trading.place_order(trader, req(SYM, "BUY", "LIMIT", "0.5", "90000"))
    new = req(SYM, "BUY", "LIMIT", "0.4", "90500", resp="RESULT")
    out = ex.trading.cancel_replace(trader, "STOP_ON_FAILURE", r["orderId"], None, None, new)
    assert (out["cancelResult"], out["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert out["cancelResponse"]["status"] == "CANCELED" and out["newOrderResponse"]["status"] == "NEW"
    assert bal(ex, trader, "USDT")[1] == D("36200")
    before = snapshot(ex)
    e = api_error(ex.trading.cancel_replace, trader, "STOP_ON_FAILURE", r["orderId"], None, None, new)
    assert (e.http_status, e.code, e.msg) == (400, -2022, "Order cancel-replace failed.")
    assert e.data == {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                      "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
                      "newOrderResponse": None}
    assert snapshot(ex) == before
    # ALLOW_FAILURE: the cancel fails, the new order is placed anyway -> 409 -2021.
    e = api_error(ex.trading.cancel_replace, trader, "ALLOW_FAILURE", r["orderId"], None, None, new)
    assert (e.http_status, e.code) == (409, -2021)
    assert e.data["cancelResult"] == "FAILURE" and e.data["newOrderResult"] == "SUCCESS"
    assert len(ex.orders.open_orders(trader, SYM)) == 2
    # The cancel succeeds, the new order fails (would take) -> 409 -2021, the cancel stays.
    current = out["newOrderResponse"]["orderId"]
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.1", "91000"))
    taking = req(SYM, "BUY", "LIMIT_MAKER", "0.1", "91000")
    e = api_error(ex.trading.cancel_replace, trader, "STOP_ON_FAILURE", current, None, None, taking)
    assert (e.http_status, e.code, e.data["newOrderResponse"]) == \
        (409, -2021, {"code": -2010, "msg": "Order would immediately match and take."})
    assert ex.orders.get_order(trader, SYM, current, None)["status"] == "CANCELED"
    # Filters are checked before anything: a plain -1013, nothing cancelled.
    last = ex.orders.open_orders(trader, SYM)[0]["orderId"]
    bad = req(SYM, "BUY", "LIMIT", "0.1", "90000.005")
    e = api_error(ex.trading.cancel_replace, trader, "STOP_ON_FAILURE", last, None, None, bad)
    assert (e.code, e.data) == (-1013, None)
    assert ex.orders.get_order(trader, SYM, last, None)["status"] == "NEW"


def test_decimal_reservations_are_exact(ex, maker, trader):
    trade_at(ex, maker, "95000")
    r = ex.trading.place_order(trader, stop("BUY", "TAKE_PROFIT", "0.003", delta=150))
    locked = bal(ex, trader, "USDT")[1]
    assert isinstance(locked, Decimal) and locked == ex.trading.open_by_id[r["orderId"]].reserved
    # 0.003 * 95,000 * 1.05 * 1.015, rounded up to the quote unit
    assert locked == (D("0.003") * D("95000") * D("1.05") * D("10150") / D("10000")).quantize(
        ex.symbols[SYM].quote_unit, rounding="ROUND_UP")


def test_events_report_untriggered_then_triggered(ex, maker, trader):
    trade_at(ex, maker, "95000")
    seen: list = []
    ex.events.subscribe(seen.append)
    r = ex.trading.place_order(trader, stop("SELL", "STOP_LOSS_LIMIT", "0.5", stop="94000", price="94000"))
    [placed] = [e for e in seen if isinstance(e, OrderUpdated)]
    assert (placed.order_id, placed.status, placed.is_working, placed.working_time,
            placed.stop_price, placed.order_list_id) == (r["orderId"], "NEW", False, -1, D("94000"), -1)
    seen.clear()
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.01", "94000"))
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.01", "94000", tif="IOC"))
    [fired] = [e for e in seen if isinstance(e, OrderUpdated) and e.order_id == r["orderId"]]
    assert (fired.status, fired.is_working, fired.working_time) == ("NEW", True, ex.now_ms())
    seen.clear()
    ex.trading.cancel_order(trader, SYM, r["orderId"], None, None)
    [gone] = [e for e in seen if isinstance(e, OrderUpdated)]
    assert gone.status == "CANCELED"
