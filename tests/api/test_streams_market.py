"""The market stream layer (``btx_tui/api/streams``) against the real paper exchange over
loopback: the local book equals a fresh REST snapshot (with dropped / duplicated / reordered
diffs and sockets closed mid-stream), trades across a reconnect are all delivered, a stalled
stream is reported stale, and an exchange without WebSocket is reported so the caller polls."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from decimal import Decimal
from pathlib import Path

import pytest

from btx_tui.api import BtxClient
from btx_tui.api.streams import BookUpdate, MarketStreams, StreamMode, TradesUpdate
from btx_tui.exchange.http.fault_specs import make_spec
from btx_tui.exchange.http.faults import FaultInjector
from btx_tui.exchange.ws.connection import WsSettings
from tests.exchange.ws_support import ws_exchange

FAST = WsSettings(tick_ms=20)
D = Decimal


def _fast_backoff(attempt: int) -> float:
    return 0.05


def _place(wx, count: int, *, cross: bool = False) -> None:  # type: ignore[no-untyped-def]
    """``count`` book changes, paced past the diff period; ``cross``: sells that trade."""
    api = wx.api()
    try:
        for i in range(count):
            side, price = ("SELL", "49000") if cross else ("BUY", str(50000 + i % 7))
            r = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": side, "type": "LIMIT",
                                                     "timeInForce": "GTC", "quantity": "0.001", "price": price})
            assert r.status_code == 200, r.text
            time.sleep(0.03)
    finally:
        api.close()


async def _until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def _book_equals_fresh_snapshot(streams: MarketStreams, client: BtxClient, wx) -> None:  # type: ignore[no-untyped-def]
    """Quiet book: the local book and a fresh REST snapshot agree on id and every level.

    A gap is only visible at the next event (a dropped LAST diff is indistinguishable from
    silence), so every second without agreement one more book change is made."""
    for attempt in range(100):
        if attempt and attempt % 10 == 0:
            await asyncio.to_thread(_place, wx, 1)
        fresh = await client.depth("BTCUSDT", 100)
        local = streams.book("BTCUSDT")
        if local is not None and local.last_update_id == fresh.last_update_id:
            assert local.bids == fresh.bids and local.asks == fresh.asks
            assert local.bids  # the orders placed, not an empty book
            return
        await asyncio.sleep(0.1)
    raise AssertionError("local book never reached the REST snapshot's update id")


@pytest.mark.parametrize("fault", [None, "ws_drop_diff", "ws_duplicate_diff", "ws_reorder_diff", "ws_close"])
async def test_book_equals_a_fresh_snapshot_despite_stream_faults(tmp_path: Path, fault: str | None) -> None:
    faults = FaultInjector([make_spec(fault, "WS /ws", 0.25)], seed=5) if fault else None
    with ws_exchange(tmp_path, FAST, faults=faults) as wx:
        updates: list[BookUpdate] = []
        async with BtxClient(wx.base_url) as client:
            streams = MarketStreams(client, lambda u: updates.append(u) if isinstance(u, BookUpdate) else None,
                                    backoff=_fast_backoff)
            streams.follow("BTCUSDT", None)
            async with streams:
                await _until(lambda: streams.health()["book"].mode is StreamMode.STREAM)
                await asyncio.to_thread(_place, wx, 30)
                await _book_equals_fresh_snapshot(streams, client, wx)
                health = streams.health()["book"]
        assert updates and all(u.symbol == "BTCUSDT" for u in updates)
        ids = [u.depth.last_update_id for u in updates]
        if fault is not None:
            assert faults is not None and faults.injected[fault] >= 1
        if fault in ("ws_drop_diff", "ws_reorder_diff"):
            assert streams.resyncs >= 1  # the gap was seen, not papered over
        if fault == "ws_close":
            assert health.reconnects >= 1
        if fault is None:
            assert ids == sorted(ids) and streams.resyncs == 0 and health.reconnects == 0
            assert health.live and health.lag_ms is not None and health.lag_ms >= 0 and health.reason is None


async def test_trades_across_reconnects_are_all_delivered_once(tmp_path: Path) -> None:
    faults = FaultInjector([make_spec("ws_close", "WS /ws", 0.3)], seed=3)
    with ws_exchange(tmp_path, FAST, faults=faults) as wx:
        _place(wx, 1)  # a resting bid at 50000 for the sells to hit
        api = wx.api()
        r = api.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                 "timeInForce": "GTC", "quantity": "0.05", "price": "50000"})
        assert r.status_code == 200, r.text
        api.close()
        seen: list[int] = []
        async with BtxClient(wx.base_url) as client:
            def on_update(u) -> None:  # type: ignore[no-untyped-def]
                if isinstance(u, TradesUpdate):
                    seen.extend(t.agg_id for t in u.trades)
            streams = MarketStreams(client, on_update, backoff=_fast_backoff)
            streams.follow("BTCUSDT", None)
            async with streams:
                await _until(lambda: streams.health()["trades"].mode is StreamMode.STREAM)
                await asyncio.to_thread(_place, wx, 25, cross=True)
                everything = await client.agg_trades("BTCUSDT", limit=1000, from_id=0)
                await _until(lambda: bool(seen) and seen[-1] >= everything[-1].agg_id)
                reconnects = streams.health()["trades"].reconnects
        assert faults.injected["ws_close"] >= 1 and reconnects >= 1
        assert seen == [t.agg_id for t in everything]  # each once, in order, none missing


async def test_a_stalled_stream_is_reported_stale_and_reconnected(tmp_path: Path) -> None:
    faults = FaultInjector([make_spec("ws_stall", "WS /ws", 1.0)], seed=1)
    with ws_exchange(tmp_path, FAST, faults=faults) as wx:
        modes: list[tuple[str, str | None]] = []
        async with BtxClient(wx.base_url) as client:
            streams = MarketStreams(client, lambda u: None, backoff=_fast_backoff, silence_s=0.5,
                                    probe_timeout_s=0.5,
                                    on_health=lambda h: modes.append((h["book"].mode, h["book"].reason)))
            streams.follow("BTCUSDT", None)
            async with streams:
                await _until(lambda: streams.health()["book"].mode is StreamMode.STREAM)
                await asyncio.to_thread(_place, wx, 2)
                await _until(lambda: (StreamMode.POLLING, "stale: no message") in modes)
                await _until(lambda: streams.health()["book"].reconnects >= 1)
        assert faults.injected["ws_stall"] >= 1


class _PlainHttp(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def test_an_exchange_without_websocket_is_reported_for_polling() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlainHttp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        async with BtxClient(f"http://127.0.0.1:{server.server_address[1]}") as client:
            streams = MarketStreams(client, lambda u: None, backoff=_fast_backoff)
            streams.follow("BTCUSDT", "1m")
            streams.watch(["BTCUSDT", "ETHUSDT"])
            async with streams:
                await _until(lambda: streams.unsupported_reason is not None)
                health = streams.health()
        assert streams.unsupported_reason is not None and streams.unsupported_reason.startswith("streams not served")
        assert all(h.mode is StreamMode.POLLING and not h.live for h in health.values())
    finally:
        server.shutdown()
        server.server_close()


async def test_wanted_set_limits_are_refused_without_change(tmp_path: Path) -> None:
    async with BtxClient("http://127.0.0.1:9") as client:
        streams = MarketStreams(client, lambda u: None)
        streams.watch(["BTCUSDT"])
        with pytest.raises(ValueError, match="at most 100"):
            streams.watch([f"S{i}USDT" for i in range(101)])
        assert streams.wanted_streams == {"!miniTicker@arr"}
        streams.follow("ethusdt", "1m")
        assert streams.wanted_streams == {"!miniTicker@arr", "ethusdt@depth@100ms", "ethusdt@aggTrade",
                                          "ethusdt@kline_1m"}


def _order(wx, symbol: str, side: str, qty: str, price: str) -> None:  # type: ignore[no-untyped-def]
    api = wx.api()
    try:
        r = api.signed("POST", "/api/v3/order", {"symbol": symbol, "side": side, "type": "LIMIT",
                                                 "timeInForce": "GTC", "quantity": qty, "price": price})
        assert r.status_code == 200, r.text
    finally:
        api.close()


async def test_klines_and_watchlist_tickers_equal_rest_and_the_market_switches_live(tmp_path: Path) -> None:
    from btx_tui.api.streams import KlineUpdate, TickersUpdate

    with ws_exchange(tmp_path, FAST) as wx:
        klines: list[KlineUpdate] = []
        tickers: list[TickersUpdate] = []

        def on_update(u) -> None:  # type: ignore[no-untyped-def]
            if isinstance(u, KlineUpdate):
                klines.append(u)
            elif isinstance(u, TickersUpdate):
                tickers.append(u)

        async with BtxClient(wx.base_url) as client:
            streams = MarketStreams(client, on_update, backoff=_fast_backoff)
            streams.watch(["BTCUSDT", "ETHUSDT"])
            streams.follow("BTCUSDT", "1m")
            async with streams:
                await _until(lambda: streams.subscribed_streams == streams.wanted_streams
                             and {t.symbol for u in tickers for t in u.tickers} == {"BTCUSDT", "ETHUSDT"})
                seeded = len(tickers)
                await asyncio.to_thread(_order, wx, "BTCUSDT", "BUY", "0.002", "50000")
                await asyncio.to_thread(_order, wx, "BTCUSDT", "SELL", "0.001", "49000")
                await asyncio.to_thread(_order, wx, "BTCUSDT", "SELL", "0.001", "49000")
                rest_ticker = await client.ticker_24hr("BTCUSDT")
                rest_kline = (await client.klines("BTCUSDT", "1m", limit=1))[-1]

                def streamed_ticker():  # type: ignore[no-untyped-def]
                    return next((t for u in reversed(tickers[seeded:]) for t in u.tickers
                                 if t.symbol == "BTCUSDT"), None)

                await _until(lambda: (t := streamed_ticker()) is not None and t.volume == rest_ticker.volume)
                await _until(lambda: any(not u.gap_fill and u.klines[-1].volume == rest_kline.volume
                                         for u in klines))
                ticker = streamed_ticker()
                kline = next(u.klines[-1] for u in reversed(klines) if not u.gap_fill)
                # the market switches on the same connection: SUBSCRIBE/UNSUBSCRIBE, book resynced
                streams.follow("ETHUSDT", "1m")
                await _until(lambda: streams.subscribed_streams == streams.wanted_streams)
                await asyncio.to_thread(_order, wx, "ETHUSDT", "BUY", "0.01", "1000")
                await _until(lambda: streams.book("ETHUSDT") is not None
                             and streams.book("ETHUSDT").bids[:1] == ((D("1000.00"), D("0.0100")),))
                fresh = await client.depth("ETHUSDT", 100)
                eth = streams.book("ETHUSDT")
                reconnects = streams.health()["book"].reconnects
        assert ticker is not None
        for field in ("last_price", "open_price", "high_price", "low_price", "volume", "quote_volume"):
            assert getattr(ticker, field) == getattr(rest_ticker, field), field
        assert ticker.price_change == rest_ticker.last_price - rest_ticker.open_price
        for field in ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"):
            assert getattr(kline, field) == getattr(rest_kline, field), field
        assert eth is not None and eth.bids == fresh.bids and eth.asks == fresh.asks
        assert streams.book("BTCUSDT") is None  # unsubscribed: no stale book kept
        assert reconnects == 0
