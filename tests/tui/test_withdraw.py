"""The withdraw screen: checks, typed confirmation, sending, and the live history.

The main tests drive the real app (built as ``btx_tui.start_dashboard`` builds it) against the real
paper exchange and check what the *exchange* recorded with a separate ``BtxClient``. The
outcome and failure tests, and the snapshot, use the fixed fake of ``fakes_withdraw`` so
they cannot depend on timing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from pydantic import SecretStr
from textual.pilot import Pilot
from textual.widgets import Button, Static

from btx_tui.api.client import BtxClient
from btx_tui.api.errors import NetworkError, WithdrawalRejected
from btx_tui.api.models_trading import WithdrawStatus
from btx_tui.config import Settings
from btx_tui.exchange.process.launcher import PaperExchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.screens.withdraw import WithdrawScreen
from btx_tui.tui.screens.withdraw_confirm import ConfirmWithdrawScreen
from btx_tui.tui.withdraw_checks import check, confirms, parse_amount
from btx_tui.tui.connection_health import Connection

from .fakes_withdraw import COINS, WithdrawHostApp

SIZE = (120, 36)
TRON = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"
"""A well-formed Tron address (matches the paper exchange's TRC20 addressRegex)."""


def make_app(exchange: PaperExchange, key: str = "full") -> BtxApp:
    """The real app, connected exactly as paper mode connects (``btx_tui.start_dashboard``)."""
    api_key, secret = exchange.key(key)
    return BtxApp(Settings(), Connection(exchange.base_url, api_key, SecretStr(secret), paper=True))


def client_for(exchange: PaperExchange, key: str = "full") -> BtxClient:
    api_key, secret = exchange.key(key)
    return BtxClient(exchange.base_url, api_key, SecretStr(secret))


async def wait_for(pilot: Pilot, condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds; fail (never hang) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def type_into(pilot: Pilot, screen: WithdrawScreen, field: str, text: str, *, paste: bool = False) -> None:
    """Replace a field's text by typing it key by key as a trader would, or as a paste
    (Pilot spends ~60 ms per key, so long addresses are pasted where typing is not the point)."""
    widget = screen._input(field)
    widget.focus()
    widget.value = text if paste else ""
    if not paste:
        await pilot.press(*text)
    await pilot.pause()


def shown(screen: WithdrawScreen, widget_id: str) -> str:
    """The text of a Static, or "" when it is hidden."""
    widget = screen.query_one(f"#{widget_id}", Static)
    return str(widget.render()) if widget.display else ""


def review_enabled(screen: WithdrawScreen) -> bool:
    return not screen.query_one("#wd-review", Button).disabled


def notes(app: object) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]  # type: ignore[attr-defined]


async def open_withdraw(pilot: Pilot, app: BtxApp) -> WithdrawScreen:
    await wait_for(pilot, lambda: app.state.rules.info is not None and app.state.permissions, "session start")
    await pilot.press("w")
    await wait_for(pilot, lambda: isinstance(app.screen, WithdrawScreen), "the withdraw screen")
    screen = app.screen
    assert isinstance(screen, WithdrawScreen)
    await wait_for(pilot, lambda: bool(screen.coins), "coins and networks")
    return screen


# -- pure checks ------------------------------------------------------------------------------


def test_amount_parsing_refuses_garbage() -> None:
    assert parse_amount("12.5") == (Decimal("12.5"), None)
    for garbage in ("12abc", "1e5", "-3", "NaN", "1,5", "1.2.3", " . "):
        amount, problem = parse_amount(garbage)
        assert amount is None and problem and "not a number" in problem, garbage
    assert parse_amount("0") == (None, "must be more than 0")
    assert parse_amount("0.000000001")[1] == "at most 8 decimals"
    assert parse_amount("   ") == (None, None)


def test_check_names_every_problem_and_the_typed_phrase_must_match() -> None:
    usdt = next(c for c in COINS if c.coin == "USDT")
    trx = usdt.default_network
    assert trx is not None
    bad = check(usdt, trx, "0xdeadbeef", "", "5")
    assert set(bad.problems) == {"address", "amount"} and not bad.ok
    assert "minimum of 10 USDT" in bad.problems["amount"]
    over = check(usdt, trx, TRON, "", "10000")  # 10000 + fee 1 > free 10000
    assert "more than your free 10,000 USDT (max 9,999)" in over.problems["amount"]
    good = check(usdt, trx, TRON, "", "25.50")
    assert good.ok and good.total == Decimal("26.5") and good.phrase == "25.5 USDT"
    assert confirms("25.5 usdt", good) and confirms(" 25.50  USDT ", good)
    assert not confirms("25 USDT", good) and not confirms("25.5", good) and not confirms("25.5 BTC", good)


# -- the real app against the real paper exchange -------------------------------------------------


@pytest.mark.long
async def test_withdraw_checks_confirms_sends_once_and_history_shows_it_complete(
        fresh_exchange: PaperExchange) -> None:
    app = make_app(fresh_exchange)
    async with client_for(fresh_exchange) as client:
        before = (await client.account()).balance("USDT")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_withdraw(pilot, app)
            # The screen polls its history every 3 s; every 0.5 s here, so seeing the withdrawal
            # complete waits for the exchange (~3 s), not for the next poll as well.
            screen.interval_s = 0.5
            screen._select("coin").value = "USDT"
            await wait_for(pilot, lambda: screen._select("network").value == "TRX", "default network TRX")
            assert "Free 10,000 USDT · fee 1 · min 10 ·" in shown(screen, "wd-free")

            await type_into(pilot, screen, "address", "0x52908400098527886E0F7030069857D2E4169EE7", paste=True)
            assert "not a valid TRX address for USDT" in shown(screen, "wd-address-problem")
            assert not review_enabled(screen)
            await pilot.press("ctrl+s")
            assert app.screen is screen  # nothing to confirm while the form is wrong

            await type_into(pilot, screen, "address", TRON, paste=True)  # typing is tested on the amounts
            assert shown(screen, "wd-address-problem") == ""
            await type_into(pilot, screen, "amount", "5")
            assert "below the minimum of 10 USDT on TRX" in shown(screen, "wd-amount-problem")
            assert not review_enabled(screen)
            await type_into(pilot, screen, "amount", "12x")
            assert "not a number" in shown(screen, "wd-amount-problem")
            await type_into(pilot, screen, "amount", "25.5")
            assert shown(screen, "wd-amount-problem") == ""
            summary = str(screen.query_one("#wd-summary", Static).render())
            assert "Total locked 26.5 USDT" in summary and "receives 25.5 USDT" in summary
            assert review_enabled(screen)

            # Typed confirmation: a wrong phrase keeps "send" disabled; Esc returns to an intact form.
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWithdrawScreen), "the confirmation")
            await pilot.press(*"25 USDT")
            assert app.screen.query_one("#wdc-send", Button).disabled
            await pilot.press("enter")
            assert isinstance(app.screen, ConfirmWithdrawScreen)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, "back to the form")
            assert (screen._input("address").value, screen._input("amount").value) == (TRON, "25.5")
            assert screen.sent == []

            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWithdrawScreen), "the confirmation")
            await pilot.press(*"25.5 usdt")
            assert not app.screen.query_one("#wdc-send", Button).disabled
            await pilot.press("enter")
            await wait_for(pilot, lambda: any("Withdrawal accepted" in n for n in notes(app)), "accepted")
            assert len(screen.sent) == 1
            wid = screen.sent[0]

            # What the exchange recorded: exactly one withdrawal, with our client id and amount.
            account = await client.account()
            mine = await client.withdraw_history(withdraw_order_id=wid)
            assert len(await client.withdraw_history()) == 1
            assert len(mine) == 1 and mine[0].amount == Decimal("25.5") and mine[0].coin == "USDT"
            assert mine[0].transaction_fee == Decimal("1") and mine[0].network == "TRX"
            usdt = account.balance("USDT")
            if mine[0].status == WithdrawStatus.PROCESSING:  # read before the history: still locked
                assert usdt.locked == before.locked + Decimal("26.5")
                assert usdt.free == before.free - Decimal("26.5")
            else:  # the exchange was quicker than this test: it has already left
                assert usdt.total == before.total - Decimal("26.5")

            # The screen's history shows it, then (the paper exchange completes in ~3 s) completed.
            assert screen._input("amount").value == ""  # a second ctrl+s cannot repeat it
            table = screen.table
            await wait_for(pilot, lambda: table.status_of(wid) is not None, "the row in the history table")
            await wait_for(pilot, lambda: table.status_of(wid) == "completed", "completed", timeout=30)
            row = table.get_row(mine[0].id)
            assert "25.5" in str(row[3]) and "completed" in str(row[6])

        after = (await client.account()).balance("USDT")
        assert after.free == before.free - Decimal("26.5") and after.locked == before.locked
        assert len(await client.withdraw_history()) == 1  # never resent


async def test_exchange_rejection_is_shown_in_plain_words(paper_exchange: PaperExchange) -> None:
    """BTT on TRX moves whole coins only: the form cannot know, the exchange says why."""
    app = make_app(paper_exchange)
    async with client_for(paper_exchange) as client:
        count = len(await client.withdraw_history(coin="BTT"))
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_withdraw(pilot, app)
            screen._select("coin").value = "BTT"
            await wait_for(pilot, lambda: screen._select("network").value == "TRX", "default network")
            await type_into(pilot, screen, "address", TRON, paste=True)
            await type_into(pilot, screen, "amount", "4000000.5")
            assert review_enabled(screen)
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWithdrawScreen), "the confirmation")
            await pilot.press(*"4000000.5 BTT", "enter")
            await wait_for(pilot, lambda: any("Withdrawal rejected" in n for n in notes(app)), "rejected")
            text = next(n for n in notes(app) if "Withdrawal rejected" in n)
            assert "Withdrawal amount must be a multiple of 1" in text
            assert screen._input("amount").value == "4000000.5"  # kept, to be corrected
        assert len(await client.withdraw_history(coin="BTT")) == count


async def test_read_only_key_cannot_open_the_withdraw_screen(paper_exchange: PaperExchange) -> None:
    app = make_app(paper_exchange, "read")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.state.rules.info is not None and app.state.permissions, "session start")
        assert "WITHDRAW" not in app.state.permissions
        await pilot.press("w")
        await pilot.pause()
        assert not any(isinstance(s, WithdrawScreen) for s in app.screen_stack)
        assert any("WITHDRAW permission" in n for n in notes(app))


# -- outcomes and failures, on the fixed fake ----------------------------------------------------


async def fill_valid(pilot: Pilot, app: WithdrawHostApp) -> WithdrawScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, WithdrawScreen) and bool(app.screen.coins), "coins")
    screen = app.screen
    assert isinstance(screen, WithdrawScreen)
    screen._select("coin").value = "USDT"
    await wait_for(pilot, lambda: screen._select("network").value == "TRX", "default network")
    await type_into(pilot, screen, "address", TRON, paste=True)
    await type_into(pilot, screen, "amount", "25.5", paste=True)
    return screen


async def confirm(pilot: Pilot, app: WithdrawHostApp, phrase: str) -> None:
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmWithdrawScreen), "the confirmation")
    await pilot.press(*phrase, "enter")


async def test_lost_answer_is_reported_unknown_and_never_resent() -> None:
    app = WithdrawHostApp()
    app.client.apply_error = NetworkError("connection reset", maybe_sent=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await fill_valid(pilot, app)
        await confirm(pilot, app, "25.5 USDT")
        await wait_for(pilot, lambda: any("outcome unknown" in n for n in notes(app)), "unknown outcome")
        text = next(n for n in notes(app) if "outcome unknown" in n)
        assert "unknown — check the history before retrying" in text and screen.sent[0] in text
        await pilot.pause(0.3)
        assert len(app.client.applied) == 1  # no automatic resend
        assert app.client.applied[0]["withdraw_order_id"] == screen.sent[0]
        assert screen.unresolved == {screen.sent[0]: "25.5 USDT to TJRabP…RTv8 on TRX"}


async def test_rejection_keeps_the_form_and_says_why() -> None:
    app = WithdrawHostApp()
    app.client.apply_error = WithdrawalRejected("Invalid address: [bold]x[/] is not valid.", http_status=400,
                                                code=-4007)
    async with app.run_test(size=SIZE) as pilot:
        screen = await fill_valid(pilot, app)
        await confirm(pilot, app, "25.5 USDT")
        await wait_for(pilot, lambda: any("Withdrawal rejected" in n for n in notes(app)), "rejection")
        assert any("[bold]x[/] is not valid." in n for n in notes(app))  # shown as text, not markup
        assert screen._input("amount").value == "25.5" and review_enabled(screen)


async def test_history_poll_survives_network_loss_and_garbage() -> None:
    app = WithdrawHostApp(interval_s=0.05)
    async with app.run_test(size=SIZE) as pilot:
        screen = await fill_valid(pilot, app)
        await wait_for(pilot, lambda: screen.table.row_count == 2, "history rows")
        app.client.history_error = NetworkError("connection refused", maybe_sent=False)
        await wait_for(pilot, lambda: "exchange unreachable" in shown(screen, "wd-history-status"), "error shown")
        assert screen.table.row_count == 2  # the last good rows stay
        app.client.history_error = ValueError("garbage")
        calls = app.client.history_calls
        await wait_for(pilot, lambda: app.client.history_calls > calls + 1, "polls continue after garbage")
        app.client.history_error = None
        await wait_for(pilot, lambda: "withdrawal(s)" in shown(screen, "wd-history-status"), "recovered")
        assert isinstance(app.screen, WithdrawScreen)


async def test_history_table_shows_status_in_words_newest_first() -> None:
    app = WithdrawHostApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await fill_valid(pilot, app)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: screen.table.row_count == 2, "history rows")
        first, second = (screen.table.get_row_at(i) for i in range(2))
        assert [str(c).strip() for c in first[1:3]] == ["BTC", "BTC"] and "processing" in str(first[6])
        assert "completed" in str(second[6]) and "TJRabP…RTv8" in str(second[5])
        assert re.search(r"ffffff…ffff", str(second[7]))


# -- snapshot of the form, paired with asserts of what it shows -----------------------------------


async def _filled_form(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, WithdrawHostApp)
    screen = await fill_valid(pilot, app)
    for widget in screen.query("Input"):
        widget.cursor_blink = False  # type: ignore[attr-defined]
    screen._select("coin").focus()
    await pilot.pause()


async def test_form_shows_what_the_snapshot_shows() -> None:
    app = WithdrawHostApp()
    async with app.run_test(size=SIZE) as pilot:
        await _filled_form(pilot)
        screen = app.screen
        assert isinstance(screen, WithdrawScreen)
        assert list(screen.coins) == ["BTC", "USDT"]  # MATIC is not withdrawable
        assert "Free 10,000 USDT · fee 1 · min 10 · max 10,000,000 · you can send up to 9,999 USDT" in shown(
            screen, "wd-free")
        summary = str(screen.query_one("#wd-summary", Static).render())
        assert "Amount       25.5 USDT" in summary and "Total locked 26.5 USDT" in summary
        assert "Ready: ctrl+s" in summary and review_enabled(screen)


def test_withdraw_form_snapshot(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(WithdrawHostApp(), terminal_size=SIZE, run_before=_filled_form)
