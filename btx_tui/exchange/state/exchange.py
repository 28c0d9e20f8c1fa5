"""The paper exchange, wired in one place: its parts, and the transaction boundary around them.

:class:`Exchange` builds each part with the collaborators it needs and holds them; callers
reach a part directly (``exchange.trading.place_order(...)``, ``exchange.market_data.depth(...)``)
- there is no facade forwarding every method.  The parts, one job each:

* :attr:`Exchange.accounts` - accounts, API keys and the ledger of balances (``accounts.py``);
* :attr:`Exchange.books` - one order book per symbol (``books.py``, ``matching.py``);
* :attr:`Exchange.trading` - place / cancel / settle, stop triggers, OCO lists, amend and
  cancel-replace; owns the open orders (``trading.py``, ``triggers.py``);
* :attr:`Exchange.order_lists` - the order-list records (``order_lists.py``);
* :attr:`Exchange.market_data` - the trade tape, klines, tickers, avgPrice, depth (``market_data.py``);
* :attr:`Exchange.orders` - order and trade queries of an account (``order_queries.py``);
* :attr:`Exchange.wallet` - withdrawals (``wallet.py``);
* :attr:`Exchange.events` - engine events for push surfaces (``events.py``);
* persistence: the :class:`~.store.Store`, the :class:`~.counters.Counters` and the
  :class:`~.transaction.Transaction` every mutation runs in.

Everything is synchronous and single-threaded (called from the asyncio loop).  The rule each
mutating call follows - validate, change memory, commit in ONE SQLite transaction before
returning; rebuild from the database after an unexpected exception - lives in
``transaction.py``; :meth:`Exchange.batch` groups many calls into one commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .accounts import Accounts
from .books import OrderBooks
from .counters import Counters
from .events import EventBus
from .invariants import check_invariants
from .market_data import MarketData
from .order_lists import OrderLists
from .order_queries import OrderQueries
from .store import Store
from .symbols import MARKETS, SymbolSpec
from .trading import Trading
from .transaction import Transaction
from .deposits import Deposits
from .wallet import Wallet

__all__ = ["Exchange"]


def _system_clock() -> int:
    return time.time_ns() // 1_000_000


class Exchange:
    """The paper exchange's state: the parts, wired.  Build it with :meth:`open`."""

    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        self.store = store
        self._clock = clock
        self.symbols: dict[str, SymbolSpec] = dict(MARKETS)
        """Listed markets by symbol; every part shares this one dict."""
        now_ms = self.now_ms
        self.events = EventBus()
        self.tx = Transaction(store, self.events)
        self.counters = Counters(store)
        self.accounts = Accounts(store, self.tx, self.counters, now_ms, self.events)
        self.books = OrderBooks(self.symbols, self.counters, self.events)
        self.market_data = MarketData(store, self.tx, self.symbols, self.books, now_ms, self.events)
        self.order_lists = OrderLists(store, self.counters, self.events)
        self.trading = Trading(store, self.tx, self.symbols, self.counters, self.accounts,
                               self.books, self.market_data, now_ms, self.events, self.order_lists)
        self.orders = OrderQueries(store, self.tx, self.symbols, self.trading)
        self.wallet = Wallet(store, self.tx, self.counters, self.accounts, now_ms)
        self.deposits = Deposits(store, self.tx, self.counters, self.accounts, now_ms)
        # Reload order matters: the books are emptied before trading restores the open
        # orders into them.  Flush order sets the order of the events of one transaction:
        # trades (emitted while matching), then depth, order updates, balances - as an
        # exchange's streams report them (execution report before the account update).
        self.tx.register([self.counters, self.books, self.trading, self.order_lists,
                          self.market_data, self.wallet, self.accounts])

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, data_dir: Path, *, clock: Callable[[], int] | None = None) -> "Exchange":
        """Open (or create) the exchange stored in ``data_dir``.

        On first start it creates the demo account (funded with ``DEMO_FUNDING``) and
        its three API keys; afterwards it rebuilds every book, balance and counter exactly.
        """
        ex = cls(Store.open(Path(data_dir)), clock or _system_clock)
        if not len(ex.accounts):
            ex.accounts.create_demo()
        return ex

    def close(self) -> None:
        """Close the database (everything is already committed)."""
        self.store.close()

    def now_ms(self) -> int:
        """The exchange clock (ms); parts call it through this method, so it can be swapped."""
        return self._clock()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many calls into one transaction (one commit at the end).

        Inside, an ``ApiError`` from one call leaves no trace and may be caught; any other
        exception rolls back the whole batch and reloads state from the database.
        """
        with self.tx.mutation():
            yield

    def check_invariants(self) -> None:
        """Raise AssertionError describing the first broken invariant (``invariants.py``)."""
        check_invariants(self.symbols, self.accounts.ledger, self.books, self.trading,
                         self.wallet, self.store, self.tx)
