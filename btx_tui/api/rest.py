"""The request pipeline under :class:`btx_tui.api.client.BtxClient`.

One ``httpx.AsyncClient`` per exchange connection (:mod:`.http`: aiohttp's keep-alive pool
underneath, proxies from the environment or config, the system trust store, gzip, explicit
connect/read/pool timeouts). Every request goes: budget ``acquire`` (may wait) → sign with a
fresh timestamp → send → read ``X-MBX-USED-WEIGHT-1M`` → map the response to JSON or a typed
error.

The request is a prebuilt ``httpx.Request`` handed to ``AsyncClient.send``: the query string
is ours anyway (it is what gets signed), so httpx's URL merging in ``build_request`` is skipped;
proxy routing, timeouts and gzip decoding still happen in httpx. A ``transport=`` given by
the caller (tests wrap the real transport to inject faults; the bench passes httpx's own)
replaces aiohttp's.

Retries are decided by the *operation*, not the error class:

- ``Op.READ`` (GETs): network errors, 5xx, unreadable bodies and 429 (after its wait) are
  retried with jittered exponential backoff;
- ``Op.CANCEL``: retried like reads (a cancel is idempotent by id); the reply says whether an
  ambiguous retry happened so the caller can interpret a later -2011;
- ``Op.ONCE`` (order placement, withdrawals): never retried, except after -1021, which is a
  definite reject (the exchange checks the timestamp before doing anything).

Every signed operation resyncs the clock at most once on -1021 and re-signs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

import httpx
from pydantic import SecretStr

from ..backoff import Backoff
from .clock import ClockSample, ServerClock
from .errors import (
    AuthError,
    BadResponse,
    Banned,
    BtxError,
    NetworkError,
    OutcomeUnknown,
    ProxyFailure,
    RateLimited,
    TimestampError,
    TlsError,
    error_from_response,
)
from .http import (
    TRANSPORT_ERRORS,
    HttpSettings,
    is_timeout,
    maybe_sent,
    open_http_client,
    proxy_problem,
    tls_problem,
)
from .ratebudget import RateBudget, request_weight
from .signing import HmacSigner, Signer, encode_params

__all__ = ["Op", "Reply", "RestSession", "RetryPolicy"]

log = logging.getLogger("btx_tui.api")


class Op(Enum):
    """How a request may be retried (see module docstring)."""

    READ = "read"
    CANCEL = "cancel"
    ONCE = "once"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for retryable operations: full jitter, exponential, capped."""

    attempts: int = 4
    base_delay_s: float = 0.25
    max_delay_s: float = 4.0
    #: A 429 asking to wait longer than this is raised instead of waited out.
    max_rate_limit_wait_s: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        return Backoff(first_s=self.base_delay_s, cap_s=self.max_delay_s, spread=1.0).delay(attempt)


@dataclass(frozen=True, slots=True)
class Reply:
    """Parsed JSON of a successful response and how it was obtained.

    ``ambiguous_retry`` is True when an earlier attempt of the same request may have taken
    effect (network failure after sending, 5xx) and was retried.
    """

    data: Any
    attempts: int
    ambiguous_retry: bool


def _network_error(exc: BaseException, timeout_s: float) -> NetworkError:
    proxy = proxy_problem(exc)
    if proxy is not None:
        short, message, status = proxy
        return ProxyFailure(message, short=short, http_status=status)
    tls = tls_problem(exc)
    if tls is not None:
        reason, detail = tls
        return TlsError(f"{reason} ({detail}); the request was not sent. Trust the exchange's CA "
                        "with ca_bundle, or fix base_url's host name", reason=reason)
    if not maybe_sent(exc):
        if is_timeout(exc):
            return NetworkError(f"Could not connect to the exchange within {timeout_s:g} s", maybe_sent=False)
        return NetworkError("Could not connect to the exchange (is it running?)", maybe_sent=False)
    if is_timeout(exc):
        return NetworkError(f"No answer from the exchange within {timeout_s:g} s; "
                            "the request may have been executed", maybe_sent=True)
    return NetworkError("The connection to the exchange broke after the request was sent; "
                        "it may have been executed", maybe_sent=True)


@dataclass(slots=True)
class _CallState:
    ambiguous: bool = False


#: Money arrives as JSON strings or numbers; numbers with a fraction become Decimal, never
#: float. One decoder for every response (``json.loads`` would build one per call).
_JSON = json.JSONDecoder(parse_float=Decimal)

#: Headers sent with every request (besides Host, Accept-Encoding and, when signed, the API key).
_HEADERS = (("Accept", "application/json"), ("User-Agent", "btx-tui"))


class RestSession:
    """Signing, clock, budget, retries and error mapping over one keep-alive transport."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        api_secret: SecretStr | Signer | None,
        *,
        recv_window_ms: int = 5000,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        budget: RateBudget | None = None,
        clock: ServerClock | None = None,
        http: HttpSettings | None = None,
    ) -> None:
        if isinstance(api_secret, SecretStr):
            api_secret = HmacSigner(api_secret)
        elif api_secret is not None and not callable(getattr(api_secret, "sign", None)):
            raise TypeError("api_secret must be a pydantic SecretStr or a Signer")
        if not 0 < recv_window_ms <= 60000:
            raise ValueError("recv_window_ms must be in 1..60000")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._signer: Signer | None = api_secret
        self.recv_window_ms = recv_window_ms
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.budget = budget or RateBudget()
        self.clock = clock or ServerClock()
        self.last_latency_ms: float | None = None
        self._sync_lock = asyncio.Lock()
        self.timeouts = httpx.Timeout(connect=min(timeout_s, 5.0), read=timeout_s, write=timeout_s,
                                      pool=timeout_s)
        self.http = open_http_client(self.base_url, timeout=self.timeouts, settings=http, transport=transport)
        self._timeout_ext = self.timeouts.as_dict()
        self._headers = list(_HEADERS) + [("Accept-Encoding", "gzip")]
        self._signed_headers = self._headers + ([("X-MBX-APIKEY", api_key)] if api_key else [])

    def __repr__(self) -> str:
        key = f"{self.api_key[:4]}…" if self.api_key else None
        return f"RestSession(base_url={self.base_url!r}, api_key={key!r}, signed={self.can_sign})"

    @property
    def can_sign(self) -> bool:
        return bool(self.api_key) and self._signer is not None

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- one attempt -------------------------------------------------------------------------

    async def _send(self, method: str, path: str, query: str, signed: bool) -> httpx.Response:
        url = f"{self.base_url}{path}?{query}" if query else f"{self.base_url}{path}"
        request = httpx.Request(method, url, headers=self._signed_headers if signed else self._headers,
                                extensions={"timeout": self._timeout_ext})
        started = time.monotonic()
        try:
            response = await self.http.send(request)
        except TRANSPORT_ERRORS as exc:
            log.debug("%s %s failed: %s", method, path, type(exc).__name__)
            error = _network_error(exc, self.timeout_s)
            if isinstance(error, TlsError | ProxyFailure):
                log.warning("%s %s: %s", method, path, error)
            raise error from exc
        self.last_latency_ms = (time.monotonic() - started) * 1000
        self.budget.observe(response.headers)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s in %.1f ms (used weight %s)", method, path, response.status_code,
                      self.last_latency_ms, response.headers.get(self.budget.header, "?"))
        return response

    def _parse(self, response: httpx.Response) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return _JSON.decode(response.content.decode())
            except (ValueError, UnicodeDecodeError):
                raise BadResponse(
                    "The exchange answered but the body is not valid JSON",
                    http_status=status,
                ) from None
        error = error_from_response(status, response.content, response.headers)
        if isinstance(error, RateLimited):
            self.budget.pause(error.retry_after)
            log.warning("rate limited (HTTP %s, code %s): pausing all requests for %.1f s",
                        error.http_status, error.code, error.retry_after)
        raise error

    async def _once(self, method: str, path: str, params: Sequence[tuple[str, str]],
                    signed: bool, weight: int, urgent: bool = False) -> Any:
        if signed:
            if not self.can_sign:
                raise AuthError("No API key and secret are configured for this exchange")
            if self.clock.is_stale():
                await self._sync_unless_done(None)
        ticket = await self.budget.acquire(weight, urgent=urgent)  # orders do not queue behind polls
        # Sign only now, after any budget wait, so the timestamp is fresh.
        generation = self.clock.generation
        query = encode_params(params)
        if signed:
            assert self._signer is not None
            stamp = f"recvWindow={self.recv_window_ms}&timestamp={self.clock.now_ms()}"
            query = f"{query}&{stamp}" if query else stamp
            query = f"{query}&signature={self._signer.sign(query)}"
        try:
            return self._parse(await self._send(method, path, query, signed))
        except TimestampError as exc:
            exc.clock_generation = generation  # type: ignore[attr-defined]
            raise
        except NetworkError as exc:
            if not exc.maybe_sent:
                self.budget.refund(ticket)  # it never reached the exchange: nothing was charged
            raise

    # --- clock -------------------------------------------------------------------------------

    async def sync_clock(self, samples: int = 3) -> int:
        """Measure the server clock offset from ``samples`` round trips; returns it in ms."""
        async with self._sync_lock:
            return await self._measure_clock(samples)

    async def _sync_unless_done(self, generation: int | None) -> None:
        """Sync once for a group of concurrent requests: skip if someone synced meanwhile.

        ``generation`` None means "sync if stale"; otherwise "sync if nobody has since".
        """
        async with self._sync_lock:
            if generation is None and not self.clock.is_stale():
                return
            if generation is not None and self.clock.generation != generation:
                return
            await self._measure_clock(3)

    async def _measure_clock(self, samples: int) -> int:
        taken: list[ClockSample] = []
        for _ in range(max(1, samples)):
            await self.budget.acquire(request_weight("GET", "/api/v3/time"))
            sent_wall = self.clock.wall_ms()
            started = self.clock.monotonic()
            data = self._parse(await self._send("GET", "/api/v3/time", "", False))
            rtt = (self.clock.monotonic() - started) * 1000
            server_ms = data.get("serverTime") if isinstance(data, dict) else None
            if not isinstance(server_ms, int) or isinstance(server_ms, bool):
                raise BadResponse("The exchange's time answer has no serverTime")
            taken.append(ClockSample(sent_wall, rtt, server_ms))
        offset = self.clock.update(taken)
        log.debug("clock synced: offset %+d ms (best round trip %.1f ms)", offset,
                  self.clock.round_trip_ms or 0.0)
        return offset

    # --- the retry loop ----------------------------------------------------------------------

    async def call(self, method: str, path: str, params: Sequence[tuple[str, str]] = (), *,
                   signed: bool = False, op: Op = Op.READ) -> Reply:
        """Send one logical request, retrying as ``op`` allows; returns the parsed JSON.

        A raised error carries ``after_ambiguous_retry`` (see :class:`BtxError`).
        """
        state = _CallState()
        try:
            return await self._call(method, path, params, signed, op, state)
        except BtxError as exc:
            exc.after_ambiguous_retry = state.ambiguous
            raise

    async def _call(self, method: str, path: str, params: Sequence[tuple[str, str]], signed: bool,
                    op: Op, state: _CallState) -> Reply:
        weight = request_weight(method, path, params)
        attempt = 0
        resynced = False
        while True:
            attempt += 1
            try:
                data = await self._once(method, path, params, signed, weight, urgent=op is not Op.READ)
                return Reply(data, attempt, state.ambiguous)
            except TimestampError as exc:
                if not signed or resynced:
                    raise
                resynced = True
                attempt -= 1  # a definite reject: does not use up a retry
                log.info("timestamp rejected (-1021): resyncing the clock once and re-signing")
                await self._sync_unless_done(getattr(exc, "clock_generation", self.clock.generation))
                continue
            except Banned:
                raise
            except RateLimited as exc:
                if (op is Op.ONCE or attempt >= self.retry.attempts
                        or exc.retry_after > self.retry.max_rate_limit_wait_s):
                    raise
                continue  # the budget is paused; the next acquire waits it out
            except (NetworkError, OutcomeUnknown) as exc:
                if op is Op.ONCE or attempt >= self.retry.attempts:
                    raise
                if not isinstance(exc, NetworkError) or exc.maybe_sent:
                    state.ambiguous = True
                delay = self.retry.delay(attempt)
                log.debug("%s %s: %s; retry %d in %.2f s", method, path, type(exc).__name__,
                          attempt, delay)
                await asyncio.sleep(delay)
                continue
            except BtxError:
                raise
