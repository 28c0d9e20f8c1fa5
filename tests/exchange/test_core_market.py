"""Market data of the Exchange's market-data part (depth ids, trades, aggTrades, klines, tickers,
avgPrice), the symbol table, and wire number formatting."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.market_data import INTERVALS, align
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.numbers import fmt, parse_decimal
from btx_tui.exchange.state.symbols import MARKETS

from .core_support import D, T0, FakeClock, open_exchange, req

MIN = 60_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 - T0 % 86_400_000)  # midnight UTC, so candles align simply


@pytest.fixture
def ex(tmp_path, clock) -> Exchange:
    e = open_exchange(tmp_path, clock)
    yield e
    e.check_invariants()
    e.close()


@pytest.fixture
def accts(ex):
    funding = {"USDT": D("10000000"), "BTC": D("1000")}
    return ex.accounts.create_account(funding), ex.accounts.create_account(funding)


def trade(ex, accts, price: str, qty: str, taker_side: str = "BUY") -> None:
    maker, taker = accts
    maker_side = "SELL" if taker_side == "BUY" else "BUY"
    ex.trading.place_order(maker, req("BTCUSDT", maker_side, "LIMIT", qty, price))
    r = ex.trading.place_order(taker, req("BTCUSDT", taker_side, "LIMIT", qty, price, tif="IOC"))
    assert r["status"] == "FILLED"


# ------------------------------------------------------------------ numbers and symbols


@pytest.mark.parametrize("value, text", [
    ("0", "0.00000000"), ("0.001", "0.00100000"), ("0.0000006123", "0.0000006123"),
    ("1E+2", "100.00000000"), ("95000.10", "95000.10000000"), ("-0", "0.00000000"),
    ("12345678901234.5", "12345678901234.50000000"), ("1.000000000000", "1.00000000"),
    ("0.00000000012", "0.00000000012"),
])
def test_fmt(value, text):
    assert fmt(Decimal(value)) == text
    assert parse_decimal(text) == Decimal(value)


def test_symbol_table():
    assert len(MARKETS) >= 20
    for name in ("BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX", "ETHBTC"):
        assert name in MARKETS
    assert MARKETS["BTTUSDT"].tick_size == D("0.0000000001") and MARKETS["BTTUSDT"].step_size == D(1)
    assert (MARKETS["BTCUSDT"].tick_size, MARKETS["BTCUSDT"].step_size) == (D("0.01"), D("0.00001"))
    for spec in MARKETS.values():
        assert spec.symbol == spec.base + spec.quote
        spec.price_to_ticks(spec.ref_price)  # on the grid and inside PRICE_FILTER
        assert spec.min_notional / spec.ref_price <= spec.max_qty
        # at least 8 decimals, and never fewer than the tick/step grid needs (BTT: 10)
        assert spec.base_precision >= 8 and spec.quote_precision >= 8
        assert -spec.tick_size.normalize().as_tuple().exponent <= spec.quote_precision
        assert -spec.step_size.normalize().as_tuple().exponent <= spec.base_precision


def test_exchange_info_fields(ex):
    info = ex.market_data.exchange_info(None)
    assert info["timezone"] == "UTC" and info["exchangeFilters"] == []
    assert {r["rateLimitType"] for r in info["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS"}
    assert len(info["symbols"]) == len(MARKETS)
    [s] = ex.market_data.exchange_info(["BTTUSDT"])["symbols"]
    assert s["orderTypes"] == ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
                               "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
    assert (s["ocoAllowed"], s["otoAllowed"], s["allowTrailingStop"], s["cancelReplaceAllowed"],
            s["amendAllowed"]) == (True, True, True, True, True)
    assert (s["permissions"], s["permissionSets"], s["defaultSelfTradePreventionMode"]) == \
        (["SPOT"], [["SPOT"]], "NONE")
    assert s["quoteOrderQtyMarketAllowed"] is True and s["isSpotTradingAllowed"] is True
    assert s["status"] == "TRADING" and "NONE" in s["allowedSelfTradePreventionModes"]
    filters = {f["filterType"]: f for f in s["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.0000000001"
    assert filters["LOT_SIZE"]["stepSize"] == "1.00000000"
    assert set(filters["NOTIONAL"]) == {"filterType", "minNotional", "applyMinToMarket", "maxNotional",
                                        "applyMaxToMarket", "avgPriceMins"}
    assert set(filters) == {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL", "MAX_NUM_ORDERS",
                            "TRAILING_DELTA"}
    assert filters["TRAILING_DELTA"] == {
        "filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
        "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000}
    assert [x["symbol"] for x in ex.market_data.exchange_info(["ETHUSDT", "BTCUSDT"])["symbols"]] == ["ETHUSDT", "BTCUSDT"]


# ------------------------------------------------------------------ depth, trades, aggTrades


def test_depth_update_id_increases_on_every_book_change(ex, accts):
    maker, taker = accts
    ids = [ex.market_data.depth("BTCUSDT", 10)["lastUpdateId"]]
    o = ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "1", "95000"))
    ids.append(ex.market_data.depth("BTCUSDT", 10)["lastUpdateId"])
    ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "95000"))
    ids.append(ex.market_data.depth("BTCUSDT", 10)["lastUpdateId"])
    with pytest.raises(ApiError):
        ex.trading.place_order(taker, req("BTCUSDT", "BUY", "LIMIT", "0.1", "95000.001"))
    assert ex.market_data.depth("BTCUSDT", 10)["lastUpdateId"] == ids[-1]
    ex.trading.cancel_order(maker, "BTCUSDT", o["orderId"], None, None)
    ids.append(ex.market_data.depth("BTCUSDT", 10)["lastUpdateId"])
    assert ids == sorted(set(ids)) and len(ids) == 4
    assert ex.market_data.depth("ETHUSDT", 10)["lastUpdateId"] == 0


def test_depth_levels_best_first(ex, accts):
    maker, _ = accts
    for p in ("94000", "94500", "93000"):
        ex.trading.place_order(maker, req("BTCUSDT", "BUY", "LIMIT", "0.1", p))
    for p in ("96000", "95500"):
        ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.2", p))
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.3", "95500"))
    d = ex.market_data.depth("BTCUSDT", 2)
    assert d["bids"] == [["94500.00000000", "0.10000000"], ["94000.00000000", "0.10000000"]]
    assert d["asks"] == [["95500.00000000", "0.50000000"], ["96000.00000000", "0.20000000"]]
    [bt] = ex.market_data.book_ticker(["BTCUSDT"])
    assert (bt["bidPrice"], bt["askPrice"], bt["askQty"]) == ("94500.00000000", "95500.00000000", "0.50000000")


def test_trades_and_agg_trades(ex, accts):
    maker, taker = accts
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.1", "95000"))
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.2", "95000"))
    ex.trading.place_order(maker, req("BTCUSDT", "SELL", "LIMIT", "0.3", "95001"))
    ex.trading.place_order(taker, req("BTCUSDT", "BUY", "MARKET", "0.6"))
    trades = ex.market_data.trades("BTCUSDT", 10)
    assert [t["qty"] for t in trades] == ["0.10000000", "0.20000000", "0.30000000"]
    assert all(t["isBuyerMaker"] is False for t in trades)
    assert [t["id"] for t in ex.market_data.trades("BTCUSDT", 2)] == [trades[1]["id"], trades[2]["id"]]
    aggs = ex.market_data.agg_trades("BTCUSDT", 10)
    assert [(a["p"], a["q"], a["f"], a["l"]) for a in aggs] == [
        ("95000.00000000", "0.30000000", trades[0]["id"], trades[1]["id"]),
        ("95001.00000000", "0.30000000", trades[2]["id"], trades[2]["id"])]
    assert aggs[0]["a"] < aggs[1]["a"] and aggs[0]["m"] is False
    assert ex.market_data.agg_trades("BTCUSDT", 10, from_id=aggs[1]["a"]) == [aggs[1]]
    assert ex.market_data.agg_trades("BTCUSDT", 1) == [aggs[1]]


# ------------------------------------------------------------------ klines


def test_klines_1m_with_gap_fill_and_aggregation(ex, accts, clock):
    t0 = clock.t
    trade(ex, accts, "95000", "0.1")
    clock.advance(20_000)
    trade(ex, accts, "96000", "0.2", "SELL")
    clock.advance(MIN)  # minute 1
    trade(ex, accts, "94000", "0.1")
    clock.advance(2 * MIN)  # minute 3 (minute 2 has no trade)
    trade(ex, accts, "95500", "0.4")
    ks = ex.market_data.klines("BTCUSDT", "1m", None, None, 500)
    assert [k[0] for k in ks] == [t0, t0 + MIN, t0 + 2 * MIN, t0 + 3 * MIN]
    first = ks[0]
    assert first[1:6] == ["95000.00000000", "96000.00000000", "95000.00000000", "96000.00000000", "0.30000000"]
    assert first[6] == t0 + MIN - 1 and first[7] == "28700.00000000" and first[8] == 2
    assert first[9:] == ["0.10000000", "9500.00000000", "0"]
    assert ks[2][1:6] == ["94000.00000000"] * 4 + ["0.00000000"] and ks[2][8] == 0  # flat gap candle
    [k5] = ex.market_data.klines("BTCUSDT", "5m", None, None, 500)
    assert k5[1:6] == ["95000.00000000", "96000.00000000", "94000.00000000", "95500.00000000", "0.80000000"]
    assert k5[8] == 4 and k5[6] == t0 + 5 * MIN - 1
    assert len(ex.market_data.klines("BTCUSDT", "1m", None, None, 2)) == 2
    assert ex.market_data.klines("BTCUSDT", "1m", None, None, 2)[-1][0] == t0 + 3 * MIN
    assert [k[0] for k in ex.market_data.klines("BTCUSDT", "1m", t0 + MIN, None, 2)] == [t0 + MIN, t0 + 2 * MIN]
    assert [k[0] for k in ex.market_data.klines("BTCUSDT", "1m", t0, t0 + MIN, 500)] == [t0, t0 + MIN]
    recent = ex.market_data.klines("BTCUSDT", "1s", None, None, 1000)  # the last 1000 s, gaps filled
    assert (recent[0][0], recent[-1][0], len(recent)) == (t0, t0 + 200_000, 201)
    assert [k[0] for k in ex.market_data.klines("BTCUSDT", "1s", None, None, 5)] == [t0 + 196_000 + i * 1000 for i in range(5)]
    secs = ex.market_data.klines("BTCUSDT", "1s", t0, t0 + 30_000, 1000)
    assert secs[0][0] == t0 and secs[-1][0] == t0 + 30_000 and len(secs) == 31
    assert (secs[20][4], secs[20][8], secs[21][8], secs[21][4]) == ("96000.00000000", 1, 0, "96000.00000000")
    for interval in INTERVALS:
        out = ex.market_data.klines("BTCUSDT", interval, None, None, 10)
        assert out and out[-1][4] == "95500.00000000", interval
    with pytest.raises(ApiError):
        ex.market_data.klines("BTCUSDT", "7m", None, None, 10)


def test_kline_alignment():
    monday = 1_700_438_400_000  # 2023-11-20 00:00 UTC, a Monday
    assert align("1w", monday + 3 * 86_400_000 + 5) == monday
    assert align("1M", 1_700_000_000_000) == 1_698_796_800_000  # 2023-11-01
    assert align("1h", 1_700_000_000_000) == 1_699_999_200_000


# ------------------------------------------------------------------ tickers and avgPrice


def test_ticker_24hr_rolling_window(ex, accts, clock):
    trade(ex, accts, "90000", "1")          # will fall out of the window
    clock.advance(2 * 3600_000)
    trade(ex, accts, "95000", "0.1")
    trade(ex, accts, "97000", "0.1")
    trade(ex, accts, "94000", "0.2")
    clock.advance(23 * 3600_000)
    [t] = ex.market_data.ticker_24hr(["BTCUSDT"])
    assert (t["openPrice"], t["highPrice"], t["lowPrice"], t["lastPrice"]) == \
        ("95000.00000000", "97000.00000000", "94000.00000000", "94000.00000000")
    assert (t["volume"], t["quoteVolume"], t["count"]) == ("0.40000000", "38000.00000000", 3)
    assert (t["priceChange"], t["priceChangePercent"]) == ("-1000.00000000", "-1.053")
    assert t["weightedAvgPrice"] == "95000.00000000" and t["prevClosePrice"] == "90000.00000000"
    assert t["lastId"] - t["firstId"] == 2 and t["closeTime"] - t["openTime"] == 86_400_000
    assert t["lastQty"] == "0.20000000"
    clock.advance(24 * 3600_000)
    [t] = ex.market_data.ticker_24hr(["BTCUSDT"])
    assert (t["count"], t["volume"], t["lastPrice"], t["firstId"]) == (0, "0.00000000", "94000.00000000", -1)
    assert len(ex.market_data.ticker_24hr(None)) == len(MARKETS)


def test_ticker_price_and_avg_price(ex, accts, clock):
    [p] = ex.market_data.ticker_price(["BTCUSDT"])
    assert p["price"] == fmt(MARKETS["BTCUSDT"].ref_price)  # before any trade
    assert ex.market_data.avg_price("BTCUSDT")["price"] == "95000.00000000"
    trade(ex, accts, "94000", "0.1")
    trade(ex, accts, "97000", "0.2")
    assert ex.market_data.ticker_price(["BTCUSDT"])[0]["price"] == "97000.00000000"
    avg = ex.market_data.avg_price("BTCUSDT")
    assert (avg["mins"], avg["price"], avg["closeTime"]) == (5, "96000.00000000", clock.t)
    clock.advance(10 * MIN)
    assert ex.market_data.avg_price("BTCUSDT")["price"] == "97000.00000000"  # no recent trade: last price
    assert re.fullmatch(r"\d+\.\d{8,}", ex.market_data.avg_price("BTTUSDT")["price"])
