"""The withdraw screen's exchange work: the history poll loop, the send, and what they report.

Why a module of its own: :mod:`btx_tui.tui.screens.withdraw` lays out the form and reacts to
the trader; these coroutines are the only parts that talk to the exchange. They run in
workers (the poll in the screen's, a send in the *app's*, so closing the screen never cancels
a request already on its way) and answer only through the messages below and notifications.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, Protocol

from textual.message import Message

from btx_tui.backoff import Backoff

from btx_tui.api.errors import NetworkError
from btx_tui.api.models_trading import CoinConfig, Withdrawal
from btx_tui.tui.widgets.withdrawals import shorten
from btx_tui.tui.withdraw_checks import CONFIG_EVERY, Draft, SendOutcome, classify, show


class HistoryScreen(Protocol):
    """What the history poll needs from the screen it serves (the withdraw screen)."""

    interval_s: float
    wake: asyncio.Event
    coins: dict[str, CoinConfig]
    client: Callable[[], Any]
    """The service-layer client (None until connected)."""

    def post_message(self, message: Message) -> bool: ...


class SendingScreen(Protocol):
    """What a send needs from the screen that started it."""

    client: Callable[[], Any]
    on_sent: Callable[[], None]
    """Called once a send's outcome is known (the app refreshes the balances)."""
    is_attached: bool
    app: Any

    def post_message(self, message: Message) -> bool: ...

__all__ = ["WithdrawalSent", "WithdrawalsFailed", "WithdrawalsFetched", "notify_outcome", "poll_history",
           "send_withdrawal"]


class WithdrawalSent(Message):
    """A withdrawal request finished (whatever the outcome)."""

    def __init__(self, outcome: SendOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class WithdrawalsFetched(Message):
    """Fresh history, and coin configuration when it was fetched this time (else None)."""

    def __init__(self, history: tuple[Withdrawal, ...], coins: tuple[CoinConfig, ...] | None) -> None:
        super().__init__()
        self.history = history
        self.coins = coins

    def can_replace(self, message: Message) -> bool:
        """A newer snapshot replaces a queued older one, unless only the older carries coins."""
        return isinstance(message, WithdrawalsFetched) and (self.coins is not None or message.coins is None)


class WithdrawalsFailed(Message):
    """A history poll failed; the loop retries by itself."""

    def __init__(self, error: BaseException, retry_in_s: float) -> None:
        super().__init__()
        self.error = error
        self.retry_in_s = retry_in_s


async def poll_history(screen: HistoryScreen) -> None:
    """Fetch history and balances, post them, sleep; errors are shown, never raised."""
    backoff = Backoff(first_s=2 * screen.interval_s, cap_s=30.0, floor_s=screen.interval_s)
    failures = 0
    polls = 0
    while True:
        woken = screen.wake.is_set()
        screen.wake.clear()
        delay = screen.interval_s
        try:
            client = screen.client()
            if client is None:
                raise NetworkError("not connected to the exchange yet", maybe_sent=False)
            history = await client.withdraw_history(limit=100)
            coins = None
            if woken or not screen.coins or polls % CONFIG_EVERY == 0:
                coins = await client.capital_config()
            polls += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - shown on screen, retried with backoff
            failures += 1
            delay = backoff.delay(failures)
            screen.post_message(WithdrawalsFailed(exc, delay))
        else:
            failures = 0
            delay = screen.interval_s * random.uniform(0.9, 1.1)  # polls of several screens drift apart
            screen.post_message(WithdrawalsFetched(history, coins))
        try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow the worker's cancel
            async with asyncio.timeout(delay):
                await screen.wake.wait()
        except TimeoutError:
            pass


async def send_withdrawal(screen: SendingScreen, d: Draft, wid: str) -> None:
    """Send one confirmed withdrawal named ``wid``; tell the trader and the screen how it ended."""
    assert d.coin is not None and d.network is not None and d.amount is not None
    what = f"{show(d.amount)} {d.coin.coin} to {shorten(d.address)} on {d.network.network}"
    try:
        client = screen.client()
        if client is None:
            raise NetworkError("not connected to the exchange yet", maybe_sent=False)
        result = await client.withdraw_apply(d.coin.coin, d.address, d.amount, network=d.network.network,
                                             address_tag=d.tag, withdraw_order_id=wid)
        outcome = SendOutcome("accepted", wid, what, result.id)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes an outcome the trader reads
        kind, words = classify(exc)
        outcome = SendOutcome(kind, wid, what, words)
    notify_outcome(screen.app, outcome)
    screen.on_sent()
    if screen.is_attached:
        screen.post_message(WithdrawalSent(outcome))


def notify_outcome(app: Any, o: SendOutcome) -> None:
    """Tell the trader how a send ended, in plain words (exchange text is never read as markup)."""
    if o.kind == "accepted":
        app.notify(f"{o.what}: accepted, id {o.detail}. Watch it in the History tab.",
                   title="Withdrawal accepted", timeout=8, markup=False)
    elif o.kind == "rejected":
        app.notify(f"{o.what}: {o.detail}", title="Withdrawal rejected", severity="error", timeout=12, markup=False)
    elif o.kind == "not sent":
        app.notify(f"{o.what}: {o.detail}.", title="Withdrawal not sent", severity="warning", timeout=10,
                   markup=False)
    else:
        app.notify(f"{o.what}: {o.detail} (client id {o.withdraw_order_id}).", title="Withdrawal outcome unknown",
                   severity="warning", timeout=20, markup=False)
