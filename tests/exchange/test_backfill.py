"""Market history from the first second: the seeded backfill of a fresh paper exchange."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from btx_tui.exchange.state.backfill import (BACKFILL_DAYS, RAW_MINUTES, HistoryBackfill,
                                             backfill_history)
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.state.market_data import DAY, INTERVALS, MINUTE, align
from btx_tui.exchange.synthetic_market import SyntheticMarket
from btx_tui.exchange.process.launcher import start_paper_exchange

NOW = 1_796_000_000_000 + 12_345


def fresh(tmp: Path, name: str, seed: int = 7, *, complete: bool = True) -> Exchange:
    ex = Exchange.open(tmp / name, clock=lambda: NOW)
    job = HistoryBackfill(ex.store, ex.counters, ex.symbols, ex.now_ms(), seed)
    assert job.start()
    while complete and job.write_next_chunk():
        pass
    ex.market_data.load()
    return ex


@pytest.fixture(scope="module")
def seven() -> Iterator[Exchange]:
    """One complete backfill with seed 7 (~1.5 s to build), shared by the tests that only read it."""
    with tempfile.TemporaryDirectory(prefix="btx-backfill-") as tmp:
        ex = fresh(Path(tmp), "seven")
        yield ex
        ex.close()


def dump(ex: Exchange) -> tuple[list, list]:
    klines = list(ex.store.db.execute("SELECT * FROM kline_1m ORDER BY symbol, open_time"))
    trades = list(ex.store.db.execute("SELECT * FROM trades ORDER BY symbol, id"))
    return klines, trades


def test_same_seed_same_history_other_seed_differs(seven: Exchange, tmp_path: Path) -> None:
    a, b, c = dump(seven), dump(fresh(tmp_path, "b")), dump(fresh(tmp_path, "c", seed=8))
    assert a == b
    assert a[0] != c[0]


def test_seven_days_of_minutes_for_every_market_ending_at_the_starting_price(seven: Exchange) -> None:
    ex = seven
    end = align("1m", NOW)
    for name, spec in ex.symbols.items():
        times = [r[0] for r in ex.store.db.execute(
            "SELECT open_time FROM kline_1m WHERE symbol = ? ORDER BY open_time", (name,))]
        assert len(times) == BACKFILL_DAYS * 1440
        assert times[0] == end - BACKFILL_DAYS * DAY and times[-1] == end - MINUTE
        assert times == list(range(times[0], end, MINUTE))  # no hole
        last = ex.market_data.trades(name, 1)[-1]
        assert Decimal(last["price"]) == spec.ref_price  # the synthetic market starts here
        assert Decimal(ex.market_data.ticker_price([name])[0]["price"]) == spec.ref_price


def test_every_kline_row_is_self_consistent(seven: Exchange) -> None:
    ex = seven
    for spec in ex.symbols.values():
        prev_close = None
        for k in ex.store.klines("symbol = ?", (spec.symbol,)):
            assert k.low <= min(k.open, k.close) and max(k.open, k.close) <= k.high, k
            assert k.low > 0 and k.volume > 0 and k.count == k.last_id - k.first_id + 1
            assert k.low * k.volume <= k.quote_volume <= k.high * k.volume, k
            assert 0 <= k.taker_buy_base <= k.volume and 0 <= k.taker_buy_quote <= k.quote_volume
            assert (k.open / spec.tick_size) % 1 == 0 and (k.volume / spec.step_size) % 1 == 0
            if prev_close is not None and k.open_time < align("1m", NOW) - RAW_MINUTES * MINUTE:
                assert k.open == prev_close  # one continuous walk
            prev_close = k.close


def test_the_tape_of_the_last_minutes_is_what_their_klines_say(seven: Exchange) -> None:
    ex = seven
    end = align("1m", NOW)
    for name in ("BTCUSDT", "ETHBTC"):
        trades = ex.store.trades("symbol = ?", (name,))
        assert trades and {t.buyer_account for t in trades} == {0} == {t.seller_account for t in trades}
        assert min(t.time for t in trades) >= end - RAW_MINUTES * MINUTE and max(t.time for t in trades) < end
        for k in ex.store.klines("symbol = ? AND open_time >= ?", (name, end - RAW_MINUTES * MINUTE)):
            mine = [t for t in trades if k.open_time <= t.time < k.open_time + MINUTE]
            assert len(mine) == k.count and [t.id for t in mine] == list(range(k.first_id, k.last_id + 1))
            assert (k.open, k.close) == (mine[0].price, mine[-1].price)
            assert (k.high, k.low) == (max(t.price for t in mine), min(t.price for t in mine))
            assert k.volume == sum(t.qty for t in mine) and k.quote_volume == sum(t.quote_qty for t in mine)
            assert k.taker_buy_base == sum(t.qty for t in mine if t.taker_side == "BUY")
        aggs = ex.market_data.agg_trades(name, 1000)
        assert len(aggs) == min(1000, len(trades))


def test_statistics_are_real_at_first_start(seven: Exchange) -> None:
    ex = seven
    for interval in INTERVALS:
        rows = ex.market_data.klines("BTCUSDT", interval, None, None, 1000)
        assert rows and any(Decimal(r[5]) > 0 for r in rows), interval
    days = ex.market_data.klines("BTCUSDT", "1d", None, None, 30)
    assert sum(1 for d in days if Decimal(d[5]) > 0) >= BACKFILL_DAYS
    t = ex.market_data.ticker_24hr(["BTCUSDT"])[0]
    assert Decimal(t["lastPrice"]) > 0 and Decimal(t["volume"]) > 0
    assert t["count"] == t["lastId"] - t["firstId"] + 1 > 0
    assert Decimal(t["lowPrice"]) <= Decimal(t["openPrice"]) <= Decimal(t["highPrice"])
    assert Decimal(ex.market_data.avg_price("BTCUSDT")["price"]) > 0


def test_the_live_market_continues_where_history_ends(tmp_path: Path) -> None:
    clock = [NOW]
    ex = Exchange.open(tmp_path / "live", clock=lambda: clock[0])
    assert backfill_history(ex.store, ex.counters, ex.symbols, ex.now_ms(), 3)
    ex.market_data.load()
    last_id = ex.market_data.trades("BTCUSDT", 1)[-1]["id"]
    market = SyntheticMarket(ex, 3)
    market.setup()
    for _ in range(40):
        clock[0] += 250
        market.step()
    live = [t for t in ex.market_data.trades("BTCUSDT", 1000) if t["id"] > last_id]
    assert live, "the synthetic market traded"
    ref = ex.symbols["BTCUSDT"].ref_price
    assert abs(Decimal(live[0]["price"]) / ref - 1) < Decimal("0.01")  # no jump at the seam
    ex.check_invariants()
    assert not backfill_history(ex.store, ex.counters, ex.symbols, ex.now_ms(), 3)  # once only


def test_an_interrupted_backfill_resumes_to_the_same_history(seven: Exchange, tmp_path: Path) -> None:
    whole = seven
    part = fresh(tmp_path, "part", complete=False)
    job = HistoryBackfill(part.store, part.counters, part.symbols, NOW, 7)
    total = job.remaining
    assert total > 0
    for _ in range(3):
        assert job.write_next_chunk()
    part.close()
    again = Exchange.open(tmp_path / "part", clock=lambda: NOW + 3 * DAY)  # restarted later
    job = HistoryBackfill(again.store, again.counters, again.symbols, again.now_ms(), 99)
    assert not job.fresh and job.remaining == total - 3
    assert not job.start()
    while job.write_next_chunk():
        pass
    assert job.remaining == 0
    assert dump(again) == dump(whole)


def test_a_fresh_server_serves_history_from_its_first_request(tmp_path: Path) -> None:
    ex = start_paper_exchange(tmp_path / "paper", seed=5)
    try:
        def get(path: str) -> object:
            with urllib.request.urlopen(ex.base_url + path, timeout=10) as r:
                return json.load(r)
        t = get("/api/v3/ticker/24hr?symbol=BTCUSDT")
        assert Decimal(t["lastPrice"]) > 0 and t["count"] > 0  # type: ignore[index]
        assert len(get("/api/v3/trades?symbol=ETHUSDT&limit=100")) == 100  # type: ignore[arg-type]
        deadline = time.monotonic() + 60
        while True:  # the older days arrive in the background
            days = get("/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=10")
            if sum(1 for d in days if Decimal(d[5]) > 0) >= BACKFILL_DAYS:  # type: ignore[union-attr,index]
                break
            if time.monotonic() > deadline:
                pytest.fail(f"history incomplete: {days}")
            time.sleep(0.5)
    finally:
        ex.stop()


def test_history_trade_ids_count_per_symbol(tmp_path: Path) -> None:
    """Trades are numbered per symbol ("trade_id:SYMBOL"): each market's history starts at 1."""
    ex = Exchange.open(tmp_path / "x", clock=lambda: NOW)
    job = HistoryBackfill(ex.store, ex.counters, ex.symbols, NOW, 7, days=2)
    assert job.start() and job.write_next_chunk()
    ex.close()
    ex = Exchange.open(tmp_path / "x", clock=lambda: NOW)  # resumed after a restart
    job = HistoryBackfill(ex.store, ex.counters, ex.symbols, NOW, 7)
    while job.write_next_chunk():
        pass
    for name in ex.symbols:
        rows = ex.store.klines("symbol = ?", (name,))
        assert len(rows) == 2 * 1440 and rows[0].first_id == 1
        assert all(b.first_id == a.last_id + 1 for a, b in zip(rows, rows[1:]))
        assert ex.counters.get(f"trade_id:{name}") == rows[-1].last_id
    # (The tape itself needs the per-symbol trades table - PRIMARY KEY (symbol, id) - of that change.)
