"""Order entry, cancels and withdrawals: the trading actions, an object the app owns.

The bindings stay on the app (one keymap, remappable); its action methods delegate here.
Every request runs in a worker and reports back with a past-tense message the state store
applies; an order whose outcome is unknown shows as "unknown — checking" until the service
layer resolves it by querying — it is never reported as failed, never resent.

With a journal every intent is written to disk by the service layer before it is sent, so an
unresolved intent survives a crash: reconciliation (:mod:`btx_tui.api.reconcile`) runs at
session start, after every reconnect and after an unclear placement, and settles it. This
module reads the journal (its unresolved intents) but never writes it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from textual.app import App

from btx_tui.api.client import BtxClient
from btx_tui.api.errors import BtxError
from btx_tui.api.journal import SqliteJournal
from btx_tui.api.models_trading import MyTrade, Order
from btx_tui.api.orders import Outcome, OrderRequest
from btx_tui.api.preflight import snap_to_step
from btx_tui.api.reconcile import cancel_all_recorded, cancel_recorded, reconcile
from btx_tui.tui.connection_health import Connection
from btx_tui.tui.feeds import FeedRunner
from btx_tui.tui.formatting import fmt_amount, fmt_exact, fmt_price
from btx_tui.tui.messages import (
    FillsFound, OrderNotSent, OrderPlaced, OrdersCanceled, OrderSubmitted, Reconciled,
)
from btx_tui.tui.permissions import refusal
from btx_tui.tui.screens.confirm import ConfirmScreen
from btx_tui.tui.screens.order_form import OrderFormScreen
from btx_tui.tui.screens.withdraw import WithdrawScreen
from btx_tui.tui.state import DashboardState, fill_key

log = logging.getLogger(__name__)

__all__ = ["FORMS_KEPT", "RECHECK_S", "Session", "TradingActions"]

FORMS_KEPT = 3
"""Order forms kept built (one per market), most recently opened last."""

RECHECK_S = 15.0
"""Seconds before reconciliation looks again at intents it could not settle."""


@dataclass
class Session:
    """What the trading actions work with, lent by the app (set up once the app is running)."""

    connection: Connection
    state: DashboardState
    feeds: FeedRunner
    client: Callable[[], BtxClient | None]
    journal: Callable[[], SqliteJournal | None]
    selected_order: Callable[[], Order | None]
    """The open order under the Orders pane's cursor (``c`` cancels it)."""
    bell_on_fill: bool = True


class TradingActions:
    """Buy, sell, cancel, cancel all, withdraw — and what follows: fills, reconciliation."""

    def __init__(self, app: App[Any], session: Session) -> None:
        self.app = app
        self.session = session
        self.state = session.state
        self._forms: list[str] = []
        """Names of the installed order forms, oldest first."""
        self.seen_fills: set[tuple[str, int, int]] = set()
        """Fills announced already (a fill is announced once)."""
        self.canceled_by_us: set[str] = set()
        """Client ids of orders we canceled: their vanishing is no fill."""

    @property
    def client(self) -> BtxClient | None:
        return self.session.client()

    @property
    def journal(self) -> SqliteJournal | None:
        return self.session.journal()

    # -- guards ------------------------------------------------------------------------------

    def refusal(self, action: str) -> str | None:
        """Why ``action`` may not run now (None: it may)."""
        return refusal(action, self.state.permissions, self.state.rules.info is not None)

    def explain(self, action: str) -> bool:
        """Say why ``action`` may not run; True if it was refused."""
        why = self.refusal(action)
        if why is None:
            return False
        permitted = "not available yet" in why
        self.app.notify(why, title="" if permitted else "Not permitted", severity="warning",
                        timeout=4 if permitted else 5)
        return True

    # -- reconciliation --------------------------------------------------------------------------

    def start_reconcile(self) -> None:
        """Compare the exchange with the journal (in a worker; one run at a time)."""
        if self.journal is None or self.client is None or not self.session.connection.api_key:
            return
        self.app.run_worker(self._reconcile(), name="reconcile", group="reconcile", exclusive=True,
                            exit_on_error=False)

    async def _reconcile(self) -> None:
        assert self.client is not None and self.journal is not None
        try:
            report = await reconcile(self.client, self.journal, skip=set(self.state.in_flight),
                                     symbols=[self.state.symbol])
        except BtxError as exc:
            log.warning("reconciliation postponed: %s", exc)
            return
        self.app.post_message(Reconciled(report))

    def reconciled(self, message: Reconciled) -> None:
        report = message.report
        if report.changed:
            trouble = bool(report.mismatches or report.still_unknown)
            self.app.notify(report.summary(), title="Orders reconciled",
                            severity="warning" if trouble else "information", timeout=10)
            self.session.feeds.wake("orders", "account", "history")
        if report.still_unknown:
            self.app.set_timer(RECHECK_S, self.start_reconcile)

    # -- orders --------------------------------------------------------------------------

    def open_order_form(self, side: str) -> None:
        if self.explain("buy" if side == "BUY" else "sell"):
            return
        symbol = self.state.symbol
        # One form per recently traded market, built once and reset on every open (see
        # OrderFormScreen.prepare): opening it must take well under 50 ms.
        name = f"order-form:{symbol}"
        if self.app.is_screen_installed(name):
            form = self.app.get_screen(name)
            assert isinstance(form, OrderFormScreen)
            form.prepare(side)
        else:
            self.app.install_screen(OrderFormScreen(self.state, side=side, symbol=symbol,
                                                    paper=self.session.connection.paper), name)
            self._forms.append(name)
            while len(self._forms) > FORMS_KEPT:
                self.app.uninstall_screen(self._forms.pop(0))
        self.app.push_screen(name)

    def submit_order(self, request: OrderRequest) -> None:
        """Send a confirmed order in a worker; the result arrives as :class:`OrderPlaced`."""
        self.state.apply(OrderSubmitted(request))
        self.app.run_worker(self._place(request), group="orders", exit_on_error=False)

    async def _place(self, request: OrderRequest) -> None:
        assert self.client is not None
        try:
            result = await self.client.place_order(request, journal=self.journal)
        except (sqlite3.Error, OSError) as exc:
            # The intent could not be written down, so the order was NOT sent.
            log.error("order %s not sent: journal write failed: %s", request.client_order_id, exc)
            self.app.post_message(OrderNotSent(request.client_order_id, str(exc)))
            return
        self.app.post_message(OrderPlaced(result))

    def not_sent(self, message: OrderNotSent) -> None:
        self.app.notify(f"Order not sent: the order journal could not be written ({message.reason}).",
                        title="Order not sent", severity="error", timeout=15)

    def placed(self, message: OrderPlaced) -> None:
        """Tell the trader how a placement ended (the store has already shown it)."""
        result = message.result
        self.session.feeds.wake("orders", "account", "history", "book")
        if result.outcome is Outcome.ACCEPTED and result.order is not None:
            order = result.order
            if order.fills:
                qty = sum((f.qty for f in order.fills), start=order.fills[0].qty * 0)
                fills = f", {len(order.fills)} fill(s), {self._amount(order.symbol, qty)} done"
            else:
                fills = ""
            checked = " (confirmed after an unclear answer)" if result.resolved else ""
            self.app.notify(f"{order.side} {order.symbol} #{order.order_id}: {order.status}{fills}{checked}",
                            title="Order accepted", timeout=6)
        elif result.outcome is Outcome.REJECTED:
            reason = result.error.msg if result.error else "no reason given"
            if result.proven_absent:
                reason = "the exchange has no record of it after an unclear answer; it was not placed"
            self.app.notify(reason, title="Order rejected", severity="error", timeout=10)
        else:
            self.app.notify(result.describe(), title="Order outcome unknown", severity="warning", timeout=15)
            self.app.set_timer(RECHECK_S, self.start_reconcile)  # the journal keeps it "unknown — checking"

    # -- cancels -------------------------------------------------------------------------

    def cancel_order(self) -> None:
        if self.explain("cancel_order"):
            return
        order = self.session.selected_order()
        if order is None:
            self.app.notify("No open order is highlighted (Orders pane, key 6).", severity="warning", timeout=4)
            return
        tick, step = self.state.steps(order.symbol)
        what = (f"Cancel {order.side} {order.type} {order.symbol}: {fmt_amount(order.orig_qty, step)}"
                f" @ {fmt_price(order.price, tick)}?" if order.price and order.orig_qty else
                f"Cancel order #{order.order_id} on {order.symbol}?")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.canceled_by_us.add(order.client_order_id)
                self.app.run_worker(self._cancel_one(order), group="cancels", exit_on_error=False)

        self.app.push_screen(ConfirmScreen("Cancel order", what, confirm_label="Cancel order"), confirmed)

    async def _cancel_one(self, order: Order) -> None:
        assert self.client is not None
        desc = f"#{order.order_id} {order.symbol}"
        try:
            result = await cancel_recorded(self.client, self.journal, order.symbol, order.order_id)
        except BtxError as exc:
            self.app.post_message(OrdersCanceled([(desc, exc)]))
            return
        status = str(result.status)
        if status != "CANCELED":
            desc = f"{desc} was already {status}"
        self.app.post_message(OrdersCanceled([(desc, None)]))

    def cancel_all(self) -> None:
        if self.explain("cancel_all"):
            return
        symbol = self.state.symbol
        mine = [o for o in self.state.open_orders if o.symbol == symbol]
        if not mine:
            self.app.notify(f"You have no open orders on {symbol}.", timeout=4)
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.canceled_by_us.update(o.client_order_id for o in mine)
                self.app.run_worker(self._cancel_all(symbol, len(mine)), group="cancels", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(
            "Cancel all", f"Cancel all {len(mine)} open order(s) on {symbol}?", confirm_label="Cancel all"),
            confirmed)

    async def _cancel_all(self, symbol: str, count: int) -> None:
        assert self.client is not None
        try:
            reports = await cancel_all_recorded(self.client, self.journal, symbol)
        except BtxError as exc:
            self.app.post_message(OrdersCanceled([(f"all orders on {symbol}", exc)]))
            return
        self.app.post_message(OrdersCanceled([(f"{len(reports)} order(s) on {symbol}", None)]))

    def canceled(self, message: OrdersCanceled) -> None:
        self.session.feeds.wake("orders", "account", "history", "book")
        for desc, error in message.results:
            if error is None:
                self.app.notify(f"Canceled {desc}.", title="Canceled", timeout=5)
            else:
                self.app.notify(f"{desc}: {error.msg if isinstance(error, BtxError) else error}",
                                title="Cancel failed", severity="error", timeout=10)

    # -- fills of resting orders ---------------------------------------------------------------

    def check_fills(self, before: tuple[Order, ...], after: tuple[Order, ...]) -> list[Order]:
        """Orders of ``before`` that may have traded since (vanished, not canceled by us, or
        grown executed quantity); looks up each one's trades in a worker."""
        now = {o.client_order_id: o for o in after}
        suspects = []
        for old in before:
            new = now.get(old.client_order_id)
            if new is None:
                if old.client_order_id in self.canceled_by_us:
                    continue
                suspects.append(old)
            elif (new.executed_qty or 0) > (old.executed_qty or 0):
                suspects.append(new)
        for order in suspects:
            self.app.run_worker(self._lookup_fills(order), group="fills", exit_on_error=False)
        return suspects

    async def _lookup_fills(self, order: Order) -> None:
        client = self.client
        if client is None:
            return
        trades = await client.my_trades(order.symbol, order_id=order.order_id)
        new = tuple(t for t in trades if fill_key(t) not in self.seen_fills)
        if new:
            self.app.post_message(FillsFound(new))

    def _amount(self, symbol: str, qty: Decimal) -> str:
        """``qty`` of ``symbol``'s base asset as the panes show it: on the step, grouped, with the asset."""
        info = self.state.rules.symbol(symbol)
        return f"{fmt_amount(qty, self.state.steps(symbol)[1])} {info.base_asset if info else ''}".rstrip()

    def _price(self, symbol: str, price: Decimal) -> str:
        """A price of ``symbol`` as the panes show it (an average may fall between ticks: exact then)."""
        info = self.state.rules.symbol(symbol)
        tick = self.state.steps(symbol)[0]
        text = fmt_price(price, tick) if price == snap_to_step(price, tick, ROUND_FLOOR) else fmt_exact(price)
        return f"{text} {info.quote_asset if info else ''}".rstrip()

    def announce_fills(self, trades: tuple[MyTrade, ...]) -> None:
        """Tell the trader of fills not announced before: a notification, the bell, fresh balances."""
        new = [t for t in trades if fill_key(t) not in self.seen_fills]
        if not new:
            return
        self.seen_fills.update(map(fill_key, new))
        qty = sum((t.qty for t in new), start=type(new[0].qty)(0))
        side = "Bought" if new[0].is_buyer else "Sold"
        avg = sum((t.quote_qty for t in new), start=type(new[0].qty)(0)) / qty if qty else None
        symbol = new[0].symbol
        price = f" at {self._price(symbol, avg)}" if avg else ""
        what = f"{side} {self._amount(symbol, qty)}{price} ({symbol})"
        self.app.notify(what, title="Order filled", timeout=8)
        if self.session.bell_on_fill:
            self.app.bell()
        self.session.feeds.wake("account", "history")

    # -- withdrawals -----------------------------------------------------------------------

    def withdraw(self) -> None:
        if self.explain("withdraw"):
            return
        feeds = self.session.feeds
        self.app.push_screen(WithdrawScreen(client=self.session.client, on_sent=lambda: feeds.wake("account")))
