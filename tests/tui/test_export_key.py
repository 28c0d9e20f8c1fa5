"""``x`` writes the selected market's fills and orders as CSV: every row the exchange has,
exact decimals, a header, times in the configured zone — against the real paper exchange."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from btx_tui.api.export import FILL_COLUMNS, ORDER_COLUMNS
from tests.paper_account import PaperAccount

from .harness import client_for, limit, make_app, market, ready, wait_for


async def test_x_exports_fills_and_orders_of_the_selected_market(fresh_account: PaperAccount,
                                                                 tmp_path: Path) -> None:
    async with client_for(fresh_account) as client:
        await client.place_order(limit("BTTUSDT", "SELL", "20000000", "0.0000007"))
        await client.place_order(market("BTTUSDT", "BUY", "20000000"))  # a self-trade: two fills
        await client.place_order(limit("BTTUSDT", "BUY", "10000000", "0.0000005"))  # stays open
        fills = await client.my_trades("BTTUSDT")
        orders = await client.all_orders("BTTUSDT")
    app = make_app(fresh_account, symbol="BTTUSDT", timezone="Asia/Tokyo")
    app.exporter.out_dir = tmp_path
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: len(list(tmp_path.glob("*.csv"))) == 2
                       and any(n.title == "Exported" for n in app._notifications), what="two CSV files")
    fills_file = next(tmp_path.glob("BTTUSDT-fills-*.csv"))
    orders_file = next(tmp_path.glob("BTTUSDT-orders-*.csv"))
    fill_rows = list(csv.reader(fills_file.open()))
    order_rows = list(csv.reader(orders_file.open()))
    assert tuple(fill_rows[0]) == FILL_COLUMNS and tuple(order_rows[0]) == ORDER_COLUMNS
    assert len(fill_rows) - 1 == len(fills) == 2 and len(order_rows) - 1 == len(orders) == 3
    assert {Decimal(r[FILL_COLUMNS.index("qty")]) for r in fill_rows[1:]} == {Decimal("20000000")}
    assert all(r[0].endswith("+09:00") for r in fill_rows[1:])  # the configured zone
    assert not list(tmp_path.glob(".*"))  # no temporary file left
