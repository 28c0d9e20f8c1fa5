"""OCO from the keyboard, cancel of a list leg, and amending an order (issue #12): Pilot tests
of the real app against a real paper exchange (no synthetic market; the book is one resting
level each side of BTTUSDT, the last price the reference 0.0000006123)."""

from __future__ import annotations

from decimal import Decimal

from textual.pilot import Pilot
from textual.widgets import Input, Static

from btx_tui.api.models_trading import Order
from btx_tui.exchange.process.launcher import PaperExchange
from tests.paper_account import PaperAccount
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.amend_form import AmendFormScreen
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.oco_form import OcoFormScreen
from btx_tui.tui.widgets.orders import OpenOrdersTable

from .harness import client_for, limit, make_app, ready, wait_for
from .resting_book import CALM, SYMBOL, rest_both_sides

WIDE = (200, 60)


async def type_into(pilot: Pilot, screen: object, selector: str, typed: str) -> None:
    field = screen.query_one(selector, Input)  # type: ignore[attr-defined]
    field.focus()
    await pilot.press("end", "shift+home", "backspace", *typed)
    await pilot.pause()


def cells(app: BtxApp, cid: str) -> list[str]:
    table = app.query_one(OpenOrdersTable)
    return [str(c).strip() for c in table.get_row(cid)]


async def highlight(pilot: Pilot, app: BtxApp, cid: str) -> None:
    table = app.query_one(OpenOrdersTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(cid))
    await pilot.pause()
    assert table.selected is not None and table.selected.client_order_id == cid


async def confirm(pilot: Pilot, app: BtxApp) -> tuple[str, str]:
    """Wait for the confirmation; returns (title, body) before answering y."""
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen.title_text, str(screen.query_one("#confirm-body", Static).content)


async def test_oco_from_the_keyboard_then_cancel_one_leg_cancels_both(fresh_exchange: PaperExchange) -> None:
    await rest_both_sides(fresh_exchange)
    app = make_app(fresh_exchange, **CALM)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.state.prices.get(SYMBOL) and app.state.account is not None,
                       what="the last price and the balances")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, OcoFormScreen), what="the OCO form")
        form = app.screen
        assert isinstance(form, OcoFormScreen)
        # A sell protects the position: the quantity is the free BTT (50M less the resting 10M sell).
        assert form.query_one("#quantity", Input).value == "40000000"
        await type_into(pilot, form, "#quantity", "9000000")
        await type_into(pilot, form, "#take-profit", "0.00000065")
        await type_into(pilot, form, "#stop", "0.00000059")
        await type_into(pilot, form, "#stop-limit", "0.00000058")
        preview = str(form.query_one("#oco-preview", Static).content)
        assert "sells 9,000,000 BTT at ≥ 0.00000058 if the last price falls to 0.00000059" in preview
        await pilot.press("enter")
        title, body = await confirm(pilot, app)
        assert title == "Place this OCO?"
        assert "• take profit: LIMIT_MAKER @ 0.0000006500 USDT" in body
        assert "• stop loss: STOP_LOSS_LIMIT: sells 9,000,000 BTT at ≥ 0.00000058" in body
        await pilot.press("y")

        def legs() -> list[Order]:
            return [o for o in app.state.open_orders if o.in_list]

        await wait_for(pilot, lambda: len(legs()) == 2, what="both legs open")
        by_type = {str(o.type): o for o in legs()}
        assert set(by_type) == {"LIMIT_MAKER", "STOP_LOSS_LIMIT"}
        await wait_for(pilot, lambda: all(o.client_order_id in app.query_one(OpenOrdersTable).rows for o in legs()),
                       what="the legs in the Orders pane")
        table = app.query_one(OpenOrdersTable)
        list_col = table.shown_columns.index("list")
        rows = [cells(app, o.client_order_id) for o in sorted(legs(), key=lambda o: o.order_id)]
        assert [r[list_col] for r in rows] == ["┌ OCO", "└"]
        index = sorted(table.get_row_index(o.client_order_id) for o in legs())
        assert index[1] == index[0] + 1, "the legs of a list are adjacent"
        stop = by_type["STOP_LOSS_LIMIT"]
        assert cells(app, stop.client_order_id)[table.shown_columns.index("status")] == "waiting"

        # Cancel one leg: the confirmation names both, and both go.
        await highlight(pilot, app, stop.client_order_id)
        await pilot.press("c")
        title, body = await confirm(pilot, app)
        assert title == "Cancel order list"
        assert "LIMIT_MAKER 9,000,000 @ 0.0000006500" in body and "STOP_LOSS_LIMIT 9,000,000 @ 0.0000005800" in body
        await pilot.press("y")
        await wait_for(pilot, lambda: not legs(), what="both legs gone")
        async with client_for(fresh_exchange) as client:
            assert [o for o in await client.open_orders(SYMBOL) if o.in_list] == []


async def test_amend_quantity_down_keeps_the_order_and_a_new_price_replaces_it(
        fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    async with client_for(fresh_account) as client:
        placed = await client.place_order(limit(SYMBOL, "SELL", "10000000", "0.00000064"))
        assert placed.order is not None
        original = placed.order
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        table = app.query_one(OpenOrdersTable)
        await wait_for(pilot, lambda: original.client_order_id in table.rows, what="the order in the Orders pane")
        await highlight(pilot, app, original.client_order_id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, AmendFormScreen), what="the amend form")
        form = app.screen
        assert app.focused is form.query_one("#amend-quantity")
        await type_into(pilot, form, "#amend-quantity", "9000000")
        assert "keeps its place in the queue" in str(form.query_one("#amend-plan", Static).content)
        await pilot.press("enter")
        title, body = await confirm(pilot, app)
        assert title == "Amend order" and "10,000,000 → 9,000,000" in body
        await pilot.press("y")
        async with client_for(fresh_account) as client:
            async def amended() -> Order:
                return await client.get_order(SYMBOL, order_id=original.order_id)

            await wait_for(pilot, lambda: any(o.order_id == original.order_id and o.orig_qty == Decimal(9000000)
                                              for o in app.state.open_orders), what="the amended quantity")
            after = await amended()
            assert after.order_id == original.order_id and after.orig_qty == Decimal(9000000)
            assert str(after.status) == "NEW"

            # A new price is a cancel-replace: the confirmation says queue priority is lost.
            current = next(o for o in app.state.open_orders if o.order_id == original.order_id)
            await highlight(pilot, app, current.client_order_id)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, AmendFormScreen), what="the amend form again")
            form = app.screen
            await type_into(pilot, form, "#amend-price", "0.00000066")
            assert "queue priority is lost" in str(form.query_one("#amend-plan", Static).content)
            await pilot.press("enter")
            title, body = await confirm(pilot, app)
            assert "queue priority is lost" in title and "queue priority is lost" in body
            await pilot.press("y")
            await wait_for(pilot, lambda: any(o.price == Decimal("0.00000066") and o.order_id != original.order_id
                                              for o in app.state.open_orders), what="the replacement")
            opened = await client.open_orders(SYMBOL)
            assert original.order_id not in {o.order_id for o in opened}
            (new,) = [o for o in opened if o.price == Decimal("0.00000066")]
            assert new.orig_qty == Decimal(9000000) and str(new.side) == "SELL"
