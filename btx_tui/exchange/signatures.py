"""Signature checks per API-key type (HMAC, Ed25519, RSA), independent of the exchange state.

The standard (contract section 2) signs one payload three ways:

* ``HMAC``: lower- or upper-case hex HMAC-SHA256 keyed with the key's secret;
* ``ED25519``: base64 of the Ed25519 signature, verified with the key's public key;
* ``RSA``: base64 of the RSASSA-PKCS1-v1_5 / SHA-256 signature, likewise.

Both surfaces call :func:`verify_signature`: the REST pipeline (``http/auth.py``) and the
WebSocket API (signed requests and ``session.logon``). It needs only an object with
``key_type``, ``secret`` and ``public_key`` (PEM text), so it imports nothing of the state.
All cryptography is the ``cryptography`` library's; comparisons are constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

__all__ = ["HMAC", "ED25519", "RSA", "KEY_TYPES", "VERIFIERS", "KeyMaterial", "PublicKeyError", "hmac_sign",
           "load_public_key", "verify_signature"]

HMAC, ED25519, RSA = "HMAC", "ED25519", "RSA"
KEY_TYPES = (HMAC, ED25519, RSA)

#: RSA keys shorter than this are refused at registration (the standard asks for 2048 bits).
MIN_RSA_BITS = 2048


class KeyMaterial(Protocol):
    """What a signature check needs of an API key."""

    key_type: str
    secret: str
    public_key: str


class PublicKeyError(ValueError):
    """A public key file that is not a usable key of the announced type."""


def hmac_sign(secret: str, payload: bytes | str) -> str:
    """Lower-case hex HMAC-SHA256 of ``payload`` — what an HMAC client sends as ``signature``."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def load_public_key(pem: bytes | str, key_type: str) -> str:
    """Validate a PEM public key of ``key_type`` (ED25519 or RSA); return it as PEM text.

    Raises:
        PublicKeyError: not PEM, not a public key, or not of the announced type/size.
    """
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise PublicKeyError(f"not a PEM public key ({exc})") from None
    if key_type == ED25519 and not isinstance(key, ed25519.Ed25519PublicKey):
        raise PublicKeyError("not an Ed25519 public key")
    if key_type == RSA:
        if not isinstance(key, rsa.RSAPublicKey):
            raise PublicKeyError("not an RSA public key")
        if key.key_size < MIN_RSA_BITS:
            raise PublicKeyError(f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} needed")
    if key_type not in (ED25519, RSA):
        raise PublicKeyError(f"unknown key type {key_type!r}")
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


@lru_cache(maxsize=256)
def _public_key(pem: str) -> ed25519.Ed25519PublicKey | rsa.RSAPublicKey | None:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    return key if isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey) else None


def _base64(signature: str) -> bytes | None:
    # A '+' sent unescaped arrives as a space after form decoding: take it back.
    text = signature.replace(" ", "+")
    if not text.isascii():
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _verify_hmac(key: KeyMaterial, payload: bytes, signature: str) -> bool:
    if not signature.isascii():
        return False
    expected = hmac_sign(key.secret, payload).encode("ascii")
    return hmac.compare_digest(expected, signature.lower().encode("ascii"))


def _verify_ed25519(key: KeyMaterial, payload: bytes, signature: str) -> bool:
    raw = _base64(signature)
    public = _public_key(key.public_key) if key.public_key else None
    if raw is None or not isinstance(public, ed25519.Ed25519PublicKey):
        return False
    try:
        public.verify(raw, payload)
    except InvalidSignature:
        return False
    return True


def _verify_rsa(key: KeyMaterial, payload: bytes, signature: str) -> bool:
    raw = _base64(signature)
    public = _public_key(key.public_key) if key.public_key else None
    if raw is None or not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


Verifier = Callable[[KeyMaterial, bytes, str], bool]

VERIFIERS: dict[str, Verifier] = {HMAC: _verify_hmac, ED25519: _verify_ed25519, RSA: _verify_rsa}
"""One signature check per key type: the plug-in point for another key type."""


def verify_signature(key: KeyMaterial, payload: bytes, signature: str) -> bool:
    """Does ``signature`` (as received, percent-decoded) sign ``payload`` with ``key``?

    Dispatches on ``key.key_type`` (:data:`VERIFIERS`). Never raises for a bad signature: any
    malformed input, or an unknown key type, is simply ``False``.
    """
    verifier = VERIFIERS.get(key.key_type)
    return verifier is not None and verifier(key, payload, signature)
