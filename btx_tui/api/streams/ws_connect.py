"""Opening a stream socket (and the reconnect backoff) and telling "the exchange does not serve streams" apart from
"the exchange is down", shared by the market and account connections.

Why: the caller's per-stream fallback depends on the difference. A handshake answered with a
plain HTTP status (404, 400, ...) or a reply that is not a WebSocket upgrade means the server
is up but serves no streams (a real BTX today): poll, and retry rarely. A refused or reset
connection means it is down: poll meanwhile and reconnect with backoff.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidHandshake, InvalidStatus

from btx_tui.backoff import Backoff

__all__ = ["RECONNECT_BACKOFF", "StreamsNotServed", "http_to_ws", "loads", "open_socket"]

RECONNECT_BACKOFF = Backoff(first_s=0.2, cap_s=15.0, floor_s=0.05, spread=0.9)
"""Between stream reconnects: jittered (a restarted exchange is not hit by every client at
once), from 0.2 s up to 15 s — the project's one backoff policy (:mod:`btx_tui.backoff`)."""


class StreamsNotServed(Exception):
    """The server answered the upgrade but refused it: it serves no streams at this path."""


def http_to_ws(base_url: str) -> str:
    """``http(s)://host:port`` → ``ws(s)://host:port`` (same host and port as REST)."""
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://"):].rstrip("/")
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://"):].rstrip("/")
    return base_url.rstrip("/")


def loads(text: str | bytes) -> Any:
    """JSON with Decimal for any non-integer number (money never becomes a float)."""
    return json.loads(text, parse_float=Decimal)


async def open_socket(url: str, *, open_timeout: float = 5.0) -> ClientConnection:
    """Connect; :class:`StreamsNotServed` for a refused upgrade, ``OSError``/``TimeoutError``
    for an exchange that is down or unreachable."""
    try:
        return await websockets.connect(url, open_timeout=open_timeout, max_size=2 ** 24,
                                        compression=None, ping_interval=20, ping_timeout=20)
    except InvalidStatus as exc:
        raise StreamsNotServed(f"streams not served: HTTP {exc.response.status_code}") from None
    except InvalidHandshake as exc:
        raise StreamsNotServed(f"streams not served: {type(exc).__name__}") from None
