"""The order form: Pilot tests of the real app against a real paper exchange, plus snapshots.

The paper exchange of these tests has no synthetic market, so each test first rests a SELL
above and a BUY below the reference price with the demo account's own key: the form then
has a best ask to prefill a buy with and a best bid for a sell.
"""

from __future__ import annotations

from decimal import Decimal

from textual.pilot import Pilot
from textual.widgets import Input, Static

from btx_tui.api.preflight import round_quantity
from btx_tui.paper import PaperExchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form import OrderFormScreen

from .harness import client_for, limit, make_app, ready, wait_for

SIZE = (120, 36)
SYMBOL = "BTTUSDT"
BEST_ASK = "0.0000006200"
BEST_BID = "0.0000006000"
RESTING = "10000000"


async def rest_both_sides(exchange: PaperExchange) -> None:
    """One resting level on each side of BTTUSDT, placed by the demo account itself."""
    async with client_for(exchange) as client:
        for side, price in (("SELL", BEST_ASK), ("BUY", BEST_BID)):
            result = await client.place_order(limit(SYMBOL, side, RESTING, price))
            assert result.order is not None, result.describe()


async def open_form(pilot: Pilot, key: str) -> OrderFormScreen:
    app: BtxApp = pilot.app  # type: ignore[assignment]
    await ready(pilot)
    await wait_for(pilot, lambda: app.router.depth is not None and app.router.depth.asks
                   and app.router.depth.bids, what="a two-sided book")
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, OrderFormScreen), what="the order form")
    await pilot.pause()
    return app.screen  # type: ignore[return-value]


def text(form: OrderFormScreen, selector: str) -> str:
    return str(form.query_one(selector, Static).content)


def value(form: OrderFormScreen, selector: str) -> str:
    return form.query_one(selector, Input).value


async def replace(pilot: Pilot, form: OrderFormScreen, selector: str, typed: str) -> None:
    """Focus an input, clear it with the keyboard and type ``typed`` key by key."""
    form.query_one(selector, Input).focus()
    await pilot.press("end", "shift+home", "backspace")
    await pilot.press(*typed)
    await pilot.pause()


async def test_b_opens_a_buy_form_focused_on_quantity_with_the_best_ask(fresh_exchange: PaperExchange) -> None:
    await rest_both_sides(fresh_exchange)
    app = make_app(fresh_exchange)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        assert form.side == "BUY" and form.symbol == SYMBOL
        assert app.focused is form.query_one("#quantity")
        assert Decimal(value(form, "#price")) == Decimal(BEST_ASK)
        assert "BUY BTTUSDT" in text(form, "#of-title")
