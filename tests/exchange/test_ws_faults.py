"""Stream faults (``ws/stream_faults.py``): dropped, duplicated and reordered diff events, a
socket closed mid-stream and a stream that goes silent without closing - each seen by a real
client, drawn from the injector's seeded RNG and counted with the other faults."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import websockets

from btx_tui.exchange.http.fault_specs import FaultError, make_spec, parse_fault
from btx_tui.exchange.http.faults import FaultInjector
from btx_tui.exchange.ws.connection import WsSettings

from .ws_support import Client, ws_exchange

FAST = WsSettings(tick_ms=20)


def _move_book(wx, count: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` separate book changes, each its own diff event (paced past the tick)."""
    import time

    api = wx.api()
    try:
        for i in range(count):
            r = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                     "timeInForce": "GTC", "quantity": "0.001",
                                                     "price": str(50000 + i)})
            assert r.status_code == 200, r.text
            time.sleep(0.05)
    finally:
        api.close()


async def _diffs(client: Client, count: int) -> list[tuple[int, int]]:
    out = []
    while len(out) < count:
        event = await client.recv()
        out.append((event["U"], event["u"]))
    return out


def _injector(kind: str, probability: float) -> FaultInjector:
    return FaultInjector([make_spec(kind, "WS /ws", probability)], seed=11)


@pytest.mark.parametrize("kind", ["ws_drop_diff", "ws_duplicate_diff", "ws_reorder_diff"])
async def test_diff_faults_break_the_sequence_a_client_checks(tmp_path: Path, kind: str) -> None:
    faults = _injector(kind, 0.3)
    with ws_exchange(tmp_path, FAST, faults=faults) as wx:
        # Room for every frame the run sends (30 diffs, more with duplicates): with the default
        # 16-frame buffer the unread rest pauses the client's reads, so it never sees the
        # server's close frame and close() waits out its 10 s timeout.
        c = await Client.connect(wx.ws_url + "/ws/btcusdt@depth@100ms", max_queue=128)
        mover = asyncio.create_task(asyncio.to_thread(_move_book, wx, 30))
        seen = await _diffs(c, 18)
        await mover
        steps = [b[0] - a[1] for a, b in zip(seen, seen[1:])]  # 1 when consecutive
        if kind == "ws_drop_diff":
            assert any(step > 1 for step in steps)
        elif kind == "ws_duplicate_diff":
            assert any(a == b for a, b in zip(seen, seen[1:]))
        else:
            assert any(step < 1 for step in steps) and len(set(seen)) == len(seen)
        assert faults.injected[kind] >= 1
        await c.close()


async def test_a_socket_closed_mid_stream(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST, faults=_injector("ws_close", 1.0)) as wx:
        c = await Client.connect(wx.ws_url + "/ws/btcusdt@depth@100ms")
        await asyncio.to_thread(_move_book, wx, 1)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await c.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011


async def test_a_stream_that_stops_without_closing(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST, faults=_injector("ws_stall", 1.0)) as wx:
        c = await Client.connect(wx.ws_url + "/ws/btcusdt@depth@100ms")
        await asyncio.to_thread(_move_book, wx, 3)
        with pytest.raises(asyncio.TimeoutError):
            await c.recv(timeout=1.0)
        pong = await c.conn.ping()  # the socket is alive: the protocol still answers
        await asyncio.wait_for(pong, 5)
        assert wx.app.faults is not None and wx.app.faults.injected["ws_stall"] >= 1
        await c.close()


def test_stream_fault_specs_are_validated() -> None:
    spec = parse_fault("ws_reorder_diff:WS /ws:0.25")
    assert (spec.kind, spec.endpoint, spec.probability) == ("ws_reorder_diff", "WS /ws", 0.25)
    with pytest.raises(FaultError):
        parse_fault("ws_drop_diff:POST /api/v3/order:0.5")
    with pytest.raises(FaultError):
        parse_fault("500:WS /ws:0.5")
    with pytest.raises(FaultError):
        parse_fault("ws_close:WS /ws:0.5:3")
