"""One order book per symbol, and the depth's ``lastUpdateId`` of each.

Trading (``trading.py``) is the only writer: it submits, cancels and restores orders and
calls :meth:`OrderBooks.changed` when a book moved.  Market data (``market_data.py``) reads
depth and the touch.  The books hold no money and no persistent rows of their own: after a
restart the trading part restores every open order into them; the update ids are counters.
"""

from __future__ import annotations

from collections.abc import Iterable

from .counters import Counters
from .events import DepthChanged, EventBus
from .matching import OrderBook

__all__ = ["OrderBooks"]


class OrderBooks:
    """``books[symbol]`` -> :class:`~.matching.OrderBook`; plus per-symbol depth update ids."""

    def __init__(self, symbols: Iterable[str], counters: Counters, events: EventBus) -> None:
        self._symbols = tuple(symbols)
        self._counters = counters
        self._events = events
        self._moved: set[str] = set()
        self.load()

    def load(self) -> None:
        """Empty books (trading restores the open orders into them)."""
        self._books: dict[str, OrderBook] = {s: OrderBook(s) for s in self._symbols}
        self._moved.clear()

    def flush(self) -> None:
        """Tell subscribers which books moved in this transaction (ids are counters' rows)."""
        if self._moved:
            if self._events.active:
                for symbol in sorted(self._moved):
                    self._events.emit(DepthChanged(symbol, self.update_id(symbol)))
            self._moved.clear()

    def __getitem__(self, symbol: str) -> OrderBook:
        return self._books[symbol]

    def items(self) -> Iterable[tuple[str, OrderBook]]:
        return self._books.items()

    def values(self) -> Iterable[OrderBook]:
        return self._books.values()

    def changed(self, symbol: str) -> None:
        """The book of ``symbol`` moved: advance its depth ``lastUpdateId``."""
        self._counters.next(f"depth:{symbol}")
        self._moved.add(symbol)

    def update_id(self, symbol: str) -> int:
        return self._counters.get(f"depth:{symbol}")
