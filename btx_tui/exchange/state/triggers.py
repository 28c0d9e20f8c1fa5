"""Untriggered stop orders of one symbol and the rule that fires them: integers only, no I/O.

Why a structure of its own: a stop order (``STOP_LOSS``, ``STOP_LOSS_LIMIT``, ``TAKE_PROFIT``,
``TAKE_PROFIT_LIMIT``) is not in the book until the last trade price reaches its trigger, and
every trade must be checked against every resting trigger.  With thousands resting that check
must cost next to nothing: fixed triggers sit in two heaps (one per direction), so a price
that fires nothing costs two comparisons; only *tracking* trailing stops are looked at one
by one (their trigger moves with the price), each with its trigger level precomputed when
its extreme moves, so a price that neither moves nor fires one costs two comparisons.

The standard's rules (Binance spot, "Trailing Stop FAQ"):

* stop-price condition: ``ABOVE`` fires when ``price >= stop`` (``STOP_LOSS BUY``,
  ``TAKE_PROFIT SELL``), ``BELOW`` when ``price <= stop`` (``STOP_LOSS SELL``,
  ``TAKE_PROFIT BUY``);
* trailing (``delta`` in basis points): a SELL triggers after a decrease of ``delta`` from
  the highest trade price since tracking started, a BUY after an increase of ``delta`` from
  the lowest.  With a stop price, tracking starts when the stop-price condition is first met
  (that trade sets the extreme); without one, it starts at placement (the caller gives the
  last price as the first extreme, or 0 to let the next trade set it).

:meth:`TriggerBook.on_price` takes one trade price, updates the trailing extremes, and
returns the triggers it fired (removed from the book), ordered by order id — deterministic,
so a cascade replays identically after a restart.  Trailing stops whose state changed (an
activation or a new extreme) are collected in :attr:`TriggerBook.moved` for the caller to
persist.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappop, heappush

__all__ = ["ABOVE", "BELOW", "BPS", "Trigger", "TriggerBook"]

ABOVE, BELOW = 1, -1
BPS = 10_000


@dataclass(slots=True)
class Trigger:
    """One untriggered order as the trigger book sees it."""

    order_id: int
    sell: bool
    """Side of the order (a SELL trails the maximum, a BUY the minimum)."""
    direction: int
    """ABOVE or BELOW: the stop-price condition (ignored without a stop price)."""
    stop: int = 0
    """Stop price in ticks; 0 = none (trailing only)."""
    delta: int = 0
    """Trailing delta in basis points; 0 = not a trailing stop."""
    extreme: int = 0
    """Trailing: best price (ticks) since tracking started; 0 = not set yet."""
    tracking: bool = False
    """Trailing: tracking price changes (the stop-price condition was met, or none exists)."""
    level: int = 0
    """Trailing: the trigger price implied by ``extreme`` (a SELL fires at or below it, a BUY
    at or above it); recomputed only when the extreme moves."""

    def set_extreme(self, price: int) -> None:
        """A new best price: move the trailing trigger with it (exact integer arithmetic:
        SELL fires when ``price * BPS <= extreme * (BPS - delta)``, BUY when
        ``price * BPS >= extreme * (BPS + delta)``)."""
        self.extreme = price
        if self.sell:
            self.level = price * (BPS - self.delta) // BPS           # floor
        else:
            self.level = -(-price * (BPS + self.delta) // BPS)       # ceiling


class TriggerBook:
    """The untriggered orders of one symbol."""

    __slots__ = ("symbol", "_live", "_above", "_below", "_trail_sell", "_trail_buy", "moved")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._live: dict[int, Trigger] = {}
        self._above: list[tuple[int, int]] = []   # (stop, id): fire when price >= stop
        self._below: list[tuple[int, int]] = []   # (-stop, id): fire when price <= stop
        self._trail_sell: dict[int, Trigger] = {}  # tracking trailing SELL stops
        self._trail_buy: dict[int, Trigger] = {}   # tracking trailing BUY stops
        self.moved: set[int] = set()
        """Ids of trailing stops whose ``tracking``/``extreme`` changed since the caller cleared it."""

    def __len__(self) -> int:
        return len(self._live)

    def get(self, order_id: int) -> Trigger | None:
        return self._live.get(order_id)

    def triggers(self) -> list[Trigger]:
        """Every untriggered order (a snapshot)."""
        return list(self._live.values())

    def add(self, trig: Trigger) -> None:
        """Rest a trigger (placement, or restore after restart with its saved state)."""
        if trig.order_id in self._live:
            raise ValueError(f"duplicate trigger {trig.order_id}")
        if trig.direction not in (ABOVE, BELOW) or (not trig.stop and not trig.delta):
            raise ValueError(f"bad trigger {trig!r}")
        if trig.delta and (trig.delta <= 0 or trig.delta >= BPS):
            raise ValueError(f"bad trailing delta {trig!r}")
        self._live[trig.order_id] = trig
        if trig.delta and (trig.tracking or not trig.stop):
            trig.tracking = True
            if trig.extreme:
                trig.set_extreme(trig.extreme)
            (self._trail_sell if trig.sell else self._trail_buy)[trig.order_id] = trig
        elif trig.direction == ABOVE:
            heappush(self._above, (trig.stop, trig.order_id))
        else:
            heappush(self._below, (-trig.stop, trig.order_id))

    def remove(self, order_id: int) -> Trigger | None:
        """Take an order out (cancel, OCO sibling); heap entries are dropped lazily."""
        trig = self._live.pop(order_id, None)
        if trig is not None:
            (self._trail_sell if trig.sell else self._trail_buy).pop(order_id, None)
            self.moved.discard(order_id)
        return trig

    def on_price(self, price: int) -> list[Trigger]:
        """A trade at ``price`` (ticks): returns the fired triggers, by order id."""
        fired: list[Trigger] | None = None
        live = self._live
        above = self._above
        while above and above[0][0] <= price:
            _, oid = heappop(above)
            trig = live.get(oid)
            if trig is None or trig.tracking:
                continue  # removed (lazy) or already moved to trailing
            if fired is None:
                fired = []
            self._condition_met(trig, price, fired)
        below = self._below
        while below and -below[0][0] >= price:
            _, oid = heappop(below)
            trig = live.get(oid)
            if trig is None or trig.tracking:
                continue
            if fired is None:
                fired = []
            self._condition_met(trig, price, fired)
        if self._trail_sell:  # new high: the trigger follows; else at or below it: fire
            for trig in self._trail_sell.values():
                if price > trig.extreme:
                    trig.set_extreme(price)
                    self.moved.add(trig.order_id)
                elif price <= trig.level:
                    if fired is None:
                        fired = []
                    fired.append(trig)
        if self._trail_buy:  # new low (or the first price): follows; at or above it: fire
            for trig in self._trail_buy.values():
                if price < trig.extreme or not trig.extreme:
                    trig.set_extreme(price)
                    self.moved.add(trig.order_id)
                elif price >= trig.level:
                    if fired is None:
                        fired = []
                    fired.append(trig)
        if not fired:
            return []
        for trig in fired:
            del live[trig.order_id]
            (self._trail_sell if trig.sell else self._trail_buy).pop(trig.order_id, None)
            self.moved.discard(trig.order_id)
        fired.sort(key=lambda t: t.order_id)
        return fired

    def _condition_met(self, trig: Trigger, price: int, fired: list[Trigger]) -> None:
        """The stop-price condition holds: fire a plain stop, start tracking a trailing one."""
        if not trig.delta:
            fired.append(trig)
            return
        trig.tracking = True
        trig.set_extreme(price)  # the first trade meeting the condition sets the extreme
        (self._trail_sell if trig.sell else self._trail_buy)[trig.order_id] = trig
        self.moved.add(trig.order_id)
