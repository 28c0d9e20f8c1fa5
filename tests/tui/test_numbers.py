"""Numbers on screen: never a zero for an unknown price, volumes also in the quote asset, the
spread never "0" beside a non-zero percentage, the book's title naming its grouping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from btx_tui.api.book_views import book_view
from btx_tui.api.models import Depth, Ticker24h
from btx_tui.tui.formatting import UNKNOWN, fmt_known_price
from btx_tui.tui.widgets.order_book import BookDisplay, OrderBookView

from .fakes import FakeClient, fake_app, ticker
from .harness import wait_for


class UntradedTrx(FakeClient):
    """TRXUSDT has never traded: the exchange reports zeros for its prices."""

    async def tickers_24hr(self, symbols: Any = None) -> tuple[Ticker24h, ...]:
        out = []
        for t in await super().tickers_24hr(symbols):
            if t.symbol == "TRXUSDT":
                t = t.model_copy(update={"last_price": Decimal(0), "open_price": Decimal(0), "high_price": Decimal(0),
                                         "low_price": Decimal(0), "price_change_percent": Decimal(0)})
            out.append(t)
        return tuple(out)


def test_an_unknown_price_is_a_dash() -> None:
    assert fmt_known_price(None, Decimal("0.01")) == UNKNOWN
    assert fmt_known_price(Decimal(0), Decimal("0.01")) == UNKNOWN
    assert fmt_known_price(Decimal("1234.5"), Decimal("0.01")) == "1,234.50"


async def test_watchlist_shows_a_dash_for_a_market_that_never_traded_and_quote_volumes() -> None:
    app = fake_app(UntradedTrx(), symbol="TRXUSDT")
    async with app.run_test(size=(200, 60)) as pilot:
        dash = app.dashboard
        await wait_for(pilot, lambda: len(dash.watchlist.tickers) == 5 and app.state.rules.info is not None,
                       what="tickers and markets")
        await pilot.pause()
        cells = {key: str(dash.watchlist.get_cell("TRXUSDT", key)).strip() for key in ("last", "change", "high", "low")}
        assert cells == {"last": UNKNOWN, "change": UNKNOWN, "high": UNKNOWN, "low": UNKNOWN}
        assert str(dash.chart.border_title).endswith(f"· {UNKNOWN} [3]")  # the chart's title too
        assert str(dash.watchlist.get_cell("BTCUSDT", "last")).strip() == "95,000.00"
        # volume in the base asset and in the quote asset
        btc = ticker("BTCUSDT")
        assert str(dash.watchlist.get_cell("BTCUSDT", "volume")).strip() == "1.00K"
        assert btc.quote_volume == Decimal(95_000_000)
        assert str(dash.watchlist.get_cell("BTCUSDT", "qvolume")).strip() == "95.00M USDT"


async def test_book_title_names_the_grouping() -> None:
    app = fake_app(FakeClient(), symbol="BTCUSDT")
    async with app.run_test(size=(120, 36)) as pilot:
        dash = app.dashboard
        await wait_for(pilot, lambda: app.state.rules.info is not None and app.state.depth is not None,
                       what="markets and the book")
        assert "group" not in str(dash.book.border_title)
        dash.book.focus()
        await pilot.press("g")
        await wait_for(pilot, lambda: "group 0.10" in str(dash.book.border_title), what="the grouped title")
        assert str(dash.book.border_title) == "Order book BTCUSDT · group 0.10 [2]"


async def test_spread_is_never_a_zero_beside_a_percentage() -> None:
    depth = Depth.model_validate({"lastUpdateId": 1, "bids": [["100.004", "1"]], "asks": [["100.009", "1"]]})
    book = book_view(depth, "X")
    assert book.spread == Decimal("0.005") and book.spread_pct
    row = OrderBookView._spread_row(BookDisplay(book, Decimal("0.01"), Decimal("1")))
    assert row.price == "spread 0.005"  # not "spread 0.00" on a 0.01 grid
    wide = OrderBookView._spread_row(BookDisplay(book_view(Depth.model_validate(
        {"lastUpdateId": 1, "bids": [["100", "1"]], "asks": [["101", "1"]]}), "X"), Decimal("0.01"), Decimal("1")))
    assert wide.price == "spread 1.00"
