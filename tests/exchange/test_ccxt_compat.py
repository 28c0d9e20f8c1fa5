"""A widely used third-party client trades against the paper exchange unchanged.

ccxt's ``binance`` class is pointed at the paper exchange by its URLs only, with the
options any spot-only user sets; everything else is ccxt's default behaviour (currency
list, margin-pair discovery, signing, order parsing).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async
import pytest

from tests.paper_account import PaperAccount


@pytest.fixture
async def binance(fresh_account: PaperAccount) -> AsyncIterator[object]:
    api_key, secret = fresh_account.key("full")
    exchange = ccxt_async.binance({
        "apiKey": api_key, "secret": secret,
        "options": {"defaultType": "spot", "fetchMarkets": ["spot"]},
    })
    for name, url in list(exchange.urls["api"].items()):
        exchange.urls["api"][name] = fresh_account.base_url + urlsplit(url).path
    try:
        yield exchange
    finally:
        await exchange.close()


async def test_ccxt_binance_trades_against_the_paper_exchange(binance) -> None:  # type: ignore[no-untyped-def]
    markets = await binance.load_markets()
    assert {"BTC/USDT", "BTT/USDT", "ETH/USDT", "TRX/USDT", "BTT/TRX"} <= set(markets)
    assert markets["BTT/USDT"]["precision"]["price"] == pytest.approx(1e-10)

    balance = await binance.fetch_balance()
    assert balance["USDT"]["free"] == 10000 and balance["BTC"]["total"] == 0.25

    resting = await binance.create_order("BTC/USDT", "limit", "sell", 0.01, 96000)
    assert resting["status"] == "open" and resting["price"] == 96000
    book = await binance.fetch_order_book("BTC/USDT", 5)
    assert book["asks"][0] == [96000, 0.01]
    assert [o["id"] for o in await binance.fetch_open_orders("BTC/USDT")] == [resting["id"]]

    taken = await binance.create_order("BTC/USDT", "market", "buy", 0.004)
    assert taken["status"] == "closed" and taken["filled"] == 0.004 and taken["average"] == 96000
    trades = await binance.fetch_my_trades("BTC/USDT")
    assert len(trades) == 2 and {t["side"] for t in trades} == {"buy", "sell"}

    canceled = await binance.cancel_order(resting["id"], "BTC/USDT")
    assert canceled["status"] == "canceled" and canceled["filled"] == 0.004
    assert await binance.fetch_open_orders("BTC/USDT") == []

    ticker = await binance.fetch_ticker("BTC/USDT")
    assert ticker["last"] == 96000
    ohlcv = await binance.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert ohlcv and ohlcv[-1][4] == 96000


async def test_ccxt_binance_places_stop_and_oco_orders(binance) -> None:  # type: ignore[no-untyped-def]
    """ccxt's own wire format for a stop-loss-limit, a take-profit and an OCO, unchanged."""
    await binance.load_markets()
    await binance.create_order("BTC/USDT", "limit", "sell", 0.001, 95000)
    await binance.create_order("BTC/USDT", "market", "buy", 0.001)          # last price 95,000

    stop = await binance.create_order("BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.01, 93000,
                                      {"stopPrice": 94000})
    fetched = await binance.fetch_order(stop["id"], "BTC/USDT")
    assert (fetched["info"]["type"], fetched["status"], fetched["triggerPrice"]) == \
        ("STOP_LOSS_LIMIT", "open", 94000)
    assert fetched["info"]["isWorking"] is False

    profit = await binance.create_order("BTC/USDT", "limit", "sell", 0.01, 98000,
                                        {"takeProfitPrice": 97000})
    assert profit["info"]["type"] == "TAKE_PROFIT_LIMIT"
    assert {o["id"] for o in await binance.fetch_open_orders("BTC/USDT")} == {stop["id"], profit["id"]}
    for o in (stop, profit):
        await binance.cancel_order(o["id"], "BTC/USDT")

    oco = await binance.private_post_orderlist_oco({
        "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.02",
        "aboveType": "LIMIT_MAKER", "abovePrice": "99000",
        "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "90000", "belowPrice": "89000",
        "belowTimeInForce": "GTC"})
    assert oco["contingencyType"] == "OCO" and len(oco["orderReports"]) == 2
    legs = await binance.fetch_open_orders("BTC/USDT")
    assert {o["info"]["orderListId"] for o in legs} == {oco["orderListId"]}
    balance = await binance.fetch_balance()
    assert balance["BTC"]["used"] == 0.02          # one lock for both legs
    # A buyer lifts the limit leg: the stop leg is cancelled with it.
    await binance.create_order("BTC/USDT", "limit", "buy", 0.02, 99000)
    statuses = {o["info"]["type"]: o["status"] for o in await binance.fetch_orders("BTC/USDT")
                if o["info"]["orderListId"] == oco["orderListId"]}
    assert statuses == {"LIMIT_MAKER": "closed", "STOP_LOSS_LIMIT": "canceled"}
