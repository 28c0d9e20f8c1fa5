"""One retry-delay policy for every loop that waits after a failure: jittered, exponential, capped.

Why one helper: the feeds, the session start, the withdraw history poll, the resolution of an
unknown order outcome and the REST retries all wait "twice as long as last time, but never
longer than a cap, never all at the same moment". Five hand-written copies had drifted (one
without jitter, one without a floor). Why not ``tenacity``/``backoff``: those wrap a *call* to
retry; our loops are long-lived (fetch → post → sleep, woken early by events) and only need the
delay itself — ``tenacity.wait_random_exponential`` alone would do, but it jitters from 0, and the
feeds need a floor (a prices feed polled every 15 s must not hammer a returning exchange).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay after the ``attempt``-th failure in a row: a random point in ``[ceiling × (1 − spread), ceiling]``.

    ``ceiling = min(cap_s, first_s × 2^(attempt − 1))``, and never less than ``floor_s``
    (itself bounded by the cap).
    """

    first_s: float
    """Ceiling of the first delay; each further failure doubles it."""
    cap_s: float
    """No delay is ever longer."""
    floor_s: float = 0.0
    """No delay is shorter (e.g. a feed's own interval: backing off must never poll faster)."""
    spread: float = 0.5
    """How much of the ceiling the jitter may take away: 0.5 = "half to full", 1.0 = "full jitter"."""

    def ceiling(self, attempt: int) -> float:
        """The longest delay after failure number ``attempt`` (1-based)."""
        return min(self.cap_s, self.first_s * 2.0 ** min(max(attempt, 1) - 1, 64))

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failure number ``attempt`` (1-based), jittered."""
        ceiling = self.ceiling(attempt)
        return max(min(self.floor_s, self.cap_s), random.uniform(ceiling * (1 - self.spread), ceiling))
