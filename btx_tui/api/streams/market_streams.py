"""One combined-stream WebSocket connection for all market data the dashboard shows: the
selected market's diff depth, aggregate trades and klines, and ``!miniTicker@arr`` for the
watchlist — turned into the same snapshots a REST poll produces (:mod:`.market_updates`).

Why one connection and live SUBSCRIBE/UNSUBSCRIBE: the standard caps a connection at 5
incoming messages per second and 1,024 streams, and a reconnect per market switch would lose
the book each time. The caller states what it wants (:meth:`MarketStreams.follow`,
:meth:`MarketStreams.watch`); a single task turns the difference with what is subscribed into
at most one UNSUBSCRIBE and one SUBSCRIBE (names batched), paced under the limit.

Nothing is missed across a reconnect: after each (re)subscribe the connection fills the gap
from REST (``aggTrades?fromId=`` after the last trade seen, ``klines?startTime=`` from the last
candle seen, a fresh ticker seed) and resyncs each book from a snapshot. A connection that stays
open but goes silent is probed (``LIST_SUBSCRIPTIONS``); no answer → stale → reconnect.
Health per stream kind (:class:`~.stream_health.HealthSnapshot`) tells the caller when to poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..errors import BtxError
from ..models import AggTrade, Depth, Ticker24h
from .market_updates import (
    BookUpdate,
    KlineUpdate,
    MarketUpdate,
    TickersUpdate,
    TradesUpdate,
    kline_from_event,
    merge_mini_ticker,
)
from .order_book_sync import BookOutOfSync, OrderBookSync
from .stream_health import HealthSnapshot, StreamHealth, StreamMode
from .ws_connect import RECONNECT_BACKOFF, StreamsNotServed, http_to_ws, loads, open_socket

if TYPE_CHECKING:
    from ..client import BtxClient

__all__ = ["MAX_STREAMS", "MAX_WATCHLIST", "KINDS", "MarketStreams"]

log = logging.getLogger("btx_tui.api.streams")

MAX_STREAMS = 1024
MAX_WATCHLIST = 100
MINI_TICKERS = "!miniTicker@arr"
KINDS = ("book", "trades", "kline", "tickers")
_AGG_PAGE = 1000
_MAX_FILL_PAGES = 10


class MarketStreams:
    """The market-data stream connection.

    Args:
        client: the REST client (snapshots and gap fills; its ``base_url`` gives the ws URL).
        on_update: called on the event loop with each :data:`~.market_updates.MarketUpdate`;
            an exception in it is logged and does not stop the stream.
        on_health: called with :meth:`health` whenever a kind's mode changes.
        ws_url: ``ws(s)://host:port`` when it is not the REST host and port.
        book_levels: levels per side in each ``BookUpdate`` (REST ``limit``).
        snapshot_limit: ``limit`` of the REST snapshot a book syncs from.
        silence_s: no message for this long → probe the connection.
        probe_timeout_s: no answer to the probe → stale: reconnect.
        min_send_interval_s: pacing of outgoing messages (the exchange allows 5 per second).
        backoff: ``attempt -> seconds`` between reconnects.
    """

    def __init__(self, client: BtxClient, on_update: Callable[[MarketUpdate], None], *,
                 on_health: Callable[[dict[str, HealthSnapshot]], None] | None = None,
                 ws_url: str | None = None, book_levels: int = 100, snapshot_limit: int = 1000,
                 silence_s: float = 5.0, probe_timeout_s: float = 3.0, min_send_interval_s: float = 0.25,
                 trades_seed: int = 100, klines_seed: int = 100,
                 backoff: Callable[[int], float] = RECONNECT_BACKOFF.delay) -> None:
        self._client = client
        self._on_update = on_update
        self._on_health = on_health
        self._url = (ws_url or http_to_ws(client.base_url)).rstrip("/") + "/stream"
        self._book_levels = book_levels
        self._snapshot_limit = snapshot_limit
        self._silence_s = silence_s
        self._probe_timeout_s = probe_timeout_s
        self._min_send = min_send_interval_s
        self._trades_seed = trades_seed
        self._klines_seed = klines_seed
        self._backoff = backoff
        self._health = {kind: StreamHealth(kind) for kind in KINDS}
        # what the caller wants
        self._symbol: str | None = None
        self._interval: str | None = None
        self._watch: tuple[str, ...] = ()
        self._changed = asyncio.Event()
        # per connection
        self._ws: ClientConnection | None = None
        self._subscribed: set[str] = set()
        self._rejected: set[str] = set()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._last_send = 0.0
        self._send_lock = asyncio.Lock()
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._books: dict[str, OrderBookSync] = {}
        self._snapshotting: set[str] = set()
        self._filling: dict[str, list[AggTrade]] = {}
        # kept across connections: what has been delivered
        self._last_agg: dict[str, int] = {}
        self._last_kline: dict[tuple[str, str], int] = {}
        self._tickers: dict[str, Ticker24h] = {}
        self._task: asyncio.Task[None] | None = None
        self.unsupported_reason: str | None = None
        """Set when the exchange answered the upgrade but serves no streams (poll instead)."""
        self.resyncs = 0
        """Books resynced from a snapshot after a gap (dropped/reordered diff)."""

    # ---- what the caller wants ------------------------------------------------------------
    def follow(self, symbol: str | None, kline_interval: str | None = "1m") -> None:
        """Stream ``symbol``'s book, trades and ``kline_interval`` candles (None: no market)."""
        symbol = symbol.upper() if symbol else None
        self._check_count(self._names(symbol, kline_interval, self._watch))
        if (symbol, kline_interval) != (self._symbol, self._interval):
            self._symbol, self._interval = symbol, kline_interval
            self._changed.set()

    def watch(self, symbols: Iterable[str]) -> None:
        """The watchlist: tickers of these symbols (≤ 100) from one ``!miniTicker@arr``."""
        wanted = tuple(dict.fromkeys(s.upper() for s in symbols))
        if len(wanted) > MAX_WATCHLIST:
            raise ValueError(f"a watchlist holds at most {MAX_WATCHLIST} markets, not {len(wanted)}")
        if wanted != self._watch:
            added = [s for s in wanted if s not in self._watch]
            self._watch = wanted
            for gone in [s for s in self._tickers if s not in wanted]:
                del self._tickers[gone]
            if added and self._ws is not None:
                self._spawn(self._seed_tickers(added))
            self._changed.set()

    @staticmethod
    def _names(symbol: str | None, interval: str | None, watch: tuple[str, ...]) -> set[str]:
        names: set[str] = set()
        if symbol:
            s = symbol.lower()
            names |= {f"{s}@depth@100ms", f"{s}@aggTrade"}
            if interval:
                names.add(f"{s}@kline_{interval}")
        if watch:
            names.add(MINI_TICKERS)
        return names

    @staticmethod
    def _check_count(names: set[str]) -> None:
        if len(names) > MAX_STREAMS:
            raise ValueError(f"one connection carries at most {MAX_STREAMS} streams")

    @property
    def wanted_streams(self) -> frozenset[str]:
        return frozenset(self._names(self._symbol, self._interval, self._watch))

    @property
    def subscribed_streams(self) -> frozenset[str]:
        return frozenset(self._subscribed)

    def book(self, symbol: str) -> Depth | None:
        """The synced local book of ``symbol`` now, or None."""
        sync = self._books.get(symbol.upper())
        return sync.depth(self._book_levels) if sync is not None and sync.synced else None

    def health(self) -> dict[str, HealthSnapshot]:
        """Per kind (``book``, ``trades``, ``kline``, ``tickers``): mode, lag, reconnects."""
        return {kind: h.snapshot() for kind, h in self._health.items()}

    # ---- life -------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="market-streams")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> MarketStreams:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _set_modes(self, mode: StreamMode, reason: str | None, kinds: Iterable[str] = KINDS) -> None:
        changed = False
        for kind in kinds:
            h = self._health[kind]
            if (h.mode, h.reason) != (mode, reason):
                h.set_mode(mode, reason)
                changed = True
        if changed and self._on_health is not None:
            try:
                self._on_health(self.health())
            except Exception:
                log.exception("on_health callback failed")

    async def _run(self) -> None:
        attempt = 0
        connected_once = False
        while True:
            try:
                ws = await open_socket(self._url)
            except StreamsNotServed as exc:
                self.unsupported_reason = str(exc)
                self._set_modes(StreamMode.POLLING, str(exc))
                attempt += 1
                await asyncio.sleep(max(self._backoff(attempt), 5.0))
                continue
            except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
                self._set_modes(StreamMode.POLLING, f"stream down: {type(exc).__name__}")
                attempt += 1
                await asyncio.sleep(self._backoff(attempt))
                continue
            self.unsupported_reason = None
            if connected_once:
                for h in self._health.values():
                    h.reconnects += 1
            connected_once = True
            reason = await self._session(ws)
            attempt = 1 if reason != "stale" else attempt + 1
            self._set_modes(StreamMode.POLLING, f"stream {reason}: reconnecting")
            await asyncio.sleep(self._backoff(attempt))

    async def _session(self, ws: ClientConnection) -> str:
        """Serve one connection until it ends; returns why ("closed", "stale")."""
        self._ws = ws
        self._subscribed = set()
        self._books = {}
        self._snapshotting = set()
        self._filling = {}
        self._rejected = set()
        self._changed.set()
        self._spawn(self._subscription_loop(ws))
        try:
            return await self._read_loop(ws)
        finally:
            self._ws = None
            tasks = list(self._conn_tasks)
            for task in tasks:
                task.cancel()
            # the children's CancelledError is returned, our own cancellation still propagates
            await asyncio.gather(*tasks, return_exceptions=True)
            for fut in self._pending.values():
                fut.cancel()
            self._pending.clear()
            await ws.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._conn_tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._conn_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("stream task failed: %r", task.exception())

    # ---- outgoing -----------------------------------------------------------------------------
    async def _request(self, ws: ClientConnection, method: str, params: list[Any] | None = None) -> Any:
        """Send one control message (paced) and wait for its answer."""
        async with self._send_lock:
            wait = self._last_send + self._min_send - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            ident = next(self._ids)
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._pending[ident] = fut
            doc: dict[str, Any] = {"method": method, "id": ident}
            if params is not None:
                doc["params"] = params
            await ws.send(_dumps(doc))
            self._last_send = time.monotonic()
        try:
            return await fut
        finally:
            self._pending.pop(ident, None)

    async def _subscription_loop(self, ws: ClientConnection) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            wanted = self._names(self._symbol, self._interval, self._watch) - self._rejected
            drop = sorted(self._subscribed - wanted)
            add = sorted(wanted - self._subscribed)
            if drop:
                await self._request(ws, "UNSUBSCRIBE", drop)
                self._subscribed -= set(drop)
                for name in drop:
                    self._forget(name)
            if add:
                self._prepare(add)  # before sending: events may follow the answer at once
                answer = await self._request(ws, "SUBSCRIBE", add)
                if isinstance(answer, dict) and "error" in answer:
                    log.warning("SUBSCRIBE refused: %s", answer["error"])
                    self._rejected |= set(add)
                    for name in add:
                        self._unprepare(name)
                    continue
                self._subscribed |= set(add)
                self._after_subscribe(add)

    def _forget(self, name: str) -> None:
        """A stream the caller no longer wants: its book and its gap-fill marks go (following
        the market again later starts from a fresh seed, not from hours of history)."""
        if name == MINI_TICKERS:
            return
        sym, kind = name.split("@", 1)
        symbol = sym.upper()
        if kind.startswith("depth"):
            self._books.pop(symbol, None)
        elif kind == "aggTrade":
            self._last_agg.pop(symbol, None)
        elif kind.startswith("kline_"):
            self._last_kline.pop((symbol, kind[len("kline_"):]), None)

    def _prepare(self, names: list[str]) -> None:
        """State for streams about to be subscribed: a book buffering diffs, trades held
        until their REST fill has been delivered (so a fill is never overtaken)."""
        for name in names:
            if name == MINI_TICKERS:
                continue
            sym, kind = name.split("@", 1)
            if kind.startswith("depth"):
                self._books[sym.upper()] = OrderBookSync(sym.upper())
            elif kind == "aggTrade":
                self._filling[sym.upper()] = []

    def _unprepare(self, name: str) -> None:
        if name != MINI_TICKERS:
            sym, kind = name.split("@", 1)
            if kind.startswith("depth"):
                self._books.pop(sym.upper(), None)
            elif kind == "aggTrade":
                self._filling.pop(sym.upper(), None)

    def _after_subscribe(self, names: list[str]) -> None:
        """Mark kinds live; fill the gap from REST for what was just subscribed."""
        for name in names:
            if name == MINI_TICKERS:
                self._set_modes(StreamMode.STREAM, None, ["tickers"])
                self._spawn(self._seed_tickers(list(self._watch)))
                continue
            sym, kind = name.split("@", 1)
            symbol = sym.upper()
            if kind.startswith("depth"):
                self._snapshotting.add(symbol)
                self._spawn(self._snapshot(symbol))
                self._set_modes(StreamMode.STREAM, None, ["book"])
            elif kind == "aggTrade":
                self._spawn(self._fill_trades(symbol))
                self._set_modes(StreamMode.STREAM, None, ["trades"])
            elif kind.startswith("kline_"):
                self._spawn(self._fill_klines(symbol, kind[len("kline_"):]))
                self._set_modes(StreamMode.STREAM, None, ["kline"])

    # ---- REST fills ---------------------------------------------------------------------------
    async def _retrying(self, what: str, call: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            try:
                return await call()
            except BtxError as exc:
                attempt += 1
                log.warning("%s failed (%s); retrying", what, type(exc).__name__)
                await asyncio.sleep(self._backoff(attempt))

    async def _fill_trades(self, symbol: str) -> None:
        try:
            last = self._last_agg.get(symbol)
            found: list[AggTrade] = []
            if last is None:
                found = list(await self._retrying("aggTrades", lambda: self._client.agg_trades(
                    symbol, limit=self._trades_seed)))
            else:
                for _ in range(_MAX_FILL_PAGES):
                    start = (found[-1].agg_id if found else last) + 1
                    page = await self._retrying("aggTrades", lambda s=start: self._client.agg_trades(
                        symbol, limit=_AGG_PAGE, from_id=s))
                    found.extend(page)
                    if len(page) < _AGG_PAGE:
                        break
                else:
                    log.warning("%s: more than %d trades missed; the fill stops there", symbol,
                                _MAX_FILL_PAGES * _AGG_PAGE)
            self._deliver_trades(symbol, found, gap_fill=True)
        finally:
            buffered = self._filling.pop(symbol, [])
        self._deliver_trades(symbol, buffered, gap_fill=False)

    def _deliver_trades(self, symbol: str, trades: list[AggTrade], *, gap_fill: bool) -> None:
        last = self._last_agg.get(symbol, -1)
        fresh = tuple(t for t in trades if t.agg_id > last)
        if fresh:
            self._last_agg[symbol] = fresh[-1].agg_id
            self._emit(TradesUpdate(symbol, fresh, gap_fill))

    async def _fill_klines(self, symbol: str, interval: str) -> None:
        start = self._last_kline.get((symbol, interval))
        klines = await self._retrying("klines", lambda: self._client.klines(
            symbol, interval, limit=1000 if start is not None else self._klines_seed, start_time=start))
        if klines:
            self._last_kline[(symbol, interval)] = klines[-1].open_time
            self._emit(KlineUpdate(symbol, interval, tuple(klines), gap_fill=True))

    async def _seed_tickers(self, symbols: list[str]) -> None:
        if not symbols:
            return
        tickers = await self._retrying("ticker/24hr", lambda: self._client.tickers_24hr(symbols))
        watched = set(self._watch)
        fresh = tuple(t for t in tickers if t.symbol in watched)
        for t in fresh:
            self._tickers[t.symbol] = t
        if fresh:
            self._emit(TickersUpdate(fresh))

    async def _snapshot(self, symbol: str) -> None:
        try:
            while True:
                sync = self._books.get(symbol)
                if sync is None:
                    return
                depth = await self._retrying("depth", lambda: self._client.depth(symbol, self._snapshot_limit))
                if self._books.get(symbol) is not sync:
                    continue
                try:
                    if sync.apply_snapshot(depth, subscribed_before=True):
                        self._emit(BookUpdate(symbol, sync.depth(self._book_levels)))
                    return
                except BookOutOfSync:  # every buffered diff is newer than the snapshot: again
                    self._books[symbol] = OrderBookSync(symbol)
        finally:
            self._snapshotting.discard(symbol)

    # ---- incoming -----------------------------------------------------------------------------
    async def _read_loop(self, ws: ClientConnection) -> str:
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for returns recv()'s message and
                # swallows a cancel that arrives in the same step, so aclose() could wait forever
                async with asyncio.timeout(self._silence_s):
                    raw = await ws.recv()
            except TimeoutError:
                if await self._probe(ws):
                    continue
                self._set_modes(StreamMode.POLLING, "stale: no message")
                return "stale"
            except ConnectionClosed:
                return "closed"
            try:
                self._dispatch(loads(raw))
            except Exception:
                log.exception("bad stream message dropped")

    async def _probe(self, ws: ClientConnection) -> bool:
        """Silence: a live idle connection answers LIST_SUBSCRIPTIONS, a stalled one does not."""
        try:
            async with asyncio.timeout(self._probe_timeout_s):
                await self._request(ws, "LIST_SUBSCRIPTIONS")
            return True
        except (TimeoutError, ConnectionClosed):
            return False

    def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if "stream" not in message:
            fut = self._pending.get(message.get("id"))  # type: ignore[arg-type]
            if fut is not None and not fut.done():
                fut.set_result(message)
            return
        name, data = message["stream"], message["data"]
        if name == MINI_TICKERS:
            self._on_tickers(data)
            return
        sym, kind = name.split("@", 1)
        symbol = sym.upper()
        if kind.startswith("depth"):
            self._health["book"].event(data.get("E"))
            self._on_depth(symbol, data)
        elif kind == "aggTrade":
            self._health["trades"].event(data.get("E"))
            trade = AggTrade.model_validate(data)
            if symbol in self._filling:
                self._filling[symbol].append(trade)
            else:
                self._deliver_trades(symbol, [trade], gap_fill=False)
        elif kind.startswith("kline_"):
            self._health["kline"].event(data.get("E"))
            interval = kind[len("kline_"):]
            kline = kline_from_event(data)
            self._last_kline[(symbol, interval)] = kline.open_time
            self._emit(KlineUpdate(symbol, interval, (kline,)))

    def _on_depth(self, symbol: str, event: dict[str, Any]) -> None:
        sync = self._books.get(symbol)
        if sync is None:
            return
        try:
            changed = sync.feed(event)
        except BookOutOfSync as exc:
            log.info("resync: %s", exc)
            self.resyncs += 1
            sync = self._books[symbol] = OrderBookSync(symbol)
            sync.feed(event)
            changed = False
        if changed:
            self._emit(BookUpdate(symbol, sync.depth(self._book_levels)))
        elif sync.needs_snapshot and symbol not in self._snapshotting:
            self._snapshotting.add(symbol)
            self._spawn(self._snapshot(symbol))

    def _on_tickers(self, events: list[dict[str, Any]]) -> None:
        out = []
        for event in events:
            base = self._tickers.get(event.get("s", ""))
            if base is not None:
                self._health["tickers"].event(event.get("E"))
                ticker = merge_mini_ticker(base, event)
                self._tickers[ticker.symbol] = ticker
                out.append(ticker)
        if out:
            self._emit(TickersUpdate(tuple(out)))

    def _emit(self, update: MarketUpdate) -> None:
        try:
            self._on_update(update)
        except Exception:
            log.exception("on_update callback failed")


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))
