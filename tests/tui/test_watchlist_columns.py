"""The watchlist's columns size to their values: a BTT price never runs into its neighbour.

At 200 columns v1 showed ``0.00000060168,020.62`` (a low price glued to a volume) because the
columns had fixed widths narrower than BTT's prices and a volume in billions.
"""

from __future__ import annotations

from decimal import Decimal

from textual.app import App, ComposeResult
from textual.geometry import Region

from btx_tui.api.models import Ticker24h
from btx_tui.tui.widgets.watchlist import Watchlist


def _ticker(symbol: str, last: str, low: str, high: str, volume: str, change: str) -> Ticker24h:
    return Ticker24h.model_validate({
        "symbol": symbol, "priceChange": "0", "priceChangePercent": change, "weightedAvgPrice": last,
        "lastPrice": last, "openPrice": last, "highPrice": high, "lowPrice": low, "volume": volume,
        "quoteVolume": "1", "openTime": 0, "closeTime": 1, "firstId": 1, "lastId": 2, "count": 2})


class _WatchlistApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Watchlist(["BTTUSDT", "BTCUSDT"])


async def test_every_value_whole_and_apart_at_200_columns() -> None:
    app = _WatchlistApp()
    async with app.run_test(size=(200, 20)) as pilot:
        watchlist = app.query_one(Watchlist)
        watchlist.tick_sizes = {"BTTUSDT": Decimal("0.0000000001"), "BTCUSDT": Decimal("0.01")}
        watchlist.update_tickers([
            _ticker("BTTUSDT", "0.0000006129", "0.0000006016", "0.0000008021", "8020620000000", "-15.11"),
            _ticker("BTCUSDT", "94886", "90511.73", "98818.34", "58.56", "1.76"),
        ], flash=False)
        await pilot.pause()
        strips = watchlist.render_lines(Region(0, 0, watchlist.size.width, watchlist.size.height))
        lines = ["".join(segment.text for segment in strip) for strip in strips]
        btt = next(line for line in lines if "BTTUSDT" in line).split()
        assert btt[:6] == ["BTTUSDT", "0.0000006129", "-15.11%", "0.0000008021", "0.0000006016", "8,020.62B"]
        btc = next(line for line in lines if "BTCUSDT" in line).split()
        assert btc[:6] == ["BTCUSDT", "94,886.00", "+1.76%", "98,818.34", "90,511.73", "58.56"]
