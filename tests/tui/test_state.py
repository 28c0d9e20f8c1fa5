"""The dashboard's state store: typed messages in, one writer per fact, widgets told.

Unit tests of :class:`DashboardState` on its own (no running app), a structural test that
nothing but the store assigns a fact, and Pilot tests that capture the messages a real
placement sends through the app (``run_test(message_hook=…)``, harlequin style).
"""

from __future__ import annotations

import ast
import time
from decimal import Decimal
from pathlib import Path

import pytest
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets._footer import FooterKey

import btx_tui.tui as tui_package
from btx_tui.api.models import Depth
from btx_tui.api.orders import Outcome, PlacementResult
from btx_tui.api.models_trading import Order
from btx_tui.exchange.process.launcher import PaperExchange
from tests.paper_account import PaperAccount
from btx_tui.tui.messages import (
    DepthFetched, Fetched, HealthChecked, MarketSelected, OpenOrdersFetched, OrderConfirmed, OrderPlaced, OrderSubmitted,
)
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form import OrderFormScreen
from btx_tui.tui.state import FACTS, DashboardState
from btx_tui.tui.widgets.status_bar import StatusBar, StatusInfo

from .fakes import fake_app
from .harness import limit, make_app, notifications, ready, wait_for

SIZE = (120, 36)


def store(symbol: str = "BTCUSDT") -> DashboardState:
    return DashboardState(Widget(), symbol=symbol, chart_interval="1m")


def open_order(cid: str, symbol: str = "BTCUSDT") -> Order:
    return Order(symbol=symbol, order_id=7, client_order_id=cid, price=Decimal("90000"), orig_qty=Decimal("0.001"),
                 executed_qty=Decimal(0), cummulative_quote_qty=Decimal(0), status="NEW", time_in_force="GTC",
                 type="LIMIT", side="BUY", transact_time=1)


def placed(order: Order) -> OrderPlaced:
    request = limit(order.symbol, "BUY", "0.001", "90000")
    return OrderPlaced(PlacementResult(Outcome.ACCEPTED, request, order=order, initial_outcome=Outcome.ACCEPTED))


def polled(orders: tuple[Order, ...], started: float) -> OpenOrdersFetched:
    message = OpenOrdersFetched(orders)
    message.started = started
    return message


# -- the store on its own ------------------------------------------------------------------


def test_a_placed_order_survives_a_poll_started_before_it_and_not_one_started_after() -> None:
    state = store()
    before = time.monotonic()
    order = open_order("btx-placed")
    state.apply(placed(order))
    assert [o.client_order_id for o in state.open_orders] == ["btx-placed"]
    assert state.open_orders[0].time == 1  # stamped from transactTime for the table's sort
    state.apply(polled((), started=before))  # older than the placement: cannot erase it
    assert [o.client_order_id for o in state.open_orders] == ["btx-placed"]
    state.apply(polled((), started=time.monotonic()))  # the exchange's newer word: gone
    assert state.open_orders == ()


def test_an_order_in_flight_is_pending_until_its_outcome_arrives() -> None:
    state = store()
    order = open_order("btx-flight")
    request = limit("BTCUSDT", "BUY", "0.001", "90000")
    state.apply(OrderSubmitted(request))
    assert state.pending_intents == {request.client_order_id: "BTCUSDT|BUY|LIMIT"}
    state.apply(OrderPlaced(PlacementResult(Outcome.REJECTED, request, initial_outcome=Outcome.REJECTED)))
    assert state.pending_intents == {}
    assert state.open_orders == ()  # a rejection adds nothing
    state.apply(placed(order))
    assert state.in_flight == {}


def test_a_book_for_a_market_the_trader_left_is_dropped() -> None:
    state = store("BTCUSDT")
    depth = Depth.model_validate({"lastUpdateId": 1, "bids": [["1", "1"]], "asks": [["2", "1"]]})
    state.apply(DepthFetched("BTCUSDT", depth))
    assert state.depth is depth
    state.apply(MarketSelected("ETHUSDT"))
    assert state.symbol == "ETHUSDT" and state.depth is None
    state.apply(DepthFetched("BTCUSDT", depth))  # a slow answer about the old market
    assert state.depth is None


def test_stale_feeds_are_marked_by_the_clock_and_cleared_by_their_next_answer() -> None:
    state = store()
    state.apply(HealthChecked("degraded", "no answer", frozenset({"book"})))
    assert state.stale == {"book"} and state.connection == "degraded"
    depth = Depth.model_validate({"lastUpdateId": 1, "bids": [], "asks": []})
    state.apply(DepthFetched("BTCUSDT", depth))
    assert state.stale == frozenset()


def test_an_unknown_message_is_refused_not_ignored() -> None:
    with pytest.raises(TypeError, match="cannot apply Message"):
        store().apply(Message())


def test_each_fact_has_one_writer() -> None:
    """No module of the TUI but state.py assigns a fact; in state.py only DashboardState does."""
    root = Path(tui_package.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        owner_of: dict[int, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for child in ast.walk(node):
                    owner_of.setdefault(id(child), node.name)
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                if not (isinstance(target, ast.Attribute) and target.attr in FACTS):
                    continue
                own = isinstance(target.value, ast.Name) and target.value.id == "self"
                in_store = path.name == "state.py" and owner_of.get(id(node)) == "DashboardState"
                # Another class may have an attribute of the same name on itself (the order
                # form's ``symbol``); nobody may assign a fact on another object.
                if not own or (path.name == "state.py" and not in_store):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno} {ast.unparse(target)}")
    assert offenders == []


# -- messages through the running app ------------------------------------------------------


async def test_a_real_placement_flows_as_typed_messages_into_the_store(fresh_account: PaperAccount) -> None:
    """Keys → OrderConfirmed → OrderPlaced → OpenOrdersFetched: the store, then the table, show the order."""
    seen: list[Message] = []
    app = make_app(fresh_account)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await ready(pilot)
        assert app.state.symbol == "BTTUSDT"
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderFormScreen), what="the order form")
        form = app.screen
        for selector, typed in (("#price", "0.0000005000"), ("#quantity", "20000000")):  # rests: below the book
            form.query_one(selector, Input).focus()
            await pilot.press("end", "shift+home", "backspace", *typed)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: any(isinstance(m, OrderPlaced) for m in seen), what="OrderPlaced")
        confirmed = {id(m): m for m in seen if isinstance(m, OrderConfirmed)}
        assert len(confirmed) == 1
        cid = next(iter(confirmed.values())).request.client_order_id
        placed_message = next(m for m in seen if isinstance(m, OrderPlaced))
        assert placed_message.result.outcome is Outcome.ACCEPTED and placed_message.result.client_order_id == cid
        assert cid in {o.client_order_id for o in app.state.open_orders}  # shown from the answer at once
        after = seen.index(placed_message)

        def polled_with_it() -> bool:
            return any(isinstance(m, OpenOrdersFetched) and cid in {o.client_order_id for o in m.orders}
                       for m in seen[after:])

        await wait_for(pilot, polled_with_it, what="an open-orders poll listing the order")
        assert cid in app.dashboard.open_orders.orders
        assert app.state.pending_intents == {}
        fetched = {type(m).__name__ for m in seen if isinstance(m, Fetched)}
        assert {"TickersFetched", "DepthFetched", "AccountFetched", "OpenOrdersFetched"} <= fetched


async def test_trading_keys_a_read_only_key_forbids_are_disabled_and_say_why(paper_exchange: PaperExchange) -> None:
    app = make_app(paper_exchange, key="read")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.permissions == {"READ"}, what="permissions")
        await pilot.pause()
        assert app.check_action("buy", ()) is None and app.check_action("withdraw", ()) is None
        assert app.check_action("refresh", ()) is True
        keys = {k.action: k for k in app.dashboard.query(FooterKey)}
        assert all(keys[a].has_class("-disabled") for a in ("buy", "sell", "withdraw")), "greyed out in the footer"
        assert not keys["refresh"].has_class("-disabled")
        depth = len(app.screen_stack)
        await pilot.press("s")
        await pilot.pause(0.1)
        assert len(app.screen_stack) == depth
        assert any("Selling is disabled: this API key has no TRADE permission" in n for n in notifications(app))


async def test_trading_keys_are_enabled_for_a_key_that_may_trade() -> None:
    app = fake_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.permissions, what="permissions")
        await pilot.pause()
        keys = {k.action: k for k in app.dashboard.query(FooterKey)}
        assert not keys["buy"].has_class("-disabled") and not keys["withdraw"].has_class("-disabled")


# -- the status bar at narrow widths ---------------------------------------------------------


@pytest.mark.parametrize(("width", "permissions"), [(80, "R T W"), (120, "READ TRADE WITHDRAW"),
                                                    (200, "READ TRADE WITHDRAW")])
async def test_the_status_bar_fits_its_permissions(width: int, permissions: str) -> None:
    app = fake_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await wait_for(pilot, lambda: app.state.permissions and app.state.connection == "live", what="live")
        await pilot.pause()
        line = app.dashboard.query_one(StatusBar).render()
        assert line.plain.rstrip().endswith(permissions), line.plain
        assert line.cell_len <= width
        assert "PAPER" in line.plain and "live" in line.plain and "data" in line.plain


async def test_the_status_bar_drops_the_least_important_parts_first() -> None:
    app = fake_app()
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.dashboard.query_one(StatusBar)
        info = StatusInfo(exchange="api.example.com", paper=False, connection="degraded",
                          last_error="exchange unreachable", latency_ms=12.0, data_age_s=3.0, weight_used=120,
                          clock_offset_ms=4, permissions=frozenset({"READ", "TRADE"}))
        full = bar.render_info(info).plain
        assert "clock +4 ms" in full and "READ TRADE withdraw" in full
        fitted = bar.render_info(info, 80).plain
        assert len(fitted) <= 80
        assert "clock" not in fitted and fitted.rstrip().endswith("R T w")
        assert "degraded (exchange unreachable)" in fitted and "data 3s old" in fitted
        await pilot.pause()
