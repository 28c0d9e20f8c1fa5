"""Engine events and a small synchronous publisher, for surfaces that push (WebSocket streams).

Why here and why after the commit: the parts *emit* events while a mutation runs (a trade, a
book change, an order's new status, a balance row touched), but subscribers only *receive*
them once the mutation's SQLite transaction has committed — so nobody is ever told about a
trade that a rollback then erased, and what a stream says always agrees with what a REST
query answers.  A rolled-back mutation's events are dropped.  Delivery is synchronous, in
emission order, on the caller's thread (the exchange is single-threaded on the event loop);
a subscriber that raises is logged and does not disturb the others or the exchange.

With no subscriber, emitting costs one attribute test: parts check :attr:`EventBus.active`
before building an event, so the matching hot path pays nothing for the hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["EventBus", "Event", "TradeExecuted", "DepthChanged", "OrderUpdated", "BalanceChanged",
           "OrderListUpdated"]

log = logging.getLogger("btx_tui.exchange.events")


@dataclass(frozen=True, slots=True)
class TradeExecuted:
    """One fill between a taker and a resting maker (a public trade)."""

    symbol: str
    trade_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    time: int
    buyer_order_id: int
    seller_order_id: int
    taker_side: str


@dataclass(frozen=True, slots=True)
class DepthChanged:
    """A symbol's book changed; ``update_id`` is the depth's new ``lastUpdateId``.

    Emitted once per symbol per transaction (a batch that moves a book many times says so
    once, with the final id)."""

    symbol: str
    update_id: int


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order's state after a change (an execution report): new, filled, canceled..."""

    account_id: int
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    status: str
    price: Decimal
    orig_qty: Decimal
    executed_qty: Decimal
    cum_quote: Decimal
    update_time: int
    # Stop orders and order lists (defaults: a plain, working order outside any list).
    stop_price: Decimal = Decimal(0)
    trailing_delta: int = 0
    working_time: int = 0
    """-1 while the order is untriggered (not in the book); else when it started working."""
    is_working: bool = True
    order_list_id: int = -1
    time: int = 0
    """Creation time of the order."""


@dataclass(frozen=True, slots=True)
class OrderListUpdated:
    """An order list's state after a change (a ``listStatus`` report)."""

    account_id: int
    symbol: str
    order_list_id: int
    list_client_order_id: str
    contingency_type: str
    list_status_type: str
    list_order_status: str
    order_ids: tuple[int, ...]
    transaction_time: int


@dataclass(frozen=True, slots=True)
class BalanceChanged:
    """One account's balance of one asset after a change."""

    account_id: int
    asset: str
    free: Decimal
    locked: Decimal


Event = TradeExecuted | DepthChanged | OrderUpdated | BalanceChanged | OrderListUpdated
Subscriber = Callable[[Event], None]


class EventBus:
    """Collects events during a mutation; delivers them after it commits."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._pending: list[Event] = []
        self.active = False
        """True while anyone listens: parts skip building events otherwise."""

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every committed event; returns the unsubscribe function."""
        self._subscribers.append(callback)
        self.active = True

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)
            self.active = bool(self._subscribers)

        return unsubscribe

    def emit(self, event: Event) -> None:
        """Queue ``event`` until the current transaction ends."""
        self._pending.append(event)

    def publish(self) -> None:
        """The transaction committed: deliver what was queued, in order."""
        pending, self._pending = self._pending, []
        for event in pending:
            for callback in tuple(self._subscribers):
                try:
                    callback(event)
                except Exception:  # a subscriber's bug must not break the exchange
                    log.exception("event subscriber failed on %s", type(event).__name__)

    def discard(self) -> None:
        """The transaction rolled back: what was queued never happened."""
        self._pending.clear()
