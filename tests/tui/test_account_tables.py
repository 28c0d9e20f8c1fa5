"""Open orders, fills and history on screen: every number whole, columns apart, sides coloured.

Real orders on a real paper exchange, including BTTUSDT's tiny prices and 20,000,000-unit
quantities, read back from the rendered table lines (what the trader sees), not from the
data behind them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from rich.color import Color
from textual.widgets import DataTable, TabbedContent

from tests.paper_account import PaperAccount
from btx_tui.tui.app import BtxApp

from .harness import client_for, limit, make_app, market, ready, wait_for
from .table_lines import row_line, screen_lines


def fits(app: BtxApp, table: DataTable) -> None:
    """The whole table is inside its pane and on screen: nothing to scroll sideways to."""
    assert table.virtual_size.width <= table.scrollable_content_region.width, (
        table.virtual_size.width, table.scrollable_content_region.width)
    assert app.screen.region.contains_region(table.region), (table.region, app.screen.region)


def theme_color(app: BtxApp, name: str) -> Color:
    return Color.parse(app.theme_variables[name])


async def show_tab(app: BtxApp, pilot, tab: str) -> None:  # type: ignore[no-untyped-def]
    app.dashboard.query_one(TabbedContent).active = tab
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_orders_fills_and_history_show_whole_numbers_apart(fresh_account: PaperAccount,
                                                                 size: tuple[int, int]) -> None:
    async with client_for(fresh_account) as client:
        btt_bid = await client.place_order(limit("BTTUSDT", "BUY", "20000000", "0.0000006"))
        btc_ask = await client.place_order(limit("BTCUSDT", "SELL", "0.00123", "123456.78"))
        # a self-trade: the account's own resting sell filled by its own market buy (two fills)
        await client.place_order(limit("BTTUSDT", "SELL", "20000000", "0.0000007"))
        await client.place_order(market("BTTUSDT", "BUY", "20000000"))
        app = make_app(fresh_account, symbol="BTTUSDT")
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            dash = app.dashboard
            table = dash.open_orders
            await wait_for(pilot, lambda: {btt_bid.client_order_id, btc_ask.client_order_id} <= set(table.orders),
                           what="both orders listed")
            await wait_for(pilot, lambda: len(dash.fills.fills) == 2, what="both fills listed")
            await wait_for(pilot, lambda: dash.history.row_count >= 3, what="history listed")
            # a poll after the market rules arrived: prices and quantities on the tick and step
            await wait_for(pilot, lambda: str(table.get_cell(btt_bid.client_order_id, "qty")).strip() == "20,000,000"
                           and len(dash.fills.fills) == 2 and dash.history.row_count >= 3, what="a later poll")
            app.feeds.pause()  # the picture holds still while it is read
            await pilot.pause(0.3)

            header = screen_lines(table)[0]
            assert re.search(r"Time UTC\s+Market\s+Side\s+Type\s+Price\s+Qty\s+Fill\s+Status", header), header
            line = row_line(table, btt_bid.client_order_id)
            assert re.search(r"BTTUSDT\s+BUY\s+LIMIT\s+0\.0000006000\s+20,000,000\s+0%\s+NEW", line), line
            line = row_line(table, btc_ask.client_order_id)
            assert re.search(r"BTCUSDT\s+SELL\s+LIMIT\s+123,456\.78\s+0\.00123\s+0%\s+NEW", line), line
            # numbers right-aligned: the price and quantity columns end where their headers end
            assert header.index("Price") + len("Price") == line.index("123,456.78") + len("123,456.78")
            assert header.index("Qty") + len("Qty") == line.index("0.00123") + len("0.00123")
            # sides coloured from the theme: buy is $success, sell is $error
            assert table.get_cell(btt_bid.client_order_id, "side").style.color == theme_color(app, "success")
            assert table.get_cell(btc_ask.client_order_id, "side").style.color == theme_color(app, "error")
            fits(app, table)

            # an order whose outcome is unknown reads whole, with the widest numbers beside it
            table.update_orders(list(table.orders.values()), {"x-pending": "BTTUSDT|BUY|LIMIT"}, app.state.steps)
            await pilot.pause(0.1)
            line = row_line(table, "x-pending")
            assert re.search(rf"BTTUSDT\s+BUY\s+.*\sunknown — checking", line), line
            assert re.search(r"BTTUSDT\s+BUY\s+.*0\.0000006000\s+20,000,000\s", row_line(table, btt_bid.client_order_id))
            fits(app, table)
            # too wide for every column: the least needed go first, never a number or the status
            assert {"symbol", "side", "price", "qty", "status"} <= set(table.shown_columns)
            if size[0] >= 120:
                assert table.get_cell("x-pending", "side").style.color == theme_color(app, "success")
            table.update_orders(list(table.orders.values()), {}, app.state.steps)
            await pilot.pause(0.1)
            assert table.shown_columns == ("time", "symbol", "side", "type", "price", "qty", "filled", "status")

            await show_tab(app, pilot, "tab-fills")
            fills = dash.fills
            header = screen_lines(fills)[0]
            assert re.search(r"Time UTC\s+Market\s+Side\s+Price\s+Qty\s+Fee\s+Role", header), header
            lines = [row_line(fills, f"{t.symbol}:{t.id}:{t.order_id}") for t in fills.fills.values()]
            assert any(re.search(r"BTTUSDT\s+BUY\s+0\.0000007000\s+20,000,000\s+20,000 BTT\s+taker", x)
                       for x in lines), lines
            assert any(re.search(r"BTTUSDT\s+SELL\s+0\.0000007000\s+20,000,000\s+0\.014 USDT\s+maker", x)
                       for x in lines), lines
            fits(app, fills)

            await show_tab(app, pilot, "tab-history")
            history = dash.history
            lines = screen_lines(history)
            assert re.search(r"Placed\s+Market", lines[0]), lines[0]
            placed_at = datetime.fromtimestamp(((btt_bid.order.time or btt_bid.order.transact_time) or 0) / 1000, UTC)
            row = row_line(history, f"BTTUSDT:{btt_bid.order.order_id}")
            assert row.lstrip().startswith(placed_at.strftime("%H:%M:%S")), row
            assert any(re.search(r"BTTUSDT\s+BUY\s+MARKET\s+market\s+20,000,000\s+100%\s+FILLED", x)
                       for x in lines), lines
            assert any(re.search(r"BTTUSDT\s+BUY\s+LIMIT\s+0\.0000006000\s+20,000,000\s+0%\s+NEW", x)
                       for x in lines), lines
            fits(app, history)
