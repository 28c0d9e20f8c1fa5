"""Past-tense messages carrying immutable snapshots from feed workers to widgets.

Data flows one way: feed worker → service layer → HTTP → pydantic snapshot → message →
widget. A newer snapshot of the same feed replaces an older one still queued
(:meth:`can_replace`), so a slow screen never works through a backlog of stale data.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class FeedUpdated(Message):
    """A feed fetched fresh data.

    Attributes:
        feed: the feed's name (``tickers``, ``book``, ``trades``, ``klines``, ``account``, ``orders``).
        data: the immutable snapshot (a pydantic model or tuple of them).
        key: what the data is about (the symbol, or symbol+interval), so data that arrives for a
            market the user has since left can be dropped.
        latency_ms: round trip of the request that fetched it.
        started: ``time.monotonic()`` when the fetch began (None: unknown), so a snapshot taken
            before something the app learned since (an order just placed) cannot erase it.
    """

    def __init__(self, feed: str, data: Any, key: str = "", latency_ms: float | None = None,
                 started: float | None = None) -> None:
        super().__init__()
        self.feed = feed
        self.data = data
        self.key = key
        self.latency_ms = latency_ms
        self.started = started

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedUpdated) and message.feed == self.feed


class FeedFailed(Message):
    """A feed's fetch failed; the worker backs off and tries again by itself."""

    def __init__(self, feed: str, error: BaseException, retry_in_s: float) -> None:
        super().__init__()
        self.feed = feed
        self.error = error
        self.retry_in_s = retry_in_s

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedFailed) and message.feed == self.feed


class OrderPlaced(Message):
    """An order submission finished: accepted, rejected, or unknown-then-resolved."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class OrdersCanceled(Message):
    """Cancels finished; ``results`` pairs each order's description with its outcome."""

    def __init__(self, results: list[tuple[str, BaseException | None]]) -> None:
        super().__init__()
        self.results = results


class Reconciled(Message):
    """Reconciliation of the order journal with the exchange finished (``report``: what changed)."""

    def __init__(self, report: Any) -> None:
        super().__init__()
        self.report = report
