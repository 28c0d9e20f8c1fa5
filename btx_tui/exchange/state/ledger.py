"""Accounts' free/locked balances, the fee pool, and the conservation check.

Every movement of money in the paper exchange goes through one of the primitives below.
Each primitive checks first and mutates after, and refuses (``LedgerError``) anything that
would make a balance negative, so a bug elsewhere shows up as an exception instead of as
money created from nothing.  The ledger also remembers which rows changed (``dirty``) so
``store.py`` writes exactly those rows in the call's transaction.

Conservation, per asset:  Σ accounts (free + locked) + fee pool
                        == deposits − completed withdrawals (amounts)
A withdrawal's network fee goes to the fee pool (the exchange keeps it), so it stays on
the left-hand side.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_UP, Decimal

from ..numbers import EIGHT, ZERO

__all__ = ["LedgerError", "Balance", "Ledger", "COMMISSION_RATE", "commission"]

COMMISSION_RATE = Decimal("0.001")
"""0.10 % maker and taker."""


def commission(received: Decimal) -> Decimal:
    """The commission on ``received`` (charged in the asset received).

    Rounded up to 8 decimals (the exchange never under-charges), but never more than
    what was received.
    """
    fee = (received * COMMISSION_RATE).quantize(EIGHT, rounding=ROUND_UP)
    return min(fee, received)


class LedgerError(AssertionError):
    """A movement that would break the ledger (negative balance, bad amount): a bug."""


class Balance:
    """Free and locked amount of one asset in one account."""

    __slots__ = ("free", "locked")

    def __init__(self, free: Decimal = ZERO, locked: Decimal = ZERO) -> None:
        self.free = free
        self.locked = locked

    def __repr__(self) -> str:
        return f"Balance(free={self.free}, locked={self.locked})"


class Ledger:
    """All balances, keyed by account id then asset."""

    def __init__(self) -> None:
        self.accounts: dict[int, dict[str, Balance]] = {}
        self.fees: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.deposits: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.withdrawn: dict[str, Decimal] = defaultdict(lambda: ZERO)
        self.dirty: set[tuple[int, str]] = set()
        self.dirty_assets: set[str] = set()  # fee pool / totals rows to write

    # ----------------------------------------------------------------- reads

    def add_account(self, account_id: int) -> None:
        self.accounts.setdefault(account_id, {})

    def balance(self, account_id: int, asset: str) -> Balance:
        """The balance row (created at zero if absent)."""
        acct = self.accounts[account_id]
        bal = acct.get(asset)
        if bal is None:
            bal = acct[asset] = Balance()
        return bal

    def free(self, account_id: int, asset: str) -> Decimal:
        bal = self.accounts.get(account_id, {}).get(asset)
        return bal.free if bal else ZERO

    def locked(self, account_id: int, asset: str) -> Decimal:
        bal = self.accounts.get(account_id, {}).get(asset)
        return bal.locked if bal else ZERO

    # ------------------------------------------------------------ primitives

    @staticmethod
    def _positive(amount: Decimal) -> None:
        if amount < 0 or not amount.is_finite():
            raise LedgerError(f"bad amount {amount}")

    def _touch(self, account_id: int, asset: str) -> Balance:
        self.dirty.add((account_id, asset))
        return self.balance(account_id, asset)

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Money entering the exchange (demo funding, traders' funding)."""
        self._positive(amount)
        self._touch(account_id, asset).free += amount
        self.deposits[asset] += amount
        self.dirty_assets.add(asset)

    def lock(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked."""
        self._positive(amount)
        bal = self.balance(account_id, asset)
        if bal.free < amount:
            raise LedgerError(f"lock {amount} {asset} > free {bal.free} (account {account_id})")
        self._touch(account_id, asset)
        bal.free -= amount
        bal.locked += amount

    def unlock(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from locked back to free."""
        self._positive(amount)
        bal = self.balance(account_id, asset)
        if bal.locked < amount:
            raise LedgerError(f"unlock {amount} {asset} > locked {bal.locked} (account {account_id})")
        self._touch(account_id, asset)
        bal.locked -= amount
        bal.free += amount

    def transfer_locked(self, src: int, dst: int, asset: str, amount: Decimal, fee: Decimal) -> None:
        """Pay ``amount`` out of ``src``'s locked funds: ``dst`` gets ``amount - fee`` free,
        the fee pool gets ``fee``.  This is one leg of a trade."""
        self._positive(amount)
        self._positive(fee)
        if fee > amount:
            raise LedgerError(f"fee {fee} > amount {amount}")
        sbal = self.balance(src, asset)
        if sbal.locked < amount:
            raise LedgerError(f"pay {amount} {asset} > locked {sbal.locked} (account {src})")
        self._touch(src, asset).locked -= amount
        self._touch(dst, asset).free += amount - fee
        if fee:
            self.fees[asset] += fee
            self.dirty_assets.add(asset)

    def withdraw_locked(self, account_id: int, asset: str, amount: Decimal, fee: Decimal) -> None:
        """Complete a withdrawal: ``amount`` leaves the exchange, ``fee`` goes to the fee pool,
        both out of the locked funds reserved when it was applied."""
        self._positive(amount)
        self._positive(fee)
        bal = self.balance(account_id, asset)
        if bal.locked < amount + fee:
            raise LedgerError(f"withdraw {amount}+{fee} {asset} > locked {bal.locked}")
        self._touch(account_id, asset).locked -= amount + fee
        self.withdrawn[asset] += amount
        self.fees[asset] += fee
        self.dirty_assets.add(asset)

    # ----------------------------------------------------------------- checks

    def check_conservation(self) -> None:
        """Raise AssertionError naming the asset if money was created or destroyed,
        or if any balance is negative."""
        held: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for acct_id, acct in self.accounts.items():
            for asset, bal in acct.items():
                if bal.free < 0 or bal.locked < 0:
                    raise AssertionError(f"negative balance {asset} in account {acct_id}: {bal}")
                held[asset] += bal.free + bal.locked
        assets = set(held) | set(self.fees) | set(self.deposits) | set(self.withdrawn)
        for asset in assets:
            lhs = held[asset] + self.fees[asset]
            rhs = self.deposits[asset] - self.withdrawn[asset]
            if lhs != rhs:
                raise AssertionError(
                    f"conservation broken for {asset}: accounts {held[asset]} + fees "
                    f"{self.fees[asset]} = {lhs} != deposits {self.deposits[asset]} - "
                    f"withdrawn {self.withdrawn[asset]} = {rhs}")

    def take_dirty(self) -> tuple[set[tuple[int, str]], set[str]]:
        """The changed rows since the last call (and forget them)."""
        d, a = self.dirty, self.dirty_assets
        self.dirty, self.dirty_assets = set(), set()
        return d, a
