"""Withdrawals: apply (lock amount + fee), complete after a while, history, coin config.

One part owns the withdrawals in flight (status "processing"); the networks, their rules and
the JSON spelling live in ``withdrawal_networks.py``.  Money moves only through the
accounts' ledger: applying locks ``amount + fee``, completing pays them out of the lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from ..errors import withdraw_error
from ..numbers import ZERO
from . import withdrawal_networks as W
from .accounts import Accounts
from .counters import Counters
from .store import Store, WithdrawalRow
from .symbols import ASSETS
from .transaction import Transaction

__all__ = ["Wallet"]


class Wallet:
    """``/sapi`` wallet endpoints and the processing of pending withdrawals."""

    def __init__(self, store: Store, tx: Transaction, counters: Counters, accounts: Accounts,
                 now_ms: Callable[[], int]) -> None:
        self._store = store
        self._tx = tx
        self._counters = counters
        self._accounts = accounts
        self._now_ms = now_ms
        self.load()

    # ------------------------------------------------------------ persistence

    def load(self) -> None:
        self.pending: dict[str, WithdrawalRow] = {
            w.id: w for w in self._store.withdrawals("status = ?", (W.PROCESSING,))}
        """Withdrawals still processing, by id (their amount + fee is locked)."""
        self._dirty: dict[str, WithdrawalRow] = {}

    def flush(self) -> None:
        if self._dirty:
            self._store.put_many(list(self._dirty.values()))
            self._dirty.clear()

    # -------------------------------------------------------------- mutations

    def withdraw_apply(self, account_id: int, coin: str, network: str | None,
                       address: str, address_tag: str | None, amount: Decimal,
                       withdraw_order_id: str | None) -> dict:
        """Validate (-4xxx), lock amount + fee, record as processing; ``{"id": ...}``."""
        if amount <= 0:
            raise withdraw_error(-4022, "Withdrawal amount must be positive.")
        ledger = self._accounts.ledger
        net = W.validate(coin, network, address, address_tag, amount, ledger.free(account_id, coin))
        with self._tx.mutation():
            row = W.new_row(self._counters.next("withdrawal_seq"), account_id, coin, net, address,
                            address_tag, amount, withdraw_order_id, self._now_ms())
            ledger.lock(account_id, coin, amount + net.fee)
            self.pending[row.id] = row
            self._dirty[row.id] = row
        return {"id": row.id}

    def process_withdrawals(self) -> None:
        """Complete every withdrawal processing for at least ``PROCESSING_MS``."""
        now = self._now_ms()
        due = [w for w in self.pending.values() if now - w.apply_ms >= W.PROCESSING_MS]
        if not due:
            return
        with self._tx.mutation():
            ledger = self._accounts.ledger
            for w in due:
                ledger.withdraw_locked(w.account_id, w.coin, w.amount, w.fee)
                w.status = W.COMPLETED
                w.complete_ms = now
                w.tx_id = W.tx_id(w)
                del self.pending[w.id]
                self._dirty[w.id] = w

    # ------------------------------------------------------------------ reads

    def withdraw_history(self, account_id: int, coin: str | None,
                         withdraw_order_id: str | None, status: int | None, offset: int | None,
                         limit: int | None, start: int | None, end: int | None) -> list[dict]:
        """The account's withdrawals, newest first, filtered; ``limit`` default/max 1000."""
        self._tx.sync()
        where, args = ["account_id = ?"], [account_id]
        for col, val in (("coin", coin), ("withdraw_order_id", withdraw_order_id), ("status", status)):
            if val is not None:
                where.append(f"{col} = ?"); args.append(val)
        if start is not None:
            where.append("apply_ms >= ?"); args.append(start)
        if end is not None:
            where.append("apply_ms <= ?"); args.append(end)
        limit = min(max(limit or 1000, 1), 1000)
        offset = max(offset or 0, 0)
        rows = self._store.withdrawals(" AND ".join(where), tuple(args),
                                       f"ORDER BY seq DESC LIMIT {limit} OFFSET {offset}")
        return [W.history_json(r) for r in rows]

    def capital_config(self, account_id: int) -> list[dict]:
        """Per coin: balances and withdrawal networks."""
        held = self._accounts.ledger.accounts.get(account_id, {})
        pending: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for w in self.pending.values():
            if w.account_id == account_id:
                pending[w.coin] += w.amount + w.fee
        out = []
        for asset in sorted(set(ASSETS) | set(W.COINS) | set(held)):
            bal = held.get(asset)
            out.append(W.coin_json(asset, bal.free if bal else ZERO, bal.locked if bal else ZERO,
                                   pending[asset]))
        return out
