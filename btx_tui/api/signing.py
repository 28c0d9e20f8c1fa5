"""Request encoding and signing with HMAC-SHA256, Ed25519 or RSA keys (contract section 2).

The exchange verifies the signature against the raw bytes it receives, so we build the query
string ourselves, sign exactly that string, and send exactly that string. Parameters are an
ordered list of pairs so the wire order is the order we chose.

A :class:`Signer` turns that payload into the ``signature`` value: :class:`HmacSigner` (hex
HMAC-SHA256 with the API secret), :class:`Ed25519Signer` and :class:`RsaSigner` (base64 of the
Ed25519 / RSASSA-PKCS1-v1_5-SHA256 signature, percent-encoded, from a PEM private key loaded by
:func:`load_private_key`). The ``cryptography`` library does all of it; no key material is
ever in a ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import stat
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from pydantic import SecretStr

__all__ = [
    "DECIMAL_RE",
    "Ed25519Signer",
    "HmacSigner",
    "Params",
    "PassphraseNeeded",
    "PrivateKeyError",
    "RsaSigner",
    "Signer",
    "is_encrypted_pem",
    "load_private_key",
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


class Signer(Protocol):
    """Makes the ``signature`` value (already safe to put in a query string) for a payload."""

    #: ``HMAC``, ``ED25519`` or ``RSA``.
    key_type: str

    def sign(self, payload: str) -> str: ...


class HmacSigner:
    """Hex HMAC-SHA256 keyed with the API secret (the classic key type)."""

    key_type = "HMAC"
    __slots__ = ("_secret",)

    def __init__(self, secret: SecretStr) -> None:
        if not isinstance(secret, SecretStr):
            raise TypeError("api_secret must be a pydantic SecretStr")
        self._secret = secret

    def __repr__(self) -> str:
        return "HmacSigner(secret=**********)"

    def sign(self, payload: str) -> str:
        return sign_payload(self._secret, payload)


class Ed25519Signer:
    """base64 of the Ed25519 signature of the payload, percent-encoded (``+``, ``/``, ``=``)."""

    key_type = "ED25519"
    __slots__ = ("_key",)

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "Ed25519Signer(private key hidden)"

    def sign(self, payload: str) -> str:
        return quote(base64.b64encode(self._key.sign(payload.encode("utf-8"))).decode("ascii"), safe="")


class RsaSigner:
    """base64 of the RSASSA-PKCS1-v1_5 / SHA-256 signature of the payload, percent-encoded."""

    key_type = "RSA"
    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "RsaSigner(private key hidden)"

    def sign(self, payload: str) -> str:
        raw = self._key.sign(payload.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return quote(base64.b64encode(raw).decode("ascii"), safe="")


class PrivateKeyError(ValueError):
    """The private key file is missing, too open, not PEM, of an unusable type, or the
    passphrase is wrong. The message names the file, never its content."""


class PassphraseNeeded(PrivateKeyError):
    """The PEM is encrypted and no passphrase was given."""


def _read_private_pem(path: Path) -> bytes:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if os.name == "posix" and mode & 0o077:
            raise PrivateKeyError(
                f"Permissions {mode:04o} for '{path}' are too open.\n"
                "It is required that a private key file is NOT accessible by others.\n"
                f"This key is refused. Fix it with:  chmod 600 '{path}'")
        return path.read_bytes()
    except OSError as exc:
        raise PrivateKeyError(f"cannot read the private key file {path} ({exc.strerror})") from None


def is_encrypted_pem(path: str | os.PathLike[str]) -> bool:
    """Is this PEM private key protected by a passphrase (PKCS#8 or legacy OpenSSL)?"""
    data = _read_private_pem(Path(path))
    return b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data


def load_private_key(path: str | os.PathLike[str], passphrase: SecretStr | None = None) -> Signer:
    """The :class:`Signer` for an Ed25519 or RSA private key in a PEM file.

    The file is refused when group- or world-accessible (as ssh refuses a private key).

    Raises:
        PassphraseNeeded: the key is encrypted and ``passphrase`` is None.
        PrivateKeyError: anything else wrong with the file or the passphrase.
    """
    where = Path(path)
    data = _read_private_pem(where)
    password = passphrase.get_secret_value().encode("utf-8") if passphrase is not None else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        if password is None:
            raise PassphraseNeeded(f"the private key {where} is encrypted: a passphrase is needed") from None
        raise PrivateKeyError(f"the private key {where} is not encrypted; drop the passphrase") from None
    except ValueError:
        if password is not None:
            raise PrivateKeyError(f"cannot decrypt the private key {where}: wrong passphrase?") from None
        raise PrivateKeyError(f"{where} is not a PEM private key") from None
    except Exception:  # noqa: BLE001 - cryptography raises several types for unsupported keys
        raise PrivateKeyError(f"{where}: unsupported private key") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Signer(key)
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key)
    raise PrivateKeyError(f"{where}: only Ed25519 and RSA private keys can sign requests")
