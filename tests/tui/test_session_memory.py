"""Remembering the session: theme, chart interval, book grouping, selected market and watchlist
come back after a restart on the same data dir; explicit config wins; a corrupt file is ignored."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from btx_tui.config import Settings
from btx_tui.tui.session_memory import FILE_NAME, Remembered, load, save, with_remembered

from .fakes import FakeClient, fake_app
from .harness import wait_for


def app_on(data_dir: Path, explicit: tuple[str, ...] = (), **ui: object):  # type: ignore[no-untyped-def]
    app = fake_app(FakeClient(), **ui)
    # the same construction as launch: the memory file in the data dir, explicit keys win
    from btx_tui.tui.app import BtxApp

    return BtxApp(app.settings, app.connection, client_factory=app._client_factory,
                  memory_path=data_dir / FILE_NAME, explicit=explicit)


async def test_choices_made_in_the_app_come_back_after_a_restart(tmp_path: Path) -> None:
    app = app_on(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.state.rules.info is not None, what="the markets")
        dash = app.dashboard
        await pilot.press("t")  # theme
        await pilot.press("i")  # chart interval 1m → 5m
        dash.book.focus()
        await pilot.press("g")  # book grouping ×10
        dash.watchlist.focus()
        dash.watchlist.move_cursor(row=app.state.watchlist.index("TRXUSDT"))
        await pilot.press("minus")  # TRXUSDT leaves the watchlist
        await wait_for(pilot, lambda: "TRXUSDT" not in dash.watchlist.symbols, what="TRXUSDT removed")
        app.select_market("TRXUSDT")  # as found with /
        await wait_for(pilot, lambda: app.state.symbol == "TRXUSDT", what="TRXUSDT selected")
        await pilot.press("plus")  # the selected market joins the watchlist, at the end
        await wait_for(pilot, lambda: dash.watchlist.symbols[-1:] == ["TRXUSDT"], what="TRXUSDT added back")
        app.select_market("ETHUSDT")
        await wait_for(pilot, lambda: app.state.symbol == "ETHUSDT", what="ETHUSDT selected")
        theme, watchlist = app.theme, app.state.watchlist
        assert theme != "textual-dark" and app.state.chart_interval == "5m" and dash.book.group_multiple == 10
        assert watchlist == ("BTTUSDT", "BTCUSDT", "ETHUSDT", "BTTTRX", "TRXUSDT")
    saved = json.loads((tmp_path / FILE_NAME).read_text())
    assert saved["watchlist"] == list(watchlist) and saved["book_grouping"] == 10

    again = app_on(tmp_path)
    async with again.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: again.dashboard.book.group_multiple == 10, what="the grouping restored")
        assert again.theme == theme
        assert again.state.chart_interval == "5m" and again.dashboard.chart.interval == "5m"
        assert again.state.symbol == "ETHUSDT"
        assert again.state.watchlist == watchlist and again.dashboard.watchlist.symbols == list(watchlist)
        assert "group" in str(again.dashboard.book.border_title)


async def test_explicit_config_wins_over_what_was_remembered(tmp_path: Path) -> None:
    save(tmp_path / FILE_NAME, Remembered(theme="nord", chart_interval="1h", symbol="ETHUSDT"))
    app = app_on(tmp_path, explicit=("ui.theme", "ui.symbol"), theme="gruvbox", symbol="BTCUSDT")
    async with app.run_test(size=(120, 36)):
        assert app.theme == "gruvbox" and app.state.symbol == "BTCUSDT"  # set by the trader
        assert app.state.chart_interval == "1h"  # remembered, not set explicitly


@pytest.mark.parametrize("content", ["{not json", '{"chart_interval": "7m"}', '["a list"]', "\x00\x01"])
def test_a_corrupt_memory_is_ignored_with_a_warning(tmp_path: Path, content: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(content)
    with caplog.at_level(logging.WARNING):
        settings = with_remembered(Settings(), load(path))
    assert settings == Settings()
    assert "remembered session" in caplog.text


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / FILE_NAME
    save(path, Remembered(symbol="BTCUSDT", watchlist=("BTCUSDT",)))
    save(path, Remembered(symbol="ETHUSDT", watchlist=("ETHUSDT", "BTCUSDT")))
    assert load(path) == Remembered(symbol="ETHUSDT", watchlist=("ETHUSDT", "BTCUSDT"))
    assert [p.name for p in path.parent.iterdir()] == [FILE_NAME]

