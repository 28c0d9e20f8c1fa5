"""The chart: candles with wicks, volume, axes and own marks for known klines; the depth chart.

The pure drawing is checked row by row on a widget in a small app; the wiring (the store's own
orders marked on the price axis, ``d`` switching to depth, the title's dash until a price is
known) on the real dashboard over the fake client.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from textual.app import App, ComposeResult

from btx_tui.api.models import Depth, Kline
from btx_tui.tui.widgets.chart import AXIS_WIDTH, ChartData, OwnMarks, PriceChart, candle_glyph, time_label

from .fakes import FakeClient, fake_app, resting_orders
from .harness import wait_for

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def kline(i: int, o: str, h: str, low: str, c: str, volume: str = "1") -> Kline:
    start = T0 + i * 60_000
    return Kline.model_validate([start, o, h, low, c, volume, start + 59_999, "0", 1, "0", "0"])


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PriceChart(id="chart")


def column(rows: list[str], x: int) -> str:
    return "".join(r[x] if x < len(r) else " " for r in rows)


def test_time_labels_fit_the_interval() -> None:
    utc = ZoneInfo("UTC")
    assert time_label(T0 + 61_000, "1s", utc) == "00:01:01"
    assert time_label(T0 + 61_000, "1m", utc) == "00:01"
    assert time_label(T0, "1d", utc) == "01-01"
    assert time_label(T0, "1m", ZoneInfo("Asia/Tokyo")) == "09:00"  # the configured zone, not UTC


def test_glyphs_of_bodies_and_wicks_at_half_row_resolution() -> None:
    assert candle_glyph(0, (0, 1), (0, 1)) == "┃"  # body fills both halves
    assert candle_glyph(0, (1, 3), (0, 3)) == "╿"  # body in the upper half, wick below it
    assert candle_glyph(0, (1, 3), (1, 3)) == "╹"
    assert candle_glyph(1, (0, 2), (0, 3)) == "╽"  # body in the lower half, wick above it
    assert candle_glyph(1, (0, 2), (0, 2)) == "╻"
    assert candle_glyph(1, (0, 0), (0, 3)) == "│"
    assert candle_glyph(1, (0, 0), (0, 2)) == "╷"
    assert candle_glyph(1, (4, 5), (3, 5)) == "╵"
    assert candle_glyph(3, (0, 1), (0, 2)) == " "


async def test_candles_wicks_volume_time_axis_and_own_marks_for_known_klines() -> None:
    klines = (
        kline(0, "100", "110", "90", "105", "4"),   # up, wick both sides
        kline(1, "105", "106", "95", "96", "8"),    # down
        kline(2, "96", "100", "96", "100", "2"),    # up, no lower wick
    )
    app = ChartApp()
    async with app.run_test(size=(40, 12)) as pilot:
        chart = app.query_one(PriceChart)
        marks = OwnMarks(orders=(("BUY", Decimal("95.00")), ("SELL", Decimal("200"))),
                         fills=(("SELL", Decimal("100"), T0 + 60_000 + 5),))
        chart.show(ChartData("TESTUSDT", klines, Decimal("0.01"), marks, ZoneInfo("UTC")))
        await pilot.pause()
        rows = chart.text_rows
        height = chart.content_size.height
        assert len(rows) == height == 12
        # 12 rows: the hint (only 3 candles), the time axis, 10 plot rows: 2 of volume (a fifth)
        # and 8 of prices (16 half-rows for 90..110: 1.25 per half-row)
        assert "only 3 1m candle(s) so far" in rows[-1]
        price_rows, volume_rows, time_axis = rows[:8], rows[8:10], rows[10]
        # candle 0 (100→105, 90..110): a wick from the very top and bottom around a body
        assert column(price_rows, 0) == "│╽┃┃││││"
        # candle 1 (105→96 down, 95..106): body from 105 down to 96, the fill (a sell at 100) on it
        assert column(price_rows, 1) == " ╻┃▼┃┃  "
        # candle 2 (96→100, low = open): no wick under the body
        assert column(price_rows, 2) == "   ╻┃┃  "
        # the own buy at 95.00 on the price axis in the row 95 falls in; the sell beyond the top
        axis = [r[-AXIS_WIDTH:] for r in price_rows]
        assert axis[5].strip() == "◂B 95.00"
        assert axis[0].strip() == "▴S 200.00"  # the off-chart order took the top label's place
        assert axis[-1].strip() == "90.00" and axis[4].strip() == "100.00"
        # volume: candle 1 (8) is the tallest bar, filling both volume rows
        assert column(volume_rows, 1) == "██" and column(volume_rows, 0) == " █" and column(volume_rows, 2) == " ▄"
        assert volume_rows[0].rstrip().endswith("vol 8.00")
        # time axis in the given zone, labelled with its name
        assert time_axis.startswith("00:02") and time_axis.rstrip().endswith("UTC")


async def test_depth_chart_rises_away_from_the_spread() -> None:
    depth = Depth.model_validate({"lastUpdateId": 1, "bids": [["99", "1"], ["98", "2"], ["97", "3"]],
                                  "asks": [["101", "6"], ["102", "0"]]})
    app = ChartApp()
    async with app.run_test(size=(40, 10)) as pilot:
        chart = app.query_one(PriceChart)
        chart.depth_mode = True
        chart.show(ChartData("TESTUSDT", (), Decimal("1"), depth=depth))
        await pilot.pause()
        rows = chart.text_rows
        cols = 40 - AXIS_WIDTH
        half = cols // 2
        top = rows[0]
        # cumulative: bids 1, 3, 6 (deepest leftmost), asks 6, 6: the deepest bid and both asks reach the top
        assert top[half - 3] == "█" and top[half - 1] != "█" and top[half] == "█" and top[half + 1] == "█"
        assert set(top[:half - 3]) == {" "}
        assert "97" in rows[-1] and "99" in rows[-1] and "102" in rows[-1]


async def test_dashboard_marks_own_orders_toggles_depth_and_titles_with_a_dash_until_priced() -> None:
    client = FakeClient(resting=resting_orders())  # a BTTUSDT sell at 0.0000007
    app = fake_app(client)
    async with app.run_test(size=(200, 60)) as pilot:  # room for the last price in the chart's title
        dash = app.dashboard
        assert "—" in str(dash.chart.border_title)  # no price known yet: a dash, never 0
        await wait_for(pilot, lambda: dash.chart.klines and app.state.open_orders and app.state.tickers,
                       what="klines, open orders and tickers")
        await pilot.pause()
        assert "0.0000006100" in str(dash.chart.border_title)
        assert any("S 0.0000007000" in r for r in dash.chart.text_rows)  # above the candles: ▴S
        await pilot.press("d")
        await wait_for(pilot, lambda: dash.chart.depth_mode and any("cum. qty" in r for r in dash.chart.text_rows),
                       what="the depth chart")
        assert "depth" in str(dash.chart.border_title)
        await pilot.press("d")
        await pilot.pause()
        assert not dash.chart.depth_mode and any("UTC" in r for r in dash.chart.text_rows)
