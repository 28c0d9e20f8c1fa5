"""Accounts, their API keys and their money (the ledger): who exists and what they hold.

One part owns the three because they live and die together: an account is created with its
funding (ledger deposits) and its keys point at it.  The ledger (``ledger.py``) is the only
place money moves; other parts move it through :attr:`Accounts.ledger` inside a mutation,
and this part writes the touched balance rows when the transaction flushes.

Also renders ``/api/v3/account`` and ``apiRestrictions`` (both read only this part's state).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ..numbers import ZERO, fmt
from ..signatures import HMAC
from .counters import Counters
from .events import BalanceChanged, EventBus
from .ledger import Ledger
from .store import Store
from .symbols import ASSETS
from .transaction import Transaction

__all__ = ["Accounts", "ApiKey", "DEMO_FUNDING", "DEMO_KEYS", "DEMO_LABEL", "PERMISSIONS"]

PERMISSIONS = ("READ", "TRADE", "WITHDRAW")

DEMO_FUNDING: dict[str, Decimal] = {
    "USDT": Decimal("10000"), "BTC": Decimal("0.25"), "ETH": Decimal("3"),
    "BTT": Decimal("50000000"), "TRX": Decimal("20000"),
}
"""What the demo account is funded with on first start (recorded as deposits)."""

DEMO_KEYS: tuple[tuple[str, frozenset[str]], ...] = (
    ("full", frozenset({"READ", "TRADE", "WITHDRAW"})),
    ("trade", frozenset({"READ", "TRADE"})),
    ("read", frozenset({"READ"})),
)

DEMO_LABEL = "demo"
"""The demo account's label (how it is found again after a restart)."""

_ALNUM = string.ascii_letters + string.digits


def _token(n: int = 64) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


@dataclass(frozen=True)
class ApiKey:
    api_key: str
    secret: str
    """The HMAC secret; empty for an Ed25519/RSA key."""
    account_id: int
    permissions: frozenset[str]  # READ, TRADE, WITHDRAW
    created_ms: int
    key_type: str = HMAC
    """``HMAC``, ``ED25519`` or ``RSA`` (how ``signature`` is checked: ``signatures.py``)."""
    public_key: str = ""
    """PEM public key of an Ed25519/RSA key."""


def _key_from_row(row: tuple) -> ApiKey:
    key, secret, acct, perms, created, _name, key_type, public_key = row
    return ApiKey(key, secret, acct, frozenset(p for p in perms.split(",") if p), created,
                  key_type, public_key)


class Accounts:
    """Accounts (id -> created, updated, label), API keys and the ledger of balances."""

    def __init__(self, store: Store, tx: Transaction, counters: Counters,
                 now_ms: Callable[[], int], events: EventBus) -> None:
        self._store = store
        self._tx = tx
        self._counters = counters
        self._now_ms = now_ms
        self._events = events
        self.load()

    # ------------------------------------------------------------ persistence

    def load(self) -> None:
        st = self._store
        self._accounts: dict[int, list] = {a: [c, u, label] for a, c, u, label in st.accounts()}
        self._keys: dict[str, ApiKey] = {}
        self._key_names: dict[str, str] = {}
        for row in st.keys():
            self._keys[row[0]] = _key_from_row(row)
            self._key_names[row[0]] = row[5]
        lg = self.ledger = Ledger()
        for acct in self._accounts:
            lg.add_account(acct)
        for acct, asset, free, locked in st.balances():
            bal = lg.balance(acct, asset)
            bal.free, bal.locked = free, locked
        for asset, fees, deposits, withdrawn in st.assets():
            lg.fees[asset], lg.deposits[asset], lg.withdrawn[asset] = fees, deposits, withdrawn

    def flush(self) -> None:
        """Write touched balances (and the accounts' update time) and the fee/totals rows."""
        st = self._store
        lg = self.ledger
        dirty, assets = lg.take_dirty()
        if dirty:
            rows = []
            for a, s in dirty:
                bal = lg.balance(a, s)
                rows.append((a, s, bal.free, bal.locked))
            st.put_balances(rows)
            now = self._now_ms()
            for acct in {a for a, _ in dirty}:
                self._accounts[acct][1] = now
                st.touch_account(acct, now)
            if self._events.active:
                for a, s, free, locked in rows:
                    self._events.emit(BalanceChanged(a, s, free, locked))
        if assets:
            st.put_assets([(a, lg.fees[a], lg.deposits[a], lg.withdrawn[a]) for a in assets])

    # ---------------------------------------------------------------- accounts

    def exists(self, account_id: int) -> bool:
        return account_id in self._accounts

    def __len__(self) -> int:
        return len(self._accounts)

    def _new_account(self, funding: dict[str, Decimal], label: str = "") -> int:
        acct = self._counters.next("account_id")
        now = self._now_ms()
        self._accounts[acct] = [now, now, label]
        self._store.put_account(acct, now, now, label)
        self.ledger.add_account(acct)
        for asset, amount in funding.items():
            if amount:
                self.ledger.deposit(acct, asset, Decimal(amount))
        return acct

    def create_account(self, funding: dict[str, Decimal], label: str = "") -> int:
        """A new account funded with ``funding`` (recorded as deposits); returns its id."""
        for asset, amount in funding.items():
            if Decimal(amount) < 0:
                raise ValueError(f"negative funding {asset} {amount}")
        with self._tx.mutation():
            return self._new_account(funding, label)

    def ensure_account(self, label: str, funding: dict[str, Decimal]) -> int:
        """The account labelled ``label``; created with ``funding`` if none exists yet
        (so the synthetic market finds its traders again after a restart)."""
        for acct, (_, _, lbl) in self._accounts.items():
            if lbl == label:
                return acct
        return self.create_account(funding, label)

    def create_demo(self) -> None:
        """The demo account, funded with :data:`DEMO_FUNDING`, and its three keys."""
        self.create_like_demo(DEMO_LABEL)

    def create_like_demo(self, label: str) -> int:
        """An account funded and keyed like the demo account (:data:`DEMO_FUNDING` as deposits,
        the :data:`DEMO_KEYS`), all in one transaction; returns its id (its keys: :meth:`keys_of`).

        ``POST /admin/accounts`` makes one per test on a shared exchange: an account of its own
        with known balances costs one commit, a process of its own half a second.
        """
        with self._tx.mutation():
            acct = self._new_account(DEMO_FUNDING, label=label)
            now = self._now_ms()
            for name, perms in DEMO_KEYS:
                self._add_key(acct, perms, name, now)
        return acct

    @property
    def demo_account_id(self) -> int:
        return next(a for a, v in self._accounts.items() if v[2] == DEMO_LABEL)

    def label(self, account_id: int) -> str:
        return self._accounts[account_id][2]

    # -------------------------------------------------------------------- keys

    def _add_key(self, account_id: int, permissions: frozenset[str], name: str, now: int,
                 key_type: str = HMAC, public_key: str = "") -> ApiKey:
        secret = _token() if key_type == HMAC else ""
        key = ApiKey(_token(), secret, account_id, frozenset(permissions) | {"READ"}, now,
                     key_type, public_key)
        perms = ",".join(p for p in PERMISSIONS if p in key.permissions)
        self._store.put_key(key.api_key, key.secret, account_id, perms, now, name, key_type, public_key)
        self._keys[key.api_key] = key
        self._key_names[key.api_key] = name
        return key

    def create_api_key(self, account_id: int, permissions: frozenset[str], name: str = "") -> ApiKey:
        """A new key for an existing account (READ is always included)."""
        if account_id not in self._accounts:
            raise ValueError(f"unknown account {account_id}")
        with self._tx.mutation():
            return self._add_key(account_id, permissions, name, self._now_ms())

    def register_public_key(self, account_id: int, key_type: str, public_key_pem: str,
                            permissions: frozenset[str], name: str = "") -> ApiKey:
        """A new Ed25519/RSA key (its PEM already validated by ``signatures.load_public_key``)."""
        if account_id not in self._accounts:
            raise ValueError(f"unknown account {account_id}")
        with self._tx.mutation():
            return self._add_key(account_id, permissions, name, self._now_ms(), key_type, public_key_pem)

    def key(self, api_key: str) -> ApiKey | None:
        """The key, or None. A miss asks the database: ``btx-tui exchange keys add`` may have
        registered it from another process since this one loaded (SQLite WAL lets it write)."""
        found = self._keys.get(api_key)
        if found is None and not self._store.in_transaction:
            row = self._store.key_row(api_key)
            if row is not None and row[2] in self._accounts:
                found = self._keys[api_key] = _key_from_row(row)
                self._key_names[api_key] = row[5]
        return found

    def demo_keys(self) -> list[dict]:
        """The demo account's keys: ``[{"name","api_key","api_secret","permissions"}]``
        (``key_type`` and ``public_key`` instead of a secret for an Ed25519/RSA key)."""
        demo = [a for a, v in self._accounts.items() if v[2] == DEMO_LABEL]
        return self.keys_of(demo[0]) if demo else []

    def keys_of(self, account_id: int) -> list[dict]:
        """One account's keys, each as a ``demo-keys.json`` entry (see :meth:`demo_keys`)."""
        out = []
        for k in self._keys.values():
            if k.account_id != account_id:
                continue
            entry: dict = {"name": self._key_names[k.api_key], "api_key": k.api_key}
            if k.key_type == HMAC:
                entry["api_secret"] = k.secret
            else:
                entry["key_type"] = k.key_type
                entry["public_key"] = k.public_key
            entry["permissions"] = [p for p in PERMISSIONS if p in k.permissions]
            out.append(entry)
        return out

    # ------------------------------------------------------------------- views

    def account(self, account_id: int, omit_zero: bool) -> dict:
        """``/api/v3/account``: balances of every asset (listed markets' assets plus any held)."""
        held = self.ledger.accounts.get(account_id, {})
        balances = []
        for asset in sorted(set(ASSETS) | set(held)):
            bal = held.get(asset)
            free, locked = (bal.free, bal.locked) if bal else (ZERO, ZERO)
            if omit_zero and not free and not locked:
                continue
            balances.append({"asset": asset, "free": fmt(free), "locked": fmt(locked)})
        rate = "0.00100000"
        info = self._accounts.get(account_id)
        return {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {"maker": rate, "taker": rate, "buyer": "0.00000000",
                                "seller": "0.00000000"},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": info[1] if info else 0, "accountType": "SPOT",
            "balances": balances, "permissions": ["SPOT"], "uid": account_id,
        }

    @staticmethod
    def api_restrictions(key: ApiKey) -> dict:
        return {
            "ipRestrict": False, "createTime": key.created_ms, "enableReading": True,
            "enableSpotAndMarginTrading": "TRADE" in key.permissions,
            "enableWithdrawals": "WITHDRAW" in key.permissions,
            "enableInternalTransfer": False, "enableMargin": False, "enableFutures": False,
            "permitsUniversalTransfer": False, "enableVanillaOptions": False,
            "enableFixApiTrade": False, "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
        }
