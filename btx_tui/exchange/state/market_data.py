"""Market data and statistics: the trade tape, klines, tickers, avgPrice, depth.

This part owns everything derived from trades: trading (``trading.py``) hands it each new
trade (:meth:`MarketData.record_trade`, inside the mutation), and it writes the trade rows
and minute aggregates when the transaction flushes, and emits :class:`TradeExecuted`.  It
reads the order books (``books.py``) for depth and the touch, never writes them.

Klines and tickers are derived from trades.  Each trade updates a per-minute aggregate
(``kline_1m`` row, written in the trade's transaction); intervals of a minute or more are
built from those rows, ``1s`` from the trades themselves.  The 24hr ticker is a rolling
window over the minute aggregates kept in memory for the last ~25 hours, so asking for all
tickers costs no SQL at all.  Intervals without trades between two traded ones are filled
with flat candles (open = high = low = close = previous close, zero volume) so charts have
no holes.
"""

from __future__ import annotations

import calendar

from dataclasses import dataclass, field
from datetime import datetime, timezone
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from ..errors import ApiError
from ..numbers import ZERO, fmt
from .books import OrderBooks
from .events import EventBus, TradeExecuted
from .store import KlineRow, Store, TradeRow
from .symbols import SymbolSpec, spec_for
from .transaction import Transaction

__all__ = ["MarketData", "SymbolStats", "INTERVALS", "MINI_TICKER_FIELDS", "RATE_LIMITS", "align",
           "mini_ticker", "next_open"]

MINUTE = 60_000
DAY = 86_400_000
INTERVALS: dict[str, int] = {
    "1s": 1000, "1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE,
    "30m": 30 * MINUTE, "1h": 60 * MINUTE, "2h": 120 * MINUTE, "4h": 240 * MINUTE,
    "6h": 360 * MINUTE, "8h": 480 * MINUTE, "12h": 720 * MINUTE, "1d": DAY, "3d": 3 * DAY,
    "1w": 7 * DAY, "1M": 31 * DAY,  # 1M: upper bound, real months are calendar months
}
"""Every kline interval of the contract and its length in ms."""

RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
]
_KEEP_MS = 25 * 3600 * 1000
_WEEK_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday; weeks open on Monday


def align(interval: str, t: int) -> int:
    """Open time of the ``interval`` candle containing ``t`` (ms, UTC)."""
    if interval == "1M":
        d = datetime.fromtimestamp(t / 1000, tz=timezone.utc)
        return calendar.timegm((d.year, d.month, 1, 0, 0, 0)) * 1000
    if interval == "1w":
        return t - (t - _WEEK_OFFSET) % INTERVALS["1w"]
    n = INTERVALS[interval]
    return t - t % n


def next_open(interval: str, open_time: int) -> int:
    """Open time of the candle after the one opening at ``open_time``."""
    if interval == "1M":
        d = datetime.fromtimestamp(open_time / 1000, tz=timezone.utc)
        y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
        return calendar.timegm((y, m, 1, 0, 0, 0)) * 1000
    return open_time + INTERVALS[interval]


@dataclass
class SymbolStats:
    """In-memory view of one symbol's recent trading (for tickers and avgPrice)."""

    last_price: Decimal | None = None
    last_qty: Decimal = ZERO
    last_time: int = 0
    buckets: dict[int, KlineRow] = field(default_factory=dict)
    """Minute aggregates of the last ~25 h, by open time (ascending)."""


def _round_price(spec: SymbolSpec, value: Decimal) -> Decimal:
    exp = min(-8, spec.tick_size.as_tuple().exponent)  # type: ignore[type-var]
    return value.quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_UP)


class _Candle:
    __slots__ = ("open_time", "o", "h", "l", "c", "v", "qv", "n", "tbb", "tbq")

    def __init__(self, open_time: int, o: Decimal) -> None:
        self.open_time = open_time
        self.o = self.h = self.l = self.c = o
        self.v = self.qv = self.tbb = self.tbq = ZERO
        self.n = 0

    def add(self, o: Decimal, h: Decimal, l: Decimal, c: Decimal, v: Decimal, qv: Decimal,
            n: int, tbb: Decimal, tbq: Decimal) -> None:
        if not self.n:
            self.o, self.h, self.l = o, h, l
        else:
            self.h, self.l = max(self.h, h), min(self.l, l)
        self.c = c
        self.v += v
        self.qv += qv
        self.n += n
        self.tbb += tbb
        self.tbq += tbq


class MarketData:
    """The public market-data endpoints and the trade statistics behind them."""

    def __init__(self, store: Store, tx: Transaction, symbols: dict[str, SymbolSpec],
                 books: OrderBooks, now_ms: Callable[[], int], events: EventBus) -> None:
        self._store = store
        self._tx = tx
        self._symbols = symbols
        self._books = books
        self._now_ms = now_ms
        self._events = events
        self.load()

    # ----------------------------------------------------------- persistence

    def load(self) -> None:
        """Rebuild the last ~25 h of minute aggregates and each symbol's last trade."""
        self._new_trades: list[TradeRow] = []
        self._dirty_klines: dict[tuple[str, int], KlineRow] = {}
        self._stats: dict[str, SymbolStats] = {}
        since = self._now_ms() - _KEEP_MS
        for sym in self._symbols:
            st = self._stats[sym] = SymbolStats()
            for row in self._store.klines("symbol = ? AND open_time >= ?", (sym, align("1m", since))):
                st.buckets[row.open_time] = row
            last = self._store.trades("symbol = ?", (sym,), "ORDER BY id DESC LIMIT 1")
            if last:
                st.last_price, st.last_qty, st.last_time = last[0].price, last[0].qty, last[0].time

    def flush(self) -> None:
        """Write the new trades and the minute aggregates they changed."""
        if self._new_trades:
            self._store.put_many(self._new_trades)
            self._new_trades = []
        if self._dirty_klines:
            self._store.put_many(list(self._dirty_klines.values()))
            self._dirty_klines.clear()

    # ----------------------------------------------------------------- stats

    def record_trade(self, spec: SymbolSpec, t: TradeRow) -> None:
        """A new trade (inside a mutation): keep it for the tape and fold it into the
        symbol's minute aggregate and last price."""
        self._new_trades.append(t)
        if self._events.active:
            self._events.emit(TradeExecuted(t.symbol, t.id, t.price, t.qty, t.quote_qty, t.time,
                                            t.buyer_order_id, t.seller_order_id, t.taker_side,
                                            t.agg_id, t.buyer_account, t.seller_account,
                                            t.buyer_fee, t.seller_fee))
        st = self._stats[spec.symbol]
        minute = align("1m", t.time)
        b = st.buckets.get(minute)
        if b is None:
            b = self._dirty_klines.get((spec.symbol, minute))
        if b is None:
            rows = self._store.klines("symbol = ? AND open_time = ?", (spec.symbol, minute))
            b = rows[0] if rows else KlineRow(spec.symbol, minute, t.price, t.price, t.price, t.price,
                                              ZERO, ZERO, 0, ZERO, ZERO, t.id, t.id)
            st.buckets[minute] = b
            if len(st.buckets) > 1600:
                cutoff = align("1m", t.time - _KEEP_MS)
                for k in [k for k in st.buckets if k < cutoff]:
                    del st.buckets[k]
        if b.count:
            b.high, b.low = max(b.high, t.price), min(b.low, t.price)
        b.close = t.price
        b.volume += t.qty
        b.quote_volume += t.quote_qty
        b.count += 1
        if t.taker_side == "BUY":
            b.taker_buy_base += t.qty
            b.taker_buy_quote += t.quote_qty
        b.last_id = t.id
        self._dirty_klines[(spec.symbol, minute)] = b
        st.last_price, st.last_qty, st.last_time = t.price, t.qty, t.time

    def last_price(self, symbol: str) -> Decimal | None:
        """The symbol's last trade price (None before its first trade): stop orders' reference."""
        return self._stats[symbol].last_price

    def avg_price_value(self, spec: SymbolSpec) -> Decimal:
        """Volume-weighted price of the last 5 minutes; else the last price; else the
        reference price.  Used for avgPrice and the NOTIONAL check of MARKET orders."""
        st = self._stats[spec.symbol]
        since = align("1m", self._now_ms()) - 4 * MINUTE
        vol = quote = ZERO
        for t, b in st.buckets.items():
            if t >= since:
                vol += b.volume
                quote += b.quote_volume
        if vol:
            return _round_price(spec, quote / vol)
        return st.last_price if st.last_price is not None else spec.ref_price

    def _specs(self, symbols: list[str] | None) -> list[SymbolSpec]:
        if symbols is None:
            return list(self._symbols.values())
        return [spec_for(self._symbols, s) for s in symbols]

    # ------------------------------------------------------------ endpoints

    def exchange_info(self, symbols: list[str] | None) -> dict:
        return {"timezone": "UTC", "serverTime": self._now_ms(), "rateLimits": [dict(r) for r in RATE_LIMITS],
                "exchangeFilters": [], "symbols": [s.exchange_info() for s in self._specs(symbols)]}

    def depth(self, symbol: str, limit: int) -> dict:
        spec = spec_for(self._symbols, symbol)
        bids, asks = self._books[symbol].depth(limit)
        tp, lq = spec.ticks_to_price, spec.lots_to_qty
        return {"lastUpdateId": self._books.update_id(symbol),
                "bids": [[fmt(tp(p)), fmt(lq(q))] for p, q in bids],
                "asks": [[fmt(tp(p)), fmt(lq(q))] for p, q in asks]}

    def trades(self, symbol: str, limit: int) -> list[dict]:
        """The most recent ``limit`` trades, oldest first."""
        spec_for(self._symbols, symbol)
        self._tx.sync()
        limit = min(max(limit or 500, 1), 1000)
        rows = self._store.trades("symbol = ?", (symbol,), f"ORDER BY id DESC LIMIT {limit}")
        rows.reverse()
        return [{"id": t.id, "price": fmt(t.price), "qty": fmt(t.qty), "quoteQty": fmt(t.quote_qty),
                 "time": t.time, "isBuyerMaker": t.taker_side == "SELL", "isBestMatch": True}
                for t in rows]

    def historical_trades(self, symbol: str, limit: int, from_id: int | None) -> list[dict]:
        """``historicalTrades``: ``limit`` trades from id ``fromId`` on, oldest first (no
        ``fromId``: the most recent ones, as ``trades``)."""
        if from_id is None:
            return self.trades(symbol, limit)
        spec_for(self._symbols, symbol)
        self._tx.sync()
        limit = min(max(limit or 500, 1), 1000)
        rows = self._store.trades("symbol = ? AND id >= ?", (symbol, from_id), f"ORDER BY id LIMIT {limit}")
        return [{"id": t.id, "price": fmt(t.price), "qty": fmt(t.qty), "quoteQty": fmt(t.quote_qty),
                 "time": t.time, "isBuyerMaker": t.taker_side == "SELL", "isBestMatch": True}
                for t in rows]

    def agg_trades(self, symbol: str, limit: int, from_id: int | None = None,
                   start: int | None = None, end: int | None = None) -> list[dict]:
        """Trades of one taker order at one price, aggregated; ``a`` is the aggregate id."""
        spec_for(self._symbols, symbol)
        self._tx.sync()
        limit = min(max(limit or 500, 1), 1000)
        where, args = ["symbol = ?"], [symbol]
        if from_id is not None:
            where.append("agg_id >= ?"); args.append(from_id)
        if start is not None:
            where.append("time >= ?"); args.append(start)
        if end is not None:
            where.append("time <= ?"); args.append(end)
        asc = from_id is not None or start is not None
        ids = [r[0] for r in self._store.db.execute(
            f"SELECT DISTINCT agg_id FROM trades WHERE {' AND '.join(where)} "
            f"ORDER BY agg_id {'ASC' if asc else 'DESC'} LIMIT {limit}", tuple(args))]
        if not ids:
            return []
        lo, hi = min(ids), max(ids)
        rows = self._store.trades("symbol = ? AND agg_id BETWEEN ? AND ?", (symbol, lo, hi))
        out: list[dict] = []
        for t in rows:
            if out and out[-1]["a"] == t.agg_id:
                agg = out[-1]
                agg["q"] += t.qty
                agg["l"] = t.id
            else:
                out.append({"a": t.agg_id, "p": t.price, "q": t.qty, "f": t.id, "l": t.id,
                            "T": t.time, "m": t.taker_side == "SELL", "M": True})
        for agg in out:
            agg["p"], agg["q"] = fmt(agg["p"]), fmt(agg["q"])
        return out

    def klines(self, symbol: str, interval: str, start: int | None, end: int | None,
               limit: int) -> list[list]:
        """Candles ``[openTime, o, h, l, c, volume, closeTime, quoteVolume, trades,
        takerBuyBase, takerBuyQuote, "0"]``, oldest first."""
        spec_for(self._symbols, symbol)  # -1121 for an unknown symbol, before anything else
        if interval not in INTERVALS:
            raise ApiError(400, -1120, "Invalid interval.")
        self._tx.sync()
        limit = min(max(limit or 500, 1), 1000)
        now = self._now_ms()
        hi = end if end is not None else now
        span = INTERVALS[interval] * limit
        lo = start if start is not None else hi - span
        if start is not None and end is None:
            hi = start + span
        lo_open = align(interval, lo)
        candles: dict[int, _Candle] = {}

        def fold(t: int, *vals) -> None:  # type: ignore[no-untyped-def]
            k = align(interval, t)
            c = candles.get(k)
            if c is None:
                c = candles[k] = _Candle(k, vals[0])
            c.add(*vals)

        if interval == "1s":
            for t in self._store.trades("symbol = ? AND time >= ? AND time <= ?", (symbol, lo_open, hi)):
                buy = t.taker_side == "BUY"
                fold(t.time, t.price, t.price, t.price, t.price, t.qty, t.quote_qty, 1,
                     t.qty if buy else ZERO, t.quote_qty if buy else ZERO)
        else:
            for b in self._store.klines("symbol = ? AND open_time >= ? AND open_time <= ?",
                                       (symbol, lo_open, hi)):
                fold(b.open_time, b.open, b.high, b.low, b.close, b.volume, b.quote_volume, b.count,
                     b.taker_buy_base, b.taker_buy_quote)
        if lo_open not in candles:
            # The window opens between trades: start it flat at the previous close.
            if interval == "1s":
                prev = self._store.trades("symbol = ? AND time < ?", (symbol, lo_open),
                                         "ORDER BY time DESC, id DESC LIMIT 1")
                close = prev[0].price if prev else None
            else:
                prevk = self._store.klines("symbol = ? AND open_time < ?", (symbol, lo_open),
                                          "ORDER BY open_time DESC LIMIT 1")
                close = prevk[0].close if prevk else None
            if close is not None and lo_open <= min(hi, now):
                candles[lo_open] = _Candle(lo_open, close)
        rows = self._fill_gaps(interval, [candles[k] for k in sorted(candles)], min(hi, now))
        rows = rows[:limit] if start is not None else rows[-limit:]
        return [[c.open_time, fmt(c.o), fmt(c.h), fmt(c.l), fmt(c.c), fmt(c.v),
                 next_open(interval, c.open_time) - 1, fmt(c.qv), c.n, fmt(c.tbb), fmt(c.tbq), "0"]
                for c in rows]

    @staticmethod
    def _fill_gaps(interval: str, rows: list[_Candle], until: int) -> list[_Candle]:
        """Flat zero-volume candles between traded ones (and up to ``until``)."""
        if not rows:
            return rows
        out: list[_Candle] = []
        last = align(interval, until)
        for c in rows:
            if out:
                k = next_open(interval, out[-1].open_time)
                while k < c.open_time:
                    out.append(_Candle(k, out[-1].c))
                    k = next_open(interval, k)
            out.append(c)
        k = next_open(interval, out[-1].open_time)
        while k <= last and len(out) < 5000:
            out.append(_Candle(k, out[-1].c))
            k = next_open(interval, k)
        return out

    def ticker_24hr(self, symbols: list[str] | None) -> list[dict]:
        """Rolling 24 h statistics (window = the minute aggregates of the last 24 h)."""
        specs = self._specs(symbols)
        now = self._now_ms()
        open_time = now - DAY
        since = align("1m", open_time)
        return [self._ticker(spec, now, open_time, since) for spec in specs]

    def _ticker(self, spec: SymbolSpec, now: int, open_time: int, since: int) -> dict:
        st = self._stats[spec.symbol]
        window = [st.buckets[k] for k in sorted(st.buckets) if k >= since]
        before = [st.buckets[k] for k in sorted(st.buckets) if k < since]
        last = st.last_price if st.last_price is not None else ZERO
        bid_p, bid_q, ask_p, ask_q = self._touch(spec)
        if window:
            o = window[0].open
            h = max(b.high for b in window)
            l = min(b.low for b in window)
            vol = sum((b.volume for b in window), ZERO)
            qv = sum((b.quote_volume for b in window), ZERO)
            count = sum(b.count for b in window)
            first_id, last_id = window[0].first_id, window[-1].last_id
            wavg = _round_price(spec, qv / vol) if vol else ZERO
        else:
            o = h = l = last
            vol = qv = wavg = ZERO
            count, first_id, last_id = 0, -1, -1
        change = last - o if window else ZERO
        pct = (change * 100 / o).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) if o else Decimal("0.000")
        prev = before[-1].close if before else (o if window else last)
        return {
            "symbol": spec.symbol, "priceChange": fmt(change), "priceChangePercent": f"{pct:.3f}",
            "weightedAvgPrice": fmt(wavg), "prevClosePrice": fmt(prev), "lastPrice": fmt(last),
            "lastQty": fmt(st.last_qty), "bidPrice": bid_p, "bidQty": bid_q, "askPrice": ask_p,
            "askQty": ask_q, "openPrice": fmt(o), "highPrice": fmt(h), "lowPrice": fmt(l),
            "volume": fmt(vol), "quoteVolume": fmt(qv), "openTime": open_time, "closeTime": now,
            "firstId": first_id, "lastId": last_id, "count": count,
        }

    def _touch(self, spec: SymbolSpec) -> tuple[str, str, str, str]:
        bids, asks = self._books[spec.symbol].depth(1)
        z = "0.00000000"
        bp, bq = (fmt(spec.ticks_to_price(bids[0][0])), fmt(spec.lots_to_qty(bids[0][1]))) if bids else (z, z)
        ap, aq = (fmt(spec.ticks_to_price(asks[0][0])), fmt(spec.lots_to_qty(asks[0][1]))) if asks else (z, z)
        return bp, bq, ap, aq

    def ticker_price(self, symbols: list[str] | None) -> list[dict]:
        """Last trade price (the reference price before any trade)."""
        out = []
        for spec in self._specs(symbols):
            st = self._stats[spec.symbol]
            out.append({"symbol": spec.symbol,
                        "price": fmt(st.last_price if st.last_price is not None else spec.ref_price)})
        return out

    def book_ticker(self, symbols: list[str] | None) -> list[dict]:
        out = []
        for spec in self._specs(symbols):
            bp, bq, ap, aq = self._touch(spec)
            out.append({"symbol": spec.symbol, "bidPrice": bp, "bidQty": bq, "askPrice": ap, "askQty": aq})
        return out

    def avg_price(self, symbol: str) -> dict:
        spec = spec_for(self._symbols, symbol)
        st = self._stats[symbol]
        return {"mins": 5, "price": fmt(self.avg_price_value(spec)),
                "closeTime": st.last_time or self._now_ms()}



    # ------------------------------------------- windows other than the 24 h one

    def window_tickers(self, symbols: list[str] | None, open_time: int, close_time: int,
                       mini: bool) -> list[dict]:
        """Statistics of the minute aggregates opening in ``[open_time, close_time]`` — the
        rolling-window ``/api/v3/ticker`` and ``/api/v3/ticker/tradingDay`` (``FULL`` or
        ``MINI`` fields). Read from the ``kline_1m`` table, so windows up to 7 days work."""
        specs = self._specs(symbols)
        self._tx.sync()
        out = []
        for spec in specs:
            rows = self._store.klines("symbol = ? AND open_time >= ? AND open_time <= ?",
                                      (spec.symbol, open_time, close_time))
            st = self._stats[spec.symbol]
            last = st.last_price if st.last_price is not None else ZERO
            if rows:
                o = rows[0].open
                h = max(b.high for b in rows)
                l = min(b.low for b in rows)
                vol = sum((b.volume for b in rows), ZERO)
                qv = sum((b.quote_volume for b in rows), ZERO)
                count = sum(b.count for b in rows)
                first_id, last_id = rows[0].first_id, rows[-1].last_id
                wavg = _round_price(spec, qv / vol) if vol else ZERO
                change = last - o
            else:
                o = h = l = last
                vol = qv = wavg = change = ZERO
                count, first_id, last_id = 0, -1, -1
            pct = (change * 100 / o).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP) if o else Decimal("0.000")
            full = {
                "symbol": spec.symbol, "priceChange": fmt(change), "priceChangePercent": f"{pct:.3f}",
                "weightedAvgPrice": fmt(wavg), "openPrice": fmt(o), "highPrice": fmt(h),
                "lowPrice": fmt(l), "lastPrice": fmt(last), "volume": fmt(vol), "quoteVolume": fmt(qv),
                "openTime": open_time, "closeTime": close_time, "firstId": first_id, "lastId": last_id,
                "count": count,
            }
            out.append(mini_ticker(full) if mini else full)
        return out


MINI_TICKER_FIELDS = ("symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
                      "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count")
"""The fields of a ``type=MINI`` ticker (24hr, rolling window, trading day)."""


def mini_ticker(full: dict) -> dict:
    """The ``type=MINI`` form of a ``FULL`` ticker."""
    return {k: full[k] for k in MINI_TICKER_FIELDS}
