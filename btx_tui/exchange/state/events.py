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
    agg_id: int = 0
    """The aggregate trade (one taker at one price) this fill belongs to (``aggTrade``'s ``a``)."""
    buyer_account: int = 0
    seller_account: int = 0
    buyer_fee: Decimal = Decimal(0)
    """Commission of the buyer, in the base asset (the asset it received)."""
    seller_fee: Decimal = Decimal(0)
    """Commission of the seller, in the quote asset."""


@dataclass(frozen=True, slots=True)
class DepthChanged:
    """A symbol's book changed; ``update_id`` is the depth's new ``lastUpdateId``.

    Emitted once per symbol per transaction (a batch that moves a book many times says so
    once, with the final id).  ``first_update_id`` is the first id this transaction used, so
    consecutive events have ``first_update_id == previous update_id + 1`` (a diff stream's
    ``U``/``u``); ``bids``/``asks`` are the levels whose total changed, ``(price, qty)`` best
    first, qty 0 for a level that left the book."""

    symbol: str
    update_id: int
    first_update_id: int = 0
    bids: tuple[tuple[Decimal, Decimal], ...] = ()
    asks: tuple[tuple[Decimal, Decimal], ...] = ()


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
    time: int = 0
    """When the order was created (an execution report's ``O``)."""
    time_in_force: str | None = None
    orig_quote_qty: Decimal = Decimal(0)
    # Stop orders and order lists (defaults: a plain, working order outside any list).
    stop_price: Decimal = Decimal(0)
    trailing_delta: int = 0
    working_time: int = 0
    """-1 while the order is untriggered (not in the book); else when it started working."""
    is_working: bool = True
    order_list_id: int = -1


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
        self._on_activate: list[Callable[[], None]] = []
        self._on_settled: list[Callable[[bool], None]] = []
        self.active = False
        """True while anyone listens: parts skip building events otherwise."""

    def on_activate(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` whenever the first subscriber arrives (before it is added).

        A part whose events are differences (the depth levels) takes its baseline then: with
        nobody listening it keeps none, so the hot path pays nothing."""
        self._on_activate.append(callback)

    def on_settled(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(committed)`` when a transaction's events are published (True) or
        discarded (False): a part that staged "what it last reported" commits or drops it."""
        self._on_settled.append(callback)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every committed event; returns the unsubscribe function."""
        if not self._subscribers:
            for hook in self._on_activate:
                hook()
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
        for hook in self._on_settled:
            hook(True)
        for event in pending:
            for callback in tuple(self._subscribers):
                try:
                    callback(event)
                except Exception:  # a subscriber's bug must not break the exchange
                    log.exception("event subscriber failed on %s", type(event).__name__)

    def discard(self) -> None:
        """The transaction rolled back: what was queued never happened."""
        self._pending.clear()
        for hook in self._on_settled:
            hook(False)
