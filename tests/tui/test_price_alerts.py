"""Price alerts from the dashboard, against a real paper exchange: set with ``a`` (bad input
refused, nothing saved), fired once when a real order moves the price through, listed and
removed with ``A``, kept across a restart; a damaged file warns and the app keeps running."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static

from btx_tui.api.alerts import ALERTS_FILE, AlertBook
from btx_tui.exchange.process.launcher import PaperExchange
from tests.paper_account import PaperAccount
from btx_tui.tui.screens.alerts import AlertForm, AlertsScreen

from .harness import client_for, limit, make_app, market, notifications, ready, wait_for

ALERT_TEXT = "Price alert: BTCUSDT above 95,500.00: last 96,000.00"


async def test_alert_set_fires_once_is_listed_and_removed(fresh_exchange: PaperExchange, tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = make_app(fresh_exchange, symbol="BTCUSDT", alerts_dir=data)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.price_alerts.last_price("BTCUSDT"), what="a last price")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertForm), what="the alert form")
        form = app.screen
        # Bad input: a clear error, nothing saved.
        await pilot.press(*"abc", "enter")
        await pilot.pause(0.1)
        assert "is not a number" in str(form.query_one("#alert-error", Static).render())
        assert app.price_alerts.alerts() == [] and not (data / ALERTS_FILE).exists()
        form.query_one("#alert-value", Input).value = ""
        assert form.query_one("#alert-kind", Select).value == "above"
        await pilot.press(*"95500", "enter")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the form closing")
        [alert] = app.price_alerts.alerts()
        assert not alert.fired and [a.id for a in AlertBook.open(data).list()] == [alert.id]
        assert ALERT_TEXT not in notifications(app)
        # A real trade moves the last price through the level (a self-trade at 96,000).
        async with client_for(fresh_exchange) as client:
            await client.place_order(limit("BTCUSDT", "SELL", "0.001", "96000"))
            await client.place_order(market("BTCUSDT", "BUY", "0.001"))
        await wait_for(pilot, lambda: ALERT_TEXT in notifications(app), what="the alert's notification")
        await pilot.pause(1.5)  # several more tickers polls at 96,000
        assert notifications(app).count(ALERT_TEXT) == 1, notifications(app)
        assert app.price_alerts.alerts()[0].fired
        # Listed as fired, then removed from the list.
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen), what="the alerts list")
        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["BTCUSDT above 95,500.00", "fired at 96,000.00"]
        await pilot.press("d")
        await pilot.pause(0.1)
        assert table.row_count == 0 and app.price_alerts.alerts() == []
        assert AlertBook.open(data).list() == []
        await pilot.press("escape")
        # One more alert, to outlive the app.
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertForm), what="the alert form")
        app.screen.query_one("#alert-kind", Select).value = "below"
        await pilot.press(*"90000", "enter")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the form closing")
    again = make_app(fresh_exchange, symbol="BTCUSDT", alerts_dir=data)
    async with again.run_test(size=(120, 36)) as pilot:
        await ready(pilot)  # the market's tick is known
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(again.screen, AlertsScreen), what="the alerts list")
        table = again.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(0)] == ["BTCUSDT below 90,000.00", "waiting"]


async def test_damaged_alerts_file_warns_and_the_app_runs(fresh_account: PaperAccount, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / ALERTS_FILE).write_text("{not json", encoding="utf-8")
    app = make_app(fresh_account, symbol="BTCUSDT", alerts_dir=data)
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)  # the feeds run
        [warning] = [n for n in app._notifications if n.title == "Alerts off"]
        assert warning.severity == "warning" and "is damaged" in warning.message
        await pilot.press("a")
        await pilot.pause(0.1)
        assert app.screen is app.dashboard  # no form: it could not be saved
    assert (data / ALERTS_FILE).read_text(encoding="utf-8") == "{not json"  # left for the user
