"""Seeded market history for a fresh paper exchange, so every statistic is real at first launch.

A new data dir has no trades: charts would wait for klines, tickers would show zero prices.
:func:`backfill_history` writes, once, :data:`BACKFILL_DAYS` days of one-minute aggregates
(``kline_1m`` rows) for every market and only the last few minutes as raw trades (the tape
of ``trades``/``aggTrades``/``1s`` klines), not days of raw trades: one aggregate row per
minute keeps the first start fast and the database small.

The history is a backward geometric random walk that *ends* at the price the synthetic
market starts from (``SymbolSpec.ref_price``): the last backfilled trade is at that price, and
:class:`~btx_tui.exchange.synthetic_market.SyntheticMarket` starts its fair price at the
last trade, so history and the live market join without a jump.  Every draw comes from one
``random.Random`` per symbol seeded from ``(seed, symbol)``: the same seed gives the same
history for the same end minute.  Prices and quantities are produced as integer ticks and
lots and stored as exact Decimals (``ticks * tick_size``).

First start stays quick: the plan of every market (its minute closes and trade counts, a
few arithmetic operations per minute) and the last :data:`RECENT_MINUTES` (what the 24 h
statistics, avgPrice and the tape read) are written before the exchange serves; the older
days follow in small chunks (one market-day each) between the synthetic market's steps
(:meth:`HistoryBackfill.write_next_chunk`), resumed after a restart from the counters.

The raw trades belong to no account (account and order ids 0): they are the market's past,
nobody's fills.  Trade and aggregate ids come from the exchange's counters, so the kline rows'
``first_id``/``last_id`` and the tickers' ``firstId``/``lastId`` name real id ranges and the
live market's ids continue after them.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from .counters import Counters, agg_id_counter, trade_id_counter
from .market_data import MINUTE, align
from .store import KlineRow, Store, TradeRow
from .symbols import SymbolSpec

__all__ = ["BACKFILL_DAYS", "RAW_MINUTES", "RECENT_MINUTES", "HISTORY_ACCOUNT", "HistoryBackfill",
           "backfill_history"]

BACKFILL_DAYS = 7
"""Days of one-minute history written for a fresh exchange."""
RAW_MINUTES = 5
"""The last minutes of history also written as raw trades (the trade tape)."""
RECENT_MINUTES = 25 * 60
"""Minutes written before the exchange serves (the rolling 24 h window and then some)."""
HISTORY_ACCOUNT = 0
"""Account (and order) id of the backfilled trades: nobody's."""
_C_END, _C_SEED, _C_DAYS, _C_DONE = ("history_end_ms", "history_seed", "history_days", "history_chunks_done")


def _first_id_counter(symbol: str) -> str:
    return f"history_first_trade_id:{symbol}"
_TRADES_PER_MINUTE = (20, 120)
_SPREAD_TICKS = 1
_KLINE_SQL = ("INSERT OR REPLACE INTO kline_1m (symbol, open_time, open, high, low, close, volume,"
              " quote_volume, count, taker_buy_base, taker_buy_quote, first_id, last_id)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_TRADE_SQL = ("INSERT OR REPLACE INTO trades (id, symbol, agg_id, price, qty, quote_qty, time,"
              " buyer_order_id, seller_order_id, buyer_account, seller_account, taker_side,"
              " buyer_fee, seller_fee) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _fmt_units(units: int, exp: int) -> str:
    """``units * 10**exp`` as plain decimal text, exactly (``exp`` <= 0); what ``str(Decimal)``
    would give, without building a Decimal (this runs a few million times)."""
    if not exp:
        return str(units)
    s = str(units).rjust(1 - exp, "0")
    return f"{s[:exp]}.{s[exp:]}"


def _exp(step: Decimal) -> tuple[int, int]:
    """A tick/step size as (integer multiplier, power of ten): 0.05 -> (5, -2)."""
    _, digits, exp = step.normalize().as_tuple()
    mult = int("".join(map(str, digits)))
    exp = int(exp)  # type: ignore[arg-type]
    return (mult * 10 ** exp, 0) if exp > 0 else (mult, exp)


@dataclass(slots=True)
class _Plan:
    """One market's history in integers: minute closes (ticks) and trade counts, oldest first."""

    spec: SymbolSpec
    closes: list[int]
    counts: list[int]
    first_ids: list[int]
    first_open: int


class HistoryBackfill:
    """Seeded history of every market, written recent-first (see the module docstring).

    Args:
        store, counters, symbols: the exchange's parts (history goes straight to SQLite).
        now_ms: the exchange clock at first start; history ends before this minute.
        seed: the synthetic market's seed.
    """

    def __init__(self, store: Store, counters: Counters, symbols: dict[str, SymbolSpec],
                 now_ms: int, seed: int, *, days: int = BACKFILL_DAYS) -> None:
        self._store = store
        self._counters = counters
        self._symbols = symbols
        known = counters.get(_C_END)
        self.fresh = not known and not store.scalar("SELECT 1 FROM kline_1m LIMIT 1")
        """No history yet: :meth:`start` plans and writes it."""
        self.end = known or align("1m", now_ms)
        self.seed = counters.get(_C_SEED) if known else seed
        self.days = counters.get(_C_DAYS) if known else days
        self._minutes = self.days * 1440
        self._names = sorted(symbols)
        self._plans: dict[str, _Plan] = {}

    # --------------------------------------------------------------- plan

    @property
    def chunks(self) -> list[tuple[str, int, int]]:
        """The background chunks, newest day first: (symbol, first minute, end minute)."""
        recent_from = max(0, self._minutes - RECENT_MINUTES)
        out = []
        hi = recent_from
        while hi > 0:
            lo = max(0, hi - 1440)
            out.extend((name, lo, hi) for name in self._names)
            hi = lo
        return out

    def _plan(self, name: str, first_id: int) -> _Plan:
        """Closes walked backwards from the starting price; counts and ids, all from the seed."""
        plan = self._plans.get(name)
        if plan is not None:
            return plan
        spec = self._symbols[name]
        rng = _rng(self.seed, "history", name)
        minutes = self._minutes
        min_ticks = max(1, int(spec.min_price / spec.tick_size))
        max_ticks = int(spec.max_price / spec.tick_size)
        # Same liveliness as the synthetic market: four times the market's daily volatility.
        sigma = float(spec.daily_volatility) * 4 / math.sqrt(1440)
        closes = [0] * minutes
        counts = [0] * minutes
        ticks = int(spec.ref_price / spec.tick_size)
        log_p = math.log(float(spec.ref_price))
        gauss, exp, random_, tick = rng.gauss, math.exp, rng.random, float(spec.tick_size)
        lo_n, span_n = _TRADES_PER_MINUTE[0], _TRADES_PER_MINUTE[1] - _TRADES_PER_MINUTE[0] + 1
        for i in range(minutes - 1, -1, -1):
            closes[i] = ticks
            counts[i] = lo_n + int(span_n * random_())
            log_p -= gauss(0.0, sigma)
            ticks = min(max(int(exp(log_p) / tick + 0.5), min_ticks), max_ticks)
        first_ids = [0] * minutes
        next_id = first_id
        for i in range(minutes):
            first_ids[i] = next_id
            next_id += counts[i]
        plan = self._plans[name] = _Plan(spec, closes, counts, first_ids, ticks)
        return plan

    # ------------------------------------------------------------- writing

    def start(self) -> bool:
        """On a fresh exchange: reserve the ids, write the recent minutes (and the tape) of
        every market in one transaction.  Returns whether it wrote anything."""
        if not self.fresh:
            return False
        store, counters = self._store, self._counters
        store.begin()
        try:
            # New counters: reserving from 0 sets them.
            counters.reserve(_C_END, self.end)
            counters.reserve(_C_SEED, self.seed)
            counters.reserve(_C_DAYS, self.days)
            recent_from = max(0, self._minutes - RECENT_MINUTES)
            for name in self._names:
                first_id = counters.get(trade_id_counter(name)) + 1
                counters.reserve(_first_id_counter(name), first_id)  # (a new counter: set to first_id)
                plan = self._plan(name, first_id)
                counters.reserve(trade_id_counter(name), sum(plan.counts))
                klines, trades = self._rows(plan, recent_from, self._minutes)
                store.db.executemany(_KLINE_SQL, klines)
                store.db.executemany(_TRADE_SQL, trades)
            counters.flush()
            store.commit()
        except BaseException:
            store.rollback()
            counters.load()
            raise
        self.fresh = False
        return True

    @property
    def remaining(self) -> int:
        """Background chunks still to write (0 when the history is complete)."""
        if not self._counters.get(_C_END):
            return 0
        return len(self.chunks) - self._counters.get(_C_DONE)

    def write_next_chunk(self) -> bool:
        """Write the next older market-day (its own small transaction); False when done.
        Must be called outside any open transaction (between the market's steps)."""
        done = self._counters.get(_C_DONE)
        chunks = self.chunks
        if not self._counters.get(_C_END) or done >= len(chunks):
            return False
        if self._store.in_transaction:  # never inside someone's batch: try again next turn
            return True
        name, lo, hi = chunks[done]
        plan = self._plan(name, self._counters.get(_first_id_counter(name)))
        klines, _ = self._rows(plan, lo, hi)
        self._store.begin()
        try:
            self._store.db.executemany(_KLINE_SQL, klines)
            self._counters.next(_C_DONE)
            self._counters.flush()
            self._store.commit()
        except BaseException:
            self._store.rollback()
            self._counters.load()
            raise
        return True

    def checkpoint(self) -> None:
        """Give the write-ahead log's pages back to the file system once history is written."""
        if not self._store.in_transaction:
            self._store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _rows(self, plan: _Plan, lo: int, hi: int) -> tuple[list[tuple], list[tuple]]:
        """Kline rows of minutes [lo, hi) (and the trades of the last RAW_MINUTES among them)."""
        spec = plan.spec
        rng = _rng(self.seed, "minutes", spec.symbol, lo)
        random_ = rng.random
        tick_m, tick_e = _exp(spec.tick_size)
        lot_m, lot_e = _exp(spec.step_size)
        min_ticks = max(1, int(spec.min_price / spec.tick_size))
        max_ticks = int(spec.max_price / spec.tick_size)
        min_lots = max(1, int(spec.min_qty / spec.step_size))
        sigma = float(spec.daily_volatility) * 4 / math.sqrt(1440)
        wick_frac = sigma * 1.2
        # Lots of one typical trade (≈11× the minimum notional, like the synthetic takers) at c ticks.
        notional_lots = float(spec.min_notional) * 11 / float(spec.tick_size) / float(spec.step_size)
        price_unit, q_e = tick_m * lot_m, tick_e + lot_e
        start = self.end - self._minutes * MINUTE
        raw_from = self._minutes - RAW_MINUTES
        sym, closes, counts, ids = spec.symbol, plan.closes, plan.counts, plan.first_ids
        klines: list[tuple] = []
        trades: list[tuple] = []
        for i in range(lo, hi):
            o = closes[i - 1] if i else plan.first_open
            c, n, first_id = closes[i], counts[i], ids[i]
            t0 = start + i * MINUTE
            lot_price = max(1, int(notional_lots / c))
            if i >= raw_from:
                row, tape = _raw_minute(rng, sym, t0, o, c, n, lot_price, min_lots, min_ticks,
                                        max_ticks, first_id, self._counters, price_unit, q_e,
                                        tick_m, tick_e, lot_m, lot_e)
                klines.append(row)
                trades.extend(tape)
                continue
            wick = c * wick_frac
            hi_t = min(max(o, c) + int(wick * random_() ** 2), max_ticks)
            lo_t = max(min(o, c) - int(wick * random_() ** 2), min_ticks)
            vol = max(min_lots * n, int(lot_price * n * (0.5 + random_())))
            buy = int(vol * (0.35 + 0.3 * random_()))
            vwap = (o + c + hi_t + lo_t) // 4  # inside [low, high]: the quote volume stays consistent
            klines.append((sym, t0, _fmt_units(o * tick_m, tick_e), _fmt_units(hi_t * tick_m, tick_e),
                           _fmt_units(lo_t * tick_m, tick_e), _fmt_units(c * tick_m, tick_e),
                           _fmt_units(vol * lot_m, lot_e), _fmt_units(vwap * vol * price_unit, q_e),
                           n, _fmt_units(buy * lot_m, lot_e), _fmt_units(vwap * buy * price_unit, q_e),
                           first_id, first_id + n - 1))
        return klines, trades


def backfill_history(store: Store, counters: Counters, symbols: dict[str, SymbolSpec],
                     now_ms: int, seed: int, *, days: int = BACKFILL_DAYS) -> bool:
    """All of it at once (tests, benches): :meth:`HistoryBackfill.start` and every chunk."""
    job = HistoryBackfill(store, counters, symbols, now_ms, seed, days=days)
    wrote = job.start()
    while job.write_next_chunk():
        pass
    return wrote


def _raw_minute(rng: random.Random, sym: str, t0: int, o: int, c: int, n: int,
                lot_price: int, min_lots: int, min_ticks: int, max_ticks: int, first_id: int,
                counters: Counters, price_unit: int, q_e: int, tick_m: int, tick_e: int,
                lot_m: int, lot_e: int) -> tuple[tuple, list[tuple]]:
    """One minute as ``n`` real trades from ``o`` to ``c`` and its kline row, aggregated from them."""
    times = sorted(rng.randrange(0, MINUTE) for _ in range(n))
    prices = []
    for k in range(n):
        path = o + (c - o) * (k + 1) // n  # drift from open to close; the last trade is the close
        jitter = 0 if k == n - 1 else rng.randint(-_SPREAD_TICKS, _SPREAD_TICKS)
        prices.append(min(max(path + jitter, min_ticks), max_ticks))
    hi, lo = max(prices), min(prices)
    vol = buy = 0
    quote = buy_quote = 0
    tape: list[tuple] = []
    for k in range(n):
        p = prices[k]
        lots = max(min_lots, int(lot_price * rng.lognormvariate(0.0, 0.6)))
        taker = "BUY" if rng.random() < 0.5 else "SELL"
        agg = counters.next(agg_id_counter(sym))
        vol += lots
        quote += p * lots
        if taker == "BUY":
            buy += lots
            buy_quote += p * lots
        tape.append((first_id + k, sym, agg, _fmt_units(p * tick_m, tick_e), _fmt_units(lots * lot_m, lot_e),
                     _fmt_units(p * lots * price_unit, q_e), t0 + times[k], HISTORY_ACCOUNT,
                     HISTORY_ACCOUNT, HISTORY_ACCOUNT, HISTORY_ACCOUNT, taker, "0", "0"))
    row = (sym, t0, _fmt_units(prices[0] * tick_m, tick_e), _fmt_units(hi * tick_m, tick_e),
           _fmt_units(lo * tick_m, tick_e), _fmt_units(c * tick_m, tick_e), _fmt_units(vol * lot_m, lot_e),
           _fmt_units(quote * price_unit, q_e), n, _fmt_units(buy * lot_m, lot_e),
           _fmt_units(buy_quote * price_unit, q_e), first_id, first_id + n - 1)
    return row, tape
