"""Account events (``btx_tui/api/streams/account_events.py``) against the real paper exchange:
every executionReport of a scripted sequence of placements, fills and cancels reaches the
consumer (checked against ``myTrades`` and ``allOrders``), over the WebSocket API and over the
listenKey fallback. (Reconnect and REST resync: ``test_streams_restart.py``.)"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from btx_tui.api import BtxClient
from btx_tui.api.signing import HmacSigner
from btx_tui.api.streams import (
    AccountEvent,
    AccountEvents,
    AccountResync,
    BalancesUpdate,
    ListStatusUpdate,
    OrderUpdate,
    StreamMode,
)
from btx_tui.exchange.ws.connection import WsSettings
from tests.exchange.ws_support import ws_exchange

FAST = WsSettings(tick_ms=20)
D = Decimal


def _fast_backoff(attempt: int) -> float:
    return 0.05


def _script(wx) -> None:  # type: ignore[no-untyped-def]
    """Resting bids, partial and full fills by crossing sells, cancels (one account trades
    with itself: both sides are its events)."""
    api = wx.api()
    try:
        def order(side: str, qty: str, price: str) -> dict:
            r = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": side, "type": "LIMIT",
                                                     "timeInForce": "GTC", "quantity": qty, "price": price})
            assert r.status_code == 200, r.text
            return r.json()
        bids = [order("BUY", "0.002", str(50000 - i)) for i in range(3)]
        order("SELL", "0.001", "49990")  # partial fill of the best bid
        order("SELL", "0.003", "49990")  # the rest of it and part of the next
        r = api.signed("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": bids[2]["orderId"]})
        assert r.status_code == 200, r.text
        order("SELL", "0.001", "60000")  # rests
        r = api.signed("POST", "/api/v3/orderList/oco", {
            "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.001", "aboveType": "LIMIT_MAKER",
            "abovePrice": "70000", "belowType": "STOP_LOSS_LIMIT", "belowPrice": "39000",
            "belowStopPrice": "40000", "belowTimeInForce": "GTC"})
        assert r.status_code == 200, r.text
    finally:
        api.close()


async def _until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("listen_key", [False, True], ids=["ws-api", "listen-key"])
async def test_every_execution_report_reaches_the_consumer(tmp_path: Path, listen_key: bool) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key()
        events: list[AccountEvent] = []
        async with BtxClient(wx.base_url, key, SecretStr(secret)) as client:
            stream = AccountEvents(client, key, HmacSigner(SecretStr(secret)), events.append,
                                   symbols=["BTCUSDT"], force_listen_key=listen_key, backoff=_fast_backoff)
            async with stream:
                await _until(lambda: any(isinstance(e, AccountResync) for e in events))
                assert stream.via == ("listen-key" if listen_key else "ws-api")
                assert stream.health().mode is StreamMode.STREAM
                await asyncio.to_thread(_script, wx)
                orders = await client.all_orders("BTCUSDT")
                trades = await client.my_trades("BTCUSDT")
                last_update = {o.order_id: o.status for o in orders}
                await _until(lambda: {u.order_id: u.status for u in events if isinstance(u, OrderUpdate)}
                             == last_update)
        updates = [e for e in events if isinstance(e, OrderUpdate)]
        # every fill: one TRADE report per side of each trade, matching myTrades exactly
        reported = sorted((u.trade_id, u.order_id, u.last_qty, u.last_price) for u in updates
                          if u.execution_type == "TRADE")
        expected = sorted((t.id, t.order_id, t.qty, t.price) for t in trades)
        assert trades and reported == expected
        # every order: NEW first, its final status last, cumulative quantity as allOrders says
        for o in orders:
            mine = [u for u in updates if u.order_id == o.order_id]
            assert mine[0].execution_type == "NEW"
            assert mine[-1].status == o.status and mine[-1].cum_qty == o.executed_qty
        assert any(u.execution_type == "CANCELED" for u in updates)
        lists = [e for e in events if isinstance(e, ListStatusUpdate)]
        oco_legs = {o.order_id for o in orders if o.order_list_id != -1}
        assert len(oco_legs) == 2 and lists and set(lists[-1].order_ids) == oco_legs
        assert {u.order_list_id for u in updates if u.order_id in oco_legs} == {lists[-1].order_list_id}
        assert any(isinstance(e, BalancesUpdate) and any(b.asset == "BTC" for b in e.balances) for e in events)


async def test_a_refused_subscription_is_reported_and_nothing_leaks(tmp_path: Path) -> None:
    with ws_exchange(tmp_path, FAST) as wx:
        key, secret = wx.key()
        wrong = "x" * len(secret)
        events: list[AccountEvent] = []
        async with BtxClient(wx.base_url, key, SecretStr(secret)) as client:
            stream = AccountEvents(client, key, HmacSigner(SecretStr(wrong)), events.append, backoff=_fast_backoff)
            async with stream:
                await _until(lambda: (stream.health().reason or "").startswith("stream refused"))
                health = stream.health()
        assert health.mode is StreamMode.POLLING and not health.live
        assert wrong not in (health.reason or "") and secret not in (health.reason or "")
        assert events == []  # no resync, no event on a refused subscription
