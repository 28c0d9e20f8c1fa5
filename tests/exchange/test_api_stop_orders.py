"""Stop orders, OCO lists, amend keepPriority and cancelReplace over a real loopback socket,
with the standard's parameter names, error codes and response shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

from .api_helpers import Api, assert_json_error

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(Path(tmp_path_factory.mktemp("api-stops")) / "paper", market=False, seed=1)
    try:
        yield ex
    finally:
        ex.stop()


@pytest.fixture(scope="module")
def api(exchange: PaperExchange) -> Iterator[Api]:
    key = exchange.keys["full"]
    a = Api(exchange.base_url, key["api_key"], key["api_secret"])
    # One self-trade sets the last price at 95,000.
    ok(a.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "SELL", "type": "LIMIT",
                                         "timeInForce": "GTC", "quantity": "0.001", "price": "95000"}))
    ok(a.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT",
                                         "timeInForce": "IOC", "quantity": "0.001", "price": "95000"}))
    yield a
    a.close()


def ok(resp):
    assert resp.status_code == 200, resp.text
    return resp.json()


def cancel_all(api: Api) -> None:
    ok(api.signed("DELETE", "/api/v3/openOrders", {"symbol": SYMBOL}))


def test_exchange_info_advertises_the_types_and_filter(api):
    [s] = ok(api.public("/api/v3/exchangeInfo", {"symbol": SYMBOL}))["symbols"]
    assert {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"} <= set(s["orderTypes"])
    assert s["ocoAllowed"] and s["allowTrailingStop"] and s["cancelReplaceAllowed"] and s["amendAllowed"]
    assert any(f["filterType"] == "TRAILING_DELTA" for f in s["filters"])


def test_stop_limit_rests_untriggered_and_fires_on_a_trade(api):
    r = ok(api.signed("POST", "/api/v3/order", {
        "symbol": SYMBOL, "side": "SELL", "type": "STOP_LOSS_LIMIT", "timeInForce": "GTC",
        "quantity": "0.01", "price": "93000", "stopPrice": "94000", "newClientOrderId": "sl-1"}))
    assert set(r) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}  # ACK
    o = ok(api.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "origClientOrderId": "sl-1"}))
    assert (o["status"], o["isWorking"], o["workingTime"], o["stopPrice"]) == \
        ("NEW", False, -1, "94000.00000000")
    depth = ok(api.public("/api/v3/depth", {"symbol": SYMBOL, "limit": 5}))
    assert depth["asks"] == []  # not in the book
    account = ok(api.signed("GET", "/api/v3/account", {}))
    btc = next(b for b in account["balances"] if b["asset"] == "BTC")
    assert btc["locked"] == "0.01000000"
    # Trade at 93,900 (<= 94,000): the stop fires and sells into the 93,900 bid.
    ok(api.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT",
                                           "timeInForce": "GTC", "quantity": "0.02", "price": "93900"}))
    ok(api.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "SELL", "type": "MARKET",
                                           "quantity": "0.001"}))
    o = ok(api.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "origClientOrderId": "sl-1"}))
    assert (o["status"], o["isWorking"], o["executedQty"]) == ("FILLED", True, "0.01000000")
    assert o["workingTime"] > 0
    cancel_all(api)


@pytest.mark.parametrize("params,code,msg", [
    ({"type": "STOP_LOSS", "quantity": "0.01"}, -1102,
     "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!"),
    ({"type": "STOP_LOSS_LIMIT", "quantity": "0.01", "stopPrice": "90000", "timeInForce": "GTC"},
     -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({"type": "LIMIT", "quantity": "0.01", "price": "90000", "timeInForce": "GTC", "stopPrice": "1"},
     -1106, "Parameter 'stopPrice' sent when not required."),
    ({"type": "STOP_LOSS", "quantity": "0.01", "stopPrice": "90000", "timeInForce": "GTC"},
     -1114, "TimeInForce parameter sent when not required."),
    ({"type": "STOP_LOSS", "quantity": "0.01", "trailingDelta": "1.5"}, -1100, None),
    ({"type": "STOP_LOSS", "quantity": "0.01", "trailingDelta": "5000"}, -1013,
     "Filter failure: TRAILING_DELTA"),
    ({"type": "STOP_LOSS", "quantity": "0.01", "stopPrice": "96000"}, -2010,
     "Order would trigger immediately."),
])
def test_stop_parameter_errors(api, params, code, msg):
    resp = api.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "SELL", **params})
    assert_json_error(resp, 400, code, msg)


def test_trailing_stop_reports_its_delta(api):
    r = ok(api.signed("POST", "/api/v3/order", {
        "symbol": SYMBOL, "side": "SELL", "type": "STOP_LOSS", "quantity": "0.01",
        "trailingDelta": "200", "newOrderRespType": "RESULT"}))
    assert (r["trailingDelta"], r["workingTime"]) == (200, -1) and r["trailingTime"] > 0
    [o] = ok(api.signed("GET", "/api/v3/openOrders", {"symbol": SYMBOL}))
    assert (o["trailingDelta"], o["isWorking"]) == (200, False)
    cancel_all(api)


def oco_params(**extra: str) -> dict:
    return {"symbol": SYMBOL, "side": "SELL", "quantity": "0.02", "listClientOrderId": "bracket",
            "aboveType": "LIMIT_MAKER", "abovePrice": "99000", "aboveClientOrderId": "tp",
            "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "90000", "belowPrice": "89000",
            "belowTimeInForce": "GTC", "belowClientOrderId": "sl", **extra}


def test_oco_lifecycle_and_queries(api):
    out = ok(api.signed("POST", "/api/v3/orderList/oco", oco_params()))
    assert (out["contingencyType"], out["listStatusType"], out["listOrderStatus"],
            out["listClientOrderId"]) == ("OCO", "EXEC_STARTED", "EXECUTING", "bracket")
    assert [o["clientOrderId"] for o in out["orders"]] == ["sl", "tp"]
    assert [r["type"] for r in out["orderReports"]] == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
    list_id = out["orderListId"]
    assert ok(api.signed("GET", "/api/v3/orderList", {"orderListId": list_id}))["orders"] == out["orders"]
    by_cid = ok(api.signed("GET", "/api/v3/orderList", {"origClientOrderId": "bracket"}))
    assert by_cid["orderListId"] == list_id
    assert [x["orderListId"] for x in ok(api.signed("GET", "/api/v3/openOrderList", {}))] == [list_id]
    legs = ok(api.signed("GET", "/api/v3/openOrders", {"symbol": SYMBOL}))
    assert {o["orderListId"] for o in legs} == {list_id}
    assert_json_error(api.signed("POST", "/api/v3/orderList/oco", oco_params(
        aboveClientOrderId="tp2", belowClientOrderId="sl2")), 400, -2010, "Duplicate order sent.")
    # Cancelling one leg cancels the list.
    gone = ok(api.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "origClientOrderId": "tp"}))
    assert (gone["status"], gone["orderListId"]) == ("CANCELED", list_id)
    done = ok(api.signed("GET", "/api/v3/orderList", {"orderListId": list_id}))
    assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    assert ok(api.signed("GET", "/api/v3/openOrderList", {})) == []
    # The same listClientOrderId is free again; DELETE /orderList cancels both legs.
    again = ok(api.signed("POST", "/api/v3/orderList/oco", oco_params()))
    cancelled = ok(api.signed("DELETE", "/api/v3/orderList", {"symbol": SYMBOL,
                                                             "listClientOrderId": "bracket"}))
    assert cancelled["orderListId"] == again["orderListId"]
    assert [r["status"] for r in cancelled["orderReports"]] == ["CANCELED", "CANCELED"]
    history = ok(api.signed("GET", "/api/v3/allOrderList", {}))
    assert [x["orderListId"] for x in history][-2:] == [list_id, again["orderListId"]]
    assert_json_error(api.signed("GET", "/api/v3/orderList", {"orderListId": "99999"}),
                      400, -2013, "Order list does not exist.")
    assert_json_error(api.signed("DELETE", "/api/v3/orderList", {"symbol": SYMBOL, "orderListId": list_id}),
                      400, -2011, "Unknown order sent.")


@pytest.mark.parametrize("extra,code", [
    ({"belowType": "LIMIT_MAKER", "belowPrice": "89000", "belowStopPrice": "", "belowTimeInForce": ""},
     -1168),
    ({"aboveType": "STOP_LOSS", "abovePrice": "", "aboveStopPrice": "99000"}, -1197),
    ({"abovePrice": "91000"}, -2010),  # below the last price (93,900 by now)
    ({"aboveType": "MARKET"}, -1100),
])
def test_oco_rejections(api, extra, code):
    assert_json_error(api.signed("POST", "/api/v3/orderList/oco", oco_params(**extra)), 400, code)
    assert ok(api.signed("GET", "/api/v3/openOrderList", {})) == []


def test_amend_keep_priority(api):
    r = ok(api.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT",
                                               "timeInForce": "GTC", "quantity": "0.03", "price": "80000",
                                               "newClientOrderId": "am-1"}))
    out = ok(api.signed("PUT", "/api/v3/order/amend/keepPriority", {
        "symbol": SYMBOL, "orderId": r["orderId"], "newQty": "0.01", "newClientOrderId": "am-2"}))
    assert set(out) == {"transactTime", "executionId", "amendedOrder"}
    a = out["amendedOrder"]
    assert (a["orderId"], a["origClientOrderId"], a["clientOrderId"], a["qty"]) == \
        (r["orderId"], "am-1", "am-2", "0.01000000")
    assert_json_error(api.signed("PUT", "/api/v3/order/amend/keepPriority", {
        "symbol": SYMBOL, "orderId": r["orderId"], "newQty": "0.02"}), 400, -2038,
        "Order amend (quantity increase) is not supported.")
    assert_json_error(api.signed("PUT", "/api/v3/order/amend/keepPriority", {
        "symbol": SYMBOL, "orderId": r["orderId"]}), 400, -1102)
    cancel_all(api)


def test_cancel_replace(api):
    r = ok(api.signed("POST", "/api/v3/order", {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT",
                                               "timeInForce": "GTC", "quantity": "0.01", "price": "80000"}))
    params = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.01", "price": "81000", "cancelReplaceMode": "STOP_ON_FAILURE",
              "cancelOrderId": r["orderId"]}
    out = ok(api.signed("POST", "/api/v3/order/cancelReplace", params))
    assert (out["cancelResult"], out["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert out["cancelResponse"]["orderId"] == r["orderId"] and out["newOrderResponse"]["price"] == "81000.00000000"
    resp = api.signed("POST", "/api/v3/order/cancelReplace", params)
    assert resp.status_code == 400
    assert resp.json() == {"code": -2022, "msg": "Order cancel-replace failed.", "data": {
        "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
        "cancelResponse": {"code": -2011, "msg": "Unknown order sent."}, "newOrderResponse": None}}
    resp = api.signed("POST", "/api/v3/order/cancelReplace", {**params, "cancelReplaceMode": "ALLOW_FAILURE"})
    assert resp.status_code == 409
    body = resp.json()
    assert (body["code"], body["data"]["cancelResult"], body["data"]["newOrderResult"]) == \
        (-2021, "FAILURE", "SUCCESS")
    assert_json_error(api.signed("POST", "/api/v3/order/cancelReplace", {**params, "cancelReplaceMode": "X"}),
                      400, -1100)
    cancel_all(api)


def test_oto_and_otoco_over_http(api):
    oto = ok(api.signed("POST", "/api/v3/orderList/oto", {
        "symbol": SYMBOL, "listClientOrderId": "entry",
        "workingType": "LIMIT", "workingSide": "BUY", "workingPrice": "80000",
        "workingQuantity": "0.01", "workingTimeInForce": "GTC",
        "pendingType": "LIMIT", "pendingSide": "SELL", "pendingPrice": "99000",
        "pendingQuantity": "0.01", "pendingTimeInForce": "GTC"}))
    assert oto["contingencyType"] == "OTO"
    assert [r["status"] for r in oto["orderReports"]] == ["NEW", "PENDING_NEW"]
    pending = ok(api.signed("GET", "/api/v3/order", {"symbol": SYMBOL,
                                                     "orderId": oto["orderReports"][1]["orderId"]}))
    assert (pending["status"], pending["isWorking"], pending["orderListId"]) == \
        ("PENDING_NEW", False, oto["orderListId"])
    otoco = ok(api.signed("POST", "/api/v3/orderList/otoco", {
        "symbol": SYMBOL, "workingType": "LIMIT_MAKER", "workingSide": "BUY",
        "workingPrice": "80000", "workingQuantity": "0.01",
        "pendingSide": "SELL", "pendingQuantity": "0.01",
        "pendingAboveType": "LIMIT_MAKER", "pendingAbovePrice": "99000",
        "pendingBelowType": "STOP_LOSS", "pendingBelowStopPrice": "79000"}))
    assert [r["type"] for r in otoco["orderReports"]] == ["LIMIT_MAKER", "LIMIT_MAKER", "STOP_LOSS"]
    assert {x["orderListId"] for x in ok(api.signed("GET", "/api/v3/openOrderList", {}))} == \
        {oto["orderListId"], otoco["orderListId"]}
    assert_json_error(api.signed("POST", "/api/v3/orderList/oto", {
        "symbol": SYMBOL, "workingType": "MARKET", "workingSide": "BUY", "workingPrice": "80000",
        "workingQuantity": "0.01", "pendingType": "LIMIT", "pendingSide": "SELL",
        "pendingQuantity": "0.01"}), 400, -1100)
    assert_json_error(api.signed("POST", "/api/v3/orderList/oto", {
        "symbol": SYMBOL, "workingType": "LIMIT", "workingSide": "BUY", "workingPrice": "80000",
        "workingQuantity": "0.01", "workingTimeInForce": "GTC", "pendingType": "LIMIT",
        "pendingSide": "SELL", "pendingQuantity": "0.01"}), 400, -1102)
    cancel_all(api)
    assert ok(api.signed("GET", "/api/v3/openOrderList", {})) == []
