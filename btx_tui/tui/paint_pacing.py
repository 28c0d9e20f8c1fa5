"""Paint pacing: a pane repaints at most a few times a second, however fast its stream is.

Why: on streams the store changes on every event (the book every 100 ms, the tape on every
trade, every ticker of the watchlist), and painting a pane costs far more than storing the
fact. A burst of events must cost one paint, not one per event, yet an event must never wait
long for its paint. :class:`PaintPacer` paints at once when the pane has not painted for
``interval_s`` (an isolated event is on screen in the next frame), and otherwise once, at
``interval_s`` after the previous paint, with the store's state *at that moment* — the trailing
paint always shows the last change, and a steady stream cannot starve it (the deadline is fixed
when the first unpainted change arrives, never pushed back by later ones).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer


class PaintPacer:
    """Calls ``paint`` at most once per ``interval_s``, leading edge and trailing edge.

    ``paint`` reads the current state itself (it takes no argument), so a deferred paint shows
    the newest facts, never the ones of the request that scheduled it.
    """

    def __init__(self, owner: MessagePump, paint: Callable[[], None], interval_s: float) -> None:
        """
        Args:
            owner: the node whose timer runs a deferred paint (it stops with the node).
            paint: draws the pane from the current state.
            interval_s: the shortest time between two paints.
        """
        self._owner = owner
        self._paint = paint
        self.interval_s = interval_s
        self._last = float("-inf")
        self._timer: Timer | None = None
        self.requests = 0
        """Paint requests so far (tests compare them with :attr:`paints`)."""
        self.paints = 0
        """Paints done so far."""

    @property
    def pending(self) -> bool:
        """A change is waiting for its (deferred) paint."""
        return self._timer is not None

    def request(self) -> None:
        """The pane's facts changed: paint now, or at the latest one interval after the last paint."""
        self.requests += 1
        if self._timer is not None:
            return  # the deferred paint will read the newest state
        wait = self._last + self.interval_s - time.monotonic()
        if wait <= 0:
            self._run()
        else:
            self._timer = self._owner.set_timer(wait, self._deferred, name="paint-pacer")

    def flush(self) -> None:
        """Paint now if a change is waiting (e.g. before the pane is read back)."""
        if self._timer is not None:
            self._timer.stop()
            self._deferred()

    def cancel(self) -> None:
        """Drop a waiting paint (the pane is painted by other means, e.g. after a modal)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _deferred(self) -> None:
        self._timer = None
        self._run()

    def _run(self) -> None:
        self._last = time.monotonic()
        self.paints += 1
        self._paint()
