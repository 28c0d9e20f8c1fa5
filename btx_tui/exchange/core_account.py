"""Account views and withdrawals of the ``Exchange`` facade."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from . import withdrawals as W
from .errors import withdraw_error
from .numbers import ZERO, fmt
from .symbols import ASSETS

if TYPE_CHECKING:  # pragma: no cover
    from .core import ApiKey, Exchange

__all__ = ["AccountMixin"]


class AccountMixin:
    """``/api/v3/account``, ``apiRestrictions`` and the ``/sapi`` wallet endpoints."""

    def account(self: "Exchange", account_id: int, omit_zero: bool) -> dict:
        """Balances of every asset (listed markets' assets plus any the account holds)."""
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

    def api_restrictions(self: "Exchange", key: "ApiKey") -> dict:
        return {
            "ipRestrict": False, "createTime": key.created_ms, "enableReading": True,
            "enableSpotAndMarginTrading": "TRADE" in key.permissions,
            "enableWithdrawals": "WITHDRAW" in key.permissions,
            "enableInternalTransfer": False, "enableMargin": False, "enableFutures": False,
            "permitsUniversalTransfer": False, "enableVanillaOptions": False,
            "enableFixApiTrade": False, "enableFixReadOnly": False,
            "enablePortfolioMarginTrading": False,
        }

    # ----------------------------------------------------------- withdrawals

    def withdraw_apply(self: "Exchange", account_id: int, coin: str, network: str | None,
                       address: str, address_tag: str | None, amount: Decimal,
                       withdraw_order_id: str | None) -> dict:
        """Validate (-4xxx), lock amount + fee, record as processing; ``{"id": ...}``."""
        if amount <= 0:
            raise withdraw_error(-4022, "Withdrawal amount must be positive.")
        net = W.validate(coin, network, address, address_tag, amount,
                         self.ledger.free(account_id, coin))
        with self._mutation():
            row = W.new_row(self._next("withdrawal_seq"), account_id, coin, net, address,
                            address_tag, amount, withdraw_order_id, self.now_ms())
            self.ledger.lock(account_id, coin, amount + net.fee)
            self._pending[row.id] = row
            self._dirty_withdrawals[row.id] = row
        return {"id": row.id}

    def process_withdrawals(self: "Exchange") -> None:
        """Complete every withdrawal processing for at least ``PROCESSING_MS``."""
        now = self.now_ms()
        due = [w for w in self._pending.values() if now - w.apply_ms >= W.PROCESSING_MS]
        if not due:
            return
        with self._mutation():
            for w in due:
                self.ledger.withdraw_locked(w.account_id, w.coin, w.amount, w.fee)
                w.status = W.COMPLETED
                w.complete_ms = now
                w.tx_id = W.tx_id(w)
                del self._pending[w.id]
                self._dirty_withdrawals[w.id] = w

    def withdraw_history(self: "Exchange", account_id: int, coin: str | None,
                         withdraw_order_id: str | None, status: int | None, offset: int | None,
                         limit: int | None, start: int | None, end: int | None) -> list[dict]:
        """The account's withdrawals, newest first, filtered; ``limit`` default/max 1000."""
        self._sync()
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
        rows = self.store.withdrawals(" AND ".join(where), tuple(args),
                                      f"ORDER BY seq DESC LIMIT {limit} OFFSET {offset}")
        return [W.history_json(r) for r in rows]

    def capital_config(self: "Exchange", account_id: int) -> list[dict]:
        """Per coin: balances and withdrawal networks."""
        held = self.ledger.accounts.get(account_id, {})
        pending: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for w in self._pending.values():
            if w.account_id == account_id:
                pending[w.coin] += w.amount + w.fee
        out = []
        for asset in sorted(set(ASSETS) | set(W.COINS) | set(held)):
            bal = held.get(asset)
            out.append(W.coin_json(asset, bal.free if bal else ZERO, bal.locked if bal else ZERO,
                                   pending[asset]))
        return out
