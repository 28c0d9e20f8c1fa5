"""The exchange's clock as seen from here.

Signed requests carry a ``timestamp`` the exchange checks against its own clock (-1021 when
off by more than ``recvWindow`` behind or 1 s ahead). We measure the offset between our wall
clock and the server's from several ``/api/v3/time`` round trips: each sample assumes the
server read its clock at the midpoint of the round trip, and the sample with the shortest
round trip (the least uncertainty) wins. Round trips are timed with ``time.monotonic`` so a
wall-clock jump during the measurement cannot corrupt them.

This module holds no I/O: the client feeds it samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ClockSample", "ServerClock", "estimate_offset", "system_wall_ms"]


def system_wall_ms() -> int:
    """The local wall clock in Unix milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class ClockSample:
    """One ``/time`` round trip.

    Attributes:
        sent_wall_ms: our wall clock when the request left.
        round_trip_ms: monotonic duration of the round trip.
        server_ms: the ``serverTime`` the exchange returned.
    """

    sent_wall_ms: int
    round_trip_ms: float
    server_ms: int

    @property
    def offset_ms(self) -> float:
        """server − local, assuming the server read its clock halfway through the round trip."""
        return self.server_ms - (self.sent_wall_ms + self.round_trip_ms / 2)


def estimate_offset(samples: Sequence[ClockSample]) -> tuple[int, float]:
    """(offset_ms, round_trip_ms) from the sample with the shortest round trip."""
    if not samples:
        raise ValueError("no clock samples")
    best = min(samples, key=lambda s: s.round_trip_ms)
    return round(best.offset_ms), best.round_trip_ms


class ServerClock:
    """Server time = local wall clock + a measured offset, refreshed every ``refresh_s``.

    ``wall_ms`` and ``monotonic`` are injectable so tests can skew the local clock.
    ``generation`` increases at every update so concurrent requests that all met -1021 can see
    that someone already resynced and only re-sign.
    """

    def __init__(
        self,
        *,
        wall_ms: Callable[[], int] = system_wall_ms,
        monotonic: Callable[[], float] = time.monotonic,
        refresh_s: float = 300.0,
    ) -> None:
        self.wall_ms = wall_ms
        self.monotonic = monotonic
        self.refresh_s = refresh_s
        self.offset_ms: int | None = None
        self.round_trip_ms: float | None = None
        self.generation = 0
        self._synced_at: float | None = None

    def now_ms(self) -> int:
        """Best estimate of the server's clock now (local clock until the first sync)."""
        return self.wall_ms() + (self.offset_ms or 0)

    def is_stale(self) -> bool:
        """True before the first sync and once ``refresh_s`` has passed since the last one."""
        if self._synced_at is None:
            return True
        return self.monotonic() - self._synced_at >= self.refresh_s

    def update(self, samples: Sequence[ClockSample]) -> int:
        """Adopt the offset measured by ``samples``; returns it in ms."""
        self.offset_ms, self.round_trip_ms = estimate_offset(samples)
        self._synced_at = self.monotonic()
        self.generation += 1
        return self.offset_ms
