"""Raw query/body parsing and format validation of request parameters.

The paper exchange parses the raw query string and the raw form body itself instead of
letting a framework do it, for two reasons:

* the signature is checked over the bytes *as received* (contract section 2), so the raw
  payload minus the ``signature`` pair must be kept next to the parsed values;
* the contract's error codes depend on details a framework hides: a duplicate parameter
  within one source is -1101, while a parameter present in both the query and the body is
  legal and the query wins.

Validation order (contract section 6): mandatory (-1102) -> formats (-1100/-1111) ->
enums (-1115/-1116/-1117) -> symbol (-1121, by the Exchange) -> filters -> balance.
Route handlers call :meth:`Params.require` for every mandatory parameter first, then the
typed getters, then the enum getters, which gives that order.

Empty values: an optional parameter sent empty (``price=``) counts as not sent; a
mandatory one sent empty is -1102, as on Binance.  Unknown parameters are ignored (the
de-facto standard ignores them too, and third-party clients send extras).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Callable
from urllib.parse import unquote_plus

from btx_tui.exchange.errors import ApiError

# Compiled once at import: the per-request path never compiles a regex.
DECIMAL_PATTERN = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)
INT_PATTERN = r"^[0-9]{1,20}$"
_INT_RE = re.compile(INT_PATTERN)
CLIENT_ID_PATTERN = r"^[a-zA-Z0-9-_]{1,36}$"
_CLIENT_ID_RE = re.compile(CLIENT_ID_PATTERN)
SYMBOL_PATTERN = r"^[A-Z0-9-_.]{1,20}$"
_SYMBOL_RE = re.compile(SYMBOL_PATTERN)
SYMBOLS_PATTERN = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'
_SYMBOLS_RE = re.compile(SYMBOLS_PATTERN)
# Free-text fields (withdrawal address, tag, client id): printable ASCII, no spaces.
TEXT_PATTERN = r"^[\x21-\x7e]{1,128}$"
_TEXT_RE = re.compile(TEXT_PATTERN)
COIN_PATTERN = r"^[A-Z0-9]{1,20}$"
_COIN_RE = re.compile(COIN_PATTERN)

_INT64_MAX = 2**63 - 1

SIDES = frozenset({"BUY", "SELL"})
ORDER_TYPES = frozenset({"LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT",
                         "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
OCO_ABOVE_TYPES = frozenset({"STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT_MAKER", "TAKE_PROFIT",
                             "TAKE_PROFIT_LIMIT"})
OCO_BELOW_TYPES = OCO_ABOVE_TYPES
"""The standard lists ``belowType`` without LIMIT_MAKER but documents ``belowPrice`` for a
LIMIT_MAKER below (a BUY OCO's limit leg is below the market): both sides take it."""
CANCEL_REPLACE_MODES = frozenset({"STOP_ON_FAILURE", "ALLOW_FAILURE"})
TIME_IN_FORCE = frozenset({"GTC", "IOC", "FOK"})
RESP_TYPES = frozenset({"ACK", "RESULT", "FULL"})
INTERVALS = frozenset(
    {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"}
)

SIGNATURE = "signature"


def illegal(name: str, legal: str) -> ApiError:
    """The -1100 error for a parameter whose value does not match its legal range."""
    return ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def missing(name: str) -> ApiError:
    """The -1102 error for a mandatory parameter that was not sent or sent empty."""
    return ApiError(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def missing_either(first: str, second: str) -> ApiError:
    """The -1102 error for "one of two" mandatory parameters."""
    return ApiError(400, -1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def not_required(name: str) -> ApiError:
    """The -1106 error for a parameter that must not accompany the others."""
    return ApiError(400, -1106, f"Parameter '{name}' sent when not required.")


def duplicate() -> ApiError:
    return ApiError(400, -1101, "Duplicate values for a parameter detected.")


def _decode(text: str) -> str:
    # Fast path: most parameters need no unescaping at all.
    if "%" in text or "+" in text:
        return unquote_plus(text, encoding="utf-8", errors="replace")
    return text


def _parse_source(raw: bytes, into: dict[str, str]) -> tuple[bytes, str | None]:
    """Parse one urlencoded source into ``into`` (duplicates -> -1101).

    Returns the raw bytes with the ``signature`` pair removed (the signed payload of this
    source, byte-for-byte otherwise) and the signature value if this source carried one.
    """
    if not raw:
        return b"", None
    text = raw.decode("latin-1")
    segments = text.split("&")
    signature: str | None = None
    sig_index = -1
    for index, segment in enumerate(segments):
        if not segment:
            continue
        name, _, value = segment.partition("=")
        name = _decode(name)
        if not name:  # "=x" carries no parameter: ignored like any unknown one
            continue
        if name in into:
            raise duplicate()
        value = _decode(value)
        into[name] = value
        if name == SIGNATURE:
            signature = value
            sig_index = index
    if sig_index < 0:
        return raw, None
    del segments[sig_index]
    return "&".join(segments).encode("latin-1"), signature


class Params:
    """Parsed request parameters plus the raw signed payload.

    ``values`` merges query and body (query wins); ``payload`` is raw query + raw body
    (no separator), each without its ``signature`` pair, exactly the bytes a client signs.
    """

    __slots__ = ("values", "payload", "signature")

    def __init__(self, values: dict[str, str], payload: bytes, signature: str | None) -> None:
        self.values = values
        self.payload = payload
        self.signature = signature

    # ---- presence -------------------------------------------------------------------
    def get(self, name: str) -> str | None:
        """The raw value, or None when absent or sent empty."""
        value = self.values.get(name)
        return value if value else None

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def require(self, *names: str) -> None:
        """-1102 for the first mandatory parameter that is absent or empty."""
        values = self.values
        for name in names:
            if not values.get(name):
                raise missing(name)

    def require_one_of(self, first: str, second: str) -> None:
        if not self.values.get(first) and not self.values.get(second):
            raise missing_either(first, second)

    def forbid(self, *names: str) -> None:
        """-1106 for the first parameter that must not be sent in this combination."""
        values = self.values
        for name in names:
            if values.get(name):
                raise not_required(name)

    # ---- typed getters (formats: -1100) ----------------------------------------------
    def decimal(self, name: str) -> Decimal | None:
        value = self.get(name)
        if value is None:
            return None
        if not _DECIMAL_RE.match(value):
            raise illegal(name, DECIMAL_PATTERN)
        return Decimal(value)

    def integer(
        self, name: str, *, lo: int = 0, hi: int = _INT64_MAX, default: int | None = None
    ) -> int | None:
        """A non-negative integer within [lo, hi]; out of range is -1100 too."""
        value = self.get(name)
        if value is None:
            return default
        if not _INT_RE.match(value):
            raise illegal(name, INT_PATTERN)
        number = int(value)
        if number < lo or number > hi:
            raise illegal(name, f"{lo}-{hi}")
        return number

    def limit(self, default: int, hi: int, name: str = "limit") -> int:
        result = self.integer(name, lo=1, hi=hi, default=default)
        assert result is not None
        return result

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise illegal(name, "true, false")

    def symbol(self, name: str = "symbol") -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if not _SYMBOL_RE.match(value):
            raise illegal(name, SYMBOL_PATTERN)
        return value

    def symbol_list(self) -> list[str] | None:
        """``symbol`` or ``symbols`` (a JSON array), mutually exclusive; None = all."""
        single = self.symbol("symbol")
        raw = self.get("symbols")
        if single is not None:
            if raw is not None:
                raise not_required("symbols")
            return [single]
        if raw is None:
            return None
        if not _SYMBOLS_RE.match(raw):
            raise illegal("symbols", SYMBOLS_PATTERN)
        symbols = json.loads(raw)  # safe: the regex admits only an array of plain strings
        if not symbols:
            raise illegal("symbols", SYMBOLS_PATTERN)
        if len(set(symbols)) != len(symbols):
            raise duplicate()
        return symbols

    def client_id(self, name: str) -> str | None:
        """A client order id; sent empty is -1118 (the contract's "was empty")."""
        value = self.values.get(name)
        if value is None:
            return None
        if value == "":
            raise ApiError(400, -1118, "New client order ID was empty.")
        if not _CLIENT_ID_RE.match(value):
            raise illegal(name, CLIENT_ID_PATTERN)
        return value

    def orig_client_id(self, name: str = "origClientOrderId") -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if not _CLIENT_ID_RE.match(value):
            raise illegal(name, CLIENT_ID_PATTERN)
        return value

    def text(self, name: str) -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if not _TEXT_RE.match(value):
            raise illegal(name, TEXT_PATTERN)
        return value

    def coin(self, name: str = "coin") -> str | None:
        value = self.get(name)
        if value is None:
            return None
        if not _COIN_RE.match(value):
            raise illegal(name, COIN_PATTERN)
        return value

    # ---- enums (-1115/-1116/-1117, others -1100) ---------------------------------------
    def enum(
        self, name: str, allowed: frozenset[str], error: Callable[[], ApiError] | None = None
    ) -> str | None:
        """A value from ``allowed``; otherwise ``error()`` (a fresh exception) or -1100."""
        value = self.get(name)
        if value is None:
            return None
        if value not in allowed:
            if error is not None:
                raise error()
            raise illegal(name, ", ".join(sorted(allowed)))
        return value


def parse(query: bytes, body: bytes) -> Params:
    """Parse the raw query and body; -1101 on a duplicate within one source.

    A parameter in both sources is legal: the query's value wins.
    """
    query_values: dict[str, str] = {}
    query_payload, query_sig = _parse_source(query, query_values)
    if body:
        body_values: dict[str, str] = {}
        body_payload, body_sig = _parse_source(body, body_values)
        body_values.update(query_values)
        values = body_values
        payload = query_payload + body_payload
        signature = query_sig if query_sig is not None else body_sig
    else:
        values = query_values
        payload = query_payload
        signature = query_sig
    return Params(values, payload, signature)


def side_error() -> ApiError:
    return ApiError(400, -1117, "Invalid side.")


def type_error() -> ApiError:
    return ApiError(400, -1116, "Invalid orderType.")


def tif_error() -> ApiError:
    return ApiError(400, -1115, "Invalid timeInForce.")
