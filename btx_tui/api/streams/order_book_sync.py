"""A local order book kept from a REST snapshot plus ``depthUpdate`` diff events, by the
standard's sync rules, handing out the same :class:`~btx_tui.api.models.Depth` snapshot a
REST depth poll produces.

Why a pure class (no sockets): the sync rules are where books go wrong (a dropped, duplicated
or reordered diff silently corrupts a book), so they are kept apart from the connection code
and checked on their own. The rules (contract section 9):

1. buffer events; fetch a snapshot (``lastUpdateId``);
2. drop buffered events with ``u`` ≤ ``lastUpdateId``;
3. the first kept event must have ``U`` ≤ ``lastUpdateId`` + 1 ≤ ``u``;
4. then each event must have ``U`` == previous ``u`` + 1, else the book is out of sync:
   :meth:`OrderBookSync.feed` raises :class:`BookOutOfSync` and the owner starts again.

A duplicated event (``u`` ≤ the book's id) is dropped rather than treated as a gap: it
carries nothing new, and the standard's rule 2 already says events up to the book's id are
stale. Any other discontinuity is a gap.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..models import Depth, PriceLevel

__all__ = ["BookOutOfSync", "OrderBookSync"]

_ZERO = Decimal(0)


class BookOutOfSync(Exception):
    """The diff sequence has a gap (or the snapshot does not meet it): resync from REST."""


def _apply(side: dict[Decimal, Decimal], levels: Iterable[Any]) -> None:
    for price, qty in levels:
        p, q = Decimal(price), Decimal(qty)
        if q == _ZERO:
            side.pop(p, None)
        else:
            side[p] = q


class OrderBookSync:
    """One symbol's book. Feed it every diff event; give it a snapshot when asked.

    States: *buffering* (no snapshot yet: events are kept, :attr:`needs_snapshot` is True
    once one has arrived), *waiting* (snapshot applied, no event reaches past it yet) and
    *synced* (:meth:`depth` is valid).
    """

    def __init__(self, symbol: str, *, max_buffer: int = 10_000) -> None:
        self.symbol = symbol
        self._buffer: list[dict[str, Any]] = []
        self._max_buffer = max_buffer
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._last_id: int | None = None  # the book's update id once a snapshot is applied
        self._synced = False
        self._fresh = False  # a snapshot applied, no event applied on it yet
        self._max_seen: int | None = None  # highest ``u`` buffered before the snapshot

    @property
    def synced(self) -> bool:
        return self._synced

    @property
    def needs_snapshot(self) -> bool:
        """True when events are buffered and no snapshot has been applied."""
        return self._last_id is None and bool(self._buffer)

    @property
    def last_update_id(self) -> int | None:
        return self._last_id

    def apply_snapshot(self, snapshot: Depth, *, subscribed_before: bool = False) -> bool:
        """Rules 1-3 with the buffered events; True when the book is synced.

        ``subscribed_before``: the diff stream was subscribed (acknowledged) before this
        snapshot was requested, so every change the snapshot lacks will still arrive as an
        event: with no newer event buffered, the snapshot is the book (a quiet market).

        Raises :class:`BookOutOfSync` when every buffered event is newer than the snapshot
        plus one (the snapshot is too old: fetch another).
        """
        self._bids = {p: q for p, q in snapshot.bids}
        self._asks = {p: q for p, q in snapshot.asks}
        self._last_id = snapshot.last_update_id
        self._fresh = True
        buffered, self._buffer = self._buffer, []
        for event in buffered:
            self._feed_after_snapshot(event)
        if not self._synced and (subscribed_before or (self._max_seen is not None
                                                       and self._max_seen <= self._last_id)):
            # every event seen is in the snapshot already (a quiet market after a gap): the
            # snapshot is the book; the next event must still straddle it (rule 3)
            self._synced = True
        return self._synced

    def feed(self, event: dict[str, Any]) -> bool:
        """One ``depthUpdate`` event; True when it changed a synced book."""
        if self._last_id is None:
            if len(self._buffer) >= self._max_buffer:
                self._buffer.pop(0)
            self._buffer.append(event)
            self._max_seen = max(self._max_seen or 0, int(event["u"]))
            return False
        return self._feed_after_snapshot(event)

    def _feed_after_snapshot(self, event: dict[str, Any]) -> bool:
        first, last = int(event["U"]), int(event["u"])
        assert self._last_id is not None
        if last <= self._last_id:
            return False  # rule 2 (and duplicates once synced): nothing new
        if self._fresh:
            if not first <= self._last_id + 1 <= last:
                raise BookOutOfSync(f"{self.symbol}: first event U={first} u={last} does not meet "
                                    f"snapshot {self._last_id}")
            self._fresh = False
            self._synced = True
        elif first != self._last_id + 1:
            raise BookOutOfSync(f"{self.symbol}: gap, expected U={self._last_id + 1}, got U={first}")
        _apply(self._bids, event.get("b", ()))
        _apply(self._asks, event.get("a", ()))
        self._last_id = last
        return True

    def depth(self, limit: int = 100) -> Depth:
        """The book as a REST ``Depth`` (best first, ``limit`` levels a side)."""
        if not self._synced or self._last_id is None:
            raise BookOutOfSync(f"{self.symbol}: book not synced")
        bids = tuple(PriceLevel(p, self._bids[p]) for p in sorted(self._bids, reverse=True)[:limit])
        asks = tuple(PriceLevel(p, self._asks[p]) for p in sorted(self._asks)[:limit])
        return Depth.model_construct(last_update_id=self._last_id, bids=bids, asks=asks)
