"""Market streams over a real WebSocket on loopback: control messages, combined streams,
the events a crossing order produces, and the connection limits (messages per second,
streams per connection, unanswered pings, connection life)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
import websockets
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.uri import parse_uri

from btx_tui.exchange.ws.connection import WsSettings

from .ws_support import Client, D, ws_exchange

FAST = WsSettings(tick_ms=50)


def _sell_then_buy(wx, price: str = "95000") -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    api = wx.api()
    try:
        maker = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT",
                                                     "timeInForce": "GTC", "quantity": "0.01", "price": price})
        taker = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                     "quantity": "0.004"})
        assert maker.status_code == 200 and taker.status_code == 200, (maker.text, taker.text)
        return maker.json(), taker.json()
    finally:
        api.close()


async def test_subscription_control_messages(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, WsSettings(tick_ms=50, max_messages_per_s=1000)) as wx:
        c = await Client.connect(wx.ws_url + "/ws")
        assert await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {"result": [], "id": 1}
        assert await c.request({"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@depth@100ms"],
                                "id": 2}) == {"result": None, "id": 2}
        assert (await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 3}))["result"] == [
            "btcusdt@trade", "ethusdt@depth@100ms"]
        assert await c.request({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": "u"}) == {
            "result": None, "id": "u"}
        assert (await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 4}))["result"] == ["ethusdt@depth@100ms"]
        assert await c.request({"method": "GET_PROPERTY", "params": ["combined"], "id": 5}) == {
            "result": False, "id": 5}
        assert await c.request({"method": "SET_PROPERTY", "params": ["combined", True], "id": 6}) == {
            "result": None, "id": 6}
        assert (await c.request({"method": "GET_PROPERTY", "params": ["combined"], "id": 7}))["result"] is True
        api = wx.api()
        placed = await asyncio.to_thread(api.signed, "POST", "/api/v3/order", {
            "symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.01", "price": "1000"})
        api.close()
        assert placed.status_code == 200, placed.text
        wrapped = await c.recv()  # combined now: the diff arrives as {"stream","data"}
        assert wrapped["stream"] == "ethusdt@depth@100ms"
        assert wrapped["data"]["b"] == [["1000.00000000", "0.01000000"]]

        # Bad requests: an error naming the request's id, and the connection stays open.
        bad = await c.request({"method": "SUBSCRIBE", "params": ["btcusdt@nonsense"], "id": 8})
        assert bad["id"] == 8 and bad["error"]["code"] == 2
        bad = await c.request({"method": "SUBSCRIBE", "params": "btcusdt@trade", "id": 9})
        assert bad["id"] == 9 and bad["error"]["code"] == 1
        bad = await c.request({"method": "FROB", "id": 10})
        assert bad["id"] == 10 and bad["error"]["code"] == 2
        bad = await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 11, "extra": 1})
        assert bad["id"] == 11 and bad["error"]["code"] == 0
        await c.send("{not json")
        assert (await c.recv())["error"]["code"] == 3
        assert (await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 12}))["result"] == ["ethusdt@depth@100ms"]
        await c.close()


async def test_path_streams_and_unknown_names(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        raw = await Client.connect(wx.ws_url + "/ws/btcusdt@trade")
        assert (await raw.request({"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == ["btcusdt@trade"]
        unknown = await Client.connect(wx.ws_url + "/ws/whatever-this-is")
        assert (await unknown.request({"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == []
        combined = await Client.connect(wx.ws_url + "/stream?streams=btcusdt@trade/btcusdt@aggTrade")
        await asyncio.to_thread(_sell_then_buy, wx)
        trade = await raw.recv()
        assert trade["e"] == "trade" and trade["s"] == "BTCUSDT" and trade["p"] == "95000.00000000"
        wrapped = [await combined.recv(), await combined.recv()]
        assert {m["stream"] for m in wrapped} == {"btcusdt@trade", "btcusdt@aggTrade"}
        by_stream = {m["stream"]: m["data"] for m in wrapped}
        assert by_stream["btcusdt@trade"] == {**trade, "E": by_stream["btcusdt@trade"]["E"]}
        agg = by_stream["btcusdt@aggTrade"]
        assert (agg["e"], agg["q"], agg["f"], agg["l"]) == ("aggTrade", "0.00400000", trade["t"], trade["t"])
        for c in (raw, unknown, combined):
            await c.close()


async def test_a_crossing_order_produces_trade_kline_ticker_book_and_avg_price_events(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        names = ["btcusdt@kline_1m", "btcusdt@ticker", "btcusdt@miniTicker", "!miniTicker@arr",
                 "!ticker@arr", "btcusdt@bookTicker", "btcusdt@avgPrice", "btcusdt@depth5@100ms"]
        c = await Client.connect(wx.ws_url + "/stream?streams=" + "/".join(names))
        maker, taker = await asyncio.to_thread(_sell_then_buy, wx)
        seen: dict[str, dict] = {}
        while set(seen) != set(names):
            message = await c.recv()
            seen.setdefault(message["stream"], message["data"])
        kline = seen["btcusdt@kline_1m"]["k"]
        assert (kline["i"], kline["c"], kline["v"], kline["n"]) == ("1m", "95000.00000000", "0.00400000", 1)
        ticker = seen["btcusdt@ticker"]
        assert (ticker["e"], ticker["c"], ticker["v"], ticker["a"]) == (
            "24hrTicker", "95000.00000000", "0.00400000", "95000.00000000")
        assert seen["btcusdt@miniTicker"]["c"] == "95000.00000000"
        assert [t["s"] for t in seen["!miniTicker@arr"]] == ["BTCUSDT"]  # only what changed
        assert [t["s"] for t in seen["!ticker@arr"]] == ["BTCUSDT"]
        book = seen["btcusdt@bookTicker"]
        assert book["s"] == "BTCUSDT" and book["a"] == "95000.00000000"
        assert seen["btcusdt@avgPrice"]["w"] == "95000.00000000"
        partial = seen["btcusdt@depth5@100ms"]
        assert partial["asks"][0] == ["95000.00000000", "0.00600000"] or partial["asks"][0][0] == "95000.00000000"
        await c.close()


async def test_depth_diffs_are_consecutive_and_rebuild_the_rest_book(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        c = await Client.connect(wx.ws_url + "/ws/btcusdt@depth@100ms")
        api = wx.api()
        placed = []
        for i in range(6):
            r = await asyncio.to_thread(api.signed, "POST", "/api/v3/order", {
                "symbol": "BTCUSDT", "side": "SELL" if i % 2 else "BUY", "type": "LIMIT", "timeInForce": "GTC",
                "quantity": "0.002", "price": str(94000 + 2000 * (i % 2) + i)})
            placed.append(r.json())
        await asyncio.to_thread(api.signed, "DELETE", "/api/v3/order",
                                {"symbol": "BTCUSDT", "orderId": placed[0]["orderId"]})
        snapshot = (await asyncio.to_thread(api.public, "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 100})).json()
        api.close()
        book: dict[str, dict[D, D]] = {"b": {}, "a": {}}
        last = 0
        while last < snapshot["lastUpdateId"]:
            event = await c.recv()
            assert event["e"] == "depthUpdate"
            if last:
                assert event["U"] == last + 1
            last = event["u"]
            for side in ("b", "a"):
                for price, qty in event[side]:
                    if D(qty):
                        book[side][D(price)] = D(qty)
                    else:
                        book[side].pop(D(price), None)
        assert last == snapshot["lastUpdateId"]
        assert sorted(book["b"].items(), reverse=True) == [(D(p), D(q)) for p, q in snapshot["bids"]]
        assert sorted(book["a"].items()) == [(D(p), D(q)) for p, q in snapshot["asks"]]
        await c.close()


async def test_flooding_closes_the_connection_and_stream_count_is_capped(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, WsSettings(tick_ms=50, max_streams=3)) as wx:
        c = await Client.connect(wx.ws_url + "/ws")
        too_many = await c.request({"method": "SUBSCRIBE", "id": 1, "params": [
            "btcusdt@trade", "ethusdt@trade", "trxusdt@trade", "bttusdt@trade"]})
        assert too_many["error"]["code"] == 2
        assert (await c.request({"method": "LIST_SUBSCRIPTIONS", "id": 2}))["result"] == []
        for i in range(10):
            await c.send({"method": "LIST_SUBSCRIPTIONS", "id": 100 + i})
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await c.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_a_connection_that_never_answers_pings_is_closed(tmp_path: Path) -> None:
    settings = WsSettings(tick_ms=50, ping_interval_s=0.2, pong_timeout_s=0.6)
    with ws_exchange(tmp_path, settings) as wx:
        polite = await Client.connect(wx.ws_url + "/ws")  # its library answers every ping
        pings, closed = await asyncio.to_thread(_silent_client, wx.server.port)
        assert pings >= 1 and closed
        assert await polite.request({"method": "LIST_SUBSCRIPTIONS", "id": 1}) == {"result": [], "id": 1}
        await polite.close()


def _silent_client(port: int) -> tuple[int, bool]:
    """A client on the websockets sans-I/O protocol that reads frames but never sends the
    pong its protocol prepares: returns (pings seen, whether the server closed on it)."""
    protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        protocol.send_request(protocol.connect())
        sock.sendall(b"".join(protocol.data_to_send()))
        pings = 0
        while True:
            data = sock.recv(65536)
            if not data:
                return pings, True
            protocol.receive_data(data)
            protocol.data_to_send()  # the pongs: deliberately never sent
            for event in protocol.events_received():
                if getattr(event, "opcode", None) is Opcode.PING:
                    pings += 1
                elif getattr(event, "opcode", None) is Opcode.CLOSE:
                    return pings, True


async def test_connections_end_at_their_lifetime(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, WsSettings(tick_ms=50, max_life_s=1.0)) as wx:
        c = await Client.connect(wx.ws_url + "/ws")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await c.recv(timeout=15)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
