"""The server killed and restarted (a subprocess exchange, as ``tests/tui/test_outage.py``):
both stream connections reconnect, resubscribe and fill the gap from REST, so trades executed
while they were down are delivered — market trades via ``aggTrades?fromId=``, the account's own
fills via the resync's ``myTrades``.

Deterministic gap: while the exchange is away from the port the client knows, it runs on
the same data directory on another port, where the test trades; then it returns."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from pydantic import SecretStr

from btx_tui.api import BtxClient
from btx_tui.api.signing import HmacSigner
from btx_tui.api.streams import (
    AccountEvent,
    AccountEvents,
    AccountResync,
    MarketStreams,
    OrderUpdate,
    StreamMode,
    TradesUpdate,
)
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange


def _free_port(avoid: int | None = None) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != avoid:
            return port


def _trade(ex: PaperExchange, rounds: int) -> None:
    """Bids and crossing sells of the demo account: ``rounds`` trades."""
    key, secret = ex.key()
    from tests.exchange.api_helpers import Api

    api = Api(ex.base_url, key, secret)
    try:
        for _ in range(rounds):
            for side, price in (("BUY", "50000"), ("SELL", "49000")):
                r = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": side, "type": "LIMIT",
                                                         "timeInForce": "GTC", "quantity": "0.001", "price": price})
                assert r.status_code == 200, r.text
    finally:
        api.close()


async def _until(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_killed_and_restarted_exchange_gap_filled(tmp_path: Path) -> None:
    data = tmp_path / "paper"
    port = _free_port()
    ex = start_paper_exchange(data, port=port, market=False)
    market_trades: list[int] = []
    account: list[AccountEvent] = []
    try:
        key, secret = ex.key()
        async with BtxClient(ex.base_url, key, SecretStr(secret)) as client:
            def on_market(u) -> None:  # type: ignore[no-untyped-def]
                if isinstance(u, TradesUpdate):
                    market_trades.extend(t.agg_id for t in u.trades)
            market = MarketStreams(client, on_market, backoff=lambda attempt: 0.2)
            market.follow("BTCUSDT", "1m")
            events = AccountEvents(client, key, HmacSigner(SecretStr(secret)), account.append,
                                   symbols=["BTCUSDT"], backoff=lambda attempt: 0.2)
            async with market, events:
                await _until(lambda: market.health()["trades"].live and events.health().live
                             and any(isinstance(e, AccountResync) for e in account))
                await asyncio.to_thread(_trade, ex, 2)
                await _until(lambda: len(market_trades) >= 2)

                ex.kill()
                await _until(lambda: not market.health()["trades"].live and not events.health().live)
                assert market.health()["trades"].mode is StreamMode.POLLING
                away = start_paper_exchange(data, port=_free_port(avoid=port), market=False)
                try:
                    await asyncio.to_thread(_trade, away, 3)  # the stream cannot see these
                finally:
                    away.stop()
                ex = start_paper_exchange(data, port=port, market=False)

                await _until(lambda: market.health()["trades"].reconnects >= 1
                             and events.health().reconnects >= 1
                             and market.health()["trades"].live and events.health().live)
                everything = await client.agg_trades("BTCUSDT", limit=1000, from_id=0)
                mine = await client.my_trades("BTCUSDT")
                await _until(lambda: market_trades and market_trades[-1] >= everything[-1].agg_id)
                await _until(lambda: sum(1 for e in account if isinstance(e, AccountResync)) >= 2)
        assert market_trades == [t.agg_id for t in everything] and len(everything) == 5
        seen = {u.trade_id for u in account if isinstance(u, OrderUpdate) and u.execution_type == "TRADE"}
        resynced = {t.id for e in account if isinstance(e, AccountResync) for t in e.trades}
        assert {t.id for t in mine} <= seen | resynced
        assert len(mine) == 10  # both sides of 5 trades are the demo account's
        assert {t.id for t in mine} - seen  # some fills are known only through the resync
    finally:
        ex.stop()
