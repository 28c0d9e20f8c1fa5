"""The dashboard on streams (issue #10): panes fed by WebSocket streams, polling as fallback.

Against the real paper exchange: the status bar says how each kind of data arrives, a trade
made by another client reaches the tape, the book, the open orders and the balances without
any poll of those feeds (every REST request of the app is recorded at its httpx seam), an
exchange with stalled streams falls back to polling without showing the panes stale, and a
killed + restarted exchange is reconnected to (counted) with the data live again.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from btx_tui.api.client import BtxClient
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.messages import WatchlistChanged
from btx_tui.tui.stream_feeds import StreamFeeds
from btx_tui.tui.widgets.status_bar import StatusBar, StatusInfo, StreamStatus

from .harness import client_for, free_port, limit, make_app, ready, wait_for

SIZE = (200, 60)
SYMBOL = "BTTUSDT"
ASK = "0.0000006200"
BID = "0.0000006000"
CALM = {"tickers_interval_s": 1.0, "trades_interval_s": 1.0, "klines_interval_s": 5.0, "book_interval_s": 0.5,
        "account_interval_s": 1.0, "orders_interval_s": 1.0, "symbol": SYMBOL}


class PathLog:
    """Every REST request the app's client sends, by path (its httpx ``send`` seam)."""

    def __init__(self, client: BtxClient) -> None:
        self.paths: list[str] = []
        http = client.rest.http
        original = http.send

        async def send(request: Any, **kw: Any) -> Any:
            self.paths.append(urlsplit(str(request.url)).path)
            return await original(request, **kw)

        http.send = send  # type: ignore[method-assign]

    def count(self, path: str) -> int:
        return sum(p == path for p in self.paths)


def bar(app: BtxApp) -> str:
    return app.dashboard.query_one(StatusBar).render().plain


def streaming(app: BtxApp, *labels: str) -> bool:
    line = bar(app)
    return all(f"{label} ⚡" in line for label in labels)


async def place(exchange: PaperExchange, side: str, qty: str, price: str, tif: str = "GTC") -> Any:
    async with client_for(exchange) as other:
        result = await other.place_order(limit(SYMBOL, side, qty, price, tif))
        assert result.order is not None, result.describe()
        return result.order


async def test_panes_update_from_streams_without_polling_their_feeds(fresh_exchange: PaperExchange) -> None:
    await place(fresh_exchange, "SELL", "40000000", ASK)
    await place(fresh_exchange, "BUY", "10000000", BID)
    app = make_app(fresh_exchange, streams=True, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: streaming(app, "book", "tape", "chart", "tick", "acct"), what="every stream live")
        assert app.state.stale == frozenset()
        assert app.client is not None
        log = PathLog(app.client)
        base_trades = {t.agg_id for t in app.state.trades}
        usdt_before = app.state.account.balance("USDT").free if app.state.account else None

        # Another client (the same account, another connection) rests an order: open orders.
        resting = await place(fresh_exchange, "SELL", "10000000", "0.0000006100")
        await wait_for(pilot, lambda: any(o.order_id == resting.order_id for o in app.state.open_orders),
                       what="the resting order in open orders")
        # … and crosses it: a trade in the tape, the book changes, the order leaves, a fill.
        await place(fresh_exchange, "BUY", "10000000", "0.0000006100", "IOC")
        await wait_for(pilot, lambda: any(t.agg_id not in base_trades and t.price == Decimal("0.0000006100")
                                          for t in app.state.trades), what="the trade in the tape")
        await wait_for(pilot, lambda: all(o.order_id != resting.order_id for o in app.state.open_orders),
                       what="the filled order leaving open orders")
        await wait_for(pilot, lambda: any(f.order_id == resting.order_id for f in app.state.fills.values()),
                       what="the fill")
        await wait_for(pilot, lambda: app.state.depth is not None
                       and all(level.price != Decimal("0.0000006100") for level in app.state.depth.asks),
                       what="the filled level gone from the book")
        assert app.state.account is not None
        assert app.state.account.balance("USDT").free != usdt_before  # the balances followed
        for path in ("/api/v3/aggTrades", "/api/v3/depth", "/api/v3/openOrders", "/api/v3/account",
                     "/api/v3/ticker/24hr", "/api/v3/klines"):
            assert log.count(path) == 0, (path, log.paths)
        assert log.count("/api/v3/myTrades") >= 1  # the fill's lookup, as with polling
        assert streaming(app, "book", "tape", "tick", "acct"), bar(app)
        assert app.state.stale == frozenset()


async def test_streams_off_polls_everything_and_says_so(fresh_exchange: PaperExchange) -> None:
    await place(fresh_exchange, "SELL", "40000000", ASK)
    app = make_app(fresh_exchange, streams=False, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.streams is None
        log = PathLog(app.client)  # type: ignore[arg-type]
        await place(fresh_exchange, "BUY", "9000000", ASK, "IOC")
        await wait_for(pilot, lambda: any(t.price == Decimal(ASK) for t in app.state.trades), what="the trade")
        line = bar(app)
        assert "⟳ polling" in line and "⚡" not in line, line
        assert log.count("/api/v3/aggTrades") >= 1


async def test_a_stalled_stream_falls_back_to_polling_and_is_not_shown_stale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Found stale after 1 s of silence and a 1 s unanswered probe (5 s + 3 s by default).
    monkeypatch.setattr(StreamFeeds, "market_silence_s", 1.0)
    monkeypatch.setattr(StreamFeeds, "market_probe_timeout_s", 1.0)
    exchange = start_paper_exchange(tmp_path / "paper", market=False, seed=1,
                                    extra_args=["--fault", "ws_stall:WS /ws:1.0", "--fault-seed", "1"])
    try:
        await place(exchange, "SELL", "40000000", ASK)
        app = make_app(exchange, streams=True, **CALM)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: app.streams is not None and app.streams.market is not None
                           and app.streams.market.health()["book"].reconnects >= 0, what="streams started")
            # Book diffs make the stalled connection fall silent; the layer finds it stale.
            for _ in range(3):
                await place(exchange, "BUY", "9000000", ASK, "IOC")
                await pilot.pause(0.3)
            await wait_for(pilot, lambda: "book ⟳poll" in bar(app), timeout=30, what="book polling")
            log = PathLog(app.client)  # type: ignore[arg-type]
            await place(exchange, "BUY", "9000000", ASK, "IOC")
            before = sum(level.qty for level in app.state.depth.asks) if app.state.depth else None
            await wait_for(pilot, lambda: log.count("/api/v3/depth") >= 1, what="the book polled again")
            await wait_for(pilot, lambda: app.state.depth is not None
                           and sum(level.qty for level in app.state.depth.asks) != before,
                           what="the polled book updated")
            assert "book" not in app.state.stale  # polling works: the pane is live, not greyed
    finally:
        exchange.stop()


async def test_a_restarted_exchange_is_reconnected_and_streams_again(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "paper"
    exchange = start_paper_exchange(data, market=False, seed=1, port=port)
    app = make_app(exchange, streams=True, **CALM)
    try:
        await place(exchange, "SELL", "40000000", ASK)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: streaming(app, "book", "tape", "acct"), what="streams live")
            exchange.kill()
            await wait_for(pilot, lambda: "book ⚡" not in bar(app), timeout=20, what="book no longer live")
            exchange = start_paper_exchange(data, market=False, seed=1, port=port)
            await wait_for(pilot, lambda: streaming(app, "book", "tape", "acct") and "reconnect" in bar(app),
                           timeout=40, what="streams live again, reconnects counted")
            await place(exchange, "BUY", "9000000", ASK, "IOC")
            await wait_for(pilot, lambda: any(t.price == Decimal(ASK) for t in app.state.trades),
                           what="a trade after the restart")
    finally:
        exchange.stop()


async def test_the_status_bar_says_how_each_kind_arrives_and_fits_80_columns() -> None:
    from .fakes import fake_app

    kinds = (StreamStatus("book", True, 12, 2), StreamStatus("tape", True, 3, 2), StreamStatus("chart", True, None, 2),
             StreamStatus("tick", False, None, 2, "stale: no message"), StreamStatus("acct", True, 40, 1))
    info = StatusInfo(exchange="PAPER", paper=True, connection="live", latency_ms=4.0, data_age_s=0.0,
                      weight_used=120, clock_offset_ms=-1, permissions=frozenset({"READ", "TRADE"}), streams=kinds)
    app = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.dashboard.query_one(StatusBar)
        full = status.render_info(info).plain
        assert "book ⚡12ms tape ⚡3ms chart ⚡ tick ⟳poll acct ⚡40ms │ 3 reconnects" in full, full
        for width in (120, 100, 80):
            fitted = status.render_info(info, width).plain
            assert len(fitted) <= width, (width, fitted)
            assert "tick ⚡" not in fitted and "⚡" in fitted  # a polling kind is never shown live
        narrow = status.render_info(info, 80).plain
        assert "PAPER" in narrow and "live" in narrow and "data 0s old" in narrow, narrow
        await pilot.pause()


async def test_the_watchlist_stream_follows_the_watchlist(fresh_exchange: PaperExchange) -> None:
    app = make_app(fresh_exchange, streams=True, watchlist=["BTTUSDT", "BTCUSDT"], **CALM)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: streaming(app, "tick"), what="tickers streamed")
        assert {t.symbol for t in app.state.tickers} == {"BTTUSDT", "BTCUSDT"}
        app.post_message(WatchlistChanged(("BTTUSDT", "BTCUSDT", "ETHUSDT")))  # a market added (key +)
        await wait_for(pilot, lambda: app.streams is not None and app.streams.market is not None
                       and "!miniTicker@arr" in app.streams.market.subscribed_streams
                       and "ETHUSDT" in {t.symbol for t in app.state.tickers}, what="the added market's ticker")
        await wait_for(pilot, lambda: streaming(app, "tick"), what="tickers streamed again")
        app.post_message(WatchlistChanged(("ETHUSDT",)))  # and two removed
        await wait_for(pilot, lambda: {t.symbol for t in app.state.tickers} == {"ETHUSDT"},
                       what="only the remaining market")
