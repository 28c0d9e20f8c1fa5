"""One order book per symbol, and the depth's ``lastUpdateId`` of each.

Trading (``trading.py``) is the only writer: it submits, cancels and restores orders and
calls :meth:`OrderBooks.changed` when a book moved.  Market data (``market_data.py``) reads
depth and the touch.  The books hold no money and no persistent rows of their own: after a
restart the trading part restores every open order into them; the update ids are counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from .counters import Counters
from .events import DepthChanged, EventBus
from .matching import OrderBook
from .symbols import SymbolSpec

_ALL_LEVELS = 1 << 30
_Levels = dict[int, int]

__all__ = ["OrderBooks"]


class OrderBooks:
    """``books[symbol]`` -> :class:`~.matching.OrderBook`; plus per-symbol depth update ids."""

    def __init__(self, symbols: Mapping[str, SymbolSpec], counters: Counters, events: EventBus) -> None:
        self._specs = symbols
        self._symbols = tuple(symbols)
        self._counters = counters
        self._events = events
        self._moved: set[str] = set()
        self._first: dict[str, int] = {}
        self._published: dict[str, tuple[_Levels, _Levels]] | None = None
        """Levels (ticks -> lots) as last published, while anyone listens: the diff baseline."""
        self._staged: dict[str, tuple[_Levels, _Levels]] = {}
        """Levels this transaction's events report; the baseline once they are published."""
        events.on_activate(self._take_baseline)
        events.on_settled(self._settle)
        self.load()

    def _levels(self, symbol: str) -> tuple[_Levels, _Levels]:
        bids, asks = self._books[symbol].depth(_ALL_LEVELS)
        return dict(bids), dict(asks)

    def _take_baseline(self) -> None:
        """The first subscriber arrived (outside any mutation): the committed books are the baseline."""
        self._published = {s: self._levels(s) for s in self._symbols}

    def _settle(self, committed: bool) -> None:
        """The events were published (the staged levels are the new baseline) or discarded."""
        if committed and self._staged and self._published is not None:
            self._published.update(self._staged)
        self._staged.clear()

    def _diff(self, symbol: str) -> tuple[tuple[tuple[Decimal, Decimal], ...], ...]:
        """Levels that changed since the last publication (staged as the next baseline)."""
        assert self._published is not None
        # Against what this transaction already reported (a batch's read flushes early), else
        # against the last published levels.
        old_bids, old_asks = self._staged.get(symbol) or self._published[symbol]
        new_bids, new_asks = self._staged[symbol] = self._levels(symbol)
        spec = self._specs[symbol]
        out = []
        for old, new, best_first in ((old_bids, new_bids, True), (old_asks, new_asks, False)):
            changed = [(p, q) for p, q in new.items() if old.get(p) != q]
            changed.extend((p, 0) for p in old if p not in new)
            changed.sort(reverse=best_first)
            out.append(tuple((spec.ticks_to_price(p), spec.lots_to_qty(q)) for p, q in changed))
        return tuple(out)

    def load(self) -> None:
        """Empty books (trading restores the open orders into them)."""
        self._books: dict[str, OrderBook] = {s: OrderBook(s) for s in self._symbols}
        self._moved.clear()
        self._first.clear()

    def flush(self) -> None:
        """Tell subscribers which books moved in this transaction (ids are counters' rows),
        with the id range and the levels that changed (a depth stream's diff)."""
        if self._moved:
            if self._events.active and self._published is not None:
                for symbol in sorted(self._moved):
                    bids, asks = self._diff(symbol)
                    self._events.emit(DepthChanged(symbol, self.update_id(symbol),
                                                   self._first[symbol], bids, asks))
            else:
                self._published = None  # nobody listened: the baseline is stale
            self._moved.clear()
            self._first.clear()

    def __getitem__(self, symbol: str) -> OrderBook:
        return self._books[symbol]

    def items(self) -> Iterable[tuple[str, OrderBook]]:
        return self._books.items()

    def values(self) -> Iterable[OrderBook]:
        return self._books.values()

    def changed(self, symbol: str) -> None:
        """The book of ``symbol`` moved: advance its depth ``lastUpdateId``."""
        update_id = self._counters.next(f"depth:{symbol}")
        self._first.setdefault(symbol, update_id)
        self._moved.add(symbol)

    def update_id(self, symbol: str) -> int:
        return self._counters.get(f"depth:{symbol}")
