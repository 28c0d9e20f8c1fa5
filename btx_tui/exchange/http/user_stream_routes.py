"""The listenKey endpoints of the user-data-stream flow (``/api/v3/userDataStream``).

Security USER_STREAM: the API key alone (no signature), as the standard has it.  The events
themselves are pushed on ``/ws/<listenKey>`` by the WebSocket surface (``ws/``).
"""

from __future__ import annotations

from typing import Any

from btx_tui.exchange.http.endpoints import Context, route


def _listen_key(ctx: Context) -> str:
    ctx.params.require("listenKey")
    key = ctx.params.get("listenKey")
    assert key is not None
    return key


def create(ctx: Context) -> Any:
    assert ctx.listen_keys is not None
    return {"listenKey": ctx.listen_keys.create(ctx.account_id, ctx.now_ms)}


def keep_alive(ctx: Context) -> Any:
    assert ctx.listen_keys is not None
    ctx.listen_keys.keep_alive(_listen_key(ctx), ctx.account_id, ctx.now_ms)
    return {}


def close(ctx: Context) -> Any:
    assert ctx.listen_keys is not None
    ctx.listen_keys.close(_listen_key(ctx), ctx.account_id, ctx.now_ms)
    return {}


# Security type and weight: each route's row in the contract's table (btx_tui/contract/endpoints.py).
ENDPOINTS = [
    route("POST", "/api/v3/userDataStream", create),
    route("PUT", "/api/v3/userDataStream", keep_alive),
    route("DELETE", "/api/v3/userDataStream", close),
]
