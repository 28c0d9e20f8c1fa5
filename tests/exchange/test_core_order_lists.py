"""OCO order lists through the trading part: one shared lock, a leg filling or triggering
cancels the other in the same step, cancelling a leg cancels the list, the standard's type
and price rules, queries by id and listClientOrderId, restart."""

from __future__ import annotations

import pytest

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.events import OrderListUpdated
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.trading import OcoRequest, OrderRequest, OtoRequest

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
    a = ex.accounts.create_account({"USDT": D("10000000"), "BTC": D("100")})
    ex.trading.place_order(a, req(SYM, "SELL", "LIMIT", "0.01", "95000"))
    ex.trading.place_order(a, req(SYM, "BUY", "LIMIT", "0.01", "95000", tif="IOC"))  # last = 95,000
    return a


@pytest.fixture
def trader(ex: Exchange) -> int:
    return ex.accounts.create_account({"USDT": D("100000"), "BTC": D("1")})


def leg(side: str, type_: str, qty: str, *, price: str | None = None, stop: str | None = None,
        delta: int | None = None, cid: str | None = None) -> OrderRequest:
    tif = "GTC" if type_ == "LIMIT" or type_.endswith("_LIMIT") else None
    return OrderRequest(SYM, side, type_, tif, D(qty), None, D(price) if price else None, cid, None,
                        D(stop) if stop else None, delta)


def sell_oco(qty: str = "0.5", *, above_price: str = "99000", below_stop: str = "93000",
             below_price: str | None = "92000", list_cid: str | None = "bracket") -> OcoRequest:
    below = leg("SELL", "STOP_LOSS_LIMIT" if below_price else "STOP_LOSS", qty,
                price=below_price, stop=below_stop)
    return OcoRequest(SYM, "SELL", D(qty), list_cid, leg("SELL", "LIMIT_MAKER", qty, price=above_price),
                      below, "RESULT")


def api_error(fn, *args, **kw) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kw)
    return info.value


def test_sell_oco_locks_the_quantity_once(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    assert (out["contingencyType"], out["listStatusType"], out["listOrderStatus"],
            out["listClientOrderId"], out["symbol"]) == ("OCO", "EXEC_STARTED", "EXECUTING", "bracket", SYM)
    stop_leg, limit_leg = out["orderReports"]
    assert (stop_leg["type"], stop_leg["workingTime"], stop_leg["stopPrice"]) == ("STOP_LOSS_LIMIT", -1, "93000.00000000")
    assert (limit_leg["type"], limit_leg["status"]) == ("LIMIT_MAKER", "NEW")
    assert {r["orderListId"] for r in out["orderReports"]} == {out["orderListId"]}
    assert [o["orderId"] for o in out["orders"]] == [stop_leg["orderId"], limit_leg["orderId"]]
    assert bal(ex, trader, "BTC") == (D("0.5"), D("0.5"))
    opened = ex.orders.open_orders(trader, SYM)
    assert {o["orderListId"] for o in opened} == {out["orderListId"]}


def test_buy_oco_locks_the_larger_leg(ex, maker, trader):
    oco = OcoRequest(SYM, "BUY", D("0.5"), None,
                     leg("BUY", "STOP_LOSS_LIMIT", "0.5", price="97000", stop="96000"),
                     leg("BUY", "LIMIT_MAKER", "0.5", price="94000"), None)
    ex.trading.place_oco(trader, oco)
    assert bal(ex, trader, "USDT")[1] == D("48500")   # max(0.5*97,000, 0.5*94,000)


def test_limit_leg_fill_cancels_the_stop_leg_in_the_same_step(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    stop_id, limit_id = (o["orderId"] for o in out["orders"])
    seen: list = []
    ex.events.subscribe(seen.append)
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.2", "99000"))
    assert ex.orders.get_order(trader, SYM, limit_id, None)["status"] == "PARTIALLY_FILLED"
    assert ex.orders.get_order(trader, SYM, stop_id, None)["status"] == "CANCELED"
    assert len(ex.trading.triggers[SYM]) == 0
    assert bal(ex, trader, "BTC") == (D("0.5"), D("0.3"))
    assert ex.trading.order_list(trader, out["orderListId"], None)["listStatusType"] == "EXEC_STARTED"
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.3", "99000"))
    done = ex.trading.order_list(trader, None, "bracket")
    assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    assert ex.trading.open_order_lists(trader) == []
    assert any(isinstance(e, OrderListUpdated) and e.list_status_type == "ALL_DONE" for e in seen)


def test_stop_leg_trigger_cancels_the_limit_leg_and_executes(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    stop_id, limit_id = (o["orderId"] for o in out["orders"])
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "1", "92500"))
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.01", "92500", tif="IOC"))
    assert ex.orders.get_order(trader, SYM, limit_id, None)["status"] == "CANCELED"
    s = ex.orders.get_order(trader, SYM, stop_id, None)
    assert (s["status"], s["executedQty"], s["isWorking"]) == ("FILLED", "0.50000000", True)
    assert ex.books[SYM].get(limit_id) is None
    assert bal(ex, trader, "BTC") == (D("0.5"), D("0"))
    assert ex.trading.order_list(trader, out["orderListId"], None)["listOrderStatus"] == "ALL_DONE"


def test_cancelling_one_leg_cancels_the_list(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    stop_id, limit_id = (o["orderId"] for o in out["orders"])
    r = ex.trading.cancel_order(trader, SYM, limit_id, None, None)
    assert (r["status"], r["orderListId"]) == ("CANCELED", out["orderListId"])
    assert ex.orders.get_order(trader, SYM, stop_id, None)["status"] == "CANCELED"
    assert bal(ex, trader, "BTC") == (D("1"), D("0"))
    assert ex.trading.order_list(trader, out["orderListId"], None)["listStatusType"] == "ALL_DONE"
    # listClientOrderId is free again once the list is done
    ex.trading.place_oco(trader, sell_oco())


def test_cancel_order_list_and_cancel_open_orders(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    r = ex.trading.cancel_order_list(trader, SYM, None, "bracket")
    assert r["listStatusType"] == "ALL_DONE" and {o["status"] for o in r["orderReports"]} == {"CANCELED"}
    e = api_error(ex.trading.cancel_order_list, trader, SYM, out["orderListId"], None)
    assert (e.code, e.msg) == (-2011, "Unknown order sent.")
    ex.trading.place_oco(trader, sell_oco(qty="0.2", list_cid="b2"))
    ex.trading.place_order(trader, req(SYM, "SELL", "LIMIT", "0.1", "99500"))
    res = ex.trading.cancel_open_orders(trader, SYM)
    assert [("orderListId" in x and "contingencyType" in x) for x in res] == [False, True]
    assert bal(ex, trader, "BTC") == (D("1"), D("0"))


@pytest.mark.parametrize("above,below,code", [
    ("STOP_LOSS_LIMIT", "STOP_LOSS_LIMIT", -1197),
    ("LIMIT_MAKER", "LIMIT_MAKER", -1166),
    ("LIMIT_MAKER", "TAKE_PROFIT_LIMIT", -1199),
])
def test_sell_oco_type_rules(ex, maker, trader, above, below, code):
    before = snapshot(ex)
    price = {"above": "99000", "below": "92000"}
    stop = {"above": "98000", "below": "93000"}

    def mk(pos, t):
        return leg("SELL", t, "0.5", price=None if t in ("STOP_LOSS", "TAKE_PROFIT") else price[pos],
                   stop=None if t == "LIMIT_MAKER" else stop[pos])
    e = api_error(ex.trading.place_oco, trader,
                  OcoRequest(SYM, "SELL", D("0.5"), None, mk("above", above), mk("below", below), None))
    assert e.code == code
    assert snapshot(ex) == before


def test_oco_price_relation_and_duplicate_ids(ex, maker, trader):
    before = snapshot(ex)
    e = api_error(ex.trading.place_oco, trader, sell_oco(above_price="94000", below_stop="93000"))
    assert (e.code, e.msg) == (-2010, "The relationship of the prices for the orders is not correct.")
    e = api_error(ex.trading.place_oco, trader, sell_oco(qty="2"))
    assert (e.code, e.msg) == (-2010, "Account has insufficient balance for requested action.")
    assert snapshot(ex) == before
    ex.trading.place_oco(trader, sell_oco(qty="0.1"))
    e = api_error(ex.trading.place_oco, trader, sell_oco(qty="0.1"))
    assert (e.code, e.msg) == (-2010, "Duplicate order sent.")


def test_amending_a_leg_amends_both(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    stop_id, limit_id = (o["orderId"] for o in out["orders"])
    r = ex.trading.amend_keep_priority(trader, SYM, limit_id, None, None, D("0.3"))
    assert r["listStatus"]["orderListId"] == out["orderListId"]
    assert ex.orders.get_order(trader, SYM, stop_id, None)["origQty"] == "0.30000000"
    assert bal(ex, trader, "BTC") == (D("0.7"), D("0.3"))


def test_lists_survive_restart_and_queries(tmp_path):
    clock = FakeClock()
    ex = open_exchange(tmp_path, clock)
    m = ex.accounts.create_account({"USDT": D("10000000"), "BTC": D("100")})
    ex.trading.place_order(m, req(SYM, "SELL", "LIMIT", "0.01", "95000"))
    ex.trading.place_order(m, req(SYM, "BUY", "LIMIT", "0.01", "95000", tif="IOC"))
    t = ex.accounts.create_account({"BTC": D("1")})
    first = ex.trading.place_oco(t, sell_oco(qty="0.2", list_cid="one"))
    ex.trading.cancel_order_list(t, SYM, first["orderListId"], None)
    second = ex.trading.place_oco(t, sell_oco(qty="0.3", list_cid="two"))
    before = snapshot(ex)
    ex.close()
    ex = open_exchange(tmp_path, clock)
    assert snapshot(ex) == before
    ex.check_invariants()
    assert [x["listClientOrderId"] for x in ex.trading.open_order_lists(t)] == ["two"]
    assert [x["orderListId"] for x in ex.trading.all_order_lists(t, None, None, None, 500)] == \
        [first["orderListId"], second["orderListId"]]
    e = api_error(ex.trading.order_list, t, 999, None)
    assert (e.code, e.msg) == (-2013, "Order list does not exist.")
    # After the restart the OCO still works: the limit leg fills, the stop leg goes.
    ex.trading.place_order(m, req(SYM, "BUY", "LIMIT", "0.3", "99000"))
    assert ex.trading.order_list(t, None, "two")["listOrderStatus"] == "ALL_DONE"
    ex.check_invariants()
    ex.close()


def oto(working_price: str = "94000", pending: tuple = (), *, list_cid: str | None = "entry",
        tif: str = "GTC") -> OtoRequest:
    work = OrderRequest(SYM, "BUY", "LIMIT", tif, D("0.2"), None, D(working_price), "work", None)
    return OtoRequest(SYM, list_cid, work, pending or (leg("SELL", "LIMIT", "0.2", price="99000"),),
                      "SELL", "RESULT")


def test_oto_pending_waits_unlocked_until_the_working_order_fills(ex, maker, trader):
    out = ex.trading.place_oto(trader, oto())
    assert out["contingencyType"] == "OTO"
    work, pend = out["orderReports"]
    assert (work["status"], pend["status"], pend["workingTime"]) == ("NEW", "PENDING_NEW", -1)
    assert bal(ex, trader, "USDT") == (D("100000") - D("18800"), D("18800"))
    assert bal(ex, trader, "BTC") == (D("1"), D("0"))       # the pending SELL locks nothing yet
    assert ex.books[SYM].get(pend["orderId"]) is None
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.2", "94000"))
    p = ex.orders.get_order(trader, SYM, pend["orderId"], None)
    assert (p["status"], p["isWorking"]) == ("NEW", True)
    assert ex.books[SYM].get(pend["orderId"]) is not None
    assert bal(ex, trader, "BTC")[1] == D("0.2")
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.2", "99000"))
    done = ex.trading.order_list(trader, out["orderListId"], None)
    assert done["listOrderStatus"] == "ALL_DONE"


def test_oto_working_filled_on_arrival_places_the_pending_order_in_the_same_step(ex, maker, trader):
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.2", "95000"))
    out = ex.trading.place_oto(trader, oto("95000"))
    work, pend = out["orderReports"]
    assert (work["status"], pend["status"]) == ("FILLED", "PENDING_NEW")  # as placed
    assert ex.orders.get_order(trader, SYM, pend["orderId"], None)["status"] == "NEW"


def test_cancelling_the_working_order_cancels_the_pending_one(ex, maker, trader):
    out = ex.trading.place_oto(trader, oto())
    work, pend = (r["orderId"] for r in out["orderReports"])
    ex.trading.cancel_order(trader, SYM, pend, None, None)
    assert ex.orders.get_order(trader, SYM, work, None)["status"] == "CANCELED"
    assert bal(ex, trader, "USDT") == (D("100000"), D("0"))
    # an IOC working order that expires takes its pending order with it
    out = ex.trading.place_oto(trader, oto(tif="IOC", list_cid="ioc"))
    assert ex.orders.get_order(trader, SYM, out["orderReports"][1]["orderId"], None)["status"] == "EXPIRED"
    assert ex.trading.order_list(trader, None, "ioc")["listOrderStatus"] == "ALL_DONE"


def test_otoco_places_an_oco_pair_when_the_working_order_fills(ex, maker, trader):
    pair = (leg("SELL", "LIMIT_MAKER", "0.2", price="99000"),
            leg("SELL", "STOP_LOSS", "0.2", stop="90000"))
    out = ex.trading.place_oto(trader, oto(pending=pair))
    _, above, below = (r["orderId"] for r in out["orderReports"])
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.2", "94000"))
    assert bal(ex, trader, "BTC") == (D("0.9998"), D("0.2"))  # bought 0.2 - fee; one lock for the pair
    assert ex.books[SYM].get(above) is not None and ex.trading.triggers[SYM].get(below) is not None
    # the stop leg triggers: the limit leg goes in the same step
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "1", "89000"))
    ex.trading.place_order(maker, req(SYM, "SELL", "LIMIT", "0.01", "89500"))
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.01", "89500", tif="IOC"))
    assert ex.orders.get_order(trader, SYM, above, None)["status"] == "CANCELED"
    assert ex.orders.get_order(trader, SYM, below, None)["status"] == "FILLED"
    assert ex.trading.order_list(trader, out["orderListId"], None)["listOrderStatus"] == "ALL_DONE"


def test_oto_survives_restart_pending(tmp_path):
    clock = FakeClock()
    ex = open_exchange(tmp_path, clock)
    m = ex.accounts.create_account({"USDT": D("10000000"), "BTC": D("100")})
    t = ex.accounts.create_account({"USDT": D("100000"), "BTC": D("1")})
    out = ex.trading.place_oto(t, oto())
    before = snapshot(ex)
    ex.close()
    ex = open_exchange(tmp_path, clock)
    assert snapshot(ex) == before
    ex.check_invariants()
    ex.trading.place_order(m, req(SYM, "SELL", "LIMIT", "0.2", "94000"))
    assert ex.orders.get_order(t, SYM, out["orderReports"][1]["orderId"], None)["status"] == "NEW"
    ex.check_invariants()
    ex.close()


def test_my_trades_carry_the_order_list_id(ex, maker, trader):
    out = ex.trading.place_oco(trader, sell_oco())
    ex.trading.place_order(maker, req(SYM, "BUY", "LIMIT", "0.1", "99000"))
    ex.trading.place_order(trader, req(SYM, "BUY", "LIMIT", "0.01", "99000"))  # plain, self-trade
    mine = ex.orders.my_trades(trader, SYM, None, None, None, None, 500)
    assert {t["orderListId"] for t in mine if t["price"] == "99000.00000000" and not t["isBuyer"]} == \
        {out["orderListId"]}
    assert {t["orderListId"] for t in mine if t["isBuyer"]} == {-1}
