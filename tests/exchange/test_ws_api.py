"""The WebSocket API (``/ws-api/v3``) over a real socket: REST's endpoints, weights, order
limits and error codes; sessions; account events via ``userDataStream.subscribe.signature``."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from btx_tui.exchange.http.ratelimit import Limits
from btx_tui.exchange.ws.connection import WsSettings

from .api_helpers import TRON_ADDRESS, hmac_hex
from .ws_support import Client, signed_params, ws_exchange

FAST = WsSettings(tick_ms=50)


def _weight(response: dict) -> int:
    return next(r["count"] for r in response["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT")


async def test_public_methods_and_rate_limits(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        pong = await c.request({"id": 1, "method": "ping"})
        assert pong["status"] == 200 and pong["result"] == {}
        assert _weight(pong) == 2 + 1  # the connection costs 2, ping 1
        t = await c.request({"id": "t", "method": "time"})
        assert abs(t["result"]["serverTime"] - time.time() * 1000) < 60_000
        info = await c.request({"id": 2, "method": "exchangeInfo", "params": {"symbols": ["BTCUSDT"]}})
        assert [s["symbol"] for s in info["result"]["symbols"]] == ["BTCUSDT"]
        assert _weight(info) == _weight(t) + 20
        depth = await c.request({"id": 3, "method": "depth", "params": {"symbol": "BTCUSDT", "limit": 5}})
        assert set(depth["result"]) == {"lastUpdateId", "bids", "asks"}
        price = await c.request({"id": 4, "method": "ticker.price", "params": {"symbol": "ETHUSDT"}})
        assert price["result"]["symbol"] == "ETHUSDT"
        # Same errors as REST, and the connection stays open after each.
        bad = await c.request({"id": 5, "method": "depth", "params": {"symbol": "NOPEUSDT"}})
        assert (bad["status"], bad["error"]["code"]) == (400, -1121)
        bad = await c.request({"id": 6, "method": "depth", "params": {}})
        assert (bad["status"], bad["error"]["code"]) == (400, -1102)
        bad = await c.request({"id": 7, "method": "no.such.method"})
        assert bad["status"] == 400 and "rateLimits" in bad
        await c.send("{broken")
        broken = await c.recv()
        assert broken["id"] is None and broken["status"] == 400
        bad = await c.request({"id": 8, "method": "ping", "params": [1, 2]})
        assert (bad["id"], bad["status"]) == (8, 400)
        assert (await c.request({"id": 9, "method": "ping"}))["status"] == 200
        quiet = await c.request({"id": 10, "method": "ping", "params": {"returnRateLimits": False}})
        assert quiet == {"id": 10, "status": 200, "result": {}}
        await c.close()


async def test_orders_over_the_websocket_api(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key("full")
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        order = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.01", "price": "97000", "newClientOrderId": "ws-1"}
        placed = await c.request({"id": 1, "method": "order.place", "params": signed_params(key, secret, order)})
        assert placed["status"] == 200, placed
        assert placed["result"]["status"] == "NEW" and placed["result"]["clientOrderId"] == "ws-1"
        orders = {r["interval"]: r["count"] for r in placed["rateLimits"] if r["rateLimitType"] == "ORDERS"}
        assert orders == {"SECOND": 1, "DAY": 1}
        order_id = placed["result"]["orderId"]

        status = await c.request({"id": 2, "method": "order.status", "params": signed_params(
            key, secret, {"symbol": "BTCUSDT", "orderId": order_id})})
        assert status["result"]["status"] == "NEW"
        opened = await c.request({"id": 3, "method": "openOrders.status", "params": signed_params(
            key, secret, {"symbol": "BTCUSDT"})})
        assert [o["orderId"] for o in opened["result"]] == [order_id]
        test = await c.request({"id": 4, "method": "order.test", "params": signed_params(
            key, secret, {**order, "newClientOrderId": "ws-2"})})
        assert test["status"] == 200 and test["result"] == {}

        # REST's validation and codes: a missing mandatory parameter, a bad signature, a wrong key.
        missing = dict(order)
        del missing["price"]
        bad = await c.request({"id": 5, "method": "order.place", "params": signed_params(key, secret, missing)})
        assert (bad["status"], bad["error"]["code"]) == (400, -1102)
        forged = signed_params(key, secret, order)
        forged["quantity"] = "1"
        bad = await c.request({"id": 6, "method": "order.place", "params": forged})
        assert (bad["status"], bad["error"]["code"]) == (400, -1022)
        read_key, read_secret = wx.key("read")
        bad = await c.request({"id": 7, "method": "order.place", "params": signed_params(read_key, read_secret, order)})
        assert (bad["status"], bad["error"]["code"]) == (401, -2015)
        bad = await c.request({"id": 8, "method": "order.place", "params": {**order, "timestamp": 1}})
        assert (bad["status"], bad["error"]["code"]) == (401, -2014)

        canceled = await c.request({"id": 9, "method": "order.cancel", "params": signed_params(
            key, secret, {"symbol": "BTCUSDT", "orderId": order_id})})
        assert canceled["result"]["status"] == "CANCELED"
        again = await c.request({"id": 10, "method": "order.cancel", "params": signed_params(
            key, secret, {"symbol": "BTCUSDT", "orderId": order_id})})
        assert again["error"]["code"] == -2011
        account = await c.request({"id": 11, "method": "account.status", "params": signed_params(key, secret, {})})
        assert any(b["asset"] == "USDT" for b in account["result"]["balances"])
        await c.close()


async def test_order_limits_are_restrictive_as_over_rest(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST, limits=Limits(orders_per_10s=2)) as wx:
        key, secret = wx.key("full")
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.001", "price": "50000"}
        codes = []
        for i in range(3):
            r = await c.request({"id": i, "method": "order.place", "params": signed_params(key, secret, order)})
            codes.append(r["status"] if r["status"] == 200 else (r["status"], r["error"]["code"]))
        assert codes == [200, 200, (429, -1015)]
        swept = await c.request({"id": 9, "method": "openOrders.cancelAll", "params": signed_params(
            key, secret, {"symbol": "BTCUSDT"})})
        assert len(swept["result"]) == 2 and {o["status"] for o in swept["result"]} == {"CANCELED"}
        await c.close()


async def test_session_logon_lets_signed_methods_run_unsigned(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key("full")
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        before = await c.request({"id": 1, "method": "account.status", "params": {"timestamp": int(time.time() * 1000)}})
        assert before["status"] == 401
        bad = await c.request({"id": 2, "method": "session.logon", "params": {
            **signed_params(key, secret, {}), "signature": "00" * 32}})
        assert bad["error"]["code"] == -1022
        logon = await c.request({"id": 3, "method": "session.logon", "params": signed_params(key, secret, {})})
        assert logon["status"] == 200 and logon["result"]["apiKey"] == key
        status = await c.request({"id": 4, "method": "session.status"})
        assert status["result"]["apiKey"] == key
        account = await c.request({"id": 5, "method": "account.status", "params": {"timestamp": int(time.time() * 1000)}})
        assert account["status"] == 200
        stale = await c.request({"id": 6, "method": "account.status", "params": {"timestamp": 1}})
        assert stale["error"]["code"] == -1021
        await c.request({"id": 7, "method": "session.logout"})
        after = await c.request({"id": 8, "method": "account.status", "params": {"timestamp": int(time.time() * 1000)}})
        assert after["status"] == 401
        await c.close()


async def test_user_data_events_via_subscription(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key("full")
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        sub = await c.request({"id": 1, "method": "userDataStream.subscribe.signature",
                               "params": signed_params(key, secret, {})})
        sid = sub["result"]["subscriptionId"]
        events: list[dict] = []

        async def next_event(kind: str) -> dict:
            while True:
                m = await c.recv()
                if "event" in m:
                    assert m["subscriptionId"] == sid
                    events.append(m["event"])
                    if m["event"]["e"] == kind:
                        return m["event"]

        api = wx.api()
        maker = (await asyncio.to_thread(api.signed, "POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.01", "price": "95000"})).json()
        new = await next_event("executionReport")
        assert (new["x"], new["X"], new["i"], new["q"]) == ("NEW", "NEW", maker["orderId"], "0.01000000")
        position = await next_event("outboundAccountPosition")
        btc = {b["a"]: b for b in position["B"]}["BTC"]
        assert btc["l"] == "0.01000000"

        taker = (await asyncio.to_thread(api.signed, "POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.004"})).json()
        reports = []
        while len(reports) < 4:  # the maker's TRADE, the taker's NEW and TRADE (order varies by id)
            report = await next_event("executionReport")
            reports.append(report)
            if {(r["i"], r["x"]) for r in reports} >= {(maker["orderId"], "TRADE"), (taker["orderId"], "NEW"),
                                                       (taker["orderId"], "TRADE")}:
                break
        by = {(r["i"], r["x"]): r for r in reports}
        fill = by[(maker["orderId"], "TRADE")]
        assert (fill["X"], fill["l"], fill["L"], fill["z"], fill["m"]) == (
            "PARTIALLY_FILLED", "0.00400000", "95000.00000000", "0.00400000", True)
        assert fill["N"] == "USDT" and fill["t"] == taker["fills"][0]["tradeId"]
        taken = by[(taker["orderId"], "TRADE")]
        assert (taken["X"], taken["z"], taken["m"], taken["N"]) == ("FILLED", "0.00400000", False, "BTC")
        await next_event("outboundAccountPosition")

        await asyncio.to_thread(api.signed, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": maker["orderId"]})
        canceled = await next_event("executionReport")
        assert (canceled["x"], canceled["X"], canceled["z"]) == ("CANCELED", "CANCELED", "0.00400000")
        api.close()

        await c.send({"id": 2, "method": "userDataStream.unsubscribe", "params": {"subscriptionId": sid}})
        terminated = await next_event("eventStreamTerminated")
        assert terminated["E"] > 0
        assert (await c.recv())["status"] == 200
        await asyncio.to_thread(_place, wx)  # no listener any more: nothing arrives
        await c.send({"id": 3, "method": "ping"})
        assert (await c.recv())["id"] == 3  # the next frame is the answer, no account event
        await c.close()


def _place(wx) -> None:  # type: ignore[no-untyped-def]
    api = wx.api()
    try:
        assert api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                    "timeInForce": "GTC", "quantity": "0.001",
                                                    "price": "50000"}).status_code == 200
    finally:
        api.close()


async def test_session_subscription_and_a_withdrawal_s_balance_update(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key("full")
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        refused = await c.request({"id": 1, "method": "userDataStream.subscribe"})
        assert refused["status"] == 401  # needs a logon first
        assert (await c.request({"id": 2, "method": "session.logon", "params": signed_params(key, secret, {})}))[
            "status"] == 200
        sid = (await c.request({"id": 3, "method": "userDataStream.subscribe"}))["result"]["subscriptionId"]
        api = wx.api()
        applied = await asyncio.to_thread(api.signed, "POST", "/sapi/v1/capital/withdraw/apply", {
            "coin": "USDT", "address": TRON_ADDRESS, "amount": "25"})
        assert applied.status_code == 200, applied.text
        api.close()
        locked = await c.recv_until(lambda m: m.get("event", {}).get("e") == "outboundAccountPosition")
        assert locked["subscriptionId"] == sid
        assert {b["a"]: b for b in locked["event"]["B"]}["USDT"]["l"] == "26.00000000"  # amount + fee
        # The processor completes it within seconds: the funds leave -> balanceUpdate with the delta.
        update = await c.recv_until(lambda m: m.get("event", {}).get("e") == "balanceUpdate", timeout=30)
        assert (update["event"]["a"], update["event"]["d"]) == ("USDT", "-26.00000000")
        await c.close()


async def test_session_logon_with_an_ed25519_key(tmp_path: Path) -> None:
    """The standard's logon: an Ed25519 key signs once, then orders go unsigned on the session."""
    from btx_tui.api.signing import Ed25519Signer
    from btx_tui.exchange.key_admin import ensure_demo_ed25519

    with ws_exchange(tmp_path, FAST) as wx:
        entry = ensure_demo_ed25519(tmp_path / "ws-exchange", wx.exchange.accounts)
        signer = Ed25519Signer(serialization.load_pem_private_key(
            Path(entry["private_key_file"]).read_bytes(), None))
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        params = {"apiKey": entry["api_key"], "timestamp": time.time_ns() // 1_000_000}
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        forged = await c.request({"id": 1, "method": "session.logon", "params": {
            **params, "signature": unquote(Ed25519Signer(ed25519.Ed25519PrivateKey.generate()).sign(payload))}})
        assert forged["error"]["code"] == -1022
        logon = await c.request({"id": 2, "method": "session.logon",
                                 "params": {**params, "signature": unquote(signer.sign(payload))}})
        assert logon["status"] == 200 and logon["result"]["apiKey"] == entry["api_key"]
        placed = await c.request({"id": 3, "method": "order.place", "params": {
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
            "price": "10000", "timestamp": time.time_ns() // 1_000_000}})
        assert placed["status"] == 200 and placed["result"]["status"] == "NEW"
        status = await c.request({"id": 4, "method": "order.status", "params": {
            "symbol": "BTCUSDT", "orderId": placed["result"]["orderId"], "timestamp": time.time_ns() // 1_000_000}})
        assert status["result"]["origQty"] == placed["result"]["origQty"]
        await c.close()


async def test_order_list_and_stop_fields_in_account_events(tmp_path: Path) -> None:
    """An OCO's legs report their list id and stop price, untriggered legs are not working,
    and the list itself arrives as a ``listStatus`` naming both legs by client id."""
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key("full")
        c = await Client.connect(wx.ws_url + "/ws-api/v3")
        sub = await c.request({"id": 1, "method": "userDataStream.subscribe.signature",
                               "params": signed_params(key, secret, {})})
        assert sub["status"] == 200
        api = wx.api()
        placed = (await asyncio.to_thread(api.signed, "POST", "/api/v3/orderList/oco", {
            "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.02", "listClientOrderId": "bracket",
            "aboveType": "LIMIT_MAKER", "abovePrice": "99000", "aboveClientOrderId": "tp",
            "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "90000", "belowPrice": "89000",
            "belowTimeInForce": "GTC", "belowClientOrderId": "sl"})).json()
        assert placed["listOrderStatus"] == "EXECUTING", placed
        reports: dict[str, dict] = {}
        status: dict | None = None
        while len(reports) < 2 or status is None:
            m = await c.recv()
            if "event" not in m:
                continue
            event = m["event"]
            if event["e"] == "executionReport":
                reports[event["c"]] = event
            elif event["e"] == "listStatus":
                status = event
        assert {r["g"] for r in reports.values()} == {placed["orderListId"]}
        assert reports["sl"]["P"] == "90000.00000000" and reports["sl"]["w"] is False and "W" not in reports["sl"]
        assert reports["tp"]["w"] is True and "W" in reports["tp"]
        assert (status["g"], status["c"], status["l"], status["L"], status["C"]) == (
            placed["orderListId"], "OCO", "EXEC_STARTED", "EXECUTING", "bracket")
        assert sorted(leg["c"] for leg in status["O"]) == ["sl", "tp"]
        api.close()
        await c.close()


def test_signed_params_sign_the_sorted_payload() -> None:
    params = signed_params("KEY", "SECRET", {"symbol": "BTCUSDT", "quantity": "1"})
    payload = f"apiKey=KEY&quantity=1&symbol=BTCUSDT&timestamp={params['timestamp']}"
    assert params["signature"] == hmac_hex("SECRET", payload.encode())
