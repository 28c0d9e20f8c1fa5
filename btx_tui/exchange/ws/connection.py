"""One accepted WebSocket connection: an outgoing queue, the incoming-message limit, its life.

Why a queue and a writer task: the engine's events are delivered synchronously, on the
event loop, while a mutation's caller waits (``state/events.py``); pushing to hundreds of
sockets must not happen inside that call.  A subscriber therefore only appends the encoded
frame to each connection's queue (:meth:`Connection.push`, O(1)); one writer task per
connection sends.  A client that cannot keep up (queue over ``max_queue`` frames) is
disconnected rather than allowed to grow the server's memory.

The protocol itself (framing, masking, ping/pong, close handshake) is uvicorn's
``websockets-sansio`` implementation (the ``websockets`` library); the ping interval and pong timeout are its
``ws_ping_interval`` / ``ws_ping_timeout`` (``server.make_config``).  Here: the standard's
5 incoming messages per second (more closes the connection: policy violation) and the
24 h connection life.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from btx_tui.exchange.numbers import fmt

__all__ = ["Connection", "WsSettings", "encode"]

log = logging.getLogger("btx_tui.exchange.ws")

CLOSE_POLICY = 1008
CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN = 1013


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return fmt(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


encode = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def combined_frame(stream: str, data: str) -> str:
    """``{"stream":<name>,"data":<event>}`` around an already encoded event."""
    return '{"stream":' + json.dumps(stream) + ',"data":' + data + "}"


@dataclass(frozen=True, slots=True)
class WsSettings:
    """The surface's limits and intervals; the defaults are the standard's, tests shorten them."""

    max_messages_per_s: int = 5
    """Incoming messages per second on a market-stream connection; more closes it."""
    max_streams: int = 1024
    ping_interval_s: float = 20.0
    """uvicorn's ``ws_ping_interval``."""
    pong_timeout_s: float = 60.0
    """uvicorn's ``ws_ping_timeout``: an unanswered ping closes the connection after this."""
    max_life_s: float = 24 * 3600.0
    tick_ms: int = 100
    """The fastest throttled stream's period (``@100ms``); 1000 ms streams flush every 10th tick."""
    max_queue: int = 10_000
    """Frames waiting for a slow client before it is disconnected."""


class Connection:
    """An accepted ASGI websocket with a writer task; ``closed`` once either side ends it."""

    def __init__(self, send: Callable, settings: WsSettings, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self.settings = settings
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self.closed = False
        self._close_code: int | None = None
        self._close_reason = ""
        self._monotonic = monotonic
        self._recent: deque[float] = deque()
        self.opened_at = monotonic()
        self._writer: asyncio.Task | None = None
        self.paused = False
        """A fault froze this connection: frames are dropped, the socket stays open."""

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def push(self, frame: str) -> None:
        """Queue one text frame (called from engine-event subscribers: never blocks)."""
        if self.closed or self.paused:
            return
        if len(self._queue) >= self.settings.max_queue:
            self.close(CLOSE_TRY_AGAIN, "Client too slow")
            return
        self._queue.append(frame)
        self._wake.set()

    def send_json(self, doc: Any) -> None:
        self.push(encode(doc))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close after the frames already queued (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self._close_code = code
        self._close_reason = reason
        self._wake.set()

    def count_incoming(self) -> bool:
        """Count one incoming message; False (and close) when over the per-second limit."""
        now = self._monotonic()
        recent = self._recent
        recent.append(now)
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) > self.settings.max_messages_per_s:
            self.close(CLOSE_POLICY, "Too many messages")
            return False
        return True

    def expired(self) -> bool:
        return self._monotonic() - self.opened_at >= self.settings.max_life_s

    async def _write(self) -> None:
        queue = self._queue
        try:
            while True:
                while queue:
                    await self._send({"type": "websocket.send", "text": queue.popleft()})
                if self.closed:
                    await self._send({"type": "websocket.close", "code": self._close_code or 1000,
                                      "reason": self._close_reason})
                    return
                self._wake.clear()
                await self._wake.wait()
        except Exception:  # the peer went away mid-send: nothing more to write
            self.closed = True

    async def finished(self) -> None:
        """Wait for the writer to flush and close (after :meth:`close`)."""
        if self._writer is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._writer.cancel()

    def abort(self) -> None:
        """The peer disconnected: stop writing."""
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()
