"""Per-stream health for the status bar: how the data arrives (stream or polling), its lag,
and how often the stream reconnected.

Why: the design rule is that the UI does not care whether a snapshot came from a stream or a
poll, but the user must: a pane fed by a dead stream must never look live. Each stream kind
("book", "trades", "kline", "tickers", "account") has one :class:`StreamHealth`; the stream
connection updates it, the caller reads immutable :class:`HealthSnapshot` copies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["HealthSnapshot", "StreamHealth", "StreamMode"]


class StreamMode(StrEnum):
    """How a kind of data arrives right now."""

    CONNECTING = "connecting"
    """No stream yet (first connect or reconnecting): the caller polls meanwhile."""
    STREAM = "stream"
    """Events arrive on the stream: the caller stops polling this kind."""
    POLLING = "polling"
    """The exchange does not serve this stream, or it is down / stale: the caller polls."""


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    name: str
    mode: StreamMode
    lag_ms: int | None
    """Delivery lag of the last event: local clock when it arrived − its time ``E`` (None before
    the first event). Not its age: a quiet stream keeps its last lag, and silence is judged by
    the connection's staleness probe, which turns the mode to POLLING."""
    reconnects: int
    reason: str | None
    """Why the mode is POLLING/CONNECTING (e.g. "streams not served: HTTP 404"), else None."""

    @property
    def live(self) -> bool:
        return self.mode is StreamMode.STREAM


class StreamHealth:
    """Mutable health of one stream kind; owned by one connection (single event loop)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.mode = StreamMode.CONNECTING
        self.reason: str | None = "connecting"
        self.reconnects = 0
        self.last_event_ms: int | None = None
        self.last_lag_ms: int | None = None

    def event(self, event_time_ms: int | None) -> None:
        """An event arrived (``E`` of the event, when it has one)."""
        if event_time_ms is not None:
            self.last_event_ms = event_time_ms
            self.last_lag_ms = max(0, time.time_ns() // 1_000_000 - event_time_ms)

    def set_mode(self, mode: StreamMode, reason: str | None = None) -> None:
        self.mode = mode
        self.reason = reason

    def snapshot(self) -> HealthSnapshot:
        return HealthSnapshot(self.name, self.mode, self.last_lag_ms, self.reconnects, self.reason)
