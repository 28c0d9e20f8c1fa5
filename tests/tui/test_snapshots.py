"""Snapshots of the dashboard, the help screen and the disconnected state, on fixed data.

Each snapshot is paired with Pilot assertions of the state it shows, so a broken screen
cannot be blessed by regenerating the picture.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot

from btx_tui.api.errors import NetworkError
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.help import HelpScreen
from btx_tui.tui.widgets.status_bar import StatusBar

from .fakes import FakeClient, fake_app, freeze_clock, resting_orders
from .harness import wait_for
from .layout_checks import EXPECTED, shown_panes

SIZE = (120, 36)


async def all_data(pilot: Pilot) -> BtxApp:
    app: BtxApp = pilot.app  # type: ignore[assignment]
    dash = app.dashboard
    await wait_for(pilot, lambda: app.state.rules.info is not None and app.state.permissions
                   and all(f.last_ok is not None for f in app.feeds.feeds.values())
                   and len(dash.watchlist.tickers) == 5 and dash.tape.trades and dash.chart.klines
                   and app.state.prices and dash.balances.balances, what="every pane filled")
    await wait_for(pilot, lambda: "0.0000006100" in drawn(dash.watchlist), what="the watchlist's columns sized")
    await pilot.pause(0.3)  # the fake answers every poll identically: the picture is stable
    return app


def drawn(widget: Any) -> str:
    """The text the widget draws now."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def test_snapshot_dashboard(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch)

    async def run_before(pilot: Pilot) -> None:
        app = await all_data(pilot)
        dash = app.dashboard
        assert app.state.symbol == "BTTUSDT"
        assert str(dash.watchlist.get_cell("BTCUSDT", "last")).strip() == "95,000.00"
        assert str(dash.watchlist.get_cell("BTTUSDT", "last")).strip() == "0.0000006100"
        assert [r.price for r in dash.book.rows if r.kind == "bid"][:2] == ["0.0000006000", "0.0000005990"]
        assert [r.price for r in dash.book.rows if r.kind == "ask"][-1] == "0.0000006200"
        spread = next(r for r in dash.book.rows if r.kind == "spread")
        assert spread.price == "spread 0.0000000200"
        assert dash.balances.balances["BTT"].locked == Decimal("10000000")
        assert len(dash.tape.trades) == 40
        # every pane on screen, side by side, none hidden behind another
        middle, book = dash.query_one("#middle").region, dash.book.region
        assert dash.chart.region.right <= dash.tape.region.x and dash.tape.region.right <= book.x
        assert dash.tape.region.width >= 30 and middle.right == book.x
        info = app.status_info()
        assert info.paper and info.connection == "live"
        assert info.permissions == {"READ", "TRADE", "WITHDRAW"}
        assert shown_panes(app) == EXPECTED[SIZE]
        assert [str(c).strip() for c in dash.open_orders.get_row("fake-1")][-6:] == [
            "SELL", "LIMIT", "0.0000007000", "10,000,000", "0%", "NEW"]

    assert snap_compare(fake_app(FakeClient(resting_orders())), terminal_size=SIZE, run_before=run_before)


def test_snapshot_dashboard_80x24(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The smallest usual terminal: chart, trades and balances give way; the rest is whole."""
    freeze_clock(monkeypatch)
    size = (80, 24)

    async def run_before(pilot: Pilot) -> None:
        app = await all_data(pilot)
        dash = app.dashboard
        assert shown_panes(app) == EXPECTED[size]
        assert not dash.chart.display or not dash.query_one("#middle").display
        table = dash.open_orders
        assert set(table.orders) == {"fake-1", "fake-2"} and table.region.width >= 70
        cells = [str(c).strip() for c in table.get_row("fake-1")]
        assert cells[-5:] == ["LIMIT", "0.0000007000", "10,000,000", "0%", "NEW"], cells
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert [r for r in dash.book.rows if r.kind == "bid"] and [r for r in dash.book.rows if r.kind == "ask"]

    assert snap_compare(fake_app(FakeClient(resting_orders())), terminal_size=size, run_before=run_before)


def test_snapshot_dashboard_200x60(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large terminal: every pane, and the book, chart and orders grow into the space."""
    freeze_clock(monkeypatch)
    size = (200, 60)

    async def run_before(pilot: Pilot) -> None:
        app = await all_data(pilot)
        dash = app.dashboard
        assert shown_panes(app) == EXPECTED[size]
        assert dash.book.region.width >= 56 and dash.book.region.height >= 36
        assert dash.chart.region.width >= 80 and dash.query_one("#account-tabs").region.height >= 16
        assert [str(c).strip() for c in dash.open_orders.get_row("fake-2")][-4:] == [
            "90,000.00", "0.00100", "40%", "PARTIAL"]

    assert snap_compare(fake_app(FakeClient(resting_orders())), terminal_size=size, run_before=run_before)


def test_snapshot_help(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch)

    async def run_before(pilot: Pilot) -> None:
        app = await all_data(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        rows = {ident: (keys, action) for keys, action, ident in app.screen.rows}
        assert rows["buy"] == ("b", "Open the order form to buy the selected market")
        assert rows["cancel_order"][0] == "c"
        assert rows["find_symbol"] == ("/", "Jump to a market by fuzzy search")
        assert rows["quit"] == ("q", "Quit btx-tui")
        assert all("disabled" not in action for _, action in rows.values())

    assert snap_compare(fake_app(), terminal_size=SIZE, run_before=run_before)


class DownClient(FakeClient):
    """The fake exchange, until it goes away: then every request fails to connect."""

    down = False

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name in ("exchange_info", "api_restrictions", "aclose") or name.startswith("_"):
            return attr
        if object.__getattribute__(self, "down") and callable(attr):
            async def refuse(*_: Any, **__: Any) -> Any:
                raise NetworkError("Could not connect to the exchange (is it running?)", maybe_sent=False)
            return refuse
        return attr


def test_snapshot_disconnected(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import btx_tui.tui.app as app_module

    monkeypatch.setattr(app_module, "freshest_age_s", lambda feeds: 12.0)
    client = DownClient()

    async def run_before(pilot: Pilot) -> None:
        app = await all_data(pilot)
        client.down = True
        app.feeds.wake_all()
        await wait_for(pilot, lambda: all(f.last_error is not None for f in app.feeds.feeds.values()),
                       what="every feed failing")
        await pilot.pause(0.2)
        info = app.status_info()
        assert info.connection == "down" and info.last_error == "exchange unreachable"
        assert info.data_age_s == 12.0
        bar = app.dashboard.query_one(StatusBar)
        assert "rtt —" in bar.render_info(info).plain  # the last round trip is not the link's state
        assert app.dashboard.book._view is not None and app.dashboard.book._view.stale
        assert app.dashboard.balances.balances  # the last known balances stay on screen
        for pane in ("#watchlist", "#book", "#chart", "#trades", "#balances", "#account-tabs"):
            assert app.dashboard.query_one(pane).has_class("-stale"), pane

    assert snap_compare(fake_app(client), terminal_size=SIZE, run_before=run_before)
