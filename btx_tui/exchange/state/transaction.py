"""The transaction boundary every mutation of the paper exchange goes through.

The rule: a mutating call validates first (raising :class:`ApiError` with nothing touched),
then changes memory, then every part writes its changed rows and the whole change commits
in ONE SQLite transaction before the call returns - so what the HTTP layer acknowledges
survives ``kill -9`` (see ``store.py``).  :meth:`Transaction.mutation` nests: a batch (the
synthetic market's step) groups many calls into one commit.

If anything other than an ``ApiError`` escapes a mutation (a bug), the transaction is rolled
back and every part rebuilds its state from the database, so memory never drifts from what
is stored.  Events emitted during a mutation are published after its commit, dropped on a
rollback (``events.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from ..errors import ApiError
from .events import EventBus
from .store import Store

__all__ = ["Transaction", "Persistent"]


class Persistent(Protocol):
    """A part whose state lives in memory and in the database."""

    def flush(self) -> None:
        """Write the rows changed since the last flush (inside the open transaction)."""

    def load(self) -> None:
        """(Re)build the in-memory state from the database."""


class Transaction:
    """Begin / flush / commit-or-rebuild around mutations; the parts register in load order."""

    def __init__(self, store: Store, events: EventBus) -> None:
        self._store = store
        self._events = events
        self._parts: list[Persistent] = []
        self._broken = False

    def register(self, parts: Sequence[Persistent]) -> None:
        """The parts to flush (in this order) and to reload (in this order) after a failure."""
        self._parts.extend(parts)

    @contextmanager
    def mutation(self) -> Iterator[None]:
        """One all-or-nothing change; nested uses join the outermost one."""
        store = self._store
        outer = not store.in_transaction
        if outer:
            store.begin()
            self._broken = False
        try:
            yield
        except ApiError:
            if outer:
                self._finish(commit=not self._broken)
            raise
        except BaseException:
            self._broken = True
            if outer:
                self._finish(commit=False)
            raise
        else:
            if outer:
                self._finish(commit=not self._broken)

    def sync(self) -> None:
        """Make pending rows visible to SQL reads inside an open batch."""
        if self._store.in_transaction:
            self._flush()

    def reload(self) -> None:
        """Rebuild every part from the database."""
        for part in self._parts:
            part.load()

    def _flush(self) -> None:
        for part in self._parts:
            part.flush()

    def _finish(self, *, commit: bool) -> None:
        store = self._store
        if commit:
            try:
                self._flush()
                store.commit()
            except BaseException:
                store.rollback()
                self._events.discard()
                self.reload()
                raise
            self._events.publish()
            return
        store.rollback()
        self._events.discard()
        self.reload()
