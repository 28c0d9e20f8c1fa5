"""Market-stream fan-out: engine events in, stream events out to every subscribed connection.

The hub subscribes once to the exchange's event bus (``state/events.py``) and turns what the
engine reports *as it happens* into stream events - nothing here polls the exchange:

* ``TradeExecuted`` -> ``trade`` at once; ``aggTrade`` once the aggregate (one taker at one
  price) is complete, i.e. at the next non-trade event of the transaction;
* ``DepthChanged`` -> ``bookTicker`` at once; ``depth``/``depth@100ms`` diffs are merged per
  symbol and speed, keeping the first ``U`` and the last ``u`` of the merged events, and sent
  once per period, so ``U`` of each event is the previous ``u`` + 1 on every connection;
  ``depthN`` partial books are re-read for the symbols that moved, once per period;
* a trade marks its symbol for the once-a-second streams: ``kline_*``, ``ticker``,
  ``miniTicker``, the ``!...@arr`` arrays (symbols that changed only) and ``avgPrice``, whose
  values are read from the market-data part for those symbols only.

Each event is encoded once per stream and pushed to the queues of the connections
(:class:`~.connection.Connection`) - raw, or wrapped as ``{"stream","data"}`` for combined
ones.  Throttled streams flush on a tick task (``WsSettings.tick_ms``).  Stream faults
(``stream_faults.py``) act on the diff events here, per connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from btx_tui.exchange.state.events import DepthChanged, Event, TradeExecuted
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.ws import streams as S
from btx_tui.exchange.ws.connection import Connection, WsSettings, combined_frame, encode
from btx_tui.exchange.ws.stream_faults import StreamFaults

__all__ = ["MarketHub", "Sink"]

log = logging.getLogger("btx_tui.exchange.ws")


class Sink(Protocol):
    """Where a stream's events go (a market-stream connection)."""

    combined: bool
    conn: Connection

    def deliver(self, stream: str, data: str) -> None: ...


class _Diff:
    __slots__ = ("first", "last", "bids", "asks")

    def __init__(self, first: int) -> None:
        self.first = first
        self.last = first - 1
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}


class MarketHub:
    """Stream subscriptions of every connection, fed by the engine's events."""

    def __init__(self, exchange: Exchange, settings: WsSettings,
                 faults: StreamFaults | None = None) -> None:
        self._ex = exchange
        self.settings = settings
        self.faults = faults
        self._subs: dict[str, dict[Sink, None]] = {}
        self._streams: dict[str, S.Stream] = {}
        self._diffs: dict[tuple[str, int], _Diff] = {}
        self._partial_dirty: dict[int, set[str]] = {100: set(), 1000: set()}
        self._traded: set[str] = set()
        self._agg: list[TradeExecuted] = []
        self._every_second: list[Callable[[], None]] = []
        self._ticks = 0
        self._task: asyncio.Task | None = None
        self._unsubscribe_events = exchange.events.subscribe(self._on_event)

    # ---- subscriptions ------------------------------------------------------------------
    def subscribe(self, stream: S.Stream, sink: Sink) -> None:
        subs = self._subs.get(stream.name)
        if subs is None:
            subs = self._subs[stream.name] = {}
            self._streams[stream.name] = stream
        subs[sink] = None

    def unsubscribe(self, name: str, sink: Sink) -> None:
        subs = self._subs.get(name)
        if subs is not None:
            subs.pop(sink, None)
            if not subs:
                del self._subs[name]
                del self._streams[name]

    def every_second(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the tick task once a second (listenKey expiry, connection life)."""
        self._every_second.append(callback)

    def _has(self, name: str) -> bool:
        return name in self._subs

    def _publish(self, name: str, doc: object) -> None:
        subs = self._subs.get(name)
        if not subs:
            return
        data = encode(doc)
        wrapped = None
        for sink in tuple(subs):
            if sink.combined:  # encoded once per event, not once per connection
                if wrapped is None:
                    wrapped = combined_frame(name, data)
                sink.conn.push(wrapped)
            else:
                sink.conn.push(data)

    # ---- engine events ------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if type(event) is TradeExecuted:
            self._on_trade(event)
            return
        if self._agg:
            self._flush_agg()
        if type(event) is DepthChanged:
            self._on_depth(event)

    def _on_trade(self, t: TradeExecuted) -> None:
        if not self._subs:
            return
        lower = t.symbol.lower()
        now = self._ex.now_ms()
        self._publish(f"{lower}@trade", S.trade_event(t, now))
        self._traded.add(t.symbol)
        if f"{lower}@aggTrade" in self._subs:
            if self._agg and (self._agg[-1].agg_id != t.agg_id or self._agg[-1].symbol != t.symbol):
                self._flush_agg()
            self._agg.append(t)

    def _flush_agg(self) -> None:
        trades, self._agg = self._agg, []
        self._publish(f"{trades[0].symbol.lower()}@aggTrade", S.agg_trade_event(trades, self._ex.now_ms()))

    def _on_depth(self, d: DepthChanged) -> None:
        if not self._subs:
            return
        lower = d.symbol.lower()
        for speed, suffix in ((100, "@depth@100ms"), (1000, "@depth")):
            if f"{lower}{suffix}" in self._subs or (speed == 1000 and f"{lower}@depth@1000ms" in self._subs):
                diff = self._diffs.get((d.symbol, speed))
                if diff is None:
                    diff = self._diffs[(d.symbol, speed)] = _Diff(d.first_update_id)
                diff.last = d.update_id
                diff.bids.update(d.bids)
                diff.asks.update(d.asks)
        self._partial_dirty[100].add(d.symbol)
        self._partial_dirty[1000].add(d.symbol)
        name = f"{lower}@bookTicker"
        if name in self._subs:
            row = self._ex.market_data.book_ticker([d.symbol])[0]
            self._publish(name, S.book_ticker_event(row, d.update_id))

    # ---- throttled streams --------------------------------------------------------------
    def ensure_running(self) -> None:
        """Start the tick task on the server's loop (each connection calls this)."""
        if self._task is None or self._task.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._task = loop.create_task(self._tick_loop())

    async def _tick_loop(self) -> None:
        period = self.settings.tick_ms / 1000
        per_second = max(1, round(1000 / self.settings.tick_ms))
        while True:
            await asyncio.sleep(period)
            self._ticks += 1
            try:
                self.flush(100)
                if self._ticks % per_second == 0:
                    self.flush(1000)
                    self._flush_each_second()
            except Exception:  # a bug here must not stop every stream
                log.exception("stream tick failed")

    def flush(self, speed: int) -> None:
        """Send the merged diffs and the partial books of one speed."""
        now = self._ex.now_ms()
        for (symbol, diff_speed), diff in list(self._diffs.items()):
            if diff_speed != speed:
                continue
            del self._diffs[(symbol, speed)]
            doc = S.depth_update_event(symbol, diff.first, diff.last, diff.bids, diff.asks, now)
            lower = symbol.lower()
            names = [f"{lower}@depth@100ms"] if speed == 100 else [f"{lower}@depth", f"{lower}@depth@1000ms"]
            for name in names:
                if self.faults is not None:
                    self.faults.publish_diff(self._subs.get(name), name, encode(doc))
                else:
                    self._publish(name, doc)
        dirty, self._partial_dirty[speed] = self._partial_dirty[speed], set()
        for symbol in dirty:
            lower = symbol.lower()
            for levels in (5, 10, 20):
                name = f"{lower}@depth{levels}@100ms" if speed == 100 else f"{lower}@depth{levels}"
                names = [name] if speed == 100 else [name, f"{name}@1000ms"]
                for n in names:
                    if n in self._subs:
                        depth = self._ex.market_data.depth(symbol, levels)
                        self._publish(n, S.partial_depth_event(depth))

    def _flush_each_second(self) -> None:
        for callback in tuple(self._every_second):
            try:
                callback()
            except Exception:
                log.exception("once-a-second callback failed")
        traded, self._traded = self._traded, set()
        if not traded or not self._subs:
            return
        now = self._ex.now_ms()
        md = self._ex.market_data
        wants_arr = "!ticker@arr" in self._subs or "!miniTicker@arr" in self._subs
        symbols = sorted(s for s in traded if wants_arr or any(
            f"{s.lower()}@{k}" in self._subs for k in ("ticker", "miniTicker")))
        tickers = md.ticker_24hr(symbols) if symbols else []
        for t in tickers:
            lower = t["symbol"].lower()
            self._publish(f"{lower}@ticker", S.ticker_event(t, now))
            self._publish(f"{lower}@miniTicker", S.mini_ticker_event(t, now))
        if tickers:
            self._publish("!ticker@arr", [S.ticker_event(t, now) for t in tickers])
            self._publish("!miniTicker@arr", [S.mini_ticker_event(t, now) for t in tickers])
        for name, stream in list(self._streams.items()):
            if stream.symbol not in traded:
                continue
            if stream.kind == "kline":
                assert stream.interval is not None and stream.symbol is not None
                rows = md.klines(stream.symbol, stream.interval, None, None, 1)
                if rows:
                    self._publish(name, S.kline_event(stream.symbol, stream.interval, rows[-1], now))
            elif stream.kind == "avgPrice":
                assert stream.symbol is not None
                self._publish(name, S.avg_price_event(stream.symbol, md.avg_price(stream.symbol), now))

    async def stop(self) -> None:
        self._unsubscribe_events()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
