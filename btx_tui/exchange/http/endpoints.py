"""Endpoint descriptors shared by the route modules and the ASGI app.

Each endpoint is data: method, path, security type, weight (a function of the parsed
parameters) and a synchronous handler.  The security type and weight come from the
contract's table (``btx_tui/contract/endpoints.py``, which the client's budget reads too):
a route module names only the method, path and handler, through :func:`route`.
The app (``app.py``) owns the pipeline
(body cap -> parse -> weight -> authenticate -> handler -> JSON), so handlers only validate
their own parameters and call one part of the ``Exchange`` (``ctx.exchange.trading``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from btx_tui.contract.endpoints import PERMISSION, Security, find_endpoint
from btx_tui.exchange.http.listen_keys import ListenKeys
from btx_tui.exchange.http.params import Params
from btx_tui.exchange.http.ratelimit import RateLimiter
from btx_tui.exchange.state.accounts import ApiKey
from btx_tui.exchange.state.exchange import Exchange

NONE, USER_DATA, TRADE, WITHDRAW = Security.NONE, Security.USER_DATA, Security.TRADE, Security.WITHDRAW
USER_STREAM = Security.USER_STREAM
"""The API key only, no signature (the listenKey endpoints)."""

__all__ = [
    "NONE", "PERMISSION", "TRADE", "USER_DATA", "USER_STREAM", "WITHDRAW",
    "Context", "Endpoint", "Weight", "fixed", "route",
]


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


def route(method: str, path: str, handler: Callable[[Context], Any], *, places_order: bool = False) -> Endpoint:
    """The endpoint ``METHOD path`` served by ``handler``, at the security and weight of its
    row in the contract's table; a route the table lacks is refused at import."""
    spec = find_endpoint(method, path)
    if spec is None:
        raise LookupError(f"{method} {path} has no row in btx_tui.contract.endpoints.ENDPOINTS: add one")
    rule = spec.weight
    if isinstance(rule, int):
        weight = fixed(rule)
    else:
        def weight(params: Params) -> int:
            return rule(params.values)
    return Endpoint(method, path, spec.security, weight, handler, places_order)


def fixed(weight: int) -> Weight:
    """A constant weight."""
    return lambda _params: weight

