"""The order form: Pilot tests of the real app against a real paper exchange, plus snapshots.

The paper exchange of these tests has no synthetic market, so each test first rests a SELL
above and a BUY below the reference price with its own account's key: the form then
has a best ask to prefill a buy with and a best bid for a sell.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from btx_tui.api.models_trading import OrderSide, OrderType
from btx_tui.api.preflight import SymbolRules, round_quantity
from tests.paper_account import PaperAccount
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form import OrderFormScreen

from btx_tui.tui.widgets.order_preview import MarketContext, OrderDraft, approx, parse_amount, quick_size

from .fakes import FakeClient, exchange_info, fake_app, freeze_clock
from .harness import client_for, limit, make_app, wait_for
from .order_form_driving import fake_ready, open_form, replace, steady, text, value
from .resting_book import BEST_ASK, BEST_BID, CALM, SIZE, SYMBOL, rest_both_sides


async def test_b_opens_a_buy_form_focused_on_quantity_with_the_best_ask(fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        assert form.side == "BUY" and form.symbol == SYMBOL
        assert app.focused is form.query_one("#quantity")
        assert Decimal(value(form, "#price")) == Decimal(BEST_ASK)
        assert "BUY BTTUSDT" in text(form, "#of-title")


async def test_quantity_below_the_minimum_is_shown_inline_and_enter_does_not_confirm(
        fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        await pilot.press(*"0.5")
        await pilot.pause()
        assert text(form, "#quantity-error") == "✗ Below the minimum quantity 1 BTT"
        assert form.evaluation is not None and not form.evaluation.ok
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form, "a problem must keep the confirmation closed"
        # A quantity above the minimum but worth less than 5 USDT: the value problem shows at the total.
        await replace(pilot, form, "#quantity", "1000")
        assert text(form, "#quantity-error") == ""
        assert "✗ Order value 0.00062 USDT is below the minimum 5 USDT" in text(form, "#preview")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert app.state.pending_intents == {}


async def test_limit_buy_is_confirmed_exactly_back_keeps_fields_and_yes_places_it(
        fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        await replace(pilot, form, "#price", "0.000000610012")
        await replace(pilot, form, "#quantity", "10000000.7")
        preview = text(form, "#preview")
        assert "0.0000006100 USDT  rounded down from 0.000000610012" in preview
        assert "10,000,000 BTT  rounded down from 10000000.7" in preview
        assert "Total       6.1 USDT" in preview
        assert "Commission  ≈ 10,000 BTT" in preview
        assert "USDT 9,994.00 → 9,987.90" in preview  # 10,000 minus the resting buy's 6 USDT, minus 6.1

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        confirm = app.screen
        assert str(confirm.query_one("#confirm-body", Static).content) == (
            "BUY 10,000,000 BTT on BTTUSDT\nLIMIT @ 0.0000006100 USDT, GTC (good till canceled)")
        assert str(confirm.query_one("#confirm-details", Static).content) == (
            "Total 6.1 USDT\nCommission ≈ 10,000 BTT (estimated)")

        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is form, what="back to the form")
        assert (value(form, "#price"), value(form, "#quantity")) == ("0.000000610012", "10000000.7")
        assert form.side == "BUY" and form.order_type == "LIMIT" and form.time_in_force == "GTC"
        assert app.state.pending_intents == {}

        form.query_one("#quantity", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation again")
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, (ConfirmScreen, OrderFormScreen)),
                       what="the form to close")
        async with client_for(fresh_account) as client:
            placed: list = []

            async def fetch() -> None:
                placed[:] = [o for o in await client.open_orders(SYMBOL) if o.price == Decimal("0.0000006100")]

            for _ in range(100):
                await fetch()
                if placed:
                    break
                await pilot.pause(0.1)
        assert len(placed) == 1
        order = placed[0]
        assert (order.side, order.type, order.time_in_force) == ("BUY", "LIMIT", "GTC")
        assert order.orig_qty == Decimal("10000000")
        assert order.client_order_id.startswith("btx-")


async def test_quick_size_100_percent_of_a_sell_is_the_free_base_rounded_down(
        fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "s")
        assert Decimal(value(form, "#price")) == Decimal(BEST_BID)
        async with client_for(fresh_account) as client:
            free = (await client.account()).balance("BTT").free
        assert free == Decimal("40000000")  # 50M funded, 10M locked by the resting sell
        step = app.state.rules.symbol(SYMBOL).lot_size.step_size  # type: ignore[union-attr]
        await wait_for(pilot, lambda: app.state.account is not None
                       and app.state.account.balance("BTT").free == free, what="fresh balances")
        assert app.focused is form.query_one("#quantity")
        await pilot.press("f4")
        await pilot.pause()
        assert Decimal(value(form, "#quantity")) == round_quantity(free, step) == Decimal("40000000")
        await pilot.press("alt+2")  # the alt keys work too, with the cursor in the input
        await pilot.pause()
        assert value(form, "#quantity") == "20000000"
        await pilot.click("#size-25")
        await pilot.pause()
        assert value(form, "#quantity") == "10000000"
        assert form.evaluation is not None and form.evaluation.ok


async def test_garbage_is_an_inline_error_nothing_is_sent_and_esc_closes(fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        cases = {
            "abc": "✗ Not a number: 'abc'",
            "-1": "✗ Must be positive: type the number without a sign",
            "1e5": "✗ Write the number in full, without an exponent",
            "1,5": "✗ Use a dot for decimals; commas only between groups of three digits",
            "": "✗ Enter a quantity",
        }
        for typed, error in cases.items():
            await replace(pilot, form, "#quantity", typed)
            assert text(form, "#quantity-error") == error, typed
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is form, typed
        await replace(pilot, form, "#price", "0.00000062x")
        assert text(form, "#price-error") == "✗ Not a number: '0.00000062x'"
        await replace(pilot, form, "#quantity", "10000000")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        assert app.focused is form.query_one("#price"), "review points at the field in error"

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the form to close")
        assert app.state.pending_intents == {}
        await pilot.pause(0.3)
        async with client_for(fresh_account) as client:
            orders = await client.all_orders(SYMBOL)
        assert len(orders) == 2, "only the two resting orders of the setup exist"


async def test_type_switch_hides_what_does_not_apply_and_f5_switches_side(fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        shown = lambda row: form.query_one(row).display  # noqa: E731
        assert shown("#row-price") and shown("#row-tif") and not shown("#row-sizing")
        await pilot.press("f6")  # MARKET: no price, no time in force, may size by quote
        await pilot.pause()
        assert form.order_type == "MARKET"
        assert not shown("#row-price") and not shown("#row-tif") and shown("#row-sizing")
        assert "market (≈ 0.0000006200 USDT now)" in text(form, "#preview")
        await pilot.press("f6")  # LIMIT_MAKER: a price on the own side of the book, no time in force
        await pilot.pause()
        assert form.order_type == "LIMIT_MAKER"
        assert shown("#row-price") and not shown("#row-tif") and not shown("#row-sizing")
        assert Decimal(value(form, "#price")) == Decimal(BEST_BID)  # a maker buys at the best bid
        assert "takes liquidity" not in text(form, "#preview")
        await pilot.press("f5")  # switch to SELL: a maker sells at the best ask
        await pilot.pause()
        assert form.side == "SELL"
        assert "SELL BTTUSDT" in text(form, "#of-title")
        assert Decimal(value(form, "#price")) == Decimal(BEST_ASK)
        assert form.query_one("#order-form").has_class("-sell")
        seen = []
        for _ in range(4):  # the stop and take-profit types the market advertises come next
            await pilot.press("f6")
            await pilot.pause()
            seen.append((form.order_type, shown("#row-stop-price"), shown("#row-price")))
        assert seen == [("STOP_LOSS", True, False), ("STOP_LOSS_LIMIT", True, True),
                        ("TAKE_PROFIT", True, False), ("TAKE_PROFIT_LIMIT", True, True)]
        await pilot.press("f6")  # back to LIMIT: the best opposite price, which takes; f7 cycles the TIF
        await pilot.press("f7")
        await pilot.pause()
        assert (form.order_type, form.time_in_force) == ("LIMIT", "IOC")
        assert Decimal(value(form, "#price")) == Decimal(BEST_BID)
        assert "takes liquidity: taker fee" in text(form, "#preview")
        assert app.focused is form.query_one("#quantity")


async def test_market_buy_by_quote_amount_is_placed_with_quote_order_qty(fresh_account: PaperAccount) -> None:
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        await pilot.press("f6", "f8")  # MARKET, sized by the USDT amount to spend
        await pilot.pause()
        assert form.by_quote and form.query_one("#row-quote-amount").display
        assert not form.query_one("#row-quantity").display
        assert app.focused is form.query_one("#quote-amount")
        await pilot.press(*"6.2")
        await pilot.pause()
        assert "Spend       6.2 USDT" in text(form, "#preview")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert str(app.screen.query_one("#confirm-body", Static).content) == (
            "BUY BTT for 6.2 USDT on BTTUSDT\nMARKET at the best available price (≈ 0.0000006200 USDT now)")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="the form to close")
        async with client_for(fresh_account) as client:
            found: list = []
            for _ in range(100):
                found = [o for o in await client.all_orders(SYMBOL) if o.type == "MARKET"]
                if found:
                    break
                await pilot.pause(0.1)
        assert len(found) == 1
        assert found[0].side == "BUY" and found[0].orig_quote_order_qty == Decimal("6.2")


# -- pure rules (no terminal) -------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [
    ("12", Decimal("12")), ("12.50", Decimal("12.50")), (".5", Decimal("0.5")), ("7.", Decimal("7")),
    (" 0.00000061 ", Decimal("0.00000061")), ("0", Decimal("0")),
    ("1,000.5", Decimal("1000.5")), ("12,345,678", Decimal("12345678")), ("1,000.", Decimal("1000")),
])
def test_parse_amount_accepts_plain_decimals(typed: str, expected: Decimal) -> None:
    value, error = parse_amount(typed, "a quantity")
    assert error is None and value == expected and isinstance(value, Decimal)


@pytest.mark.parametrize(("typed", "error"), [
    ("", "Enter a quantity"), ("   ", "Enter a quantity"), ("abc", "Not a number: 'abc'"),
    ("-1", "Must be positive: type the number without a sign"), ("+1", "Must be positive: type the number without a sign"),
    ("1e5", "Write the number in full, without an exponent"), ("1E-3", "Write the number in full, without an exponent"),
    ("1,5", "Use a dot for decimals; commas only between groups of three digits"),
    ("1,00", "Use a dot for decimals; commas only between groups of three digits"),
    ("1000,000", "Use a dot for decimals; commas only between groups of three digits"), ("NaN", "Not a number: 'NaN'"),
    ("Infinity", "Not a number: 'Infinity'"), ("1.2.3", "Not a number: '1.2.3'"), (".", "Not a number: '.'"),
    ("1" * 33, "Too many digits (at most 32)"),
])
def test_parse_amount_refuses_garbage_with_a_reason(typed: str, error: str) -> None:
    assert parse_amount(typed, "a quantity") == (None, error)


def btc_context(free: dict[str, str]) -> MarketContext:
    rules = SymbolRules.from_symbol_info(exchange_info().symbol("BTCUSDT"))  # tick 0.01, step 0.00001
    return MarketContext(rules=rules, best_bid=Decimal("94999.99"), best_ask=Decimal("95000.01"),
                         free={a: Decimal(v) for a, v in free.items()})


def test_a_limit_at_or_through_the_opposite_best_price_takes_liquidity() -> None:
    ctx = btc_context({})
    assert ctx.crosses(OrderSide.BUY, Decimal("95000.01")) and ctx.crosses(OrderSide.BUY, Decimal("96000"))
    assert not ctx.crosses(OrderSide.BUY, Decimal("95000.00"))
    assert ctx.crosses(OrderSide.SELL, Decimal("94999.99")) and not ctx.crosses(OrderSide.SELL, Decimal("95000"))
    assert (ctx.own_best(OrderSide.BUY), ctx.own_best(OrderSide.SELL)) == (Decimal("94999.99"), Decimal("95000.01"))


def test_quick_size_rounds_down_to_the_step() -> None:
    ctx = btc_context({"BTC": "0.123456789", "USDT": "1000.123456789"})
    sell = OrderDraft(side=OrderSide.SELL, price="95000")
    assert quick_size(sell, ctx, 100) == ("quantity", "0.12345")
    assert quick_size(sell, ctx, 25) == ("quantity", "0.03086")
    buy = OrderDraft(side=OrderSide.BUY, price="95000.009")  # sized from the price rounded down: 95000.00
    assert quick_size(buy, ctx, 50) == ("quantity", "0.00526")  # 500.0617 / 95000 = 0.0052638…
    market = OrderDraft(side=OrderSide.BUY, type=OrderType.MARKET)
    assert quick_size(market, ctx, 100) == ("quantity", "0.01052")  # 1000.12 / best ask 95000.01
    by_quote = OrderDraft(side=OrderSide.BUY, type=OrderType.MARKET, by_quote=True)
    assert quick_size(by_quote, ctx, 100) == ("quote_order_qty", "1000.12345678")
    assert quick_size(OrderDraft(side=OrderSide.BUY, price="abc"), ctx, 50) == (
        "Enter a valid price first: a buy is sized from it")
    no_balances = MarketContext(rules=ctx.rules)
    assert quick_size(sell, no_balances, 100) == "Balances are not loaded yet"


def test_estimates_are_shown_with_at_most_eight_decimals() -> None:
    assert approx(Decimal(5000) / Decimal("0.0000006118")) == "8,172,605,426.61000327"
    assert approx(Decimal("6.1000000000")) == "6.1"


# -- snapshots (fixed data from a fake client) ----------------------------------------------------


def test_snapshot_form_with_validation_errors(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch)
    client = FakeClient()

    async def run_before(pilot: Pilot) -> None:
        app = await fake_ready(pilot)
        form = await open_form(pilot, "b")
        steady(form)
        assert value(form, "#price") == "0.0000006200"
        await replace(pilot, form, "#price", "0.00000062005")
        await replace(pilot, form, "#quantity", "1000000.5")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        preview = text(form, "#preview")
        assert "0.0000006200 USDT  rounded down from 0.00000062005" in preview
        assert "1,000,000 BTT  rounded down from 1000000.5" in preview
        assert "✗ Order value 0.62 USDT is below the minimum 5 USDT" in preview
        assert app.focused is form.query_one("#quantity")
        assert client.placed == []

    assert snap_compare(fake_app(client), terminal_size=SIZE, run_before=run_before)


def test_snapshot_confirmation(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze_clock(monkeypatch)
    client = FakeClient()

    async def run_before(pilot: Pilot) -> None:
        app = await fake_ready(pilot)
        form = await open_form(pilot, "b")
        steady(form)
        await pilot.press(*"10000000", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert str(app.screen.query_one("#confirm-body", Static).content) == (
            "BUY 10,000,000 BTT on BTTUSDT\nLIMIT @ 0.0000006200 USDT, GTC (good till canceled)")
        assert str(app.screen.query_one("#confirm-details", Static).content) == (
            "Total 6.2 USDT\nCommission ≈ 10,000 BTT (estimated)")
        assert client.placed == []

    assert snap_compare(fake_app(client), terminal_size=SIZE, run_before=run_before)


async def test_yes_on_the_fake_sends_exactly_the_confirmed_request() -> None:
    """The same path as the confirmation snapshot, through to the request handed to the client."""
    client = FakeClient()
    app = fake_app(client)
    async with app.run_test(size=SIZE) as pilot:
        await fake_ready(pilot)
        form = await open_form(pilot, "s")
        await pilot.press(*"50000000")  # more than the 40,000,000 BTT free
        await pilot.pause()
        assert "✗ Not enough BTT: needs 50000000, free 40000000" in text(form, "#preview")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
        await replace(pilot, form, "#quantity", "12345678.9")
        assert form.evaluation is not None and form.evaluation.ok
        form.query_one("#type").focus()  # Enter reviews from a choice too (it does not re-pick the option)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: len(client.placed) == 1, what="the order to be sent")
        request = client.placed[0]
        assert (request.symbol, request.side, request.type, request.time_in_force) == (
            SYMBOL, "SELL", "LIMIT", "GTC")
        assert request.price == Decimal("0.0000006000") and request.quantity == Decimal("12345678")
        assert request.quote_order_qty is None
        assert app.screen is app.dashboard


async def test_a_cleared_price_field_is_not_refilled_under_the_cursor_by_a_book_update(
        fresh_account: PaperAccount) -> None:
    """Found in tmux: End, shift+Home, Backspace in the price field, then a book update arrived
    before the field's Input.Changed: the best ask was put back and the typed price landed in
    front of it ("0.00000050000.0000006116")."""
    await rest_both_sides(fresh_account)
    app = make_app(fresh_account, **CALM)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "b")
        price = form.query_one("#price", Input)
        price.focus()
        await pilot.pause()
        with form.prevent(Input.Changed):  # the clear's Changed has not been handled yet
            price.value = ""
        form._follow_market()  # the book moved meanwhile
        assert price.value == ""
        await pilot.press(*"0.0000005000")
        await pilot.pause()
        assert value(form, "#price") == "0.0000005000"
        form.query_one("#quantity", Input).focus()
        await pilot.pause()
        with form.prevent(Input.Changed):
            price.value = ""
        form._touched.discard("price")
        form._follow_market()  # an empty field the trader is not in is filled again
        assert Decimal(price.value) == Decimal(BEST_ASK)
