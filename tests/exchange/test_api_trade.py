"""Signed trading/account endpoints over a real loopback socket.

A module-scoped paper exchange of our own keeps these state-changing tests away from the
session-wide one other test modules read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

from .api_helpers import Api, assert_json_error, hmac_hex, now_ms

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(Path(tmp_path_factory.mktemp("api-trade")) / "paper",
                              market=False, seed=1)
    try:
        yield ex
    finally:
        ex.stop()


def client(ex: PaperExchange, name: str) -> Api:
    key = ex.keys[name]
    return Api(ex.base_url, key["api_key"], key["api_secret"])


@pytest.fixture(scope="module")
def full(exchange: PaperExchange) -> Iterator[Api]:
    api = client(exchange, "full")
    yield api
    api.close()


@pytest.fixture(scope="module")
def read(exchange: PaperExchange) -> Iterator[Api]:
    api = client(exchange, "read")
    yield api
    api.close()


@pytest.fixture(scope="module")
def trade(exchange: PaperExchange) -> Iterator[Api]:
    api = client(exchange, "trade")
    yield api
    api.close()


def ok(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    return resp.json()


def limit_buy(price: str = "50000.00", qty: str = "0.00100", **extra) -> dict:
    return {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": qty, "price": price, **extra}


def state(api: Api) -> tuple:
    account = ok(api.signed("GET", "/api/v3/account"))
    account.pop("updateTime", None)
    orders = ok(api.signed("GET", "/api/v3/openOrders"))
    history = ok(api.signed("GET", "/api/v3/allOrders", {"symbol": SYMBOL, "limit": 1000}))
    return account, sorted(o["orderId"] for o in orders), len(history)


# ---------------------------------------------------------------- happy paths


def test_place_query_cancel_roundtrip(full: Api) -> None:
    resp = full.signed("POST", "/api/v3/order", limit_buy(newClientOrderId="rt-1"))
    order = ok(resp)
    assert resp.headers["x-mbx-order-count-10s"].isdigit()
    assert int(resp.headers["x-mbx-order-count-1d"]) >= 1
    assert order["symbol"] == SYMBOL and order["clientOrderId"] == "rt-1"
    assert order["status"] == "NEW" and order["fills"] == []
    assert order["price"] == "50000.00000000" and order["origQty"] == "0.00100000"
    oid = order["orderId"]

    by_id = ok(full.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "orderId": oid}))
    by_client = ok(full.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "origClientOrderId": "rt-1"}))
    assert by_id["orderId"] == by_client["orderId"] == oid and by_id["status"] == "NEW"

    open_one = ok(full.signed("GET", "/api/v3/openOrders", {"symbol": SYMBOL}))
    assert oid in [o["orderId"] for o in open_one]

    cancel = ok(full.signed("DELETE", "/api/v3/order",
                            {"symbol": SYMBOL, "orderId": oid, "newClientOrderId": "cx-1"}))
    assert cancel["status"] == "CANCELED" and cancel["origClientOrderId"] == "rt-1"
    assert cancel["clientOrderId"] == "cx-1"
    assert ok(full.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "orderId": oid}))["status"] == "CANCELED"
    assert_json_error(full.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "orderId": oid}),
                      400, -2011, "Unknown order sent.")
    assert_json_error(full.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "orderId": 999_999_999}),
                      400, -2013, "Order does not exist.")


def test_response_types(full: Api) -> None:
    ack = ok(full.signed("POST", "/api/v3/order", limit_buy(newOrderRespType="ACK")))
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    result = ok(full.signed("POST", "/api/v3/order", limit_buy(newOrderRespType="RESULT")))
    assert "cummulativeQuoteQty" in result and "fills" not in result
    ok(full.signed("DELETE", "/api/v3/openOrders", {"symbol": SYMBOL}))


def test_fills_cancel_all_history_and_trades(full: Api, trade: Api) -> None:
    sell = ok(trade.signed("POST", "/api/v3/order", {
        "symbol": SYMBOL, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.01000", "price": "60000.00"}))
    assert sell["status"] == "NEW"
    taker = ok(full.signed("POST", "/api/v3/order", {
        "symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quoteOrderQty": "12"}))
    assert taker["status"] == "FILLED" and taker["fills"]
    assert taker["fills"][0]["price"] == "60000.00000000"

    trades = ok(full.signed("GET", "/api/v3/myTrades", {"symbol": SYMBOL}))
    assert any(t["orderId"] == taker["orderId"] for t in trades)
    before = int(full.signed("GET", "/api/v3/time").headers["x-mbx-used-weight-1m"])
    resp = full.signed("GET", "/api/v3/myTrades", {"symbol": SYMBOL, "orderId": taker["orderId"]})
    assert [t["orderId"] for t in ok(resp)] == [taker["orderId"]] * len(ok(resp))
    assert int(resp.headers["x-mbx-used-weight-1m"]) - before in (5, 5 - before)  # (minute rollover)

    all_orders = ok(full.signed("GET", "/api/v3/allOrders", {"symbol": SYMBOL}))
    assert taker["orderId"] in [o["orderId"] for o in all_orders]

    canceled = ok(trade.signed("DELETE", "/api/v3/openOrders", {"symbol": SYMBOL}))
    assert isinstance(canceled, list) and canceled and all(c["status"] == "CANCELED" for c in canceled)


def test_order_test_endpoint_places_nothing(full: Api) -> None:
    before = state(full)
    resp = full.signed("POST", "/api/v3/order/test", limit_buy())
    assert ok(resp) == {}
    assert "x-mbx-order-count-10s" not in resp.headers
    assert_json_error(full.signed("POST", "/api/v3/order/test", limit_buy(price="1.001")),
                      400, -1013)
    assert state(full) == before


def test_account_restrictions_and_rate_limit_order(full: Api, read: Api, trade: Api) -> None:
    account = ok(read.signed("GET", "/api/v3/account"))
    assert account["accountType"] == "SPOT"
    assert {b["asset"] for b in account["balances"]} >= {"USDT", "BTC"}
    nonzero = ok(read.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"}))
    assert all(b["free"] != "0.00000000" or b["locked"] != "0.00000000" for b in nonzero["balances"])
    assert_json_error(read.signed("GET", "/api/v3/account", {"omitZeroBalances": "maybe"}), 400, -1100)

    expected = {"full": (True, True), "trade": (True, False), "read": (False, False)}
    for api, name in ((full, "full"), (trade, "trade"), (read, "read")):
        r = ok(api.signed("GET", "/sapi/v1/account/apiRestrictions"))
        assert r["enableReading"] is True
        assert (r["enableSpotAndMarginTrading"], r["enableWithdrawals"]) == expected[name]

    limits = ok(read.signed("GET", "/api/v3/rateLimit/order"))
    assert [(x["interval"], x["intervalNum"]) for x in limits] == [("SECOND", 10), ("DAY", 1)]
    assert all(isinstance(x["count"], int) for x in limits)


def test_open_orders_weight_with_and_without_symbol(read: Api) -> None:
    before = int(read.public("/api/v3/ping").headers["x-mbx-used-weight-1m"])
    with_symbol = int(read.signed("GET", "/api/v3/openOrders", {"symbol": SYMBOL})
                      .headers["x-mbx-used-weight-1m"])
    without = int(read.signed("GET", "/api/v3/openOrders").headers["x-mbx-used-weight-1m"])
    assert (with_symbol - before, without - with_symbol) in ((6, 80),) or without < before


# ---------------------------------------------------------------- parameter placement


@pytest.mark.parametrize("where, split", [("query", 0), ("body", 0), ("split", 3), ("split", 6)])
def test_parameter_placement(full: Api, where: str, split: int) -> None:
    order = ok(full.signed("POST", "/api/v3/order", limit_buy(), where=where, split=split))
    ok(full.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "orderId": order["orderId"]},
                   where=where, split=1 if where == "split" else 0))


def test_query_wins_over_body(full: Api) -> None:
    query = f"symbol={SYMBOL}&side=BUY&type=LIMIT&timeInForce=GTC".encode()
    body = (f"side=SELL&quantity=0.00100&price=50000.00&timestamp={now_ms()}").encode()
    sig = hmac_hex(full.secret, query + body)
    resp = full.raw("POST", "/api/v3/order", query, body + b"&signature=" + sig.encode(),
                    {"X-MBX-APIKEY": full.api_key})
    order = ok(resp)
    assert order["side"] == "BUY"
    ok(full.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "orderId": order["orderId"]}))


def test_query_only_post_with_json_content_type(full: Api) -> None:
    resp = full.signed("POST", "/api/v3/order", limit_buy(),
                       headers={"Content-Type": "application/json"})
    order = ok(resp)
    ok(full.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "orderId": order["orderId"]}))


def test_upper_case_signature_verifies(full: Api) -> None:
    assert ok(full.signed("GET", "/api/v3/account", upper=True))["accountType"] == "SPOT"


def test_duplicate_parameter_in_signed_request(full: Api) -> None:
    payload = f"symbol={SYMBOL}&symbol={SYMBOL}&timestamp={now_ms()}".encode()
    sig = hmac_hex(full.secret, payload)
    resp = full.raw("GET", "/api/v3/openOrders", payload + b"&signature=" + sig.encode(),
                    headers={"X-MBX-APIKEY": full.api_key})
    assert_json_error(resp, 400, -1101)


# ---------------------------------------------------------------- auth errors


def test_timestamps_and_recv_window(full: Api) -> None:
    assert_json_error(full.signed("GET", "/api/v3/account", timestamp=now_ms() - 10_000), 400, -1021,
                      "Timestamp for this request is outside of the recvWindow.")
    assert_json_error(full.signed("GET", "/api/v3/account", timestamp=now_ms() + 5_000), 400, -1021,
                      "Timestamp for this request was 1000ms ahead of the server's time.")
    ok(full.signed("GET", "/api/v3/account", timestamp=now_ms() - 10_000, recv_window=60_000))
    assert_json_error(full.signed("GET", "/api/v3/account", recv_window=60_001), 400, -1100)
    assert_json_error(full.signed("GET", "/api/v3/account", {"timestamp": "soon"}), 400, -1101)


def test_signature_errors(full: Api) -> None:
    assert_json_error(full.signed("GET", "/api/v3/account", signature="0" * 64), 400, -1022,
                      "Signature for this request is not valid.")
    assert_json_error(full.signed("GET", "/api/v3/account", secret="not-the-secret"), 400, -1022)
    resp = full.raw("GET", "/api/v3/account", f"timestamp={now_ms()}".encode(),
                    headers={"X-MBX-APIKEY": full.api_key})
    assert_json_error(resp, 400, -1102,
                      "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    resp = full.raw("GET", "/api/v3/account", b"signature=" + b"a" * 64,
                    headers={"X-MBX-APIKEY": full.api_key})
    assert_json_error(resp, 400, -1102)


@pytest.mark.parametrize("key, code", [
    ("", -2014), ("not a key", -2014), ("x" * 300, -2014), ("Z" * 64, -2015),
])
def test_bad_api_keys(full: Api, key: str, code: int) -> None:
    resp = full.signed("GET", "/api/v3/account", api_key=key)
    assert_json_error(resp, 401, code)


def test_missing_api_key_header(full: Api) -> None:
    payload = f"timestamp={now_ms()}".encode()
    resp = full.raw("GET", "/api/v3/account", payload + b"&signature=" + hmac_hex(full.secret, payload).encode())
    assert_json_error(resp, 401, -2014, "API-key format invalid.")


def test_permissions(read: Api, trade: Api) -> None:
    before = state(read)
    assert_json_error(read.signed("POST", "/api/v3/order", limit_buy()), 401, -2015,
                      "Invalid API-key, IP, or permissions for action.")
    assert_json_error(read.signed("DELETE", "/api/v3/openOrders", {"symbol": SYMBOL}), 401, -2015)
    assert_json_error(read.signed("POST", "/api/v3/order/test", limit_buy()), 401, -2015)
    assert_json_error(trade.signed("POST", "/sapi/v1/capital/withdraw/apply",
                                   {"coin": "USDT", "address": "TXYZ", "amount": "10"}), 401, -2015)
    assert state(read) == before


# ---------------------------------------------------------------- order validation

INVALID_ORDERS = [
    # mandatory
    ({"side": "BUY", "type": "LIMIT"}, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
    ({"symbol": SYMBOL, "type": "LIMIT"}, -1102, None),
    ({"symbol": SYMBOL, "side": "BUY"}, -1102, "Mandatory parameter 'type' was not sent, was empty/null, or malformed."),
    ({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1"}, -1102,
     "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
    ({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1"}, -1102,
     "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT_MAKER", "price": "1"}, -1102, None),
    ({"symbol": SYMBOL, "side": "BUY", "type": "MARKET"}, -1102,
     "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
    ({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "",
      "price": "1"}, -1102, None),
    # mandatory is checked before formats and enums
    ({"symbol": SYMBOL, "side": "SIDEWAYS", "type": "MARKET"}, -1102, None),
    # formats
    (limit_buy(price="-1"), -1100,
     "Illegal characters found in parameter 'price'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."),
    (limit_buy(qty="1e-3"), -1100, None),
    (limit_buy(price="NaN"), -1100, None),
    (limit_buy(qty="0.0010000000000000000001"), -1100, None),
    (limit_buy(newClientOrderId=""), -1118, "New client order ID was empty."),
    (limit_buy(newClientOrderId="bad id!"), -1100, None),
    (limit_buy(newClientOrderId="x" * 37), -1100, None),
    (limit_buy(symbol="btc/usdt"), -1100, None),
    # formats are checked before enums
    ({**limit_buy(price="abc"), "side": "UP"}, -1100, None),
    # enums
    ({**limit_buy(), "side": "buy"}, -1117, "Invalid side."),
    ({**limit_buy(), "type": "TRAILING_STOP_MARKET"}, -1116, "Invalid orderType."),
    ({**limit_buy(), "timeInForce": "GTD"}, -1115, "Invalid timeInForce."),
    (limit_buy(newOrderRespType="ALL"), -1100, None),
    # combinations
    ({"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.001", "timeInForce": "GTC"},
     -1114, "TimeInForce parameter sent when not required."),
    ({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT_MAKER", "quantity": "0.001", "price": "100",
      "timeInForce": "GTC"}, -1114, None),
    ({"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.001", "price": "100"},
     -1106, "Parameter 'price' sent when not required."),
    ({"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "quantity": "0.001", "quoteOrderQty": "10"},
     -1106, "Parameter 'quoteOrderQty' sent when not required."),
    (limit_buy(quoteOrderQty="10"), -1106, None),
    # Exchange-owned: symbol, filters, balance
    (limit_buy(symbol="NOPEUSDT"), -1121, "Invalid symbol."),
    (limit_buy(price="50000.001"), -1013, None),
    (limit_buy(qty="0.000001"), -1013, None),
    (limit_buy(price="90000.00", qty="1.00000"), -2010,
     "Account has insufficient balance for requested action."),
]


@pytest.mark.parametrize("params, code, msg", INVALID_ORDERS,
                         ids=[f"{i}:{c}" for i, (_, c, _) in enumerate(INVALID_ORDERS)])
def test_invalid_orders_are_rejected(full: Api, params: dict, code: int, msg: str | None) -> None:
    body = assert_json_error(full.signed("POST", "/api/v3/order", params), 400, code, msg)
    assert body["msg"]


def test_rejected_requests_change_no_state(full: Api, trade: Api) -> None:
    resting = ok(trade.signed("POST", "/api/v3/order", {
        "symbol": SYMBOL, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.00100", "price": "70000.00", "newClientOrderId": "keep-me"}))
    before = state(full)
    for params, code, _ in INVALID_ORDERS:
        assert full.signed("POST", "/api/v3/order", params).json()["code"] == code
    # would take, duplicate client id, bad signature, stale timestamp, missing permission
    maker = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT_MAKER", "quantity": "0.00100",
             "price": "70000.00"}
    assert_json_error(full.signed("POST", "/api/v3/order", maker), 400, -2010,
                      "Order would immediately match and take.")
    assert_json_error(trade.signed("POST", "/api/v3/order", {**limit_buy(), "newClientOrderId": "keep-me"}),
                      400, -2010, "Duplicate order sent.")
    assert full.signed("POST", "/api/v3/order", limit_buy(), signature="f" * 64).status_code == 400
    assert full.signed("POST", "/api/v3/order", limit_buy(), timestamp=now_ms() - 60_000).status_code == 400
    assert_json_error(full.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "orderId": 10**12}), 400, -2011)
    assert_json_error(full.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL}), 400, -1102,
                      "Param 'orderId' or 'origClientOrderId' must be sent, but both were empty/null!")
    assert state(full) == before
    ok(trade.signed("DELETE", "/api/v3/order", {"symbol": SYMBOL, "orderId": resting["orderId"]}))


@pytest.mark.parametrize("path, params, code", [
    ("/api/v3/allOrders", {}, -1102),
    ("/api/v3/allOrders", {"symbol": SYMBOL, "limit": 1001}, -1100),
    ("/api/v3/myTrades", {"symbol": SYMBOL, "fromId": "x"}, -1100),
    ("/api/v3/openOrders", {"symbol": "NOPEUSDT"}, -1121),
    ("/api/v3/order", {"symbol": SYMBOL, "orderId": "12a"}, -1100),
    ("/api/v3/order", {"symbol": SYMBOL, "origClientOrderId": "bad id"}, -1100),
])
def test_query_endpoint_errors(read: Api, path: str, params: dict, code: int) -> None:
    assert_json_error(read.signed("GET", path, params), 400, code)
