"""Withdrawal networks, validation and the JSON of the wallet endpoints.

The paper exchange pretends to send coins: ``withdraw/apply`` locks ``amount + fee`` at
once (status 4 "processing"); about :data:`PROCESSING_MS` later ``process_withdrawals``
completes it (status 6 "completed", a 64-hex ``txId``): ``amount`` leaves the exchange and the
network fee goes to the fee pool (see ``ledger.py``).

Rejections are HTTP 400 with Binance's -4xxx codes, checked in this order; every message
names the cause:

======  ======================================================================
-4018   the coin is unknown or not withdrawable at all
-4019   the network is not one of the coin's networks, or is not withdrawable
-4007   the address does not match the network's ``addressRegex``
-4008   the address tag (memo) is missing where required, or malformed
-4022   the amount is below the network's ``withdrawMin``
-4023   the amount is above the network's ``withdrawMax``
-4021   the amount has more decimals than the network allows (``withdrawIntegerMultiple``)
-4026   amount + network fee exceeds the free balance
======  ======================================================================
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from decimal import Decimal

from ..errors import withdraw_error
from ..numbers import fmt
from .store import WithdrawalRow

__all__ = ["Network", "Coin", "COINS", "validate", "new_row", "history_json", "coin_json",
           "PROCESSING", "COMPLETED", "PROCESSING_MS", "format_time"]

PROCESSING, COMPLETED = 4, 6
PROCESSING_MS = 3000
"""How long a withdrawal stays "processing" before it completes."""

_EVM = r"^(0x)[0-9A-Fa-f]{40}$"
_TRON = r"^T[1-9A-HJ-NP-Za-km-z]{33}$"


@dataclass(frozen=True, slots=True)
class Network:
    network: str
    name: str
    fee: Decimal
    min: Decimal
    max: Decimal
    address_regex: str
    memo_regex: str = ""
    is_default: bool = False
    enabled: bool = True
    multiple: Decimal = Decimal("0.00000001")
    """``withdrawIntegerMultiple``: the amount's granularity."""

    def check_address(self, address: str) -> bool:
        return re.fullmatch(self.address_regex.strip("^$"), address) is not None


@dataclass(frozen=True, slots=True)
class Coin:
    coin: str
    name: str
    networks: tuple[Network, ...]

    @property
    def default(self) -> Network | None:
        return next((n for n in self.networks if n.is_default), None)

    @property
    def withdrawable(self) -> bool:
        return any(n.enabled for n in self.networks)


def _n(network: str, name: str, fee: str, mn: str, mx: str, regex: str, *, default: bool = False,
       enabled: bool = True, memo: str = "", multiple: str = "0.00000001") -> Network:
    return Network(network, name, Decimal(fee), Decimal(mn), Decimal(mx), regex, memo, default,
                   enabled, Decimal(multiple))


COINS: dict[str, Coin] = {c.coin: c for c in [
    Coin("USDT", "TetherUS", (
        _n("TRX", "Tron (TRC20)", "1", "10", "10000000", _TRON, default=True),
        _n("ETH", "Ethereum (ERC20)", "4.5", "10", "10000000", _EVM),
        _n("BSC", "BNB Smart Chain (BEP20)", "0.8", "10", "10000000", _EVM),
    )),
    Coin("BTC", "Bitcoin", (
        _n("BTC", "Bitcoin", "0.0002", "0.001", "10000", r"^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}$",
           default=True),
    )),
    Coin("ETH", "Ethereum", (
        _n("ETH", "Ethereum (ERC20)", "0.0015", "0.01", "10000", _EVM, default=True),
    )),
    Coin("BTT", "BitTorrent (New)", (
        _n("TRX", "Tron (TRC20)", "2000000", "4000000", "100000000000", _TRON, default=True,
           multiple="1"),
        _n("BSC", "BNB Smart Chain (BEP20)", "1000000", "2000000", "100000000000", _EVM,
           multiple="1"),
    )),
    Coin("TRX", "TRON", (
        _n("TRX", "Tron (TRC20)", "1", "10", "10000000", _TRON, default=True, multiple="0.000001"),
    )),
    Coin("BNB", "BNB", (
        _n("BSC", "BNB Smart Chain (BEP20)", "0.0005", "0.01", "100000", _EVM, default=True),
    )),
    Coin("XRP", "Ripple", (
        _n("XRP", "Ripple", "0.2", "25", "10000000", r"^r[1-9A-HJ-NP-Za-km-z]{24,34}$",
           default=True, memo=r"^((?!0)[0-9]{1,10})$", multiple="0.000001"),
    )),
    Coin("LTC", "Litecoin", (
        _n("LTC", "Litecoin", "0.001", "0.002", "100000", r"^(L|M|3|ltc1)[A-Za-z0-9]{25,62}$",
           default=True),
    )),
    Coin("MATIC", "Polygon (migrated to POL)", (
        _n("MATIC", "Polygon", "0.1", "20", "1000000", _EVM, default=True, enabled=False),
    )),
]}


def validate(coin: str, network: str | None, address: str, address_tag: str | None,
             amount: Decimal, free: Decimal) -> Network:
    """The network to use, or ApiError -4xxx naming why the withdrawal is refused."""
    spec = COINS.get(coin)
    if spec is None or not spec.withdrawable:
        raise withdraw_error(-4018, f"Coin {coin} is not withdrawable.")
    if network is None or network == "":
        net = spec.default
        if net is None:  # pragma: no cover - every configured coin has a default
            raise withdraw_error(-4019, f"Coin {coin} has no default network; send 'network'.")
    else:
        net = next((n for n in spec.networks if n.network == network), None)
        if net is None:
            raise withdraw_error(-4019, f"Network {network} is not withdrawable for coin {coin}.")
    if not net.enabled:
        raise withdraw_error(-4019, f"Network {net.network} is not withdrawable for coin {coin}.")
    if not net.check_address(address):
        raise withdraw_error(-4007, f"Invalid address: {address!r} is not a valid "
                                    f"{net.network} address for {coin}.")
    if net.memo_regex:
        if not address_tag or re.fullmatch(net.memo_regex.strip("^$"), address_tag) is None:
            raise withdraw_error(-4008, f"Invalid address tag: network {net.network} needs a valid "
                                        f"addressTag (memo).")
    if amount < net.min:
        raise withdraw_error(-4022, f"Withdrawal amount is below the minimum of {fmt(net.min)} {coin}.")
    if amount > net.max:
        raise withdraw_error(-4023, f"Withdrawal amount is above the maximum of {fmt(net.max)} {coin}.")
    if amount % net.multiple:
        raise withdraw_error(-4021, f"Withdrawal amount must be a multiple of {fmt(net.multiple)} {coin}.")
    if amount + net.fee > free:
        raise withdraw_error(-4026, f"Insufficient balance: amount plus the network fee "
                                    f"({fmt(net.fee)} {coin}) exceeds the free {coin} balance.")
    return net


def new_row(seq: int, account_id: int, coin: str, net: Network, address: str,
            address_tag: str | None, amount: Decimal, withdraw_order_id: str | None,
            now_ms: int) -> WithdrawalRow:
    """A new withdrawal in status 4 (processing).  The id is a hash of the sequence number,
    account and time: unique, 32 hex characters, and reproducible (deterministic replays)."""
    wid = hashlib.sha256(f"wd:{seq}:{account_id}:{now_ms}".encode()).hexdigest()[:32]
    return WithdrawalRow(
        id=wid, account_id=account_id, coin=coin, network=net.network, address=address,
        address_tag=address_tag or "", amount=amount, fee=net.fee, status=PROCESSING, tx_id="",
        apply_ms=now_ms, complete_ms=0, withdraw_order_id=withdraw_order_id or "", info="", seq=seq)


def tx_id(row: WithdrawalRow) -> str:
    """A fake on-chain transaction id (64 hex)."""
    return hashlib.sha256(f"tx:{row.id}".encode()).hexdigest()


def format_time(ms: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def history_json(row: WithdrawalRow) -> dict:
    """One ``withdraw/history`` entry.  ``completeTime`` only once completed (as Binance)."""
    out = {
        "id": row.id, "amount": fmt(row.amount), "transactionFee": fmt(row.fee),
        "coin": row.coin, "status": row.status, "address": row.address,
        "addressTag": row.address_tag, "txId": row.tx_id, "applyTime": format_time(row.apply_ms),
        "network": row.network, "transferType": 0, "withdrawOrderId": row.withdraw_order_id,
        "info": row.info, "confirmNo": 1 if row.status == COMPLETED else 0,
        "walletType": 0, "txKey": "",
    }
    if row.status == COMPLETED:
        out["completeTime"] = format_time(row.complete_ms)
    return out


def coin_json(asset: str, free: Decimal, locked: Decimal, withdrawing: Decimal) -> dict:
    """One ``capital/config/getall`` entry."""
    spec = COINS.get(asset)
    nets = spec.networks if spec else ()
    return {
        "coin": asset, "name": spec.name if spec else asset,
        "free": fmt(free), "locked": fmt(locked), "freeze": "0.00000000",
        "withdrawing": fmt(withdrawing), "ipoing": "0.00000000", "ipoable": "0.00000000",
        "storage": "0.00000000", "isLegalMoney": False, "trading": True,
        "depositAllEnable": False, "withdrawAllEnable": bool(spec and spec.withdrawable),
        "networkList": [{
            "network": n.network, "coin": asset, "name": n.name, "isDefault": n.is_default,
            "depositEnable": False, "withdrawEnable": n.enabled, "withdrawFee": fmt(n.fee),
            "withdrawMin": fmt(n.min), "withdrawMax": fmt(n.max),
            "withdrawIntegerMultiple": fmt(n.multiple), "addressRegex": n.address_regex,
            "memoRegex": n.memo_regex, "sameAddress": bool(n.memo_regex),
            "busy": False, "minConfirm": 1, "unLockConfirm": 0,
        } for n in nets],
    }


