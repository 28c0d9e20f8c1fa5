"""API-key, signature and timestamp checks for signed endpoints (contract section 2).

Order of checks, each failing with the contract's code:

1. ``X-MBX-APIKEY`` missing or malformed -> 401 -2014;
2. key unknown, or lacking the endpoint's permission -> 401 -2015;
3. ``signature`` / ``timestamp`` missing -> 400 -1102; ``timestamp`` not an integer -> -1100;
4. ``recvWindow`` not a number in 0..60000 with at most three decimals (the standard allows
   microsecond precision, e.g. ``6000.346``) -> 400 -1100 (the contract names no dedicated
   code; Binance's -1131 is outside the contract table, so the -1100 family is used and the
   message states the legal range);
5. signature does not verify -> 400 -1022 (HMAC, Ed25519 or RSA by the key's type:
   :func:`btx_tui.exchange.signatures.verify_signature`, shared with the WebSocket API);
6. timestamp outside the window -> 400 -1021.

The signature is checked before the timestamp so that an unsigned caller learns nothing
about the server clock from the error.  Secrets and signatures are never logged.
"""

from __future__ import annotations

import hmac
import re
from typing import Protocol

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import Params, illegal, missing
from btx_tui.exchange.signatures import KeyMaterial, hmac_sign, verify_signature

__all__ = ["authenticate", "check_timing", "recv_window_us", "sign", "signature_valid", "verify_signature"]

# Keys are printable tokens; anything with spaces, control characters or absurd length is
# "format invalid" (-2014) rather than "unknown" (-2015).
API_KEY_PATTERN = re.compile(rb"^[A-Za-z0-9_\-]{8,128}$")
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,20}$")
RECV_WINDOW_PATTERN = r"^[0-9]{1,5}(\.[0-9]{1,3})?$"
_RECV_WINDOW_RE = re.compile(RECV_WINDOW_PATTERN)

DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
FUTURE_TOLERANCE_MS = 1000
#: A ``timestamp`` this large is in microseconds (10^15 µs is 2001; 10^15 ms is year 33658).
MICROSECOND_TIMESTAMPS_FROM = 10**15

KEY_FORMAT_INVALID = (401, -2014, "API-key format invalid.")
KEY_REJECTED = (401, -2015, "Invalid API-key, IP, or permissions for action.")


class _KeyLike(KeyMaterial, Protocol):
    account_id: int
    permissions: frozenset[str]


class _KeyStore(Protocol):
    def key(self, api_key: str) -> _KeyLike | None: ...


def sign(secret: str, payload: bytes | str) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` — what a client sends as ``signature``."""
    return hmac_sign(secret, payload)


def signature_valid(secret: str, payload: bytes, signature: str) -> bool:
    """Constant-time, case-insensitive comparison of the hex signature."""
    if not signature.isascii():
        return False
    expected = sign(secret, payload).encode("ascii")
    return hmac.compare_digest(expected, signature.lower().encode("ascii"))


def check_timing(params: Params, now_ms: int) -> None:
    """Validate ``timestamp``/``recvWindow`` formats and the window itself (-1021)."""
    timestamp_text = params.get("timestamp")
    if timestamp_text is None:
        raise missing("timestamp")
    if not _TIMESTAMP_RE.match(timestamp_text):
        raise illegal("timestamp", "^[0-9]{1,20}$")
    timestamp = int(timestamp_text)
    # Milliseconds or microseconds, whatever X-MBX-TIME-UNIT says (as the standard allows).
    timestamp_us = timestamp if timestamp >= MICROSECOND_TIMESTAMPS_FROM else timestamp * 1000
    now_us = now_ms * 1000
    window_us = recv_window_us(params)
    if timestamp_us >= now_us + FUTURE_TOLERANCE_MS * 1000:
        raise ApiError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_us - timestamp_us > window_us:
        raise ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def recv_window_us(params: Params) -> int:
    """``recvWindow`` in microseconds: milliseconds with up to three decimals, 0..60000 (-1100)."""
    text = params.get("recvWindow")
    if text is None:
        return DEFAULT_RECV_WINDOW * 1000
    if not _RECV_WINDOW_RE.match(text):
        raise illegal("recvWindow", RECV_WINDOW_PATTERN)
    whole, _, frac = text.partition(".")
    micros = int(whole) * 1000 + int((frac + "000")[:3])
    if micros > MAX_RECV_WINDOW * 1000:
        raise illegal("recvWindow", f"0-{MAX_RECV_WINDOW}")
    return micros


def authenticate_key(keys: _KeyStore, api_key_header: bytes | None, permission: str) -> _KeyLike:
    """Checks 1-2 alone: the key exists and has ``permission`` (USER_STREAM endpoints)."""
    if api_key_header is None or not API_KEY_PATTERN.match(api_key_header):
        raise ApiError(*KEY_FORMAT_INVALID)
    key = keys.key(api_key_header.decode("ascii"))
    if key is None or permission not in key.permissions:
        raise ApiError(*KEY_REJECTED)
    return key


def authenticate(
    keys: _KeyStore, api_key_header: bytes | None, params: Params, permission: str, now_ms: int
) -> _KeyLike:
    """Run every check of a signed endpoint; return the caller's key or raise ApiError."""
    key = authenticate_key(keys, api_key_header, permission)
    signature = params.signature
    if not signature:
        raise missing("signature")
    # Formats of timestamp/recvWindow are checked before the (more expensive) HMAC.
    timestamp_text = params.get("timestamp")
    if timestamp_text is None:
        raise missing("timestamp")
    if not _TIMESTAMP_RE.match(timestamp_text):
        raise illegal("timestamp", "^[0-9]{1,20}$")
    recv_window_us(params)
    if not verify_signature(key, params.payload, signature):
        raise ApiError(400, -1022, "Signature for this request is not valid.")
    check_timing(params, now_ms)
    return key
