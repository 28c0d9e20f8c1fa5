"""Typed errors of the BTX service layer.

Every failure the client can meet — a refused connection, an HTML page from a proxy, a rate
limit, an exchange reject — becomes one of these, carrying the HTTP status, the exchange's
numeric code and its message. Callers (the dashboard, the order form) branch on the *type*
and show ``str(error)``, which is written for a trader, not a developer.

Nothing here ever holds a request URL, header or body: those carry the API key and the
signature, and exception text ends up in logs and tracebacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AuthError",
    "BadRequest",
    "BadResponse",
    "Banned",
    "BtxError",
    "FilterFailure",
    "InsufficientBalance",
    "NetworkError",
    "OrderRejected",
    "OutcomeUnknown",
    "ProxyFailure",
    "RateLimited",
    "ServerError",
    "TimestampError",
    "TlsError",
    "UnknownOrder",
    "WithdrawalRejected",
    "error_from_response",
    "parse_retry_after",
]


class BtxError(Exception):
    """Base of every error raised by :mod:`btx_tui.api`.

    Attributes:
        http_status: the HTTP status of the response, ``None`` if there was none.
        code: the exchange's error code (negative), ``None`` if the body had none.
        msg: the exchange's message, or our own description when there was no body.
    """

    #: What kind of failure this is, in words a trader understands.
    title = "Exchange error"

    def __init__(self, msg: str, *, http_status: int | None = None, code: int | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.http_status = http_status
        self.code = code
        #: Set by the client: an earlier attempt of this same request may have taken effect
        #: (it failed ambiguously and was retried). A -2011 on a retried cancel means "query it".
        self.after_ambiguous_retry = False

    def __str__(self) -> str:
        details = []
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.title}: {self.msg}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(http_status={self.http_status!r}, code={self.code!r}, msg={self.msg!r})"


class NetworkError(BtxError):
    """The request did not get an HTTP response (refused, reset, timed out).

    ``maybe_sent`` says whether the request may have reached the exchange: a refused
    connection cannot have placed an order, a reset or a read timeout after sending can.
    """

    title = "Network problem"

    def __init__(self, msg: str, *, maybe_sent: bool, short: str = "exchange unreachable") -> None:
        super().__init__(msg)
        self.maybe_sent = maybe_sent
        #: A few words for the status bar.
        self.short = short


class TlsError(NetworkError):
    """The TLS handshake failed: untrusted certificate, wrong host name, expired certificate.

    Nothing was sent. ``reason`` is one of :data:`TLS_REASONS` (or ``"TLS handshake failed"``).
    """

    title = "TLS problem"

    def __init__(self, msg: str, *, reason: str) -> None:
        super().__init__(msg, maybe_sent=False, short=f"TLS: {reason}")
        self.reason = reason


class ProxyFailure(NetworkError):
    """The forward proxy refused the connection, asked for authentication (407) or refused
    the tunnel. Nothing reached the exchange."""

    title = "Proxy problem"

    def __init__(self, msg: str, *, short: str, http_status: int | None = None) -> None:
        super().__init__(msg, maybe_sent=False, short=short)
        self.http_status = http_status


class RateLimited(BtxError):
    """HTTP 429: too much request weight (-1003) or too many orders (-1015).

    The request was refused, not executed. ``retry_after`` is in seconds.
    """

    title = "Rate limit reached"

    def __init__(self, msg: str, *, http_status: int | None = 429, code: int | None = None,
                 retry_after: float = 1.0) -> None:
        super().__init__(msg, http_status=http_status, code=code)
        self.retry_after = retry_after


class Banned(RateLimited):
    """HTTP 418: the IP is banned for ``retry_after`` seconds after ignoring a 429."""

    title = "Temporarily banned by the exchange"


class AuthError(BtxError):
    """The key or signature was refused: -1022 (signature), -2014 (key format), -2015 (key/permission)."""

    title = "Not authorised"


class TimestampError(BtxError):
    """-1021: the request's timestamp was outside the receive window (clock skew)."""

    title = "Clock out of sync with the exchange"


class BadRequest(BtxError):
    """The exchange refused the request as wrong (HTTP 4xx); nothing was executed."""

    title = "Request refused"


class FilterFailure(BadRequest):
    """-1013: the order broke a symbol filter; ``filter`` names it (e.g. ``LOT_SIZE``)."""

    title = "Order outside the symbol's limits"

    _EXPLAIN = {
        "PRICE_FILTER": "the price is off the tick size or outside the allowed range",
        "LOT_SIZE": "the quantity is off the step size or outside the allowed range",
        "MARKET_LOT_SIZE": "the market-order quantity is outside the allowed range",
        "NOTIONAL": "the order value is below the minimum or above the maximum",
        "MIN_NOTIONAL": "the order value is below the minimum",
        "MAX_NUM_ORDERS": "too many open orders on this symbol",
    }

    def __init__(self, msg: str, *, http_status: int | None = None, code: int | None = None) -> None:
        super().__init__(msg, http_status=http_status, code=code)
        match = re.search(r"([A-Z_]{4,})", msg.split(":", 1)[-1])
        self.filter: str | None = match.group(1) if match else None

    def __str__(self) -> str:
        base = super().__str__()
        why = self._EXPLAIN.get(self.filter or "")
        return f"{base} — {why}" if why else base


class InsufficientBalance(BadRequest):
    """-2010 "Account has insufficient balance for requested action."."""

    title = "Insufficient balance"


class OrderRejected(BadRequest):
    """-2010 for other reasons: would take (LIMIT_MAKER), duplicate client id, market closed."""

    title = "Order rejected"


class UnknownOrder(BadRequest):
    """-2011 (cancel: unknown or already closed) / -2013 (query: does not exist)."""

    title = "Order not found"


class WithdrawalRejected(BadRequest):
    """-4xxx: the withdrawal was refused; the message names the cause."""

    title = "Withdrawal refused"


class OutcomeUnknown(BtxError):
    """The exchange answered but the answer does not say whether the request took effect.

    5xx, -1006, -1007 or an unparsable success body. For an order this means *it may have
    been placed*: resolve by querying its client id, never by resending.
    """

    title = "Outcome unknown"


class ServerError(OutcomeUnknown):
    """HTTP 5xx: the exchange failed internally; execution status unknown."""

    title = "Exchange server error"


class BadResponse(OutcomeUnknown):
    """A body we could not understand (HTML, truncated JSON, wrong shape)."""

    title = "Unreadable answer from the exchange"


_UNKNOWN_CODES = {-1006, -1007}
_AUTH_CODES = {-1022, -2014, -2015}
_UNKNOWN_ORDER_CODES = {-2011, -2013}


def parse_retry_after(headers: Mapping[str, str], default: float) -> float:
    """Seconds from a ``Retry-After`` header (integer or decimal seconds); ``default`` if absent/garbled."""
    raw = headers.get("retry-after")
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        return default
    if value != value or value < 0 or value > 86400 * 7:  # NaN, negative, absurd
        return default
    return value


def _describe_body(body: bytes) -> str:
    """A short, safe description of a body we could not parse (never its full text)."""
    text = body[:200].decode("utf-8", errors="replace").strip()
    if not text:
        return "empty body"
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "an HTML page instead of JSON"
    return "a body that is not the expected JSON"


def _parse_error_body(body: bytes) -> tuple[int | None, str | None]:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    code = data.get("code")
    msg = data.get("msg")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    msg = msg if isinstance(msg, str) else None
    return code, msg


TLS_REASONS = ("untrusted certificate", "wrong host name", "certificate expired")
"""What a failed certificate check is reported as (status bar, log, start-up)."""


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> BtxError:
    """Turn a non-2xx response into the matching typed error.

    ``headers`` must be case-insensitive (an ``httpx.Headers``) or have lower-case keys.
    Garbage bodies (HTML from a proxy, empty, truncated) still yield a typed error chosen by
    the HTTP status.
    """
    code, msg = _parse_error_body(body)
    if msg is None:
        msg = f"HTTP {status} with {_describe_body(body)}"
    kw: dict[str, Any] = {"http_status": status, "code": code}

    if status == 407:  # only a proxy says this: the request never reached the exchange
        return ProxyFailure("The proxy asks for authentication (HTTP 407): put user:password in the "
                            "proxy URL", short="proxy needs authentication (407)", http_status=407)
    if status == 418:
        return Banned(msg, retry_after=parse_retry_after(headers, 120.0), **kw)
    if status == 429:
        return RateLimited(msg, retry_after=parse_retry_after(headers, 1.0), **kw)
    if code in _UNKNOWN_CODES:
        return OutcomeUnknown(msg, **kw)
    if status >= 500:
        return ServerError(msg, **kw)
    if code == -1021:
        return TimestampError(msg, **kw)
    if code in _AUTH_CODES or status == 401:
        return AuthError(msg, **kw)
    if code == -1013:
        return FilterFailure(msg, **kw)
    if code == -2010:
        if "insufficient balance" in msg.lower():
            return InsufficientBalance(msg, **kw)
        return OrderRejected(msg, **kw)
    if code in _UNKNOWN_ORDER_CODES:
        return UnknownOrder(msg, **kw)
    if code is not None and -4999 <= code <= -4000:
        return WithdrawalRejected(msg, **kw)
    if 400 <= status < 500:
        return BadRequest(msg, **kw)
    # 1xx/3xx: nothing sensible was returned; treat like garbage.
    return BadResponse(msg, **kw)
