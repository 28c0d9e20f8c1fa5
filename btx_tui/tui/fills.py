"""Noticing fills of resting orders between two open-orders snapshots.

An order that vanished from the open orders (and that we did not cancel), or whose
executed quantity grew, may have filled. The watcher asks the exchange for that order's
trades (``myTrades`` with ``orderId``, weight 5) and announces each new one once: a
notification, the terminal bell (configurable), the fills table, a balance refresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from btx_tui.api.models_trading import MyTrade, Order
from btx_tui.tui.widgets.orders import fill_key

if TYPE_CHECKING:
    from btx_tui.tui.app import BtxApp


class FillWatcher:
    """Diffs open-orders snapshots and reports fills exactly once per trade id."""

    def __init__(self, app: BtxApp) -> None:
        self.app = app
        self.seen: set[tuple[str, int, int]] = set()
        self.canceled_by_us: set[str] = set()

    def check(self, before: tuple[Order, ...], after: tuple[Order, ...]) -> list[Order]:
        """Orders of ``before`` that may have traded since; starts a lookup for each."""
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
            self.app.run_worker(self._lookup(order), group="fills", exit_on_error=False)
        return suspects

    async def _lookup(self, order: Order) -> None:
        client = self.app.client
        if client is None:
            return
        trades = await client.my_trades(order.symbol, order_id=order.order_id)
        self.announce(trades, order)

    def announce(self, trades: tuple[MyTrade, ...], order: Order | None = None) -> list[MyTrade]:
        """Report trades not seen before; returns them."""
        new = [t for t in trades if fill_key(t) not in self.seen]
        if not new or not self.app.ui_live:
            return []
        self.seen.update(map(fill_key, new))
        self.app.router.add_fills(tuple(new))
        qty = sum((t.qty for t in new), start=type(new[0].qty)(0))
        side = "Bought" if new[0].is_buyer else "Sold"
        avg = sum((t.quote_qty for t in new), start=type(new[0].qty)(0)) / qty if qty else 0
        what = f"{side} {qty.normalize():f} {new[0].symbol} at {avg.normalize():f}"
        self.app.notify(what, title="Order filled", timeout=8)
        self.app.ring_bell()
        self.app.feeds.wake("account", "history")
        return new
