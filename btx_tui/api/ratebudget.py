"""Client-side request-weight budget (contract section 3).

The exchange bans an IP that keeps sending after a 429, so the client must never get there:
every request first *acquires* its weight from a budget kept below the exchange's limit by a
safety margin (90 % of 6000/min by default). The budget is fed from both sides — the weights
we sent in the last minute, and the ``X-MBX-USED-WEIGHT-1M`` the server reports on every
response (which also counts other programs sharing our IP) — and uses the larger.

On a 429 or 418 the budget is *paused*: every request, from every feed, waits until
``Retry-After`` has passed. Signing happens after ``acquire`` returns, so a wait never makes a
signed request's timestamp stale.

Clock and sleep are injectable, so the arithmetic is testable without waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

# What a request costs is the contract's table (btx_tui/contract/endpoints.py), which the
# exchange's routes read too; re-exported here, where the budget's callers look for it.
from btx_tui.contract.endpoints import request_weight
from btx_tui.contract.rate_limits import used_weight_header

__all__ = ["BudgetSnapshot", "RateBudget", "request_weight"]


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """The budget at one instant, for the status bar.

    Attributes:
        used: estimated weight used in the current minute (max of ours and the server's).
        limit: the exchange's REQUEST_WEIGHT limit per minute.
        effective_limit: the part of it we allow ourselves (limit × safety margin).
        server_used: the last ``X-MBX-USED-WEIGHT-1M`` seen, if any.
        paused_until: Unix time (seconds) until which all requests wait, or None.
        pause_remaining_s: seconds left in the pause (0 when not paused).
        order_count_10s / order_count_1d: the last order counters the server reported.
    """

    used: int
    limit: int
    effective_limit: int
    server_used: int | None
    paused_until: float | None
    pause_remaining_s: float
    order_count_10s: int | None
    order_count_1d: int | None

    @property
    def paused_for(self) -> float:
        """Alias of ``pause_remaining_s`` (seconds every request still waits)."""
        return self.pause_remaining_s

    @property
    def fraction(self) -> float:
        """used / limit, for a gauge."""
        return self.used / self.limit if self.limit else 0.0


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


class RateBudget:
    """A sliding one-minute weight budget shared by every request of one client."""

    def __init__(
        self,
        limit: int = 6000,
        *,
        safety: float = 0.9,
        window_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self.limit = limit
        self.safety = safety
        self.window_s = window_s
        self.header = used_weight_header(round(window_s))
        """The used-weight response header of this window (``x-mbx-used-weight-1m``)."""
        self._monotonic = monotonic
        self._wall = wall
        self._sleep = sleep
        self._sent: deque[tuple[float, int, int]] = deque()  # (monotonic, weight, sequence)
        self._seq = 0
        self._server: tuple[float, int, int] | None = None  # (monotonic when seen, used, sequence)
        # Running sums, so used() is O(1) (amortised) however many requests are in the window:
        self._local = 0  # weight of every entry in _sent
        self._since = 0  # weight of the entries booked after the server's last report
        self._aged = 0  # weight of entries booked before that report which have since expired
        self._queue = asyncio.Lock()  # FIFO: waiters are served in arrival order
        self._paused_until: float | None = None  # monotonic
        self._orders_10s: int | None = None
        self._orders_1d: int | None = None

    def adopt(self, limit: int, window_s: int) -> None:
        """Take the limit and window the exchange declares (``exchangeInfo.rateLimits``).

        Weight already booked stays booked; it simply expires on the new window.
        """
        if limit < 1 or window_s < 1:
            raise ValueError("limit and window must be positive")
        self.limit = limit
        if window_s != self.window_s:
            self.window_s = float(window_s)
            self.header = used_weight_header(window_s)
            self._server = None  # a count over the old window says nothing about the new one
            self._since = 0
            self._aged = 0

    # --- accounting -------------------------------------------------------------------------

    @property
    def effective_limit(self) -> int:
        return max(1, math.floor(self.limit * self.safety))

    def _expire(self, now: float) -> None:
        horizon = now - self.window_s
        sent = self._sent
        server = self._server
        while sent and sent[0][0] <= horizon:
            _, weight, seq = sent.popleft()
            self._local -= weight
            if server is not None:
                if seq > server[2]:
                    self._since -= weight
                else:
                    self._aged += weight
        if server is not None and server[0] <= horizon:
            self._server = None
            self._since = 0
            self._aged = 0

    def used(self) -> int:
        """Estimated weight used in the last minute.

        The server's last report ages with our own bookings: weight we sent before it that has
        since left the window is taken off it. Without that, a report taken near the limit
        froze the budget for a whole minute — nothing was sent, so no fresher report came.
        (What the report holds for *other* programs on our IP stays until the report is a
        window old; our own weight is always counted in full by ``_local``.)
        """
        self._expire(self._monotonic())
        if self._server is None:
            return self._local
        # Weight booked after the server's report is not in it yet.
        return max(self._local, max(0, self._server[1] - self._aged) + self._since)

    def pause_remaining(self) -> float:
        if self._paused_until is None:
            return 0.0
        return max(0.0, self._paused_until - self._monotonic())

    def _wait_needed(self, weight: int) -> float:
        """Seconds to wait before ``weight`` fits; 0 if it fits now."""
        pause = self.pause_remaining()
        if pause > 0:
            return pause
        used = self.used()
        if used + weight <= self.effective_limit or used == 0:
            return 0.0
        # Wait until the next accounting entry leaves the window, then look again.
        now = self._monotonic()
        expiries = [t + self.window_s - now for t, _, _ in list(self._sent)[:1]]
        if self._server is not None:
            expiries.append(self._server[0] + self.window_s - now)
        return max(0.01, min(expiries)) if expiries else 0.01

    async def acquire(self, weight: int, *, urgent: bool = False) -> int:
        """Wait until ``weight`` fits in the budget and no pause is active, then book it.

        First come, first served: while anyone waits, later requests queue behind them, so a
        heavy request (open orders, weight 80) is not starved by a stream of cheap ones taking
        every bit of budget as it frees up. ``urgent`` requests — a trader's own orders and
        cancels, weight 1 and rare — do not queue behind polling: they go as soon as they fit
        (never during a pause). Returns a ticket for :meth:`refund`.
        """
        if urgent:
            while (wait := self._wait_needed(weight)) > 0:
                await self._sleep(wait)
            return self._book(weight)
        if self._queue.locked() or self._wait_needed(weight) > 0:
            async with self._queue:
                while (wait := self._wait_needed(weight)) > 0:
                    await self._sleep(wait)
                return self._book(weight)
        return self._book(weight)

    def _book(self, weight: int) -> int:
        self._seq += 1
        self._sent.append((self._monotonic(), weight, self._seq))
        self._local += weight
        if self._server is not None:
            self._since += weight
        return self._seq

    def refund(self, ticket: int) -> None:
        """Un-book a request that never reached the exchange (the connection was refused).

        Without it an outage fills the budget with weight nobody was charged for: the status
        bar would show it, and the dashboard would throttle itself after the exchange returns.
        """
        for index, (stamp, weight, seq) in enumerate(self._sent):
            if seq == ticket:
                self._sent[index] = (stamp, 0, seq)
                self._local -= weight
                server = self._server
                if server is not None and seq > server[2]:
                    self._since -= weight
                return

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the server's counters from a response's headers (case-insensitive mapping)."""
        used = _header_int(headers, self.header)
        if used is not None:
            self._expire(self._monotonic())  # what is gone already must not age the new report
            self._server = (self._monotonic(), used, self._seq)
            self._since = 0
            self._aged = 0
        o10 = _header_int(headers, "x-mbx-order-count-10s")
        if o10 is not None:
            self._orders_10s = o10
        o1d = _header_int(headers, "x-mbx-order-count-1d")
        if o1d is not None:
            self._orders_1d = o1d

    def pause(self, seconds: float) -> None:
        """Stop every request for ``seconds`` (a 429/418 ``Retry-After``); never shortens a pause."""
        until = self._monotonic() + max(0.0, seconds)
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until

    def snapshot(self) -> BudgetSnapshot:
        remaining = self.pause_remaining()
        return BudgetSnapshot(
            used=self.used(),
            limit=self.limit,
            effective_limit=self.effective_limit,
            server_used=self._server[1] if self._server else None,
            paused_until=self._wall() + remaining if remaining > 0 else None,
            pause_remaining_s=remaining,
            order_count_10s=self._orders_10s,
            order_count_1d=self._orders_1d,
        )
