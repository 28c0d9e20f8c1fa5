"""The ``Exchange`` facade: the only object ``app.py`` and ``market.py`` talk to.

It is synchronous and single-threaded (called from the asyncio loop).  Every mutating call
runs inside :meth:`Exchange._mutation`: validation first (raising :class:`ApiError` with
no state touched), then the in-memory change (books, ledger, open orders), then all changed
rows are written and committed in ONE SQLite transaction before the call returns - so what
the HTTP layer acknowledges survives ``kill -9`` (see ``store.py``).  :meth:`Exchange.batch`
groups many calls into one commit for the synthetic market.

If anything other than an ``ApiError`` escapes a mutation (a bug), the transaction is rolled
back and the whole in-memory state is rebuilt from the database, so memory never drifts
from what is stored.

The class is split by concern into mixins: ``core_orders`` (trading), ``core_market``
(market data), ``core_account`` (account, keys, withdrawals); ``core_views`` renders JSON.
"""

from __future__ import annotations

import secrets
import string
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from .core_account import AccountMixin
from .core_market import MarketMixin, SymbolStats
from .core_orders import OrdersMixin, reservation
from .core_queries import OrderQueriesMixin
from .engine import Order, OrderBook
from .errors import ApiError
from .ledger import Ledger
from .store import KlineRow, OrderRow, Store, TradeRow, WithdrawalRow
from .symbols import MARKETS, SymbolSpec
from .withdrawals import PROCESSING

__all__ = ["Exchange", "OrderRequest", "ApiKey", "DEMO_FUNDING", "PERMISSIONS"]

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

_ALNUM = string.ascii_letters + string.digits


def _token(n: int = 64) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _system_clock() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class OrderRequest:
    """A new-order request after format validation (app.py builds it)."""

    symbol: str
    side: str
    type: str
    time_in_force: str | None
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    new_client_order_id: str | None
    resp_type: str | None  # ACK | RESULT | FULL (None = FULL)


@dataclass(frozen=True)
class ApiKey:
    api_key: str
    secret: str
    account_id: int
    permissions: frozenset[str]  # READ, TRADE, WITHDRAW
    created_ms: int


class Exchange(OrdersMixin, OrderQueriesMixin, MarketMixin, AccountMixin):
    """The paper exchange's state and operations.  Build it with :meth:`open`."""

    symbols: dict[str, SymbolSpec]

    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        self.store = store
        self._clock = clock
        self.symbols = dict(MARKETS)
        self._broken = False
        self._load()

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, data_dir: Path, *, clock: Callable[[], int] | None = None) -> "Exchange":
        """Open (or create) the exchange stored in ``data_dir``.

        On first start it creates the demo account (funded with :data:`DEMO_FUNDING`) and
        its three API keys; afterwards it rebuilds every book, balance and counter exactly.
        """
        ex = cls(Store.open(Path(data_dir)), clock or _system_clock)
        if not ex._accounts:
            with ex._mutation():
                acct = ex._new_account(DEMO_FUNDING, label="demo")
                now = ex.now_ms()
                for name, perms in DEMO_KEYS:
                    ex._add_key(acct, perms, name, now)
        return ex

    def close(self) -> None:
        """Close the database (everything is already committed)."""
        self.store.close()

    def now_ms(self) -> int:
        return self._clock()

    # --------------------------------------------------------- transactions

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many calls into one transaction (one commit at the end).

        Inside, an ``ApiError`` from one call leaves no trace and may be caught; any other
        exception rolls back the whole batch and reloads state from the database.
        """
        with self._mutation():
            yield

    @contextmanager
    def _mutation(self) -> Iterator[None]:
        outer = not self.store.in_transaction
        if outer:
            self.store.begin()
            self._broken = False
        try:
            yield
        except ApiError:
            if outer:
                self._finish(commit=not self._broken)
            raise
        except BaseException:
            self._broken = True
            if outer:
                self._finish(commit=False)
            raise
        else:
            if outer:
                self._finish(commit=not self._broken)

    def _finish(self, *, commit: bool) -> None:
        if commit:
            try:
                self._flush()
                self.store.commit()
                return
            except BaseException:
                self.store.rollback()
                self._load()
                raise
        self.store.rollback()
        self._load()

    def _flush(self) -> None:
        """Write every changed row (balances, orders, trades, klines, counters...)."""
        st = self.store
        dirty, assets = self.ledger.take_dirty()
        if dirty:
            st.put_balances([(a, s, self.ledger.balance(a, s).free, self.ledger.balance(a, s).locked)
                             for a, s in dirty])
            now = self.now_ms()
            for acct in {a for a, _ in dirty}:
                self._accounts[acct][1] = now
                st.touch_account(acct, now)
        if assets:
            lg = self.ledger
            st.put_assets([(a, lg.fees[a], lg.deposits[a], lg.withdrawn[a]) for a in assets])
        if self._dirty_orders:
            st.put_many(list(self._dirty_orders.values()))
            self._dirty_orders.clear()
        if self._new_trades:
            st.put_many(self._new_trades)
            self._new_trades = []
        if self._dirty_klines:
            st.put_many(list(self._dirty_klines.values()))
            self._dirty_klines.clear()
        if self._dirty_withdrawals:
            st.put_many(list(self._dirty_withdrawals.values()))
            self._dirty_withdrawals.clear()
        if self._dirty_counters:
            for name in self._dirty_counters:
                st.set_counter(name, self._counters[name])
            self._dirty_counters.clear()

    def _sync(self) -> None:
        """Make pending rows visible to SQL reads inside an open batch."""
        if self.store.in_transaction:
            self._flush()

    def _next(self, name: str) -> int:
        value = self._counters.get(name, 0) + 1
        self._counters[name] = value
        self._dirty_counters.add(name)
        return value

    # ----------------------------------------------------------------- load

    def _load(self) -> None:
        """(Re)build all in-memory state from the database."""
        st = self.store
        self._counters: dict[str, int] = st.counters()
        self._dirty_counters: set[str] = set()
        self._dirty_orders: dict[int, OrderRow] = {}
        self._new_trades: list[TradeRow] = []
        self._dirty_klines: dict[tuple[str, int], KlineRow] = {}
        self._dirty_withdrawals: dict[str, WithdrawalRow] = {}
        self._accounts: dict[int, list] = {a: [c, u, label] for a, c, u, label in st.accounts()}
        self._keys: dict[str, ApiKey] = {}
        self._key_names: dict[str, str] = {}
        for key, secret, acct, perms, created, name in st.keys():
            self._keys[key] = ApiKey(key, secret, acct, frozenset(p for p in perms.split(",") if p), created)
            self._key_names[key] = name
        lg = self.ledger = Ledger()
        for acct in self._accounts:
            lg.add_account(acct)
        for acct, asset, free, locked in st.balances():
            bal = lg.balance(acct, asset)
            bal.free, bal.locked = free, locked
        for asset, fees, deposits, withdrawn in st.assets():
            lg.fees[asset], lg.deposits[asset], lg.withdrawn[asset] = fees, deposits, withdrawn
        self.books: dict[str, OrderBook] = {s: OrderBook(s) for s in self.symbols}
        self._open: dict[int, OrderRow] = {}
        self._client_ids: dict[tuple[int, str], int] = {}
        self._open_count: dict[tuple[int, str], int] = defaultdict(int)
        for row in st.orders("is_open = 1", (), "ORDER BY seq"):
            self.books[row.symbol].restore(Order(
                row.order_id, row.account_id, row.side, row.price_ticks, row.qty_lots,
                row.seq, row.filled_lots, row.quote_filled))
            self._track_open(row)
        self._pending: dict[str, WithdrawalRow] = {
            w.id: w for w in st.withdrawals("status = ?", (PROCESSING,))}
        self._stats: dict[str, SymbolStats] = {}
        self._load_stats()

    # ------------------------------------------------------------- accounts

    def _new_account(self, funding: dict[str, Decimal], label: str = "") -> int:
        acct = self._next("account_id")
        now = self.now_ms()
        self._accounts[acct] = [now, now, label]
        self.store.put_account(acct, now, now, label)
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
        with self._mutation():
            return self._new_account(funding, label)

    def ensure_account(self, label: str, funding: dict[str, Decimal]) -> int:
        """The account labelled ``label``; created with ``funding`` if none exists yet
        (so the synthetic market finds its traders again after a restart)."""
        for acct, (_, _, lbl) in self._accounts.items():
            if lbl == label:
                return acct
        return self.create_account(funding, label)

    def _add_key(self, account_id: int, permissions: frozenset[str], name: str, now: int) -> ApiKey:
        key = ApiKey(_token(), _token(), account_id, frozenset(permissions) | {"READ"}, now)
        perms = ",".join(p for p in PERMISSIONS if p in key.permissions)
        self.store.put_key(key.api_key, key.secret, account_id, perms, now, name)
        self._keys[key.api_key] = key
        self._key_names[key.api_key] = name
        return key

    def create_api_key(self, account_id: int, permissions: frozenset[str], name: str = "") -> ApiKey:
        """A new key for an existing account (READ is always included)."""
        if account_id not in self._accounts:
            raise ValueError(f"unknown account {account_id}")
        with self._mutation():
            return self._add_key(account_id, permissions, name, self.now_ms())

    def key(self, api_key: str) -> ApiKey | None:
        return self._keys.get(api_key)

    def demo_keys(self) -> list[dict]:
        """The demo account's keys: ``[{"name","api_key","api_secret","permissions"}]``."""
        return [{"name": self._key_names[k.api_key], "api_key": k.api_key, "api_secret": k.secret,
                 "permissions": [p for p in PERMISSIONS if p in k.permissions]}
                for k in self._keys.values() if self._accounts[k.account_id][2] == "demo"]

    @property
    def demo_account_id(self) -> int:
        return next(a for a, v in self._accounts.items() if v[2] == "demo")

    # ------------------------------------------------------------ invariants

    def check_invariants(self) -> None:
        """Raise AssertionError describing the first broken invariant.

        Conservation per asset, no negative balance, locked == what open orders reserve
        plus pending withdrawals, books == open orders, executedQty == Σ fills <= origQty,
        client ids unique among open orders.
        """
        self.ledger.check_conservation()
        want: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        resting = {o.order_id: o for book in self.books.values() for o in book.orders()}
        if set(resting) != set(self._open):
            raise AssertionError(f"book/open mismatch: {sorted(set(resting) ^ set(self._open))}")
        seen: set[tuple[int, str]] = set()
        for oid, row in self._open.items():
            spec = self.symbols[row.symbol]
            eng = resting[oid]
            if (eng.filled, eng.qty, eng.price, eng.seq) != (row.filled_lots, row.qty_lots,
                                                            row.price_ticks, row.seq):
                raise AssertionError(f"order {oid} engine {eng} != stored {row}")
            asset, amount = reservation(spec, row)
            want[(row.account_id, asset)] += amount
            key = (row.account_id, row.client_order_id)
            if key in seen or self._client_ids.get(key) != oid:
                raise AssertionError(f"client id index broken for {key}")
            seen.add(key)
        if len(self._client_ids) != len(self._open):
            raise AssertionError("stale client ids among open orders")
        for w in self._pending.values():
            want[(w.account_id, w.coin)] += w.amount + w.fee
        for acct, assets in self.ledger.accounts.items():
            for asset, bal in assets.items():
                if bal.locked != want.get((acct, asset), Decimal(0)):
                    raise AssertionError(
                        f"account {acct} {asset} locked {bal.locked} != reserved "
                        f"{want.get((acct, asset), Decimal(0))}")
        for (acct, asset), amount in want.items():
            if amount and self.ledger.locked(acct, asset) != amount:
                raise AssertionError(f"account {acct} {asset} reserved {amount} but not locked")
        self._sync()
        for row in self.store.orders("is_open = 1 OR executed_qty != '0'"):
            row = self._open.get(row.order_id, row)
            spec = self.symbols[row.symbol]
            if row.executed_qty != spec.lots_to_qty(row.filled_lots):
                raise AssertionError(f"order {row.order_id} executedQty != filled lots")
            if row.orig_qty and row.executed_qty > row.orig_qty:
                raise AssertionError(f"order {row.order_id} executedQty > origQty")
        sums: dict[int, Decimal] = defaultdict(Decimal)
        for t in self.store.trades():
            sums[t.buyer_order_id] += t.qty
            sums[t.seller_order_id] += t.qty
        for row in self.store.orders():
            row = self._open.get(row.order_id, row)
            if row.executed_qty != sums.get(row.order_id, Decimal(0)):
                raise AssertionError(f"order {row.order_id} executedQty {row.executed_qty} "
                                     f"!= Σ fills {sums.get(row.order_id)}")
