"""Polling feeds: one long-lived async loop per feed.

Each feed fetches, posts the typed snapshot message its fetch built (a
:class:`~btx_tui.tui.messages.Fetched`), then sleeps its interval — the next
poll is scheduled only after the previous one finished, so a slow exchange slows the
feed down instead of piling up requests. Errors are caught inside the loop: the feed
posts :class:`FeedFailed`, backs off exponentially with jitter (:class:`~btx_tui.backoff.Backoff`), and recovers by itself.
``CancelledError`` always propagates so the app can stop every feed on exit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from textual.message import Message

from btx_tui.backoff import Backoff
from btx_tui.tui.messages import FeedFailed, Fetched

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[Fetched]]
"""A feed's fetch: returns the snapshot as the message that reports it (it names what the data is about)."""


class Target(Protocol):
    """Where the feeds post their messages (the app)."""

    def post_message(self, message: Message) -> bool: ...

MAX_BACKOFF_S = 8.0
"""Longest wait between two tries of a failing feed (so a returning exchange is seen within
8 s); the first feed that succeeds again wakes all the others at once."""


@dataclass
class Feed:
    """One polling loop's state."""

    name: str
    interval_s: float
    fetch: Fetch
    enabled: Callable[[], bool] = lambda: True
    """Feeds that need something the session lacks (e.g. a key) stay idle."""
    standby: Callable[[], bool] = lambda: False
    """True while a live stream delivers this feed's data: the feed idles (a wake does not
    poll either) and polls again at once when its stream is down, stale or not served."""
    failures: int = 0
    last_ok: float | None = None
    """``time.monotonic()`` of the last successful fetch."""
    last_error: BaseException | None = None
    failing_since: float | None = None
    """``time.monotonic()`` of the first failure of the current streak (None when healthy)."""
    timeout_s: float = 10.0
    """The request timeout: how much longer than its interval an answer may take."""
    fetching_since: float | None = None
    """``time.monotonic()`` when the fetch in flight began (None between fetches)."""
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def streamed(self) -> None:
        """Its stream delivered this feed's data: as fresh and healthy as a successful poll."""
        self.last_ok = time.monotonic()
        self.failures = 0
        self.last_error = None
        self.failing_since = None

    def wake(self) -> None:
        """Poll now instead of waiting out the interval (refresh, symbol change, after an order)."""
        self._wake.set()

    def silence_s(self, now: float) -> float:
        """Seconds without an answer that count against this feed (0 between fetches).

        Measured from the last answer, but never from earlier than one interval before the
        fetch in flight began: a pause or a backoff sleep is not the exchange's silence.
        """
        if self.fetching_since is None:
            return 0.0
        start = self.fetching_since - self.interval_s
        return now - max(start, self.last_ok if self.last_ok is not None else start)

    def overdue(self, now: float, timeouts: int = 1) -> bool:
        """No answer for longer than the interval plus ``timeouts`` request timeouts.

        A hung exchange never fails a request until the client gives up (retries included),
        so silence, not only errors, must count against the connection.
        """
        return self.silence_s(now) > self.interval_s + timeouts * self.timeout_s

    def backoff_s(self, cap: float = MAX_BACKOFF_S) -> float:
        """Exponential backoff with jitter, capped at ``cap`` (:data:`MAX_BACKOFF_S`) for every feed.

        A feed polled less often than the cap (prices every 15 s) retries within the cap too,
        so a returning exchange is seen within 8 s whichever feeds a trader configured.
        """
        policy = Backoff(first_s=2 * self.interval_s, cap_s=cap, floor_s=min(self.interval_s, cap / 2))
        return policy.delay(min(self.failures, 8))


class FeedRunner:
    """Runs every feed as a loop posting messages to ``target``; pausable as a whole."""

    def __init__(self, target: Target, *, max_backoff_s: float = MAX_BACKOFF_S) -> None:
        self.target = target
        self.max_backoff_s = max_backoff_s
        """The backoff cap of every feed; only a compressed-time test shortens it."""
        self.feeds: dict[str, Feed] = {}
        self._running = asyncio.Event()
        self._running.set()

    def add(self, feed: Feed) -> Feed:
        self.feeds[feed.name] = feed
        return feed

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self.wake_all()

    def wake(self, *names: str) -> None:
        for name in names:
            if name in self.feeds:
                self.feeds[name].wake()

    def wake_all(self) -> None:
        for feed in self.feeds.values():
            feed.wake()

    def _wake_failing(self) -> None:
        """The exchange answers again: retry every backing-off feed now, not at its next try."""
        for other in self.feeds.values():
            if other.last_error is not None:
                other.wake()

    async def run(self, feed: Feed) -> None:
        """The loop of one feed: fetch → post → sleep, forever."""
        while True:
            await self._running.wait()
            feed._wake.clear()
            delay = feed.interval_s
            if feed.enabled() and not feed.standby():
                started = feed.fetching_since = time.monotonic()
                try:
                    message = await feed.fetch()
                except asyncio.CancelledError:
                    feed.fetching_since = None
                    raise
                except Exception as exc:  # noqa: BLE001 - a feed must survive anything
                    feed.fetching_since = None
                    feed.failures += 1
                    feed.last_error = exc
                    if feed.failing_since is None:
                        feed.failing_since = time.monotonic()
                    delay = feed.backoff_s(self.max_backoff_s)
                    log.warning("feed %s failed (%s): %s; retry in %.1fs",
                                feed.name, type(exc).__name__, exc, delay)
                    self.target.post_message(FeedFailed(feed.name, exc, delay))
                else:
                    feed.fetching_since = None
                    recovered = feed.last_error is not None
                    feed.failures = 0
                    feed.last_error = None
                    feed.failing_since = None
                    if recovered:
                        self._wake_failing()
                    feed.last_ok = time.monotonic()
                    message.started = started
                    message.latency_ms = (feed.last_ok - started) * 1000
                    self.target.post_message(message)
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow the worker's cancel
                async with asyncio.timeout(delay):
                    await feed._wake.wait()
            except TimeoutError:
                pass
