"""Endpoint descriptors shared by the route modules and the ASGI app.

Each endpoint is data: method, path, security type, weight (a constant or a function of the
parsed parameters) and a synchronous handler.  The app (``app.py``) owns the pipeline
(body cap -> parse -> weight -> authenticate -> handler -> JSON), so handlers only validate
their own parameters and call one part of the ``Exchange`` (``ctx.exchange.trading``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from btx_tui.exchange.http.listen_keys import ListenKeys
from btx_tui.exchange.http.params import Params
from btx_tui.exchange.http.ratelimit import RateLimiter
from btx_tui.exchange.state.accounts import ApiKey
from btx_tui.exchange.state.exchange import Exchange

NONE, USER_DATA, TRADE, WITHDRAW = "NONE", "USER_DATA", "TRADE", "WITHDRAW"
USER_STREAM = "USER_STREAM"
"""The API key only, no signature (the listenKey endpoints)."""

#: The key permission each security type needs (contract section 2).
PERMISSION = {USER_DATA: "READ", TRADE: "TRADE", WITHDRAW: "WITHDRAW", USER_STREAM: "READ"}


@dataclass(slots=True)
class Context:
    """What a handler sees: the exchange, the parsed parameters and the caller's key."""

    exchange: Exchange
    params: Params
    key: ApiKey | None
    """The caller's key (None on public endpoints)."""
    now_ms: int
    limiter: RateLimiter
    headers: dict[str, str] = field(default_factory=dict)
    client_ip: str = ""
    """The caller's address (the admin endpoints answer loopback only)."""
    listen_keys: ListenKeys | None = None
    """The user-data-stream keys (only the listenKey endpoints use them)."""

    @property
    def account_id(self) -> int:
        assert self.key is not None, "a signed endpoint's handler runs after authentication"
        return self.key.account_id


Weight = Callable[[Params], int]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    security: str
    weight: Weight
    handler: Callable[[Context], Any]
    places_order: bool = False
    """Counted against the ORDERS limits; accepted responses carry the order-count headers."""


def fixed(weight: int) -> Weight:
    """A constant weight."""
    return lambda _params: weight


def safe_int(params: Params, name: str) -> int | None:
    """Best-effort integer for weight computation (validation reports errors later)."""
    value = params.values.get(name)
    if value and value.isdigit() and len(value) < 12:
        return int(value)
    return None
