"""Fault injection for the paper exchange: make it fail the way real exchanges fail.

Why: a client can only prove it "never loses an order" against a server that loses
answers — drops the connection after placing the order, answers 5xx/HTML/garbage for a
request it executed, times out, hides a fresh order from ``GET /api/v3/order``, skews its
clock.  This module injects exactly those failures, and nothing else: a fault never
touches the ``Exchange``'s state.  "Executes" always means the normal pipeline ran and the
Exchange committed before the fault decided what the client sees.

Off by default: ``ExchangeApp.faults`` is ``None`` unless ``btx-tui exchange`` got
``--fault`` or ``--admin-token``.  The kinds (``before``, ``after``, ``modifier``, and
``stream`` - applied by ``ws/stream_faults.py`` from this injector's specs and RNG, skipped
here) and how a fault is written and validated live in
:mod:`btx_tui.exchange.http.fault_specs`; this module is the runtime side: drawing faults per
request, answering for them, the admin endpoint.

Each request to a matching endpoint draws once per matching fault from one seeded RNG, in
the order the faults were given, so a run with the same seed and the same request sequence
injects the same faults.  The first ``before``/``after`` fault that fires wins; every fired
modifier applies.  Unknown paths and the admin path never get faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import random
from collections import Counter
from typing import Any, Callable, Iterable, Protocol

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.fault_specs import (  # KINDS/FaultSpec/make_spec/parse_fault re-exported for callers
    BEFORE, KINDS, MODIFIER, STREAM, FaultError, FaultSpec, make_spec, parse_fault,
)

from btx_tui.exchange.http.endpoints import Endpoint
from btx_tui.exchange.http.ratelimit import Limits, RateLimiter

__all__ = ["ADMIN_HEADER", "ADMIN_PATH", "DROP_EXTENSION", "KINDS", "FaultError", "FaultInjector", "FaultSpec",
           "Plan", "make_spec", "parse_fault"]

log = logging.getLogger("btx_tui.exchange.http.faults")

ADMIN_PATH = "/admin/faults"
ADMIN_HEADER = b"x-btx-admin-token"
DROP_EXTENSION = "btx.close_connection"
"""Scope extension (set by server.JsonHttpToolsProtocol): closes the client's connection."""

_HTML = ("<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}"
         "</h1></center><hr><center>nginx</center></body></html>\n")


Response = tuple[int, list[tuple[bytes, bytes]], bytes]


class FaultHost(Protocol):
    """What the injector needs of the app it sits in front of (``app.ExchangeApp``).

    A protocol, not an import of the app: the app imports this module, so importing it
    back would make a circle.
    """

    routes: dict[str, dict[str, Endpoint]]
    limits: Limits
    limiter: RateLimiter
    weight_header: bytes
    clock: Callable[[], int]

    async def respond(self, scope: dict, receive: Callable,
                      plan: "Plan | None" = None) -> Response | None: ...

    async def read_body(self, receive: Callable, content_length: bytes | None) -> bytes: ...


class Plan:
    """What the faults decided for one request; the app calls its hooks around the handler."""

    __slots__ = ("injector", "key", "response", "delay_s", "not_found_s", "skew_ms")

    def __init__(self, injector: "FaultInjector", key: str) -> None:
        self.injector = injector
        self.key = key
        self.response: FaultSpec | None = None
        self.delay_s = 0.0
        self.not_found_s: float | None = None
        self.skew_ms = 0

    async def before_handler(self) -> None:
        """Called after authentication, right before the handler runs (``delay``)."""
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)

    def after_handler(self, now_ms: int, endpoint: Endpoint, result: Any) -> Any:
        """Alter a handler's result: skewed ``serverTime``; -2013 for a too-young order."""
        if self.skew_ms and isinstance(result, dict) and "serverTime" in result:
            result["serverTime"] += self.skew_ms
        if (self.not_found_s is not None and endpoint.method == "GET"
                and endpoint.path == "/api/v3/order" and isinstance(result, dict)
                and now_ms - int(result.get("time", 0)) < self.not_found_s * 1000):
            self.injector.record("order_not_found_for", self.key)
            raise ApiError(400, -2013, "Order does not exist.")
        return result


class FaultInjector:
    """The configured faults, their seeded RNG, per-kind counters and the admin endpoint."""

    def __init__(self, specs: Iterable[FaultSpec] = (), *, seed: int | None = None,
                 admin_token: str | None = None) -> None:
        if admin_token is not None and not admin_token:
            raise FaultError("the admin token must not be empty")
        self._token = admin_token.encode("utf-8") if admin_token else None
        self.specs: tuple[FaultSpec, ...] = ()
        self.seed = 0
        self._rng = random.Random()
        self.injected: Counter[str] = Counter()
        self.replace(specs, seed)

    @property
    def admin_enabled(self) -> bool:
        return self._token is not None

    def replace(self, specs: Iterable[FaultSpec], seed: int | None = None) -> None:
        """Install a new fault set and reseed (a random seed, reported, when none is given)."""
        self.specs = tuple(specs)
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self._rng = random.Random(self.seed)
        if self.specs:
            log.info("fault injection: %d fault(s), seed %d", len(self.specs), self.seed)

    def clear(self) -> None:
        self.specs = ()

    @property
    def rng(self) -> random.Random:
        """The seeded RNG every fault draws from (the stream faults too)."""
        return self._rng

    def record(self, kind: str, key: str) -> None:
        """Count one injected fault and log it (kind and endpoint only: never parameters)."""
        self.injected[kind] += 1
        log.info("fault injected: %s on %s", kind, key)

    def state(self) -> dict[str, Any]:
        """The admin view: the fault set, the seed and how many faults of each kind fired."""
        return {"faults": [s.to_json() for s in self.specs], "seed": self.seed,
                "injected": dict(sorted(self.injected.items())),
                "total": sum(self.injected.values())}

    def plan(self, method: str, path: str) -> Plan | None:
        """Draw the faults of one request to a served endpoint; None when none fired."""
        key = f"{method} {path}"
        plan: Plan | None = None
        for spec in self.specs:
            stage = KINDS[spec.kind].stage
            if stage == STREAM or not spec.matches(key) or not self._rng.random() < spec.probability:
                continue
            plan = plan or Plan(self, key)
            if stage != MODIFIER:
                plan.response = plan.response or spec
            elif spec.kind == "delay":
                plan.delay_s = max(plan.delay_s, float(spec.arg or 0))
            elif spec.kind == "order_not_found_for":
                plan.not_found_s = float(spec.arg or 0)
            else:
                plan.skew_ms = int(spec.arg or 0)
        return plan

    # ---- the ASGI side ------------------------------------------------------------------
    async def intercept(self, app: FaultHost, scope: dict, receive: Callable,
                        send: Callable) -> bool:
        """Serve the request if a fault (or the admin endpoint) owns it; False = app as usual."""
        path = scope["path"]
        if path == ADMIN_PATH and self._token is not None:
            await _send(send, *await self._admin(app, scope, receive))
            return True
        method = scope["method"]
        if not self.specs or method not in app.routes.get(path, ()):
            return False
        plan = self.plan(method, path)
        if plan is None:
            return False
        fault = plan.response
        if fault is not None and KINDS[fault.kind].stage == BEFORE:
            self.record(fault.kind, plan.key)
            await _send(send, *_fault_response(fault, app, scope))
            return True
        if plan.skew_ms:
            self.record("clock_skew", plan.key)
        if plan.delay_s:
            self.record("delay", plan.key)
        response = await app.respond(scope, receive, plan)
        if response is None:  # the client went away before its body arrived
            return True
        if fault is None:
            await _send(send, *response)
            return True
        self.record(fault.kind, plan.key)
        if fault.kind == "execute_then_drop":
            await _drop(scope, receive)
        elif fault.kind == "truncated":
            body = response[2]
            cut = body[: max(1, len(body) // 2)] if len(body) > 1 else b"{"
            await _send(send, 200, [(b"content-type", b"application/json")], cut)
        else:
            await _send(send, *_fault_response(fault, app, scope))
        return True

    async def _admin(self, app: FaultHost, scope: dict,
                     receive: Callable) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        client = scope.get("client")
        if not client or not _is_loopback(client[0]):
            return _json(403, {"code": -1000, "msg": "The admin endpoint is reachable from loopback only."})
        token = b""
        for name, value in scope.get("headers", ()):
            if name == ADMIN_HEADER:
                token = value
        assert self._token is not None
        if not hmac.compare_digest(token, self._token):
            return _json(401, {"code": -2015, "msg": "Missing or invalid admin token."})
        method = scope["method"]
        if method == "GET":  # with the rate limiter's refusals: a soak proves it earned none
            return _json(200, {**self.state(), "rate_limit": app.limiter.stats.as_dict()})
        if method == "DELETE":
            self.clear()
            log.info("fault injection: fault set cleared by the admin endpoint")
            return _json(200, self.state())
        if method != "POST":
            status, headers, body = _json(405, {"code": -1000, "msg": f"Method {method[:16]} not allowed "
                                                "for this endpoint."})
            return status, [*headers, (b"allow", b"DELETE, GET, POST")], body
        try:
            length = dict(scope.get("headers", ())).get(b"content-length")
            raw = await app.read_body(receive, length)
            specs, seed = _parse_admin_body(raw, app)
        except ApiError as error:
            return _json(error.http_status, {"code": error.code, "msg": error.msg})
        except FaultError as error:
            return _json(400, {"code": -1130, "msg": f"Invalid fault set: {error}."})
        except Exception:  # _Disconnected and friends: nothing sensible to answer
            return _json(400, {"code": -1130, "msg": "Invalid fault set: body not received."})
        self.replace(specs, seed)
        self.injected.clear()
        return _json(200, self.state())


def _parse_admin_body(raw: bytes, app: FaultHost) -> tuple[list[FaultSpec], int | None]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FaultError("the body must be a JSON object") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("faults"), list):
        raise FaultError('the body must be {"faults": [...], "seed": N}')
    seed = doc.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise FaultError("seed must be an integer")
    known = {f"{method} {path}" for path, methods in app.routes.items() for method in methods}
    specs = []
    for i, item in enumerate(doc["faults"]):
        if not isinstance(item, dict):
            raise FaultError(f"faults[{i}] must be an object")
        try:
            specs.append(make_spec(item.get("kind"), item.get("endpoint"), item.get("probability"),
                                   item.get("arg"), known))
        except FaultError as error:
            raise FaultError(f"faults[{i}]: {error}") from None
    return specs, seed


def _fault_response(fault: FaultSpec, app: FaultHost,
                    scope: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The answer of a ``before``/``after`` fault: an HTML page (as a proxy would send), or
    the contract's JSON error with its weight header (faults charge no weight themselves)."""
    kind = KINDS[fault.kind]
    if kind.html:
        page = _HTML.format(status=kind.status, reason=kind.html).encode()
        return kind.status, [(b"content-type", b"text/html")], page
    msg = kind.msg
    client = scope.get("client")
    ip, now = client[0] if client else "unknown", app.clock()
    headers = [(app.weight_header, str(app.limiter.used_weight(ip, now)).encode("ascii"))]
    if fault.kind == "429":
        msg = (f"Too much request weight used; current limit is {app.limits.weight_per_minute} "
               f"request weight per {app.limits.weight_window_text()}.")
        retry_s = fault.arg or 1
        headers.append((b"retry-after", str(retry_s).encode("ascii")))
        # Like a real 429: whoever keeps sending during Retry-After collects strikes, then a ban.
        app.limiter.impose_retry(ip, now, retry_s)
    status, base, body = _json(kind.status, {"code": kind.code, "msg": msg})
    return status, [*base, *headers], body


def _json(status: int, doc: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return status, [(b"content-type", b"application/json")], json.dumps(doc, separators=(",", ":")).encode()


async def _send(send: Callable, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if not any(name == b"content-length" for name, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode("ascii"))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(scope: dict, receive: Callable) -> None:
    """Close the connection without a response; wait until the server noticed it closed.

    Without the server's close extension (another ASGI server, a direct call), return
    without sending anything: uvicorn itself would then answer a plain 500.
    """
    close = scope.get("extensions", {}).get(DROP_EXTENSION)
    if close is None:
        return
    close()
    with contextlib.suppress(asyncio.TimeoutError):
        async with asyncio.timeout(2.0):
            while (await receive())["type"] != "http.disconnect":
                pass


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
