"""Persistent sequence numbers (order, trade, aggregate, account, withdrawal ids; depth update ids).

One part owns them so every id comes from one place and is written in the same transaction
as the rows that use it: after a restart the next id continues exactly where it stopped.
"""

from __future__ import annotations

from .store import Store

__all__ = ["Counters"]


class Counters:
    """Named integer counters, loaded from and flushed to the ``counters`` table."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.load()

    def load(self) -> None:
        """(Re)read every counter from the database, forgetting unwritten changes."""
        self._values: dict[str, int] = self._store.counters()
        self._dirty: set[str] = set()

    def next(self, name: str) -> int:
        """Advance ``name`` and return its new value (the first is 1)."""
        value = self._values.get(name, 0) + 1
        self._values[name] = value
        self._dirty.add(name)
        return value

    def reserve(self, name: str, count: int) -> int:
        """Advance ``name`` by ``count`` at once (a block of ids, e.g. backfilled history);
        return the first id of the block."""
        first = self._values.get(name, 0) + 1
        self._values[name] = first - 1 + count
        self._dirty.add(name)
        return first

    def get(self, name: str) -> int:
        """The current value of ``name`` (0 before its first ``next``)."""
        return self._values.get(name, 0)

    def snapshot(self) -> dict[str, int]:
        return dict(self._values)

    def flush(self) -> None:
        """Write the counters changed since the last flush."""
        for name in self._dirty:
            self._store.set_counter(name, self._values[name])
        self._dirty.clear()


def trade_id_counter(symbol: str) -> str:
    """The counter of ``symbol``'s trade ids: ids count per symbol, as on the standard's
    exchanges (so a ticker's ``lastId - firstId + 1 == count``)."""
    return f"trade_id:{symbol}"


def agg_id_counter(symbol: str) -> str:
    """The counter of ``symbol``'s aggregate-trade ids (per symbol, like trade ids)."""
    return f"agg_id:{symbol}"
