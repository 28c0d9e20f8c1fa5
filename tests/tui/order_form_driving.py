"""Driving the order form from the keyboard as a trader does, and reading back what it shows.

Shared by the order-form Pilot tests (real paper exchange) and the order snapshots (fake data).
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Static

from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.order_form import OrderFormScreen

from .harness import ready, wait_for


async def open_form(pilot: Pilot, key: str) -> OrderFormScreen:
    """Wait for a two-sided book, press ``key`` (``b``/``s``) and return the form it opens."""
    app: BtxApp = pilot.app  # type: ignore[assignment]
    await ready(pilot)
    await wait_for(pilot, lambda: app.state.depth is not None and app.state.depth.asks
                   and app.state.depth.bids, what="a two-sided book")
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, OrderFormScreen), what="the order form")
    await pilot.pause()
    return app.screen  # type: ignore[return-value]


def text(form: OrderFormScreen, selector: str) -> str:
    """What a Static of the form shows."""
    return str(form.query_one(selector, Static).content)


def value(form: OrderFormScreen, selector: str) -> str:
    """What an Input of the form holds."""
    return form.query_one(selector, Input).value


async def replace(pilot: Pilot, form: OrderFormScreen, selector: str, typed: str) -> None:
    """Focus an input, clear it with the keyboard and type ``typed`` key by key."""
    form.query_one(selector, Input).focus()
    await pilot.press("end", "shift+home", "backspace")
    await pilot.press(*typed)
    await pilot.pause()


async def fake_ready(pilot: Pilot) -> BtxApp:
    """Wait until the fake client's data fills every pane (before a snapshot)."""
    app: BtxApp = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: app.state.rules.info is not None and app.state.permissions and app.state.account
                   and app.state.depth and len(app.dashboard.watchlist.tickers) == 5
                   and app.dashboard.tape.trades, what="fake data everywhere")
    return app


def steady(form: OrderFormScreen) -> None:
    """No blinking cursor in a picture."""
    for field in form.query(Input):
        field.cursor_blink = False
