"""What a streamed update costs the screen: paints and layout passes are counted, never timed.

On streams the store changes on every event. These tests pin the rules that keep the dashboard
cheap: a burst of book or trade updates is painted a few times, not once per update, and the
last update is what shows; a watchlist update that fits the columns, or a new trade on the
tape, causes no layout pass of the screen (a layout pass re-renders every pane); a column that
must widen (or may narrow) still does.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.screen import Screen

from btx_tui.api.models import AggTrade, Depth, Ticker24h
from btx_tui.tui.messages import DepthFetched, TradesFetched
from btx_tui.tui.paint_pacing import PaintPacer
from btx_tui.tui.screens.help import HelpScreen
from btx_tui.tui.widgets.status_bar import StatusBar
from btx_tui.tui.widgets import trades as trades_module
from btx_tui.tui.widgets.trades import TradesTape
from btx_tui.tui.widgets.watchlist import Watchlist
from tests.tui.fakes import ASKS, BIDS, T0, fake_app
from tests.tui.harness import wait_for

QUIET = {"book_interval_s": 3600, "trades_interval_s": 3600, "tickers_interval_s": 3600,
         "klines_interval_s": 3600, "account_interval_s": 3600, "orders_interval_s": 3600}
"""Polls that fire once at start and then stay out of the way of the updates a test posts."""


def count_layouts(monkeypatch: pytest.MonkeyPatch, screen: Screen[object]) -> list[int]:
    """A one-element counter of the screen's layout passes from now on."""
    passes = [0]
    original = screen._refresh_layout

    def counted(*args: object, **kwargs: object) -> None:
        passes[0] += 1
        original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(screen, "_refresh_layout", counted)
    return passes


def _ticker(symbol: str, last: str, volume: str = "58.56") -> Ticker24h:
    return Ticker24h.model_validate({
        "symbol": symbol, "priceChange": "0", "priceChangePercent": "1.76", "weightedAvgPrice": last,
        "lastPrice": last, "openPrice": "90000", "highPrice": "98818.34", "lowPrice": "90511.73",
        "volume": volume, "quoteVolume": "1", "openTime": 0, "closeTime": 1, "firstId": 1, "lastId": 2,
        "count": 2})


class _Panes(App[None]):
    def compose(self) -> ComposeResult:
        yield Watchlist(["BTCUSDT", "ETHUSDT"])
        yield TradesTape()


def _lines(watchlist: Watchlist) -> list[str]:
    strips = watchlist.render_lines(Region(0, 0, watchlist.size.width, watchlist.size.height))
    return ["".join(segment.text for segment in strip) for strip in strips]


async def test_watchlist_values_that_fit_cause_no_layout_and_a_wider_one_widens_its_column(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = _Panes()
    async with app.run_test(size=(160, 30)) as pilot:
        watchlist = app.query_one(Watchlist)
        watchlist.tick_sizes = {"BTCUSDT": Decimal("0.01"), "ETHUSDT": Decimal("0.01")}
        watchlist.update_tickers([_ticker("BTCUSDT", "94886"), _ticker("ETHUSDT", "3100")])
        await pilot.pause()
        layouts = count_layouts(monkeypatch, app.screen)
        measured = watchlist.width_updates
        last_width = watchlist.columns["last"].content_width  # type: ignore[index]

        for price in ("94887", "94885.5", "94890", "94889.99", "94891"):  # same width: 9 characters
            watchlist.update_tickers([_ticker("BTCUSDT", price), _ticker("ETHUSDT", "3100")])
            await pilot.pause()
        assert watchlist.width_updates == measured
        assert layouts[0] == 0
        assert "94,891.00" in next(line for line in _lines(watchlist) if "BTCUSDT" in line)

        watchlist.update_tickers([_ticker("BTCUSDT", "194891"), _ticker("ETHUSDT", "3100")])
        await pilot.pause()
        assert watchlist.width_updates > measured
        assert layouts[0] >= 1
        assert watchlist.columns["last"].content_width == last_width + 1  # type: ignore[index]
        assert "194,891.00" in next(line for line in _lines(watchlist) if "BTCUSDT" in line)

        # The widest cell shrinks back: the column narrows again, exactly as DataTable sizes it.
        watchlist.update_tickers([_ticker("BTCUSDT", "94891"), _ticker("ETHUSDT", "3100")])
        await pilot.pause()
        assert watchlist.columns["last"].content_width == last_width  # type: ignore[index]


async def test_an_unchanged_ticker_sets_no_cell() -> None:
    app = _Panes()
    async with app.run_test(size=(160, 30)) as pilot:
        watchlist = app.query_one(Watchlist)
        watchlist.update_tickers([_ticker("BTCUSDT", "94886")])
        await pilot.pause()
        updates = watchlist._update_count
        watchlist.update_tickers([_ticker("BTCUSDT", "94886")])
        assert watchlist._update_count == updates
        watchlist.update_tickers([_ticker("BTCUSDT", "94886", volume="60")])
        assert watchlist._update_count == updates + 1  # the volume cell only


def _trade(i: int) -> AggTrade:
    return AggTrade(agg_id=i, price=Decimal("94886") + i, qty=Decimal("0.5"), first_trade_id=i, last_trade_id=i,
                    time=T0 + i * 1000, is_buyer_maker=i % 2 == 0)


async def test_a_new_trade_on_the_tape_causes_no_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    app = _Panes()
    async with app.run_test(size=(160, 30)) as pilot:
        tape = app.query_one(TradesTape)
        tape.update_trades([_trade(0)], Decimal("0.01"), Decimal("0.001"))
        await pilot.pause()
        layouts = count_layouts(monkeypatch, app.screen)
        trades = [_trade(0)]
        for i in range(1, 11):
            trades.append(_trade(i))
            tape.update_trades(trades, Decimal("0.01"), Decimal("0.001"))
            await pilot.pause()
        assert layouts[0] == 0
        assert "94,896.00" in str(tape.render())  # the newest trade is on the tape


def _depth(n: int) -> Depth:
    """The fakes' book with the best bid's size set to ``n`` million."""
    bids = [[BIDS[0][0], f"{n}000000"], *[list(b) for b in BIDS[1:]]]
    return Depth.model_validate({"lastUpdateId": 100 + n, "bids": bids, "asks": [list(a) for a in ASKS]})


async def test_a_burst_of_book_updates_paints_a_few_times_and_shows_the_last() -> None:
    app = fake_app(**QUIET)
    async with app.run_test(size=(160, 50)) as pilot:
        book = app.dashboard.book
        await wait_for(pilot, lambda: any(r.kind == "bid" for r in book.rows), what="the book")
        pacer = app.dashboard.pacers["book"]
        await wait_for(pilot, lambda: not pacer.pending, what="no paint waiting")
        paints, requests = pacer.paints, pacer.requests

        # Straight into the store: posted messages of one feed replace each other in the queue.
        for n in range(1, 31):
            app.state.apply(DepthFetched(app.state.symbol, _depth(n)))
        assert pacer.requests == requests + 30
        await wait_for(pilot, lambda: not pacer.pending, what="the trailing paint")

        assert pacer.paints - paints <= 5  # leading and trailing edge, not 30
        best_bid = next(r for r in book.rows if r.kind == "bid")
        assert best_bid.size == "30,000,000"  # the last update is what shows


async def test_a_burst_of_trades_is_rendered_a_few_times_and_the_newest_shows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = fake_app(**QUIET)
    async with app.run_test(size=(160, 50)) as pilot:
        tape = app.dashboard.tape
        await wait_for(pilot, lambda: bool(tape.trades), what="the tape")
        await pilot.pause()
        rendered: list[str] = []
        render = tape.render
        monkeypatch.setattr(tape, "render", lambda: rendered.append(str(out := render())) or out)
        formatted = [0]
        fmt_price = trades_module.fmt_price

        def counted(*args: object) -> str:
            formatted[0] += 1
            return fmt_price(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(trades_module, "fmt_price", counted)
        trades: list[AggTrade] = []
        for i in range(1, 21):  # straight into the store: posted messages would replace each other
            trades.append(_trade(i))
            app.state.apply(TradesFetched(app.state.symbol, tuple(trades)))
        await wait_for(pilot, lambda: rendered and "94,906.00" in rendered[-1], what="the newest trade rendered")
        await pilot.pause()
        assert len(rendered) <= 3  # once per frame, not once per trade
        assert formatted[0] <= 3 * 60  # the text (60 rows at most) built per render, not per trade


async def test_trades_that_arrive_under_a_modal_show_when_it_closes() -> None:
    app = fake_app(**QUIET)
    async with app.run_test(size=(160, 50)) as pilot:
        tape = app.dashboard.tape
        await wait_for(pilot, lambda: bool(tape.trades), what="the tape")
        await app.push_screen(HelpScreen(app.state.permissions))
        app.post_message(TradesFetched(app.state.symbol, (_trade(7),)))
        await wait_for(pilot, lambda: app.state.trades == (_trade(7),), what="the trade stored")
        assert tape.trades != (_trade(7),)  # held: the dashboard is covered
        app.pop_screen()
        await wait_for(pilot, lambda: tape.trades == (_trade(7),), what="the held tape painted")


async def test_a_status_line_that_reads_the_same_is_not_repainted() -> None:
    app = fake_app(**QUIET)
    async with app.run_test(size=(160, 50)) as pilot:
        bar = app.dashboard.query_one(StatusBar)
        await wait_for(pilot, lambda: app.state.connection == "live", what="live")
        await pilot.pause()
        bar.render()
        bar._repaint_required = False
        bar.show(bar.info)
        assert not bar._repaint_required
        bar.show(type(bar.info)(**{**bar.info.__dict__, "connection": "down"}))
        assert bar._repaint_required


async def test_a_steady_stream_of_changes_never_starves_the_paint() -> None:
    """The deadline is set by the first unpainted change: later changes never push it back."""
    app = _Panes()
    async with app.run_test(size=(160, 30)) as pilot:
        shown: list[int] = []
        state = [0]
        pacer = PaintPacer(app.screen, lambda: shown.append(state[0]), interval_s=0.1)
        for n in range(1, 26):  # a change every 20 ms or more for at least half a second
            state[0] = n
            pacer.request()
            await asyncio.sleep(0.02)
        await wait_for(pilot, lambda: not pacer.pending, what="the trailing paint")
        assert shown[0] == 1  # the first change painted at once
        assert len(shown) >= 3  # painted during the stream, not only after it
        assert shown[-1] == 25  # the last change is what shows


async def test_a_frame_drawn_before_a_column_widens_is_not_shown_after_it() -> None:
    """DataTable re-measures a widened column when idle; a line drawn in between (a paint came
    first) was cached at the old width and, with no further cell change (a quiet market), kept
    showing the value cut — seen as the 200×60 snapshot waiting for a whole price."""
    app = _Panes()
    async with app.run_test(size=(160, 30)) as pilot:
        watchlist = app.query_one(Watchlist)
        watchlist.tick_sizes = {"BTCUSDT": Decimal("0.01"), "ETHUSDT": Decimal("0.01")}
        watchlist.update_tickers([_ticker("BTCUSDT", "94886"), _ticker("ETHUSDT", "3100")])
        await pilot.pause()
        watchlist.update_tickers([_ticker("BTCUSDT", "194891"), _ticker("ETHUSDT", "3100")], flash=False)
        early = _lines(watchlist)  # drawn before the idle re-measure: the column is still narrow
        assert not any("194,891.00" in line for line in early)
        await pilot.pause()  # idle: the column is re-measured; nothing else changes
        assert "194,891.00" in next(line for line in _lines(watchlist) if "BTCUSDT" in line)
