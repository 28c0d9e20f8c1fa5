"""Order entry through the Exchange's trading part: every type/tif with exact balance arithmetic,
every -1013 filter, -2010 cases, duplicate client ids, cancel/get and unknown ids."""

from __future__ import annotations

import dataclasses
import re

import pytest

from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.errors import ApiError

from .core_support import D, FakeClock, bal, open_exchange, req, snapshot


@pytest.fixture
def ex(tmp_path) -> Exchange:
    e = open_exchange(tmp_path, FakeClock())
    yield e
    e.check_invariants()
    e.close()


@pytest.fixture
def maker(ex: Exchange) -> int:
    return ex.accounts.create_account({"USDT": D("1000000"), "BTC": D("100"), "BTT": D("100000000000")})


@pytest.fixture
def taker(ex: Exchange) -> int:
    return ex.accounts.create_account({"USDT": D("100000"), "BTC": D("10"), "BTT": D("1000000000")})


def api_error(fn, *args, **kw) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kw)
    return info.value


# ------------------------------------------------------------------ limit orders


def test_resting_limit_buy_locks_qty_times_price(ex, taker):
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000"))
    assert r["status"] == "NEW" and r["fills"] == [] and r["executedQty"] == "0.00000000"
    assert bal(ex, taker, "USDT") == (D("91000"), D("9000"))
    assert ex.market_data.depth("BTCUSDT", 5)["bids"] == [["90000.00000000", "0.10000000"]]
    assert [o["orderId"] for o in ex.orders.open_orders(taker, "BTCUSDT")] == [r["orderId"]]


def test_resting_limit_sell_locks_base(ex, taker):
    ex.trading.place_order(taker, req("BTCUSDT", "SELL", "LIMIT", "0.5", "99000"))
    assert bal(ex, taker, "BTC") == (D("9.5"), D("0.5"))
    assert bal(ex, taker, "USDT") == (D("100000"), D("0"))


def test_taker_buy_sweeps_two_levels_with_price_improvement(ex, maker, taker):
    a = ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    b = ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94500"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.15", "95000"))
    assert r["status"] == "FILLED"
    assert r["executedQty"] == "0.15000000"
    assert r["cummulativeQuoteQty"] == "14125.00000000"
    assert [(f["price"], f["qty"], f["commission"], f["commissionAsset"]) for f in r["fills"]] == [
        ("94000.00000000", "0.10000000", "0.00010000", "BTC"),
        ("94500.00000000", "0.05000000", "0.00005000", "BTC"),
    ]
    assert r["fills"][0]["tradeId"] < r["fills"][1]["tradeId"]
    # taker: paid at the makers' prices, the 95000-limit difference released
    assert bal(ex, taker, "USDT") == (D("100000") - D("14125"), D("0"))
    assert bal(ex, taker, "BTC") == (D("10") + D("0.15") - D("0.00015"), D("0"))
    # maker: receives quote minus 0.1 %, its remaining 0.05 @ 94500 still locked
    assert bal(ex, maker, "USDT") == (D("1000000") + D("14125") - D("14.125"), D("0"))
    assert bal(ex, maker, "BTC") == (D("99.8"), D("0.05"))
    assert ex.accounts.ledger.fees["BTC"] == D("0.00015") and ex.accounts.ledger.fees["USDT"] == D("14.125")
    assert ex.orders.get_order(maker, "BTCUSDT", a["orderId"], None)["status"] == "FILLED"
    got_b = ex.orders.get_order(maker, "BTCUSDT", b["orderId"], None)
    assert (got_b["status"], got_b["executedQty"]) == ("PARTIALLY_FILLED", "0.05000000")


def test_taker_buy_partially_fills_then_rests_at_its_limit(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.3", "94100"))
    assert r["status"] == "PARTIALLY_FILLED" and r["executedQty"] == "0.10000000"
    # remaining 0.2 reserved at the limit 94100; the fill was paid at 94000
    assert bal(ex, taker, "USDT") == (D("100000") - D("9400") - D("18820"), D("18820"))
    assert ex.market_data.depth("BTCUSDT", 5) ["bids"] == [["94100.00000000", "0.20000000"]]


def test_taker_sell_receives_quote_minus_commission(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "BUY", "LIMIT", "0.2", "93000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "SELL", "LIMIT", "0.2", "92000"))
    assert r["status"] == "FILLED"
    assert r["fills"][0]["price"] == "93000.00000000"
    assert r["fills"][0]["commission"] == "18.60000000" and r["fills"][0]["commissionAsset"] == "USDT"
    assert bal(ex, taker, "USDT") == (D("100000") + D("18600") - D("18.6"), D("0"))
    assert bal(ex, taker, "BTC") == (D("9.8"), D("0"))
    assert bal(ex, maker, "BTC") == (D("100") + D("0.2") - D("0.0002"), D("0"))
    assert bal(ex, maker, "USDT") == (D("1000000") - D("18600"), D("0"))


def test_ioc_partial_fill_expires_rest_and_locks_nothing(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.3", "94000", tif="IOC"))
    assert (r["status"], r["executedQty"], r["timeInForce"]) == ("EXPIRED", "0.10000000", "IOC")
    assert bal(ex, taker, "USDT") == (D("100000") - D("9400"), D("0"))
    assert ex.market_data.depth("BTCUSDT", 5) == {"lastUpdateId": ex.market_data.depth("BTCUSDT", 5)["lastUpdateId"],
                                      "bids": [], "asks": []}


def test_fok_without_enough_liquidity_expires_untouched(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    before = snapshot(ex)
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.2", "94000", tif="FOK"))
    assert (r["status"], r["fills"]) == ("EXPIRED", [])
    after = snapshot(ex)
    assert after["balances"] == before["balances"] and after["trades"] == before["trades"]
    r2 = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "94000", tif="FOK"))
    assert r2["status"] == "FILLED"
    assert bal(ex, taker, "USDT") == (D("100000") - D("9400"), D("0"))


def test_limit_maker_rests_or_is_rejected_without_state_change(ex, maker, taker):
    r = ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT_MAKER", "0.1", "94000"))
    assert (r["status"], r["type"], r["timeInForce"]) == ("NEW", "LIMIT_MAKER", "GTC")
    before = snapshot(ex)
    err = api_error(ex.trading.place_order, taker, req("BTCUSDT", "BUY", "LIMIT_MAKER", "0.1", "94000"))
    assert (err.http_status, err.code, err.msg) == (400, -2010, "Order would immediately match and take.")
    assert snapshot(ex) == before
    ok = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT_MAKER", "0.1", "93999.99"))
    assert ok["status"] == "NEW"


def test_self_trade_keeps_conservation(ex, taker):
    ex.trading.place_order(taker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "94000"))
    assert r["status"] == "FILLED"
    assert bal(ex, taker, "USDT") == (D("100000") - D("9.4"), D("0"))
    assert bal(ex, taker, "BTC") == (D("10") - D("0.0001"), D("0"))
    trades = ex.orders.my_trades(taker, "BTCUSDT", None, None, None, None, None)
    assert sorted(t["isBuyer"] for t in trades) == [False, True]


# ------------------------------------------------------------------ market orders


def test_market_buy_by_quantity_sweeps_levels(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "95000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "MARKET", "0.15"))
    assert (r["status"], r["price"], r["executedQty"]) == ("FILLED", "0.00000000", "0.15000000")
    assert r["cummulativeQuoteQty"] == "14150.00000000"
    assert bal(ex, taker, "USDT") == (D("100000") - D("14150"), D("0"))


def test_market_buy_by_quantity_is_capped_by_free_quote(ex, maker):
    poor = ex.accounts.create_account({"USDT": D("1000")})
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "1", "94000"))
    r = ex.trading.place_order(poor, req("BTCUSDT", "BUY", "MARKET", "1"))
    # 1000 USDT buys floor(1000 / 94000 / 0.00001) = 1063 lots
    assert (r["status"], r["executedQty"]) == ("EXPIRED", "0.01063000")
    assert bal(ex, poor, "USDT") == (D("1000") - D("999.22"), D("0"))
    assert bal(ex, poor, "BTC") == (D("0.01063") - D("0.00001063"), D("0"))


def test_market_buy_by_quote_order_qty(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "1", "94000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "MARKET", quote="1000"))
    assert (r["status"], r["executedQty"], r["origQty"]) == ("FILLED", "0.01063000", "0.01063000")
    assert (r["origQuoteOrderQty"], r["cummulativeQuoteQty"]) == ("1000.00000000", "999.22000000")
    assert bal(ex, taker, "USDT") == (D("100000") - D("999.22"), D("0"))


def test_market_sell_by_quantity_and_by_quote(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "93000"))
    ex.trading.place_order(maker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "92000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "SELL", "MARKET", "0.15"))
    assert (r["status"], r["cummulativeQuoteQty"]) == ("FILLED", "13900.00000000")
    assert bal(ex, taker, "USDT") == (D("100000") + D("13900") - D("13.9"), D("0"))
    r2 = ex.trading.place_order(taker, req("BTCUSDT", "SELL", "MARKET", quote="920"))
    assert (r2["status"], r2["executedQty"], r2["cummulativeQuoteQty"]) == ("FILLED", "0.01000000", "920.00000000")
    assert bal(ex, taker, "BTC") == (D("10") - D("0.16"), D("0"))


def test_market_order_on_empty_book_expires_without_change(ex, taker):
    before = snapshot(ex)
    r = ex.trading.place_order(taker, req("BTCUSDT", "SELL", "MARKET", "0.1"))
    assert (r["status"], r["fills"]) == ("EXPIRED", [])
    after = snapshot(ex)
    assert after["balances"] == before["balances"]


# ------------------------------------------------------------------ filters and errors


@pytest.mark.parametrize("order, name", [
    (req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000.001"), "PRICE_FILTER"),
    (req("BTCUSDT", "BUY", "LIMIT", "0.1", "0.005"), "PRICE_FILTER"),
    (req("BTCUSDT", "BUY", "LIMIT", "0.0001", "95000001"), "PRICE_FILTER"),
    (req("BTCUSDT", "BUY", "LIMIT", "0.000015", "90000"), "LOT_SIZE"),
    (req("BTCUSDT", "BUY", "LIMIT", "0.000001", "90000"), "LOT_SIZE"),
    (req("BTCUSDT", "SELL", "LIMIT", "9000.00001", "90000"), "LOT_SIZE"),
    (req("BTCUSDT", "SELL", "MARKET", "120.00001"), "MARKET_LOT_SIZE"),
    (req("BTCUSDT", "SELL", "MARKET", "0.000001"), "MARKET_LOT_SIZE"),
    (req("BTCUSDT", "BUY", "LIMIT", "0.00001", "90000"), "NOTIONAL"),
    (req("BTCUSDT", "SELL", "LIMIT", "100", "95000"), "NOTIONAL"),
    (req("BTCUSDT", "SELL", "MARKET", "0.00001"), "NOTIONAL"),
    (req("BTCUSDT", "BUY", "MARKET", quote="4.99"), "NOTIONAL"),
    (req("BTTUSDT", "BUY", "LIMIT", "1000.5", "0.0000006123"), "LOT_SIZE"),
])
def test_each_filter_failure(ex, taker, order, name):
    before = snapshot(ex)
    err = api_error(ex.trading.place_order, taker, order)
    assert (err.http_status, err.code, err.msg) == (400, -1013, f"Filter failure: {name}")
    assert api_error(ex.trading.place_order, taker, order, test=True).msg == f"Filter failure: {name}"
    assert snapshot(ex) == before


def test_max_num_orders(ex, taker):
    ex.symbols["BTCUSDT"] = dataclasses.replace(ex.symbols["BTCUSDT"], max_num_orders=2)
    ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000"))
    ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90001"))
    err = api_error(ex.trading.place_order, taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90002"))
    assert err.msg == "Filter failure: MAX_NUM_ORDERS"
    # other symbols and other accounts are not affected
    ex.trading.place_order(taker, req("BTTUSDT", "BUY", "LIMIT", "10000000", "0.0000006"))
    other = ex.accounts.create_account({"USDT": D("10000")})
    ex.trading.place_order(other, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90002"))


def test_invalid_symbol_everywhere(ex, taker):
    for call in (lambda: ex.trading.place_order(taker, req("FOOBAR", "BUY", "LIMIT", "1", "1")),
                 lambda: ex.orders.get_order(taker, "FOOBAR", 1, None),
                 lambda: ex.trading.cancel_order(taker, "FOOBAR", 1, None, None),
                 lambda: ex.orders.open_orders(taker, "FOOBAR"),
                 lambda: ex.market_data.depth("FOOBAR", 5), lambda: ex.market_data.klines("FOOBAR", "1m", None, None, 5),
                 lambda: ex.market_data.ticker_24hr(["BTCUSDT", "FOOBAR"]), lambda: ex.market_data.avg_price("FOOBAR"),
                 lambda: ex.market_data.exchange_info(["FOOBAR"]), lambda: ex.market_data.trades("FOOBAR", 5)):
        err = api_error(call)
        assert (err.code, err.msg) == (-1121, "Invalid symbol.")


@pytest.mark.parametrize("order", [
    req("BTCUSDT", "BUY", "LIMIT", "2", "90000"),          # 180000 > 100000 USDT
    req("BTCUSDT", "SELL", "LIMIT", "10.00001", "90000"),  # > 10 BTC
    req("BTCUSDT", "SELL", "MARKET", "10.5"),
    req("BTCUSDT", "BUY", "MARKET", quote="100000.01"),
])
def test_insufficient_balance(ex, maker, taker, order):
    ex.trading.place_order(maker, req("BTCUSDT", "BUY", "LIMIT", "10", "90000"))
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "20", "95000"))
    before = snapshot(ex)
    err = api_error(ex.trading.place_order, taker, order)
    assert (err.code, err.msg) == (-2010, "Account has insufficient balance for requested action.")
    assert snapshot(ex) == before


def test_insufficient_balance_counts_locked_funds(ex, taker):
    ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "1", "90000"))
    err = api_error(ex.trading.place_order, taker, req("BTCUSDT", "BUY", "LIMIT", "0.2", "90000"))
    assert err.code == -2010


def test_duplicate_open_client_id_changes_nothing_and_is_reusable_after_close(ex, taker):
    first = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000", cid="my-id_1"))
    before = snapshot(ex)
    err = api_error(ex.trading.place_order, taker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "99000", cid="my-id_1"))
    assert (err.http_status, err.code, err.msg) == (400, -2010, "Duplicate order sent.")
    assert snapshot(ex) == before
    # another account may use the same id
    other = ex.accounts.create_account({"USDT": D("10000")})
    ex.trading.place_order(other, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000", cid="my-id_1"))
    ex.trading.cancel_order(taker, "BTCUSDT", first["orderId"], None, None)
    again = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000", cid="my-id_1"))
    assert again["orderId"] > first["orderId"]
    # querying by client id finds the newest order with that id
    assert ex.orders.get_order(taker, "BTCUSDT", None, "my-id_1")["orderId"] == again["orderId"]


def test_test_order_validates_everything_and_places_nothing(ex, taker):
    before = snapshot(ex)
    assert ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000"), test=True) == {}
    assert snapshot(ex) == before
    assert api_error(ex.trading.place_order, taker, req("BTCUSDT", "BUY", "LIMIT", "5", "90000"), test=True).code == -2010


# ------------------------------------------------------------------ responses, cancel, queries


def test_response_types_and_ids(ex, taker):
    ack = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000", resp="ACK"))
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert re.fullmatch(r"[a-zA-Z0-9-_]{22}", ack["clientOrderId"])
    res = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000", resp="RESULT"))
    assert set(res) == set(ack) | {"price", "origQty", "executedQty", "origQuoteOrderQty",
                                   "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
                                   "workingTime", "selfTradePreventionMode"}
    full = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000"))
    assert set(full) == set(res) | {"fills"}
    assert ack["orderId"] < res["orderId"] < full["orderId"]
    assert ack["clientOrderId"] != res["clientOrderId"]
    for r in (ack, res, full):
        assert "strategyId" not in r


def test_cancel_by_id_and_client_id(ex, taker, maker):
    a = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000", cid="a"))
    b = ex.trading.place_order(taker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "99000", cid="b"))
    c = ex.trading.cancel_order(taker, "BTCUSDT", a["orderId"], None, "cancel-1")
    assert (c["status"], c["origClientOrderId"], c["clientOrderId"], c["orderId"]) == \
        ("CANCELED", "a", "cancel-1", a["orderId"])
    assert bal(ex, taker, "USDT") == (D("100000"), D("0"))
    c2 = ex.trading.cancel_order(taker, "BTCUSDT", None, "b", None)
    assert c2["orderId"] == b["orderId"] and c2["clientOrderId"] != "b"
    assert bal(ex, taker, "BTC") == (D("10"), D("0"))
    for oid, cid in ((a["orderId"], None), (None, "b"), (999, None), (None, "nope")):
        err = api_error(ex.trading.cancel_order, taker, "BTCUSDT", oid, cid, None)
        assert (err.code, err.msg) == (-2011, "Unknown order sent.")
    # someone else's order, or the wrong symbol
    m = ex.trading.place_order(maker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "90000"))
    assert api_error(ex.trading.cancel_order, taker, "BTCUSDT", m["orderId"], None, None).code == -2011
    assert api_error(ex.trading.cancel_order, maker, "ETHUSDT", m["orderId"], None, None).code == -2011
    got = ex.orders.get_order(taker, "BTCUSDT", a["orderId"], None)
    assert got["status"] == "CANCELED" and got["clientOrderId"] == "a"
    assert set(got) >= {"stopPrice", "icebergQty", "time", "updateTime", "isWorking",
                        "workingTime", "origQuoteOrderQty", "selfTradePreventionMode"}
    for oid, cid in ((999, None), (None, "zzz"), (m["orderId"], None)):
        err = api_error(ex.orders.get_order, taker, "BTCUSDT", oid, cid)
        assert (err.code, err.msg) == (-2013, "Order does not exist.")


def test_cancel_open_orders_and_queries(ex, taker, maker):
    ids = [ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.01", p))["orderId"]
           for p in ("90000", "90001", "90002")]
    ex.trading.place_order(taker, req("BTTUSDT", "BUY", "LIMIT", "10000000", "0.0000006"))
    assert len(ex.orders.open_orders(taker, None)) == 4
    out = ex.trading.cancel_open_orders(taker, "BTCUSDT")
    assert [o["orderId"] for o in out] == ids and all(o["status"] == "CANCELED" for o in out)
    assert [o["symbol"] for o in ex.orders.open_orders(taker, None)] == ["BTTUSDT"]
    assert ex.trading.cancel_open_orders(taker, "BTCUSDT") == []
    everything = ex.orders.all_orders(taker, "BTCUSDT", None, None, None, None)
    assert [o["orderId"] for o in everything] == ids
    assert [o["orderId"] for o in ex.orders.all_orders(taker, "BTCUSDT", ids[1], None, None, None)] == ids[1:]
    assert [o["orderId"] for o in ex.orders.all_orders(taker, "BTCUSDT", None, None, None, 2)] == ids[1:]


def test_my_trades_from_each_side(ex, maker, taker):
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "94000"))
    r = ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "94000"))
    [t] = ex.orders.my_trades(taker, "BTCUSDT", None, None, None, None, None)
    assert (t["isBuyer"], t["isMaker"], t["commission"], t["commissionAsset"], t["orderId"]) == \
        (True, False, "0.00010000", "BTC", r["orderId"])
    [m] = ex.orders.my_trades(maker, "BTCUSDT", None, None, None, None, None)
    assert (m["isBuyer"], m["isMaker"], m["commission"], m["commissionAsset"], m["quoteQty"]) == \
        (False, True, "9.40000000", "USDT", "9400.00000000")
    assert ex.orders.my_trades(taker, "BTCUSDT", r["orderId"] + 1, None, None, None, None) == []
    assert ex.orders.my_trades(taker, "BTCUSDT", None, None, None, t["id"] + 1, None) == []


def test_btt_fine_tick_arithmetic_and_commission_rounding(ex, maker, taker):
    ex.trading.place_order(maker, req("BTTUSDT", "SELL", "LIMIT", "9000001", "0.0000006127"))
    r = ex.trading.place_order(taker, req("BTTUSDT", "BUY", "LIMIT", "9000001", "0.0000006127"))
    assert r["fills"][0]["price"] == "0.0000006127"
    assert r["cummulativeQuoteQty"] == "5.5143006127"
    assert r["fills"][0]["commission"] == "9000.00100000"  # 0.1 % of 9000001 BTT
    # seller's commission 0.0055143006127 is rounded UP to 8 decimals
    [m] = ex.orders.my_trades(maker, "BTTUSDT", None, None, None, None, None)
    assert m["commission"] == "0.00551431"
    assert bal(ex, maker, "USDT")[0] == D("1000000") + D("5.5143006127") - D("0.00551431")
    assert ex.accounts.ledger.fees["USDT"] == D("0.00551431")


def test_too_many_decimals_is_1111_and_changes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """More decimals than the asset allows is -1111 (not a filter failure), before any filter."""
    from decimal import Decimal

    from btx_tui.exchange.state.exchange import Exchange
    from btx_tui.exchange.state.trading import OrderRequest
    from btx_tui.exchange.errors import ApiError

    ex = Exchange.open(tmp_path)
    acct = ex.accounts.demo_account_id
    before = ex.accounts.account(acct, omit_zero=True)
    cases = [
        ("BTCUSDT", "0.001", "95000.000000001", None),   # price: 9 decimals > USDT's 8
        ("BTCUSDT", "0.000000001", "95000", None),       # quantity: 9 decimals > BTC's 8
        ("BTTUSDT", "1000000", "0.00000061234", None),   # 11 decimals > the 10 BTT's tick allows
    ]
    for symbol, qty, price, _ in cases:
        req = OrderRequest(symbol=symbol, side="BUY", type="LIMIT", time_in_force="GTC",
                           quantity=Decimal(qty), quote_order_qty=None, price=Decimal(price),
                           new_client_order_id=None, resp_type=None)
        try:
            ex.trading.place_order(acct, req)
        except ApiError as exc:
            assert (exc.http_status, exc.code) == (400, -1111)
            assert exc.msg.startswith("Parameter '") and exc.msg.endswith("' has too much precision.")
        else:
            raise AssertionError(f"{symbol} {qty}@{price} was accepted")
    # Trailing zeros are not precision; a 10-decimal BTT price on its tick is fine.
    ok = OrderRequest(symbol="BTTUSDT", side="BUY", type="LIMIT", time_in_force="GTC",
                      quantity=Decimal("10000000"), quote_order_qty=None, price=Decimal("0.0000006100000"),
                      new_client_order_id=None, resp_type=None)
    assert ex.trading.place_order(acct, ok)["status"] == "NEW"
    assert ex.market_data.exchange_info(["BTTUSDT"])["symbols"][0]["quotePrecision"] == 10
    after = ex.accounts.account(acct, omit_zero=True)
    usdt = lambda a: next(b for b in a["balances"] if b["asset"] == "USDT")  # noqa: E731
    assert Decimal(usdt(after)["locked"]) == Decimal(usdt(before)["locked"]) + Decimal("6.1")
    ex.close()
