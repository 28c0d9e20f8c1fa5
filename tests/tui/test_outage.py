"""Pilot test: the dashboard rides out a killed paper exchange (5 s and 60 s) and recovers by itself.

The 60 s outage runs in compressed time, as the rate-limit soak does: the feeds' backoff cap
is an eighth of :data:`MAX_BACKOFF_S` (1 s) and the outage an eighth of 60 s, so the outage
still lasts 7.5 caps — long enough to reach the cap and stay there — in 7.5 s of wall time.
The polling intervals and the 10 s recovery bound stay real. ``bench/outage.py`` runs the real
60 s and measures the event-loop lag.

Issue #6, "Outages in the dashboard". The real app runs against a real paper exchange that is
killed with SIGKILL while the app has a resting order and an unresolved intent (an order whose
answer was "lost"). While the exchange is gone, someone else — another btx-tui on the same
account — cancels the resting order, the lost order turns out to have landed, and a new btx-
order appears: the exchange is started on the same data directory but on a port the dashboard
does not know. Then the exchange returns on its original port, and within 10 s the dashboard
must show fresh data and a journal and open-orders list that agree with the exchange.

What is asserted (no timing figures: the event-loop lag is measured by ``bench/outage.py``):

* during the outage: status "down" with "exchange unreachable", every pane greyed out
  (``-stale``) and the book marked stale; the lost order still shows "unknown — checking";
  the feeds' retry delays grow exponentially from the feed's interval, are capped at
  ``MAX_BACKOFF_S`` and are jittered; the UI still acts on keys (help opens and closes, the
  market changes via ``/`` and back);
* within 10 s of the return: status "live", every feed fetched after the return, nothing
  stale, open orders = {lost order, adopted order} without the canceled one, the journal
  resolved (lost → accepted, adopted → accepted/adopted, resting → canceled), balances as
  the exchange has them (the cancel released its USDT).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from rich.text import Text
from textual.command import CommandPalette, CommandList
from textual.message import Message
from textual.pilot import Pilot

from btx_tui.api.journal import JournalState
from btx_tui.api.orders import OrderRequest, is_btx_client_order_id
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from btx_tui.tui.app import BtxApp
from btx_tui.tui.feeds import MAX_BACKOFF_S
from btx_tui.tui.messages import FeedFailed, JournalChanged
from btx_tui.tui.screens.dashboard import PANES_OF
from btx_tui.tui.screens.help import HelpScreen

from .harness import client_for, free_port, limit, make_app, ready, wait_for

SIZE = (160, 48)
RECOVERY_S = 10.0
"""The issue's bound: fresh, reconciled data within this long after the exchange is back."""
SIDE_ACTIVITY_S = 4.0
"""How long before the outage ends the other btx-tui's activity starts (exchange start + 3 calls)."""
UI = {"symbol": "BTCUSDT", "book_interval_s": 0.5, "account_interval_s": 2.0,
      "orders_interval_s": 3.0, "prices_interval_s": 1.0, "history_interval_s": 2.0}
"""Overrides of the harness's ``FAST_UI``, so polling stays inside the exchange's weight limit
(~5,200 of 6,000 per minute).

``FAST_UI`` polls ``openOrders`` (weight 80) every 0.3 s — 16,000 per minute — so within
~20 s the client's own rate budget would throttle every feed and confound the outage with
self-inflicted waits. The slow-by-default feeds (prices, history) poll fast enough here to
fail, and recover, within the 5 s outage too.
"""


class FailureTap:
    """Stands in as the feed runner's message target and records every ``FeedFailed``.

    Messages are recorded as they are posted (a queued ``FeedFailed`` may be replaced by a
    newer one before the app handles it), with the feed's failure count at that moment.
    """

    def __init__(self, app: BtxApp) -> None:
        self.app = app
        self.failures: list[tuple[str, int, float]] = []
        """``(feed, failure number in the streak, retry delay)``."""

    def post_message(self, message: Message) -> bool:
        if isinstance(message, FeedFailed):
            feed = self.app.feeds.feeds[message.feed]
            self.failures.append((message.feed, feed.failures, message.retry_in_s))
        return self.app.post_message(message)


async def wait_all(pilot: Pilot, checks: dict[str, Callable[[], object]], deadline: float,
                   state: Callable[[], str]) -> None:
    """Run the app until every check holds; past ``deadline`` (monotonic) fail naming what is missing."""
    while True:
        missing = [what for what, check in checks.items() if not check()]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError("not within the deadline: " + "; ".join(missing) + f"\n{state()}")
        await pilot.pause(0.05)


def _row_status(app: BtxApp, cid: str) -> str:
    table = app.dashboard.open_orders
    if cid not in table.rows:
        return "<no row>"
    cell = table.get_row(cid)[-1]
    return (cell.plain if isinstance(cell, Text) else str(cell)).strip()


@dataclass(frozen=True)
class Outage:
    """An outage of ``nominal_s`` seconds, run ``compression`` times faster than real time."""

    nominal_s: float
    compression: int = 1

    @property
    def seconds(self) -> float:
        """How long the exchange really stays away."""
        return self.nominal_s / self.compression

    @property
    def cap_s(self) -> float:
        """The feeds' backoff cap, compressed alike."""
        return MAX_BACKOFF_S / self.compression

    @property
    def long(self) -> bool:
        """Long enough to reach the backoff cap and stay there."""
        return self.nominal_s >= 30


def _assert_backoff(tap: FailureTap, app: BtxApp, outage: Outage) -> None:
    """Exponential from the interval, capped, jittered — per feed, per failure number."""
    cap = app.feeds.max_backoff_s
    assert cap == outage.cap_s
    seen = {name for name, _, _ in tap.failures}
    # Every feed that polled at least twice in the outage failed (60 s: every feed).
    must = {n for n, f in app.feeds.feeds.items() if 2 * f.interval_s <= outage.seconds}
    assert must <= seen, f"feeds that never failed: {must - seen}"
    by_rank: dict[tuple[float, int], list[float]] = {}
    for name, n, delay in tap.failures:
        interval = app.feeds.feeds[name].interval_s
        ceiling = min(cap, interval * 2 ** min(n, 8))
        assert max(min(interval, cap / 2), ceiling / 2) <= delay <= ceiling, (name, n, delay)
        by_rank.setdefault((interval, n), []).append(delay)
    for name in must:
        interval = app.feeds.feeds[name].interval_s
        delays = [d for f, _, d in tap.failures if f == name]
        # Every feed with room below the cap to back off (at real time: every feed) did.
        if len(delays) >= 2 and 2 * interval <= cap:
            assert max(delays) > interval, f"{name} never backed off: {delays}"
    assert any(d > 2 * app.feeds.feeds[f].interval_s for f, _, d in tap.failures), "no backoff at all"
    same_rank = [ds for ds in by_rank.values() if len(ds) >= 2]
    assert same_rank, "no two feeds reached the same failure number"
    assert all(len(set(ds)) == len(ds) for ds in same_rank), f"no jitter: {by_rank}"
    if outage.long:
        # A long outage reaches the cap and stays there (never beyond it).
        capped = [d for _, _, d in tap.failures if d >= cap / 2]
        assert len(capped) >= len(app.feeds.feeds), f"backoff never reached the cap: {tap.failures}"


async def _other_instance_while_away(data: Path, avoid_port: int, resting: str,
                                     lost: OrderRequest, other: OrderRequest) -> None:
    """Another btx-tui on the same account, on an exchange this dashboard cannot reach."""
    side = await asyncio.to_thread(start_paper_exchange, data, port=free_port(avoid_port), market=False)
    try:
        async with client_for(side) as client:
            canceled = await client.cancel_order("BTCUSDT", orig_client_order_id=resting)
            assert str(canceled.status) == "CANCELED"
            landed = await client.post_order(lost)  # the order whose answer the dashboard lost
            assert landed.client_order_id == lost.client_order_id
            result = await client.place_order(other)
            assert result.order is not None and result.order.client_order_id == other.client_order_id
    finally:
        await asyncio.to_thread(side.stop)


@pytest.mark.long
@pytest.mark.timeout(180)
@pytest.mark.parametrize("outage", [Outage(5), Outage(60, compression=8)], ids=["5s", "60s-at-8x"])
async def test_outage_shows_backs_off_stays_responsive_and_recovers_reconciled(
        tmp_path: Path, outage: Outage) -> None:
    outage_s = outage.seconds
    port = free_port()
    data = tmp_path / "paper"
    exchanges: list[PaperExchange] = [start_paper_exchange(data, port=port, market=False)]
    try:
        app = make_app(exchanges[0], journal_path=tmp_path / "journal.sqlite3", **UI)
        tap = FailureTap(app)
        app.feeds.target = tap  # type: ignore[assignment]
        app.feeds.max_backoff_s = outage.cap_s
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_for(pilot, lambda: app.status_info().connection == "live", what="live")
            assert app.journal is not None
            journal = app.journal
            table = app.dashboard.open_orders
            balances = app.dashboard.balances

            # A resting order placed from the dashboard (journaled), visible with its locked USDT.
            resting = limit("BTCUSDT", "BUY", "0.001", "90000")
            app.trading.submit_order(resting)
            a = resting.client_order_id
            await wait_for(pilot, lambda: a in table.orders, what="resting order A listed")
            await wait_for(pilot, lambda: balances.balances["USDT"].locked == Decimal("90"),
                           what="A's 90 USDT locked")
            assert journal.get(a).state is JournalState.ACCEPTED  # type: ignore[union-attr]

            # An order sent whose answer was lost: pending in the journal, shown as checking.
            lost = limit("BTCUSDT", "BUY", "0.002", "91000")
            other = limit("BTCUSDT", "SELL", "0.001", "99000")  # another btx-tui's order
            p, b = lost.client_order_id, other.client_order_id
            assert is_btx_client_order_id(p) and is_btx_client_order_id(b)
            journal.record_intent(lost)
            app.post_message(JournalChanged())  # written behind the app's back: read it again
            exchanges[0].kill()
            killed = time.monotonic()
            assert tap.failures == [], f"feeds failed before the outage: {tap.failures}"

            # -- the outage, as the trader sees it --------------------------------------------
            await wait_for(pilot, lambda: app.status_info().connection == "down", what="status down")
            assert app.status_info().last_error == "exchange unreachable"
            panes = {pane for names in PANES_OF.values() for pane in names}
            await wait_for(pilot, lambda: all(app.dashboard.query_one(f"#{p}").has_class("-stale")
                                              for p in panes), what="every pane greyed out")
            assert app.dashboard.book._view is not None and app.dashboard.book._view.stale
            assert app.dashboard.query_one("#book").border_subtitle == "stale — retrying"
            assert _row_status(app, p) == "unknown — checking"
            assert a in table.orders  # last known state kept, not wiped

            # The UI still acts on keys: help opens and closes.
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help shown")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.dashboard, what="help closed")

            # ... and the market can be changed (and changed back) with "/".
            for symbol in ("ETHUSDT", "BTCUSDT"):
                await pilot.press("slash")
                await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="market search")
                await pilot.press(*symbol)
                await wait_for(pilot, lambda: app.screen.query_one(CommandList).highlighted is not None,
                               what=f"{symbol} found")
                await pilot.press("enter")
                await wait_for(pilot, lambda s=symbol: app.state.symbol == s and app.screen is app.dashboard,
                               what=f"market switched to {symbol}")
                assert symbol in str(app.dashboard.query_one("#book").border_title)
            assert app.status_info().connection == "down"

            # -- meanwhile, elsewhere: cancel A, the lost order lands, a new btx- order ----------
            start_side = killed + max(0.0, outage_s - SIDE_ACTIVITY_S)
            await pilot.pause(max(0.0, start_side - time.monotonic()))
            await _other_instance_while_away(data, port, a, lost, other)
            await pilot.pause(max(0.0, killed + outage_s - time.monotonic()))

            assert app.status_info().connection == "down"
            assert _row_status(app, p) == "unknown — checking"  # never shown as failed
            assert journal.get(p).state is JournalState.PENDING  # type: ignore[union-attr]
            _assert_backoff(tap, app, outage)

            # -- the exchange returns on its own port ---------------------------------------------
            exchanges.append(await asyncio.to_thread(start_paper_exchange, data, port=port, market=False))
            returned = time.monotonic()
            async with client_for(exchanges[-1]) as client:
                truth = await client.account()
            usdt, btc = truth.balance("USDT"), truth.balance("BTC")
            assert usdt.locked == Decimal("182") and btc.locked == Decimal("0.001")  # P and B, not A

            def state() -> str:
                feeds = {n: (f.last_ok is not None and f.last_ok > returned, type(f.last_error).__name__)
                         for n, f in app.feeds.feeds.items()}
                entries = {e.client_order_id: (e.state.value, e.origin) for e in journal.entries()}
                return (f"status={app.status_info()} feeds(fresh, error)={feeds}\n"
                        f"open={[o.client_order_id for o in app.state.open_orders]} "
                        f"table={list(table.rows)} journal={entries}\nA={a} P={p} B={b}")

            def journal_is(cid: str, want: JournalState, origin: str) -> bool:
                entry = journal.get(cid)
                return entry is not None and entry.state is want and entry.origin == origin

            store_ids = lambda: {o.client_order_id for o in app.state.open_orders}  # noqa: E731
            await wait_all(pilot, {
                "status live": lambda: app.status_info().connection == "live",
                "every feed fetched after the return": lambda: all(
                    f.last_ok is not None and f.last_ok > returned for f in app.feeds.feeds.values()),
                "no pane stale": lambda: not any(app.dashboard.query_one(f"#{p}").has_class("-stale")
                                                 for p in panes),
                "book fresh": lambda: app.dashboard.book._view is not None
                and not app.dashboard.book._view.stale,
                "open orders (store) = {P, B}": lambda: store_ids() == {p, b},
                "open-orders table = {P, B}": lambda: set(table.orders) == {p, b} and a not in table.rows,
                "P not 'unknown — checking'": lambda: p not in table.pending and _row_status(app, p) == "NEW",
                "journal: P resolved to exists": lambda: journal_is(p, JournalState.ACCEPTED, "local"),
                "journal: B adopted": lambda: journal_is(b, JournalState.ACCEPTED, "adopted"),
                "journal: A canceled": lambda: journal_is(a, JournalState.CANCELED, "local"),
                "journal: nothing pending": lambda: journal.pending() == [],
                "balances: USDT as the exchange has it": lambda: balances.balances["USDT"] == usdt,
                "balances: BTC as the exchange has it": lambda: balances.balances["BTC"] == btc,
            }, deadline=returned + RECOVERY_S, state=state)

            assert app.state.pending_intents == {}
            assert journal.get(p).order_id == table.orders[p].order_id  # type: ignore[union-attr]
            assert app.screen is app.dashboard
    finally:
        for exchange in exchanges:
            exchange.stop()
