"""Trade ids count per symbol (so ``lastId - firstId + 1 == count``), and an older database
whose ids were one counter for all symbols is renumbered on open."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from btx_tui.api import BtxClient
from btx_tui.api.orders import OrderRequest
from btx_tui.exchange.state.store import Store
from btx_tui.exchange.process.launcher import PaperExchange

_OLD_SCHEMA = """
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, agg_id INTEGER NOT NULL,
 price TEXT NOT NULL, qty TEXT NOT NULL, quote_qty TEXT NOT NULL, time INTEGER NOT NULL,
 buyer_order_id INTEGER NOT NULL, seller_order_id INTEGER NOT NULL, buyer_account INTEGER NOT NULL,
 seller_account INTEGER NOT NULL, taker_side TEXT NOT NULL, buyer_fee TEXT NOT NULL, seller_fee TEXT NOT NULL);
CREATE TABLE kline_1m (symbol TEXT NOT NULL, open_time INTEGER NOT NULL, open TEXT NOT NULL,
 high TEXT NOT NULL, low TEXT NOT NULL, close TEXT NOT NULL, volume TEXT NOT NULL,
 quote_volume TEXT NOT NULL, count INTEGER NOT NULL, taker_buy_base TEXT NOT NULL,
 taker_buy_quote TEXT NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,
 PRIMARY KEY (symbol, open_time));
"""


def test_global_trade_ids_are_renumbered_per_symbol(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "exchange.sqlite3")
    db.executescript(_OLD_SCHEMA)
    for tid, symbol, agg, price in ((1, "BTCUSDT", 1, "10"), (2, "ETHUSDT", 2, "20"), (3, "BTCUSDT", 3, "11"),
                                    (4, "BTCUSDT", 3, "11"), (5, "ETHUSDT", 4, "21")):
        db.execute("INSERT INTO trades VALUES (?, ?, ?, ?, '1', ?, ?, 1, 2, 1, 1, 'BUY', '0', '0')",
                   (tid, symbol, agg, price, price, tid))
    db.execute("INSERT INTO kline_1m VALUES ('BTCUSDT', 0, '10', '11', '10', '11', '3', '32', 3, '0', '0', 1, 4)")
    db.execute("INSERT INTO kline_1m VALUES ('ETHUSDT', 0, '20', '21', '20', '21', '2', '41', 2, '0', '0', 2, 5)")
    db.execute("INSERT INTO counters VALUES ('trade_id', 5), ('agg_id', 4)")
    db.commit()
    db.close()
    for _ in range(2):  # the migration runs once; opening again changes nothing
        store = Store.open(tmp_path)
        try:
            trades = [(t.symbol, t.id, t.agg_id, t.price) for t in store.trades(tail="ORDER BY symbol, id")]
            assert trades == [("BTCUSDT", 1, 1, Decimal("10")), ("BTCUSDT", 2, 2, Decimal("11")),
                              ("BTCUSDT", 3, 2, Decimal("11")), ("ETHUSDT", 1, 1, Decimal("20")),
                              ("ETHUSDT", 2, 2, Decimal("21"))]
            assert {(k.symbol, k.first_id, k.last_id) for k in store.klines()} == {("BTCUSDT", 1, 3),
                                                                                   ("ETHUSDT", 1, 2)}
            assert store.counters() == {"trade_id:BTCUSDT": 3, "trade_id:ETHUSDT": 2,
                                        "agg_id:BTCUSDT": 2, "agg_id:ETHUSDT": 2}
        finally:
            store.close()


async def test_ticker_ids_add_up_per_symbol(fresh_exchange: PaperExchange) -> None:
    api_key, secret = fresh_exchange.key("full")
    async with BtxClient(fresh_exchange.base_url, api_key, SecretStr(secret), trust_env=False) as client:
        for symbol, price, qty in (("BTCUSDT", Decimal("90000.00"), Decimal("0.001")),
                                   ("ETHUSDT", Decimal("2500.00"), Decimal("0.0100")),
                                   ("BTCUSDT", Decimal("90010.00"), Decimal("0.001"))):
            await client.post_order(OrderRequest(symbol, "SELL", "LIMIT", quantity=qty, price=price, time_in_force="GTC"))
            filled = await client.post_order(OrderRequest(symbol, "BUY", "LIMIT", quantity=qty, price=price,
                                                          time_in_force="IOC"))
            assert filled.status == "FILLED"
        tickers = {t.symbol: t for t in await client.tickers_24hr(["BTCUSDT", "ETHUSDT"])}
        assert tickers["BTCUSDT"].count == 2 and tickers["ETHUSDT"].count == 1
        for t in tickers.values():
            assert t.last_id - t.first_id + 1 == t.count
        assert [tr.id for tr in await client.trades("ETHUSDT")] == [1]
        assert [tr.id for tr in await client.trades("BTCUSDT")] == [1, 2]
        assert [a.agg_id for a in await client.agg_trades("BTCUSDT")] == [1, 2]
        mine = await client.my_trades("BTCUSDT")
        assert sorted({t.id for t in mine}) == [1, 2]
