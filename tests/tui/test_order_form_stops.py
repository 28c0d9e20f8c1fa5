"""Stop and take-profit orders from the keyboard (issue #12): Pilot tests of the real app
against a real paper exchange.

The exchange has no synthetic market: the book is one resting level each side of BTTUSDT
(``rest_both_sides``) and the last price is the market's reference 0.0000006123 until a
trade moves it; a test drives the price through a stop with a market order of its own
(the paper exchange lets an account trade with itself).
"""

from __future__ import annotations

from decimal import Decimal

from textual.pilot import Pilot
from textual.widgets import Static

from btx_tui.api.models_trading import OrderSide, OrderType
from btx_tui.api.preflight import SymbolRules
from btx_tui.exchange.process.launcher import PaperExchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form import OrderFormScreen
from btx_tui.tui.widgets.order_preview import MarketContext, OrderDraft, OrderPreview, evaluate
from btx_tui.tui.widgets.orders import OpenOrdersTable

from .fakes import exchange_info
from .harness import client_for, make_app, market, wait_for
from .resting_book import CALM, SIZE, SYMBOL, rest_both_sides
from .order_form_driving import open_form, replace, text

WIDE = (200, 60)
"""Wide enough for every column of the Orders pane (Type and Trigger included)."""


async def stop_limit_type(pilot: Pilot, form: OrderFormScreen) -> None:
    """F6 from LIMIT: MARKET, LIMIT_MAKER, STOP_LOSS, STOP_LOSS_LIMIT."""
    for _ in range(4):
        await pilot.press("f6")
    await pilot.pause()
    assert form.order_type == OrderType.STOP_LOSS_LIMIT


async def last_price_known(pilot: Pilot) -> None:
    app: BtxApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.state.prices.get(SYMBOL) is not None, what="the last price")


def open_rows(app: BtxApp) -> dict[str, list[str]]:
    """The Orders pane as text: client order id → the cells of its row, by column key."""
    table = app.query_one(OpenOrdersTable)
    return {str(key.value): [str(c).strip() for c in table.get_row(key)] for key in table.rows}


def cell_of(app: BtxApp, row: list[str], column: str) -> str:
    table = app.query_one(OpenOrdersTable)
    return row[table.shown_columns.index(column)]


def test_preview_says_what_happens_when() -> None:
    """The preview of a stop-limit sell names quantity, limit and trigger in one sentence."""
    info = exchange_info().symbols[0]
    rules = SymbolRules.from_symbol_info(info).model_copy(
        update={"order_types": ("LIMIT", "MARKET", "STOP_LOSS_LIMIT"), "tick_size": Decimal("0.01"),
                "min_price": Decimal("0.01"), "max_price": Decimal(0), "step_size": Decimal("0.0001"),
                "min_qty": Decimal("0.0001"), "max_qty": Decimal(0), "min_notional": Decimal(5),
                "allow_trailing_stop": True, "trailing_below": (10, 2000)})
    ctx = MarketContext(rules=rules, last_price=Decimal("62500"), best_bid=Decimal("62499"),
                        best_ask=Decimal("62501"), free={rules.base_asset: Decimal(1), rules.quote_asset: Decimal(0)})
    ev = evaluate(OrderDraft(side=OrderSide.SELL, type=OrderType.STOP_LOSS_LIMIT, price="62000.01",
                             quantity="0.5", stop_price="62100"), ctx)
    assert ev.ok, ev.errors
    preview = str(OrderPreview().render_evaluation(ev, ctx))
    assert f"Trigger     sells 0.5 {rules.base_asset} at ≥ 62,000.01 if the last price falls to 62,100" in preview
    # A trailing delta in percent goes out in basis points.
    ev = evaluate(OrderDraft(side=OrderSide.SELL, type=OrderType.STOP_LOSS_LIMIT, price="62000.01",
                             quantity="0.5", trailing="2", trailing_unit="%"), ctx)
    assert ev.result.trailing_delta == 200
    ev = evaluate(OrderDraft(side=OrderSide.SELL, type=OrderType.STOP_LOSS_LIMIT, price="62000.01",
                             quantity="0.5", trailing="2.005", trailing_unit="%"), ctx)
    assert ev.messages("trailing_delta") == ("At most 2 decimals in % (whole basis points)",)


async def test_a_stop_that_would_trigger_at_once_is_refused_and_nothing_is_sent(
        fresh_exchange: PaperExchange) -> None:
    await rest_both_sides(fresh_exchange)
    app = make_app(fresh_exchange, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "s")
        await last_price_known(pilot)
        await stop_limit_type(pilot, form)
        assert app.focused is form.query_one("#quantity")
        await pilot.press(*"9000000")
        await replace(pilot, form, "#stop-price", "0.00000063")  # above the last price 0.0000006123
        await replace(pilot, form, "#price", "0.00000060")
        assert text(form, "#stop-price-error").startswith("✗ Would trigger immediately: the last price")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form, "a problem must keep the confirmation closed"
        async with client_for(fresh_exchange) as client:
            assert [o for o in await client.open_orders(SYMBOL) if o.is_stop] == []


async def test_stop_limit_from_the_keyboard_waits_with_its_trigger_then_triggers(
        fresh_exchange: PaperExchange) -> None:
    await rest_both_sides(fresh_exchange)
    app = make_app(fresh_exchange, **CALM)
    async with app.run_test(size=WIDE) as pilot:
        form = await open_form(pilot, "s")
        await last_price_known(pilot)
        await stop_limit_type(pilot, form)
        await pilot.press(*"9000000")
        await replace(pilot, form, "#stop-price", "0.00000061")
        await replace(pilot, form, "#price", "0.0000006")
        assert "sells 9,000,000 BTT at ≥ 0.0000006 if the last price falls to 0.00000061" in text(form, "#preview")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        body = str(app.screen.query_one("#confirm-body", Static).content)
        assert body.startswith("SELL 9,000,000 BTT on BTTUSDT\nSTOP_LOSS_LIMIT: sells 9,000,000 BTT at ≥ 0.0000006 "
                               "if the last price falls to 0.00000061, GTC")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the form to close")

        def stop_row() -> list[str] | None:
            stops = [o for o in app.state.open_orders if o.is_stop]
            return open_rows(app).get(stops[0].client_order_id) if stops else None

        await wait_for(pilot, lambda: (row := stop_row()) is not None and cell_of(app, row, "status") == "waiting",
                       what="the stop order waiting")
        row = stop_row()
        assert row is not None
        assert cell_of(app, row, "type") == "STOP_LOSS_LIMIT"
        assert cell_of(app, row, "trigger") == "≤ 0.0000006100"
        (stop,) = [o for o in app.state.open_orders if o.is_stop]
        assert stop.is_untriggered

        # Drive the last price through the stop: sell into our own resting bid at 0.0000006.
        async with client_for(fresh_exchange) as client:
            result = await client.place_order(market(SYMBOL, "SELL", "10000000"))
            assert result.order is not None and result.order.status == "FILLED", result.describe()
        await wait_for(pilot, lambda: (row := stop_row()) is None or cell_of(app, row, "status") != "waiting",
                       what="the stop order to trigger")
        async with client_for(fresh_exchange) as client:
            after = await client.get_order(SYMBOL, order_id=stop.order_id)
        assert not after.is_untriggered
        row = stop_row()
        if row is not None:  # triggered and resting in the book now
            assert cell_of(app, row, "status") == "NEW"
