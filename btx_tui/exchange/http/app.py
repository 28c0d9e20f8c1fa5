"""The paper exchange's ASGI application: parse -> rate-limit -> authenticate -> Exchange -> JSON.

Why a small raw ASGI app rather than Starlette routing: every response this server sends —
including 404, 405, 403 (body too large), 429/418 and 500 — must be a JSON
``{"code","msg"}`` body carrying ``X-MBX-USED-WEIGHT-1M``, parameters must be parsed from
the raw bytes (the signature covers them), and the per-request path must stay lean for the
order-placement throughput target.  A dict lookup on ``(path, method)`` plus one pass over
the headers gives all of that with no framework layers to override; Starlette's Request,
router and exception middleware would each have to be bypassed anyway.

The ``Exchange`` (``state/exchange.py``) is synchronous and single-threaded: handlers call
its parts directly on the event loop, so requests are serialised and never race.  The app
holds no exchange state: it talks to the parts only (``exchange.accounts`` for keys,
``exchange.wallet`` for the withdrawal processor, the rest through the route handlers).
"""

from __future__ import annotations

import asyncio
import json
import logging
from decimal import Decimal
from typing import Any, Callable

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.auth import authenticate, authenticate_key
from btx_tui.exchange.http.endpoints import NONE, PERMISSION, USER_STREAM, Context, Endpoint
from btx_tui.exchange.http.faults import FaultInjector, Plan
from btx_tui.exchange.http.listen_keys import ListenKeys
from btx_tui.exchange.http.params import parse
from btx_tui.exchange.http.ratelimit import Limits, RateLimiter
from btx_tui.exchange.http.route_table import all_endpoints
from btx_tui.exchange.http.time_unit import params_to_ms, parse_time_unit, result_to_us
from btx_tui.exchange.numbers import fmt
from btx_tui.exchange.state.exchange import Exchange

log = logging.getLogger("btx_tui.exchange")

WITHDRAWAL_PERIOD_S = 1.0
INTERNAL_ERROR = (500, -1000, "An unknown error occurred while processing the request.")

_JSON_TYPE = (b"content-type", b"application/json")


def _json_default(value: Any) -> Any:
    # The Exchange formats its Decimals itself; this is a safety net, never a float.
    if isinstance(value, Decimal):
        return fmt(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_encode = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


class _Disconnected(Exception):
    """The client went away before its body arrived: nothing to answer."""


class ExchangeApp:
    """ASGI callable serving contract sections 5–7 from an ``Exchange``."""

    def __init__(
        self,
        exchange: Exchange,
        *,
        limits: Limits | None = None,
        clock: Callable[[], int] | None = None,
        endpoints: list[Endpoint] | None = None,
        faults: FaultInjector | None = None,
    ) -> None:
        self.exchange = exchange
        self.faults = faults
        """Fault injection (``faults.py``); None — the default — costs one check per request."""
        self.limits = limits or Limits()
        self.limiter = RateLimiter(self.limits)
        self.weight_header = self.limits.weight_header
        """``x-mbx-used-weight-1m`` (named after the weight window), built once: every response has it."""
        self.clock: Callable[[], int] = clock or exchange.now_ms
        self.routes: dict[str, dict[str, Endpoint]] = {}
        for endpoint in endpoints or all_endpoints():
            self.routes.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        self._allow = {path: ", ".join(sorted(methods)) for path, methods in self.routes.items()}
        self._background: asyncio.Task | None = None
        self.listen_keys = ListenKeys()
        """listenKeys of the user-data-stream flow (managed by REST, read by the WebSocket surface)."""
        self.websocket: Any = None
        """The WebSocket surface (``ws/``) once installed: an ASGI callable for websocket
        scopes with an async ``stop()`` run at shutdown."""

    # ---- ASGI entry -----------------------------------------------------------------------
    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            if self.websocket is not None:
                await self.websocket(scope, receive, send)
            else:  # not offered: refuse the handshake
                await send({"type": "websocket.close", "code": 1008})

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        faults = self.faults
        if faults is not None and await faults.intercept(self, scope, receive, send):
            return
        response = await self.respond(scope, receive)
        if response is not None:
            status, headers, payload = response
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})

    async def respond(
        self, scope: dict, receive: Callable, plan: Plan | None = None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """Run the pipeline for one request: (status, headers, body), or None if the client left.

        ``plan`` carries the fault hooks (clock skew, delay, result rewrite) of this request.
        """
        now = self.clock()
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        extra: list[tuple[bytes, bytes]] = []
        try:
            try:
                status, body = await self._handle(scope, receive, ip, now, extra, plan)
            except ApiError as error:
                status = error.http_status
                body = _encode(error.body())
                for name, value in (error.headers or {}).items():
                    extra.append((name.encode("latin-1"), str(value).encode("latin-1")))
        except _Disconnected:
            return None
        except Exception:  # a bug: log it (never the query: it holds the signature)
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            status = INTERNAL_ERROR[0]
            body = _encode({"code": INTERNAL_ERROR[1], "msg": INTERNAL_ERROR[2]})
        payload = body.encode("utf-8")
        headers = [
            _JSON_TYPE,
            (b"content-length", str(len(payload)).encode("ascii")),
            (self.weight_header, str(self.limiter.used_weight(ip, now)).encode("ascii")),
        ]
        headers.extend(extra)
        return status, headers, payload

    async def _handle(
        self, scope: dict, receive: Callable, ip: str, now: int, extra: list[tuple[bytes, bytes]],
        plan: Plan | None = None,
    ) -> tuple[int, str]:
        limiter = self.limiter
        limiter.check_ban(ip, now)
        path = scope["path"]
        methods = self.routes.get(path)
        if methods is None:
            limiter.charge_unknown(ip, now)
            raise ApiError(404, -1000, "Unknown endpoint; see the API documentation for valid paths.")
        method = scope["method"]
        endpoint = methods.get(method)
        if endpoint is None:
            limiter.charge_unknown(ip, now)
            extra.append((b"allow", self._allow[path].encode("ascii")))
            raise ApiError(405, -1000, f"Method {method[:16]} not allowed for this endpoint.")

        api_key: bytes | None = None
        content_length: bytes | None = None
        admin_token: bytes | None = None
        time_unit: bytes | None = None
        header_bytes = 0
        for name, value in scope["headers"]:
            header_bytes += len(value)
            if name == b"x-mbx-apikey":
                api_key = value
            elif name == b"content-length":
                content_length = value
            elif name == b"x-btx-admin-token":
                admin_token = value
            elif name == b"x-mbx-time-unit":
                time_unit = value

        query: bytes = scope.get("query_string", b"")
        try:
            if len(query) > self.limits.max_query_bytes:
                raise self._too_large("query string", self.limits.max_query_bytes)
            if header_bytes > self.limits.max_body_bytes:
                raise self._too_large("headers", self.limits.max_body_bytes)
            # GET parameters travel in the query string only (contract section 2).
            body = b"" if method == "GET" else await self.read_body(receive, content_length)
            params = parse(query, body)
            microseconds = parse_time_unit(time_unit)
        except ApiError:
            limiter.charge(ip, endpoint.weight(_EMPTY), now)
            raise
        limiter.charge(ip, endpoint.weight(params), now)

        if microseconds:
            params_to_ms(params)
        key = None
        if endpoint.security == USER_STREAM:
            key = authenticate_key(self.exchange.accounts, api_key, PERMISSION[USER_STREAM])
        elif endpoint.security != NONE:
            signed_now = now if plan is None else now + plan.skew_ms
            key = authenticate(self.exchange.accounts, api_key, params, PERMISSION[endpoint.security], signed_now)
        ctx = Context(self.exchange, params, key, now, limiter, client_ip=ip, listen_keys=self.listen_keys,
                      headers={"x-btx-admin-token": admin_token.decode("latin-1")} if admin_token else {})
        if plan is not None:
            await plan.before_handler()
        if endpoint.places_order:
            limiter.check_order(key.account_id, now)
            result = endpoint.handler(ctx)
            count10, count_day = limiter.add_order(key.account_id, now)
            extra.append((b"x-mbx-order-count-10s", str(count10).encode("ascii")))
            extra.append((b"x-mbx-order-count-1d", str(count_day).encode("ascii")))
        else:
            result = endpoint.handler(ctx)
        if plan is not None:
            result = plan.after_handler(self.exchange.now_ms(), endpoint, result)
        if microseconds:
            result = result_to_us(result, path)
        return 200, _encode(result)

    def _too_large(self, what: str = "body", cap: int | None = None) -> ApiError:
        cap = self.limits.max_body_bytes if cap is None else cap
        return ApiError(403, -1000, f"Request blocked: {what} larger than {cap} bytes.")

    async def read_body(self, receive: Callable, content_length: bytes | None) -> bytes:
        cap = self.limits.max_body_bytes
        if content_length is not None and (
            not content_length.isdigit() or len(content_length) > 12 or int(content_length) > cap
        ):
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected()
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > cap:
                    raise self._too_large()
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if not chunks:
            return b""
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    # ---- lifespan: the withdrawal processor -------------------------------------------------
    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._background = asyncio.create_task(self._process_withdrawals())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop_background()
                if self.websocket is not None:
                    await self.websocket.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def stop_background(self) -> None:
        task, self._background = self._background, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _process_withdrawals(self) -> None:
        """Advance pending withdrawals about once a second; a failure never stops the loop."""
        while True:
            await asyncio.sleep(WITHDRAWAL_PERIOD_S)
            try:
                self.exchange.wallet.process_withdrawals()
            except Exception:
                log.exception("process_withdrawals failed")


_EMPTY = parse(b"", b"")


def create_app(
    exchange: Exchange, *, limits: Limits | None = None, clock: Callable[[], int] | None = None,
    faults: FaultInjector | None = None,
) -> ExchangeApp:
    """Build the ASGI app serving ``exchange``.

    ``limits`` overrides the contract's rate limits (tests use small ones); ``clock``
    (milliseconds) drives rate-limit windows and timestamp checks, default
    ``exchange.now_ms``; ``faults`` enables fault injection (off when None).
    """
    return ExchangeApp(exchange, limits=limits, clock=clock, faults=faults)
