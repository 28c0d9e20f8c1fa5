"""The dashboard and the order form at 80×24, 120×36 and 200×60, against a real paper exchange.

At 80×24 the panes that matter least give way (chart, trades tape; the balances move under the
watchlist) and the order
form stays whole and usable; at 200×60 the panes grow into the space.
"""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from btx_tui.exchange.process.launcher import PaperExchange
from btx_tui.tui.formatting import fmt_balance
from btx_tui.tui.screens.order_form import OrderFormScreen

from .harness import client_for, limit, make_app, ready, wait_for
from .layout_checks import EXPECTED, shown_panes


async def deep_book(exchange: PaperExchange, levels: int = 24) -> None:
    """BTCUSDT bids and asks on ``levels`` prices each side (the order rate limit allows 50 in 10 s)."""
    async with client_for(exchange) as client:
        for n in range(levels):
            for side, price in (("BUY", 94900 - 10 * n), ("SELL", 95100 + 10 * n)):
                placed = await client.place_order(limit("BTCUSDT", side, "0.0001", str(price)))
                assert placed.order is not None, placed


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 60)])
async def test_panes_on_screen_by_size(fresh_exchange: PaperExchange, size: tuple[int, int]) -> None:
    await deep_book(fresh_exchange)
    app = make_app(fresh_exchange, symbol="BTCUSDT")
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        await pilot.pause(0.3)
        dash = app.dashboard
        assert shown_panes(app) == EXPECTED[size]
        book = dash.book
        levels = [r for r in book.rows if r.kind in ("ask", "bid")]
        assert len(levels) >= 4, len(levels)  # at least two levels a side, even at 80×24
        orders = dash.open_orders
        assert orders.region.height >= 4  # header and at least three orders
        if size == (200, 60):
            assert book.region.width >= 56 and len(levels) >= 30
            assert dash.chart.region.height >= 25 and dash.chart.region.width >= 80
            assert orders.region.height >= 12
        if size == (80, 24):
            # the watchlist keeps market, last and 24h whole and cuts no column in half
            watchlist = dash.watchlist
            visible = watchlist.scrollable_content_region.width
            assert visible >= sum(watchlist.columns[k].width for k in ("symbol", "last", "change"))  # type: ignore[index]
            # the room under the watchlist holds the balances: asset, exact free, value, all whole
            balances = dash.balances
            assert balances.compact and balances.parent is dash.query_one("#left")
            assert balances.region.y >= watchlist.region.bottom and balances.region.height >= 5
            await wait_for(pilot, lambda: "USDT" in dash.balances.balances, what="balances under the watchlist")
            assert [str(c.label).strip() for c in dash.balances.columns.values()] == ["Asset", "Free", "≈ USDT"]
            free = dash.balances.balances["USDT"].free
            assert free == app.state.account.free()["USDT"]  # type: ignore[union-attr]
            assert str(dash.balances.get_cell("USDT", "free")).strip() == fmt_balance(free)  # exact
            assert sum(c.width for c in dash.balances.columns.values()) <= dash.balances.scrollable_content_region.width


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_order_form_whole_and_every_field_reachable(fresh_exchange: PaperExchange,
                                                          size: tuple[int, int]) -> None:
    app = make_app(fresh_exchange, symbol="BTTUSDT")
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        for key in ("b", "f6", "f8"):  # the longest form: a MARKET BUY sized by the amount to spend
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, OrderFormScreen), what="order form")
        await pilot.pause(0.3)
        screen = app.screen
        form = screen.query_one("#order-form")
        assert screen.region.contains_region(form.region), (form.region, screen.region)
        for widget in [*screen.query(Input), *screen.query(Button)]:
            if not widget.display or not widget.parent.display:  # type: ignore[union-attr]
                continue
            form.scroll_to_widget(widget, animate=False)
            await pilot.pause(0.05)
            assert form.region.contains_region(widget.region), (widget, widget.region, form.region)
        review = screen.query_one("#review", Button)
        assert review.region.width >= len("Review BUY [Enter]")
