"""Against the real server process with its synthetic market trading: a local book kept from
a REST snapshot plus diff events equals a fresh REST snapshot, and ccxt.pro's ``binance``
(a widely used third-party client) streams books, trades, tickers, its own orders and
balances, and places orders over the WebSocket API, pointed at the paper exchange by its
URLs only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import ccxt.pro as ccxt_pro
import httpx
import pytest
import websockets

from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

D = Decimal


@pytest.fixture(scope="module")
def market_exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(tmp_path_factory.mktemp("ws-market") / "paper", market=True, seed=7)
    try:
        yield ex
    finally:
        ex.stop()


def _ws_base(ex: PaperExchange) -> str:
    return "ws://" + ex.base_url.split("://", 1)[1]


def _apply(book: dict[str, dict[D, D]], event: dict) -> None:
    for side in ("b", "a"):
        for price, qty in event[side]:
            if D(qty):
                book[side][D(price)] = D(qty)
            else:
                book[side].pop(D(price), None)


async def test_local_book_from_snapshot_and_diffs_equals_a_fresh_snapshot(market_exchange: PaperExchange) -> None:
    """The standard's sync procedure, while the synthetic market trades."""
    async with websockets.connect(_ws_base(market_exchange) + "/ws/btcusdt@depth@100ms") as ws, \
            httpx.AsyncClient(base_url=market_exchange.base_url, timeout=10) as http:
        buffered = [json.loads(await ws.recv())]  # 1. buffer events
        snapshot = (await http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5000})).json()
        while buffered[-1]["u"] <= snapshot["lastUpdateId"]:
            buffered.append(json.loads(await ws.recv()))
        book = {"b": {D(p): D(q) for p, q in snapshot["bids"]}, "a": {D(p): D(q) for p, q in snapshot["asks"]}}
        kept = [e for e in buffered if e["u"] > snapshot["lastUpdateId"]]  # 2. drop stale
        assert kept[0]["U"] <= snapshot["lastUpdateId"] + 1 <= kept[0]["u"]  # 3. the first kept straddles
        history: dict[int, tuple] = {}
        last = None
        for event in kept:
            if last is not None:
                assert event["U"] == last + 1
            _apply(book, event)
            last = event["u"]
            history[last] = (dict(book["b"]), dict(book["a"]))
        compared = 0
        for _ in range(60):  # fresh snapshots until one lands on an id we have applied
            fresh_task = asyncio.create_task(http.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 1000}))
            while not fresh_task.done():
                try:
                    event = json.loads(await asyncio.wait_for(ws.recv(), 0.05))
                except asyncio.TimeoutError:
                    continue
                assert event["U"] == last + 1
                _apply(book, event)
                last = event["u"]
                history[last] = (dict(book["b"]), dict(book["a"]))
            response = fresh_task.result()
            assert response.status_code == 200, response.text  # weight 50 each: far under the limit
            fresh = response.json()
            if fresh["lastUpdateId"] in history:
                bids, asks = history[fresh["lastUpdateId"]]
                assert sorted(bids.items(), reverse=True) == [(D(p), D(q)) for p, q in fresh["bids"]]
                assert sorted(asks.items()) == [(D(p), D(q)) for p, q in fresh["asks"]]
                compared += 1
                if compared >= 3 and len(history) > 5:
                    break
        assert compared >= 3, "no fresh snapshot matched an applied update id"
        assert bids and asks  # the synthetic market's ladder, not an empty book


@pytest.fixture
async def binance(market_exchange: PaperExchange) -> AsyncIterator[object]:
    api_key, secret = market_exchange.key("full")
    exchange = ccxt_pro.binance({
        "apiKey": api_key, "secret": secret,
        "options": {"defaultType": "spot", "fetchMarkets": ["spot"]},
    })
    for name, url in list(exchange.urls["api"].items()):
        if isinstance(url, str):
            exchange.urls["api"][name] = market_exchange.base_url + urlsplit(url).path
    ws = _ws_base(market_exchange)
    exchange.urls["api"]["ws"]["spot"] = ws + "/ws"
    exchange.urls["api"]["ws"]["ws-api"]["spot"] = ws + "/ws-api/v3"
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_ccxt_pro_streams_market_data(binance) -> None:  # type: ignore[no-untyped-def]
    await binance.load_markets()
    book = await binance.watch_order_book("BTC/USDT")
    for _ in range(5):  # several updates applied on top of the snapshot
        book = await binance.watch_order_book("BTC/USDT")
    assert book["bids"] and book["asks"] and book["bids"][0][0] < book["asks"][0][0]
    rest = await binance.fetch_order_book("BTC/USDT", 5000)
    assert abs(rest["nonce"] - book["nonce"]) < 1000  # the same counter
    trades = await binance.watch_trades("BTC/USDT")
    assert trades and trades[-1]["symbol"] == "BTC/USDT" and trades[-1]["price"] > 0
    ticker = await binance.watch_ticker("ETH/USDT")
    assert ticker["symbol"] == "ETH/USDT" and ticker["last"] > 0


async def test_ccxt_pro_watches_its_orders_and_balance_and_trades_over_the_ws_api(binance) -> None:  # type: ignore[no-untyped-def]
    await binance.load_markets()
    await binance.authenticate()  # ccxt's own spot user-data subscription (userDataStream.subscribe.signature)
    orders_task = asyncio.create_task(binance.watch_orders("BTC/USDT"))
    balance_task = asyncio.create_task(binance.watch_balance())
    await asyncio.sleep(0.5)  # let both watchers register before the order (ordering, not timing)
    ticker = await binance.fetch_ticker("BTC/USDT")
    price = round(ticker["last"] * 0.5, 2)  # far below the market: it rests
    placed = await binance.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    orders = await asyncio.wait_for(orders_task, 15)
    assert any(o["id"] == placed["id"] and o["status"] == "open" for o in orders)
    balance = await asyncio.wait_for(balance_task, 15)
    assert balance["USDT"]["used"] >= 0.001 * price
    canceled_task = asyncio.create_task(binance.watch_orders("BTC/USDT"))
    await binance.cancel_order(placed["id"], "BTC/USDT")
    canceled = await asyncio.wait_for(canceled_task, 15)
    assert any(o["id"] == placed["id"] and o["status"] == "canceled" for o in canceled)

    ws_order = await binance.create_order_ws("BTC/USDT", "limit", "buy", 0.001, price)
    assert ws_order["status"] == "open" and ws_order["price"] == price
    fetched = await binance.fetch_order(ws_order["id"], "BTC/USDT")
    assert fetched["status"] == "open"
    await binance.cancel_order_ws(ws_order["id"], "BTC/USDT")
    assert (await binance.fetch_order(ws_order["id"], "BTC/USDT"))["status"] == "canceled"
