"""The listenKey flow: ``POST/PUT/DELETE /api/v3/userDataStream``, account events on
``/ws/<listenKey>``, and expiry 60 minutes after the last keep-alive (moved clock)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import websockets

from btx_tui.exchange.ws.connection import WsSettings

from .api_helpers import assert_json_error
from .ws_support import Client, ws_exchange

MINUTE_MS = 60_000


async def test_listen_key_events_keep_alive_and_expiry(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, WsSettings(tick_ms=50)) as wx:
        api = wx.api()
        key, _ = wx.key("full")
        assert_json_error(api.raw("POST", "/api/v3/userDataStream"), 401, -2014)  # the key is required
        created = api.raw("POST", "/api/v3/userDataStream", headers={"X-MBX-APIKEY": key})
        assert created.status_code == 200
        listen_key = created.json()["listenKey"]
        again = api.raw("POST", "/api/v3/userDataStream", headers={"X-MBX-APIKEY": key}).json()
        assert again["listenKey"] == listen_key  # the live key is returned, not a second one

        c = await Client.connect(f"{wx.ws_url}/ws/{listen_key}")
        assert (await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == []
        order = await asyncio.to_thread(api.signed, "POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.001", "price": "50000"})
        report = await c.recv_until(lambda m: m.get("e") == "executionReport")
        assert (report["x"], report["i"]) == ("NEW", order.json()["orderId"])
        position = await c.recv_until(lambda m: m.get("e") == "outboundAccountPosition")
        assert {b["a"] for b in position["B"]} == {"USDT"}
        await asyncio.to_thread(api.signed, "DELETE", "/api/v3/order",
                                {"symbol": "BTCUSDT", "orderId": order.json()["orderId"]})
        assert (await c.recv_until(lambda m: m.get("e") == "executionReport"))["x"] == "CANCELED"

        # Kept alive at minute 50, the key still lives at minute 100; then expires at 110.
        wx.clock.offset_ms += 50 * MINUTE_MS
        kept = api.raw("PUT", "/api/v3/userDataStream", f"listenKey={listen_key}".encode(),
                       headers={"X-MBX-APIKEY": key})
        assert kept.status_code == 200 and kept.json() == {}
        wx.clock.offset_ms += 50 * MINUTE_MS
        await c.send({"method": "LIST_SUBSCRIPTIONS", "id": 2})
        before_answer = []
        while (message := await c.recv()).get("id") != 2:
            before_answer.append(message)
        assert [m["e"] for m in before_answer] == ["outboundAccountPosition"]  # the cancel's; no expiry
        wx.clock.offset_ms += 11 * MINUTE_MS
        expired = await c.recv_until(lambda m: m.get("e") == "listenKeyExpired")
        assert expired["listenKey"] == listen_key
        with pytest.raises(websockets.ConnectionClosed):
            await c.recv()
        gone = api.raw("PUT", "/api/v3/userDataStream", f"listenKey={listen_key}".encode(),
                       headers={"X-MBX-APIKEY": key})
        assert_json_error(gone, 400, -1125)
        api.close()


async def test_deleting_a_listen_key_ends_its_stream(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, WsSettings(tick_ms=50)) as wx:
        api = wx.api()
        key, _ = wx.key("read")
        listen_key = api.raw("POST", "/api/v3/userDataStream", headers={"X-MBX-APIKEY": key}).json()["listenKey"]
        c = await Client.connect(f"{wx.ws_url}/ws/{listen_key}")
        assert_json_error(api.raw("DELETE", "/api/v3/userDataStream", f"listenKey={listen_key}".encode(),
                                  headers={"X-MBX-APIKEY": "x" * 64}), 401, -2015)
        closed = api.raw("DELETE", "/api/v3/userDataStream", f"listenKey={listen_key}".encode(),
                         headers={"X-MBX-APIKEY": key})
        assert closed.status_code == 200
        await c.recv_until(lambda m: m.get("e") == "listenKeyExpired")
        with pytest.raises(websockets.ConnectionClosed):
            await c.recv()
        api.close()
