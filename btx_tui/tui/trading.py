"""Order entry, cancels and withdrawals: the app's trading actions.

A mixin of :class:`BtxApp` so the bindings stay on the app (one keymap), while the
trading logic lives here. Every request runs in a worker and reports back with a
message; an order whose outcome is unknown shows as "unknown — checking" until the
service layer resolves it by querying — it is never reported as failed, never resent.

With a journal (``app.journal``) every intent is written to disk before it is sent, so an
unresolved intent survives a crash: reconciliation (:mod:`btx_tui.api.reconcile`) runs at
session start, after every reconnect and after an unclear placement, and settles it.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any

from btx_tui.api.errors import BtxError
from btx_tui.api.models_trading import Order
from btx_tui.api.orders import Outcome, OrderRequest, PlacementResult
from btx_tui.api.reconcile import reconcile
from btx_tui.tui.formatting import fmt_amount, fmt_price
from btx_tui.tui.messages import FeedUpdated, OrderPlaced, OrdersCanceled, Reconciled

if TYPE_CHECKING:
    from btx_tui.tui.app import BtxApp

log = logging.getLogger(__name__)

FORMS_KEPT = 3
"""Order forms kept built (one per market), most recently opened last."""

RECHECK_S = 15.0
"""Seconds before reconciliation looks again at intents it could not settle."""


PERMISSION_REASON = {
    "TRADE": "this API key has no TRADE permission",
    "WITHDRAW": "this API key has no WITHDRAW permission",
}


class TradingActions:
    """Buy, sell, cancel, cancel all, withdraw."""

    _forms: list[str]
    """Names of the installed order forms, oldest first (set up by the app's ``__init__``)."""
    _pending: dict[str, str]
    """Client order id → "symbol|side|type" of orders sent whose outcome is not known yet
    (set up by the app's ``__init__``)."""

    # -- guards --------------------------------------------------------------------------

    def _allowed(self: BtxApp, permission: str, what: str) -> bool:  # type: ignore[misc]
        """True if the key may do ``what``; otherwise say why (the action stays disabled)."""
        if self.rules.info is None:
            self.notify(f"{what} is not available yet: still connecting to the exchange.",
                        severity="warning", timeout=4)
            return False
        if permission not in self.permissions:
            self.notify(f"{what} is disabled: {PERMISSION_REASON[permission]}.",
                        title="Not permitted", severity="warning", timeout=5)
            return False
        return True

    def pending_intents(self: BtxApp) -> dict[str, str]:  # type: ignore[misc]
        """Orders sent whose outcome is not known yet: client id → "symbol|side|type".

        The journal's pending intents (which survive a restart) plus those in flight now.
        """
        journaled = {e.client_order_id: e.description for e in self.journal.pending()} if self.journal else {}
        return {**journaled, **self._pending}

    def show_pending(self: BtxApp) -> None:  # type: ignore[misc]
        """Repaint the open orders with the current unresolved intents."""
        if self.ui_live:
            self.dashboard.open_orders.update_orders(self.router.open_orders, self.pending_intents(),
                                                     self.router.steps)

    # -- journal ---------------------------------------------------------------------------

    def journal_observe(self: BtxApp, message: FeedUpdated) -> None:  # type: ignore[misc]
        """Keep the journal's orders up to date from the open-orders and history feeds."""
        if self.journal is None:
            return
        if message.feed == "orders":
            orders, trades = message.data, ()
        elif message.feed == "history":
            orders, trades = message.data
        else:
            return
        try:
            for order in orders:
                self.journal.record_order(order)
            self.journal.record_fills(trades)
        except sqlite3.Error as exc:
            log.error("order journal update failed: %s", exc)

    def start_reconcile(self: BtxApp) -> None:  # type: ignore[misc]
        """Compare the exchange with the journal (in a worker; one run at a time)."""
        if self.journal is None or self.client is None or not self.connection.api_key:
            return
        self.run_worker(self._reconcile(), name="reconcile", group="reconcile", exclusive=True,
                        exit_on_error=False)

    async def _reconcile(self: BtxApp) -> None:  # type: ignore[misc]
        assert self.client is not None and self.journal is not None
        try:
            report = await reconcile(self.client, self.journal, skip=set(self._pending), symbols=[self.symbol])
        except BtxError as exc:
            log.warning("reconciliation postponed: %s", exc)
            return
        self.post_message(Reconciled(report))

    def on_reconciled(self: BtxApp, message: Reconciled) -> None:  # type: ignore[misc]
        report = message.report
        if not self.ui_live:
            return
        self.show_pending()
        if report.changed:
            trouble = bool(report.mismatches or report.still_unknown)
            self.notify(report.summary(), title="Orders reconciled", severity="warning" if trouble else "information",
                        timeout=10)
            self.feeds.wake("orders", "account", "history")
        if report.still_unknown:
            self.set_timer(RECHECK_S, self.start_reconcile)

    # -- orders --------------------------------------------------------------------------

    def action_buy(self: BtxApp) -> None:  # type: ignore[misc]
        self.open_order_form("BUY")

    def action_sell(self: BtxApp) -> None:  # type: ignore[misc]
        self.open_order_form("SELL")

    def open_order_form(self: BtxApp, side: str) -> None:  # type: ignore[misc]
        if not self._allowed("TRADE", "Buying" if side == "BUY" else "Selling"):
            return
        from btx_tui.tui.screens.order_form import OrderFormScreen

        # One form per recently traded market, built once and reset on every open (see
        # OrderFormScreen.prepare): opening it must take well under 50 ms.
        name = f"order-form:{self.symbol}"
        if self.is_screen_installed(name):
            form = self.get_screen(name)
            assert isinstance(form, OrderFormScreen)
            form.prepare(side)
        else:
            self.install_screen(OrderFormScreen(side=side, symbol=self.symbol), name)
            self._forms.append(name)
            while len(self._forms) > FORMS_KEPT:
                self.uninstall_screen(self._forms.pop(0))
        self.push_screen(name)

    def submit_order(self: BtxApp, request: OrderRequest) -> None:  # type: ignore[misc]
        """Send a confirmed order in a worker; the result arrives as :class:`OrderPlaced`."""
        self._pending[request.client_order_id] = f"{request.symbol}|{request.side}|{request.type}"
        self.dashboard.open_orders.update_orders(self.router.open_orders, self._pending, self.router.steps)
        self.run_worker(self._place(request), group="orders", exit_on_error=False)

    async def _place(self: BtxApp, request: OrderRequest) -> None:  # type: ignore[misc]
        assert self.client is not None
        try:
            result = await self.client.place_order(request, journal=self.journal)
        except (sqlite3.Error, OSError) as exc:
            # The intent could not be written down, so the order was NOT sent.
            log.error("order %s not sent: journal write failed: %s", request.client_order_id, exc)
            self._pending.pop(request.client_order_id, None)
            self.show_pending()
            self.notify(f"Order not sent: the order journal could not be written ({exc}).",
                        title="Order not sent", severity="error", timeout=15)
            return
        self.post_message(OrderPlaced(result))

    def on_order_placed(self: BtxApp, message: OrderPlaced) -> None:  # type: ignore[misc]
        result: PlacementResult = message.result
        if not self.ui_live:
            return
        self._pending.pop(result.client_order_id, None)
        if result.outcome is Outcome.ACCEPTED and result.order is not None:
            self.router.order_placed(result.order)  # the answer holds the order: show it now
        self.show_pending()
        self.feeds.wake("orders", "account", "history", "book")
        if result.outcome is Outcome.ACCEPTED and result.order is not None:
            order = result.order
            if order.fills:
                qty = sum((f.qty for f in order.fills), start=order.fills[0].qty * 0)
                info = self.rules.symbol(order.symbol)
                base = info.base_asset if info else order.symbol
                fills = f", {len(order.fills)} fill(s), {qty.normalize():f} {base} done"
            else:
                fills = ""
            checked = " (confirmed after an unclear answer)" if result.resolved else ""
            self.notify(f"{order.side} {order.symbol} #{order.order_id}: {order.status}{fills}{checked}",
                        title="Order accepted", timeout=6)
        elif result.outcome is Outcome.REJECTED:
            reason = result.error.msg if result.error else "no reason given"
            if result.proven_absent:
                reason = "the exchange has no record of it after an unclear answer; it was not placed"
            self.notify(reason, title="Order rejected", severity="error", timeout=10)
        else:
            self.notify(result.describe(), title="Order outcome unknown", severity="warning", timeout=15)
            self.set_timer(RECHECK_S, self.start_reconcile)  # the journal keeps it "unknown — checking"

    # -- cancels -------------------------------------------------------------------------

    def action_cancel_order(self: BtxApp) -> None:  # type: ignore[misc]
        if not self._allowed("TRADE", "Cancelling"):
            return
        order = self.dashboard.open_orders.selected
        if order is None:
            self.notify("No open order is highlighted (Orders pane, key 6).", severity="warning", timeout=4)
            return
        from btx_tui.tui.screens.confirm import ConfirmScreen

        tick, step = self.router.steps(order.symbol)
        what = (f"Cancel {order.side} {order.type} {order.symbol}: {fmt_amount(order.orig_qty, step)}"
                f" @ {fmt_price(order.price, tick)}?" if order.price and order.orig_qty else
                f"Cancel order #{order.order_id} on {order.symbol}?")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.router.fills.canceled_by_us.add(order.client_order_id)
                self.run_worker(self._cancel_one(order), group="cancels", exit_on_error=False)

        self.push_screen(ConfirmScreen("Cancel order", what, confirm_label="Cancel order"), confirmed)

    async def _cancel_one(self: BtxApp, order: Any) -> None:  # type: ignore[misc]
        assert self.client is not None
        desc = f"#{order.order_id} {order.symbol}"
        try:
            result = await self.client.cancel_order(order.symbol, order_id=order.order_id)
        except BtxError as exc:
            self.post_message(OrdersCanceled([(desc, exc)]))
            return
        self._journal_order(result)
        status = str(result.status)
        if status != "CANCELED":
            desc = f"{desc} was already {status}"
        self.post_message(OrdersCanceled([(desc, None)]))

    def action_cancel_all(self: BtxApp) -> None:  # type: ignore[misc]
        if not self._allowed("TRADE", "Cancelling"):
            return
        symbol = self.symbol
        mine = [o for o in self.router.open_orders if o.symbol == symbol]
        if not mine:
            self.notify(f"You have no open orders on {symbol}.", timeout=4)
            return
        from btx_tui.tui.screens.confirm import ConfirmScreen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.router.fills.canceled_by_us.update(o.client_order_id for o in mine)
                self.run_worker(self._cancel_all(symbol, len(mine)), group="cancels", exit_on_error=False)

        self.push_screen(ConfirmScreen(
            "Cancel all", f"Cancel all {len(mine)} open order(s) on {symbol}?", confirm_label="Cancel all"),
            confirmed)

    async def _cancel_all(self: BtxApp, symbol: str, count: int) -> None:  # type: ignore[misc]
        assert self.client is not None
        try:
            reports = await self.client.cancel_open_orders(symbol)
        except BtxError as exc:
            self.post_message(OrdersCanceled([(f"all orders on {symbol}", exc)]))
            return
        for report in reports:
            self._journal_order(report)
        self.post_message(OrdersCanceled([(f"{len(reports)} order(s) on {symbol}", None)]))

    def _journal_order(self: BtxApp, order: Order) -> None:  # type: ignore[misc]
        """Record a cancel report (or any order report) in the journal, if the journal knows it."""
        if self.journal is None:
            return
        try:
            self.journal.record_order(order)
        except sqlite3.Error as exc:
            log.error("order journal update failed: %s", exc)

    def on_orders_canceled(self: BtxApp, message: OrdersCanceled) -> None:  # type: ignore[misc]
        if not self.ui_live:
            return
        self.feeds.wake("orders", "account", "history", "book")
        for desc, error in message.results:
            if error is None:
                self.notify(f"Canceled {desc}.", title="Canceled", timeout=5)
            else:
                self.notify(f"{desc}: {error.msg if isinstance(error, BtxError) else error}",
                            title="Cancel failed", severity="error", timeout=10)

    # -- withdrawals -----------------------------------------------------------------------

    def action_withdraw(self: BtxApp) -> None:  # type: ignore[misc]
        if not self._allowed("WITHDRAW", "Withdrawing"):
            return
        from btx_tui.tui.screens.withdraw import WithdrawScreen

        self.push_screen(WithdrawScreen())
