"""Registering Ed25519/RSA public keys on a paper exchange's data directory, and the demo pair.

``btx-tui exchange keys add`` must work whether or not an exchange runs on the directory:

* none runs (the lock is free): the exchange is opened in this process (creating the demo
  account on a fresh directory) and the key is added through :class:`Accounts`;
* one runs (the lock is held): the row is written straight into its SQLite database (WAL
  mode lets a second process write); the running exchange finds the key on its first
  request with it (``Accounts.key`` asks the database on a miss).

The demo Ed25519 pair: the private key is written beside ``demo-keys.json`` (mode 0600)
and only its public half is stored in the database, as a real exchange would.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from btx_tui.exchange.process import single_instance
from btx_tui.exchange.signatures import ED25519, load_public_key
from btx_tui.exchange.state.accounts import PERMISSIONS, Accounts
from btx_tui.exchange.state.store import DB_NAME, Store

__all__ = ["DEMO_ED25519_FILE", "DEMO_ED25519_NAME", "add_public_key", "ensure_demo_ed25519",
           "parse_permissions"]

DEMO_ED25519_FILE = "demo-ed25519.pem"
DEMO_ED25519_NAME = "ed25519"

_ALNUM = string.ascii_letters + string.digits


def parse_permissions(text: str) -> frozenset[str]:
    """``READ,TRADE`` -> a permission set (READ always included); ValueError names a bad one."""
    chosen = {p.strip().upper() for p in text.split(",") if p.strip()}
    unknown = chosen - set(PERMISSIONS)
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(PERMISSIONS)}")
    return frozenset(chosen | {"READ"})


def add_public_key(data_dir: Path, key_type: str, pem: bytes, permissions: frozenset[str],
                   account_id: int | None = None, name: str = "") -> str:
    """Register a public key for ``account_id`` (default: the demo account); return the API key id.

    Raises:
        PublicKeyError: the PEM is not a usable key of ``key_type``.
        ValueError: the account does not exist.
    """
    public_pem = load_public_key(pem, key_type)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = single_instance.acquire_lock(data_dir)
    except single_instance.DataDirBusy:
        return _add_beside_running_exchange(data_dir, key_type, public_pem, permissions, account_id, name)
    try:
        from btx_tui.exchange.state.exchange import Exchange

        exchange = Exchange.open(data_dir)
        try:
            acct = account_id if account_id is not None else exchange.accounts.demo_account_id
            return exchange.accounts.register_public_key(acct, key_type, public_pem, permissions, name).api_key
        finally:
            exchange.close()
    finally:
        lock.close()


def _add_beside_running_exchange(data_dir: Path, key_type: str, public_pem: str,
                                 permissions: frozenset[str], account_id: int | None, name: str) -> str:
    if not (data_dir / DB_NAME).exists():
        raise ValueError(f"no paper exchange database in {data_dir}")
    store = Store.open(data_dir)
    try:
        store.begin()
        try:
            if account_id is None:
                account_id = store.scalar("SELECT id FROM accounts WHERE label = 'demo'")
            elif store.scalar("SELECT id FROM accounts WHERE id = ?", (account_id,)) is None:
                account_id = None
            if account_id is None:
                raise ValueError("unknown account")
            api_key = "".join(secrets.choice(_ALNUM) for _ in range(64))
            perms = ",".join(p for p in PERMISSIONS if p in permissions | {"READ"})
            store.put_key(api_key, "", account_id, perms, _now_ms(), name, key_type, public_pem)
            store.commit()
        except BaseException:
            store.rollback()
            raise
        return api_key
    finally:
        store.close()


def _now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def ensure_demo_ed25519(data_dir: Path, accounts: Accounts) -> dict:
    """The demo account's Ed25519 key: reuse the pair on disk if the database knows it, else
    make a new one (private key ``demo-ed25519.pem``, 0600). Returns its ``demo-keys.json`` entry
    extras (``private_key_file``) keyed by nothing else: callers merge it into the entry."""
    path = data_dir / DEMO_ED25519_FILE
    known = {e["public_key"]: e for e in accounts.demo_keys() if e.get("key_type") == ED25519
             and e["name"] == DEMO_ED25519_NAME}
    if path.exists():
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), None)
        except (ValueError, TypeError):
            private = None
        if isinstance(private, ed25519.Ed25519PrivateKey):
            public_pem = _public_pem(private)
            if public_pem in known:
                os.chmod(path, 0o600)
                return {"api_key": known[public_pem]["api_key"], "private_key_file": str(path.resolve())}
    private = ed25519.Ed25519PrivateKey.generate()
    key = accounts.register_public_key(accounts.demo_account_id, ED25519, _public_pem(private),
                                       frozenset(PERMISSIONS), DEMO_ED25519_NAME)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return {"api_key": key.api_key, "private_key_file": str(path.resolve())}


def _public_pem(private: ed25519.Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
