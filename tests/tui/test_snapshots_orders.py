"""Snapshots of the order form with a stop type and of open orders with an OCO (issue #12),
on fixed data; each with Pilot assertions of what it shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from textual.pilot import Pilot

from btx_tui.api.models_trading import Order
from btx_tui.tui.app import BtxApp
from btx_tui.tui.widgets.orders import OpenOrdersTable

from .fakes import T0, FakeClient, fake_app, freeze_clock
from .harness import wait_for
from .order_form_driving import fake_ready, open_form, replace, steady, text

SIZE = (120, 36)


def test_snapshot_order_form_stop_limit(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch)
    client = FakeClient()

    async def run_before(pilot: Pilot) -> None:
        app = await fake_ready(pilot)
        form = await open_form(pilot, "s")
        steady(form)
        for _ in range(4):
            await pilot.press("f6")
        await pilot.pause()
        assert form.order_type == "STOP_LOSS_LIMIT"
        assert app.focused is form.query_one("#quantity")
        await pilot.press(*"10000000")
        await replace(pilot, form, "#stop-price", "0.00000059")
        # Until a limit is typed, a stop-limit's limit follows its stop price.
        assert form.query_one("#price").value == "0.00000059"  # type: ignore[attr-defined]
        await replace(pilot, form, "#price", "0.00000058")
        shown = {row: form.query_one(row).display for row in
                 ("#row-stop-price", "#row-price", "#row-tif", "#row-sizing")}
        assert shown == {"#row-stop-price": True, "#row-price": True, "#row-tif": True, "#row-sizing": False}
        preview = text(form, "#preview")
        assert "Trigger     sells 10,000,000 BTT at ≥ 0.00000058 if the last price falls to 0.00000059" in preview
        assert form.evaluation is not None and form.evaluation.ok, form.evaluation
        assert client.placed == []

    assert snap_compare(fake_app(client), terminal_size=SIZE, run_before=run_before)


def oco_legs() -> tuple[Order, ...]:
    common = {"symbol": "BTTUSDT", "order_list_id": 7, "orig_qty": Decimal(9000000), "executed_qty": Decimal(0),
              "cummulative_quote_qty": Decimal(0), "side": "SELL", "status": "NEW", "time": T0 - 5000,
              "update_time": T0 - 5000}
    return (Order(order_id=11, client_order_id="oco-take", type="LIMIT_MAKER", price=Decimal("0.00000065"),
                  is_working=True, working_time=T0 - 5000, **common),
            Order(order_id=12, client_order_id="oco-stop", type="STOP_LOSS_LIMIT", price=Decimal("0.00000058"),
                  stop_price=Decimal("0.00000059"), time_in_force="GTC", is_working=False, working_time=-1,
                  **common),
            Order(symbol="BTCUSDT", order_id=13, client_order_id="plain", type="LIMIT", price=Decimal(90000),
                  orig_qty=Decimal("0.001"), executed_qty=Decimal(0), cummulative_quote_qty=Decimal(0),
                  side="BUY", status="NEW", time_in_force="GTC", time=T0 - 1000, update_time=T0 - 1000))


def test_snapshot_open_orders_with_an_oco(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch)

    async def run_before(pilot: Pilot) -> None:
        app: BtxApp = await fake_ready(pilot)
        table = app.query_one(OpenOrdersTable)
        await wait_for(pilot, lambda: set(table.orders) == {"oco-take", "oco-stop", "plain"}, what="the orders")
        await pilot.pause(0.3)
        keys = [str(k.value) for k in table.rows]
        assert keys == ["plain", "oco-take", "oco-stop"], "newest first, the legs of the list adjacent"

        def cell(key: str, column: str) -> str:
            return str(table.get_cell(key, column)).strip()

        assert (cell("oco-take", "list"), cell("oco-stop", "list"), cell("plain", "list")) == ("┌ OCO", "└", "")
        assert cell("oco-stop", "trigger") == "≤ 0.0000005900" and cell("oco-take", "trigger") == ""
        assert (cell("oco-stop", "status"), cell("oco-take", "status")) == ("waiting", "NEW")
        # the book marks where the stop would fire apart from own resting orders
        assert app.state.stop_levels() == [Decimal("0.00000059")]
        assert app.state.own_prices("SELL") == [Decimal("0.00000065")]
        # The picture is of the Orders pane alone: the watchlist's column widths depend on
        # whether its tickers or the markets' tick sizes arrived first (not this test's subject).
        app.dashboard.maximize(table, container=False)
        await pilot.pause(0.3)
        assert app.dashboard.maximized is table

    assert snap_compare(fake_app(FakeClient(oco_legs())), terminal_size=SIZE, run_before=run_before)
