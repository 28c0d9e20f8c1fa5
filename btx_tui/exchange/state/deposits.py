"""Deposits: an address per account, coin and network, and money arriving at it.

A real exchange learns of a deposit from the chain; the paper exchange is told by its admin
endpoint (``POST /admin/deposit``) or the CLI (``btx-tui exchange deposit``). A credited deposit
enters the ledger as a deposit (so the money-conservation invariant still holds) and is listed
by ``GET /sapi/v1/capital/deposit/hisrec`` with status 1 (success).

Addresses look like the network's (they pass the same regular expressions as withdrawal
addresses) but are random: nothing on any chain belongs to them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from ..errors import ApiError
from ..numbers import fmt
from .accounts import Accounts
from .counters import Counters
from .store import Store
from .transaction import Transaction
from .withdrawal_networks import COINS

__all__ = ["ADMIN_TOKEN_FILE", "DEPOSIT_SUCCESS", "Deposits", "new_address"]

ADMIN_TOKEN_FILE = "admin-token"
"""Written by a running exchange (0600) beside its database: the admin endpoints' token."""

DEPOSIT_SUCCESS = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deposit_addresses (
    address TEXT PRIMARY KEY, account_id INTEGER NOT NULL, coin TEXT NOT NULL,
    network TEXT NOT NULL, tag TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deposit_addresses_acct ON deposit_addresses (account_id, coin, network);
CREATE TABLE IF NOT EXISTS deposits (
    id TEXT PRIMARY KEY, account_id INTEGER NOT NULL, coin TEXT NOT NULL, network TEXT NOT NULL,
    address TEXT NOT NULL, tag TEXT NOT NULL, amount TEXT NOT NULL, tx_id TEXT NOT NULL,
    status INTEGER NOT NULL, insert_ms INTEGER NOT NULL, complete_ms INTEGER NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deposits_acct ON deposits (account_id, insert_ms);
"""

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def new_address(network: str) -> tuple[str, str]:
    """A random ``(address, tag)`` shaped like ``network``'s addresses."""
    if network == "TRX":
        return "T" + _pick(_BASE58, 33), ""
    if network == "BTC":
        return "bc1q" + _pick(_BECH32, 38), ""
    if network == "LTC":
        return "ltc1q" + _pick(_BECH32, 38), ""
    if network == "XRP":
        return "r" + _pick(_BASE58, 33), str(secrets.randbelow(9_000_000_000) + 1_000_000_000)
    return "0x" + secrets.token_hex(20), ""  # EVM networks: ETH, BSC, MATIC


def _illegal(name: str, legal: str) -> ApiError:
    return ApiError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


class Deposits:
    """Deposit addresses and credited deposits (two tables of their own)."""

    def __init__(self, store: Store, tx: Transaction, counters: Counters, accounts: Accounts,
                 now_ms: Callable[[], int]) -> None:
        self._store = store
        self._tx = tx
        self._counters = counters
        self._accounts = accounts
        self._now_ms = now_ms
        store.db.executescript(_SCHEMA)

    def admin_token(self) -> str | None:
        """The token a running exchange wrote beside its database (None if there is none)."""
        try:
            return (Path(self._store.path).parent / ADMIN_TOKEN_FILE).read_text().strip() or None
        except OSError:
            return None

    def address(self, account_id: int, coin: str, network: str | None) -> dict:
        """``deposit/address``: the account's address for ``coin`` on ``network`` (default: the
        coin's default network), made on first request and the same ever after."""
        spec = COINS.get(coin)
        if spec is None:
            raise _illegal("coin", ", ".join(sorted(COINS)))
        names = [n.network for n in spec.networks]
        if network is None:
            network = (spec.default or spec.networks[0]).network
        elif network not in names:
            raise _illegal("network", ", ".join(names))
        row = self._store.db.execute(
            "SELECT address, tag FROM deposit_addresses WHERE account_id = ? AND coin = ? AND network = ?",
            (account_id, coin, network)).fetchone()
        if row is None:
            address, tag = new_address(network)
            with self._tx.mutation():
                self._store.db.execute("INSERT INTO deposit_addresses VALUES (?, ?, ?, ?, ?, ?)",
                                       (address, account_id, coin, network, tag, self._now_ms()))
        else:
            address, tag = row
        return {"address": address, "coin": coin, "tag": tag, "url": ""}

    def credit(self, address: str, amount: Decimal, tx_id: str | None = None) -> dict:
        """Money arrived at ``address``: credit its account; returns the history entry."""
        if amount <= 0:
            raise _illegal("amount", "greater than 0")
        row = self._store.db.execute(
            "SELECT account_id, coin, network, tag FROM deposit_addresses WHERE address = ?",
            (address,)).fetchone()
        if row is None:
            raise _illegal("address", "an address from GET /sapi/v1/capital/deposit/address")
        account_id, coin, network, tag = row
        now = self._now_ms()
        with self._tx.mutation():
            seq = self._counters.next("deposit_id")
            deposit_id = str(seq)
            tx_id = tx_id or ("0x" + secrets.token_hex(32))
            self._accounts.ledger.deposit(account_id, coin, amount)
            self._store.db.execute(
                "INSERT INTO deposits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (deposit_id, account_id, coin, network, address, tag, str(amount), tx_id,
                 DEPOSIT_SUCCESS, now, now, seq))
        return self._json((deposit_id, coin, network, address, tag, str(amount), tx_id,
                           DEPOSIT_SUCCESS, now, now))

    def history(self, account_id: int, coin: str | None, status: int | None, start: int | None,
                end: int | None, offset: int, limit: int, tx_id: str | None) -> list[dict]:
        """``deposit/hisrec``: newest first, filtered as asked."""
        where, args = ["account_id = ?"], [account_id]
        for clause, value in (("coin = ?", coin), ("status = ?", status), ("insert_ms >= ?", start),
                              ("insert_ms <= ?", end), ("tx_id = ?", tx_id)):
            if value is not None:
                where.append(clause)
                args.append(value)
        rows = self._store.db.execute(
            "SELECT id, coin, network, address, tag, amount, tx_id, status, insert_ms, complete_ms "
            f"FROM deposits WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*args, limit, offset)).fetchall()
        return [self._json(r) for r in rows]

    @staticmethod
    def _json(row: tuple) -> dict:
        deposit_id, coin, network, address, tag, amount, tx_id, status, insert_ms, complete_ms = row
        return {"id": deposit_id, "amount": fmt(Decimal(amount)), "coin": coin, "network": network,
                "status": status, "address": address, "addressTag": tag, "txId": tx_id,
                "insertTime": insert_ms, "completeTime": complete_ms, "transferType": 0,
                "confirmTimes": "1/1", "unlockConfirm": 0, "walletType": 0}
