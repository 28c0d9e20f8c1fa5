"""Request encoding and HMAC-SHA256 signing (contract section 2).

The exchange verifies the signature against the raw bytes it receives, so we build the query
string ourselves, sign exactly that string, and send exactly that string. Parameters are an
ordered list of pairs so the wire order is the order we chose.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

__all__ = [
    "DECIMAL_RE",
    "Params",
    "decimal_to_wire",
    "encode_params",
    "encode_symbols",
    "params",
    "sign",
    "sign_payload",
]

#: Parameters as ordered (name, value) pairs; values already rendered as text.
Params = list[tuple[str, str]]

#: The contract's accepted decimal input format.
DECIMAL_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")

# Characters left unescaped in values. Square brackets, quotes and commas (the JSON array of
# `symbols`) are percent-encoded, as the standard clients do.
_SAFE = "-_.~"


def decimal_to_wire(value: Decimal) -> str:
    """Render a non-negative Decimal in the contract's format: no sign, no exponent.

    Raises ``ValueError`` for negative, non-finite or over-precise values instead of letting the
    exchange reject them with a cryptic -1100.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"expected Decimal, got {type(value).__name__}")
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a valid amount: {value}")
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    if not DECIMAL_RE.match(text):
        raise ValueError(f"amount {text} has too many digits for the exchange")
    return text


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_to_wire(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        raise TypeError("floats are not accepted for request parameters; use Decimal")
    return str(value)


def params(*pairs: tuple[str, Any]) -> Params:
    """Ordered request parameters rendered as text, dropping ``None`` values.

    Decimals go through :func:`decimal_to_wire`; floats are refused (money is Decimal).
    """
    return [(k, _text(v)) for k, v in pairs if v is not None]


def encode_symbols(symbols: Iterable[str]) -> str:
    """The compact JSON array the contract wants for ``symbols``: ``["BTCUSDT","BTTUSDT"]``."""
    return json.dumps(list(symbols), separators=(",", ":"))


#: Text that ``quote(text, safe=_SAFE)`` returns unchanged (RFC 3986 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _quote(text: str) -> str:
    # Most names and values (symbols, ids, plain decimals) need no escaping: skip urllib's
    # quote (~1 µs each) for them; the result is identical.
    return text if _UNRESERVED(text) else quote(text, safe=_SAFE)


def encode_params(params: Sequence[tuple[str, str]]) -> str:
    """Percent-encode ordered pairs into a query string (the bytes that get signed and sent)."""
    return "&".join([f"{_quote(k)}={_quote(v)}" for k, v in params])


def sign_payload(secret: SecretStr, payload: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` keyed with the secret."""
    key = secret.get_secret_value().encode("utf-8")
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(secret: SecretStr, query: str, body: str = "") -> str:
    """Signature over query string + body, concatenated with no separator (contract section 2)."""
    return sign_payload(secret, query + body)
