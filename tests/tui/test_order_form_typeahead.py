"""Keys typed while the order form opens land in its quantity field and stay there (issue #14).

A trader types ``b``, the quantity, Enter and ``y`` as fast as the terminal sends them; the
form must not wipe what was typed before it finished opening (first open) or while it was
being prepared again (the form is built once per market and reused). Each test presses every
key without a pause in between, against the real paper exchange, and asserts that exactly
one order with the typed quantity was placed there.
"""

from __future__ import annotations

from decimal import Decimal

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from tests.paper_account import PaperAccount, Venue
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form import OrderFormScreen

from .harness import client_for, limit, make_app, ready, wait_for
from .resting_book import BEST_ASK, CALM, SIZE, SYMBOL, rest_both_sides

QUANTITIES = ("10000000", "12000000", "13000000")
"""One per open (above the 5 USDT minimum at the resting ask), so each order is told apart."""


def type_ahead(pilot: Pilot, keys: str) -> None:
    """Send ``keys`` the way a terminal does: all at once, without waiting for the app.

    ``Pilot.press`` waits for the app to go idle after every key, so the form would always
    be open and ready before the next key arrived; a trader's terminal does not wait.
    """
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        event = events.Key("enter", "\r") if key == "\r" else events.Key(key, key)
        event.set_sender(pilot.app)
        driver.send_message(event)


async def placed_buys(exchange: Venue) -> list:
    """Every BUY of ours at the resting ask, other than the setup's (they rest or fill)."""
    async with client_for(exchange) as client:
        orders = await client.all_orders(SYMBOL)
    return [o for o in orders if o.side == "BUY" and o.price == Decimal(BEST_ASK)]


async def buy_without_pausing(pilot: Pilot, exchange: Venue, quantity: str, before: int) -> None:
    """``b``, the digits, Enter, ``y`` in one go; then exactly one more order, of ``quantity``."""
    app: BtxApp = pilot.app  # type: ignore[assignment]
    type_ahead(pilot, f"b{quantity}\ry")
    orders: list = []
    for _ in range(100):
        await pilot.pause(0.1)
        orders = await placed_buys(exchange)
        if len(orders) > before:
            break
    await wait_for(pilot, lambda: app.screen is app.dashboard and not app.state.pending_intents,
                   what="the form to close and the order's outcome to be known")
    form = app.get_screen(f"order-form:{SYMBOL}")
    typed = [(i.id, i.value) for i in form.query(Input)]
    assert len(orders) == before + 1, f"no order placed for {quantity}; the form holds {typed}"
    assert orders[-1].orig_qty == Decimal(quantity)


async def deepen_the_ask(exchange: Venue) -> None:
    """Enough BTT offered at the best ask for every buy of the test (the setup rests 10M)."""
    async with client_for(exchange) as client:
        result = await client.place_order(limit(SYMBOL, "SELL", "30000000", BEST_ASK))
        assert result.order is not None, result.describe()


async def test_keys_typed_as_the_form_opens_place_exactly_one_order_first_and_later_opens(
        fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    await deepen_the_ask(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_for(pilot, lambda: app.state.depth is not None and app.state.depth.asks,
                       what="a book with an ask to prefill the price")
        for n, quantity in enumerate(QUANTITIES):
            await buy_without_pausing(pilot, fresh_account, quantity, before=n)
        assert isinstance(app.get_screen(f"order-form:{SYMBOL}"), OrderFormScreen)
        assert not isinstance(app.screen, ConfirmScreen)
