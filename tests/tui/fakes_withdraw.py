"""A deterministic stand-in for the exchange, for the withdraw screen's snapshot test.

Only the three wallet calls the screen makes exist; the data is fixed (coins, balances,
one completed and one processing withdrawal with fixed times), so the picture cannot
change between runs. The host app is a bare ``App`` with a ``client`` attribute — the only
thing :class:`WithdrawScreen` needs from its app.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from textual.app import App

from btx_tui.api.models_trading import CoinConfig, Withdrawal, WithdrawApplyResult
from btx_tui.tui.screens.withdraw import WithdrawScreen

_TRON = r"^T[1-9A-HJ-NP-Za-km-z]{33}$"
_EVM = r"^(0x)[0-9A-Fa-f]{40}$"

COINS: tuple[CoinConfig, ...] = tuple(CoinConfig.model_validate(c) for c in [
    {"coin": "BTC", "name": "Bitcoin", "free": "0.25000000", "locked": "0", "withdrawAllEnable": True,
     "networkList": [{"network": "BTC", "coin": "BTC", "isDefault": True, "withdrawEnable": True,
                      "withdrawFee": "0.0002", "withdrawMin": "0.001", "withdrawMax": "10000",
                      "addressRegex": r"^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}$", "memoRegex": ""}]},
    {"coin": "MATIC", "name": "Polygon", "free": "5", "locked": "0", "withdrawAllEnable": False,
     "networkList": [{"network": "MATIC", "coin": "MATIC", "isDefault": True, "withdrawEnable": False,
                      "withdrawFee": "0.1", "withdrawMin": "20", "withdrawMax": "1000000",
                      "addressRegex": _EVM, "memoRegex": ""}]},
    {"coin": "USDT", "name": "TetherUS", "free": "10000.00000000", "locked": "0", "withdrawAllEnable": True,
     "networkList": [
         {"network": "TRX", "coin": "USDT", "isDefault": True, "withdrawEnable": True, "withdrawFee": "1",
          "withdrawMin": "10", "withdrawMax": "10000000", "addressRegex": _TRON, "memoRegex": ""},
         {"network": "ETH", "coin": "USDT", "isDefault": False, "withdrawEnable": True, "withdrawFee": "4.5",
          "withdrawMin": "10", "withdrawMax": "10000000", "addressRegex": _EVM, "memoRegex": ""}]},
])

HISTORY: tuple[Withdrawal, ...] = tuple(Withdrawal.model_validate(w) for w in [
    {"id": "a" * 32, "amount": "25.00000000", "transactionFee": "1.00000000", "coin": "USDT", "status": 6,
     "address": "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "txId": "f" * 64, "applyTime": "2024-05-01 10:00:00",
     "network": "TRX", "withdrawOrderId": "btxwold", "completeTime": "2024-05-01 10:00:03"},
    {"id": "b" * 32, "amount": "0.01000000", "transactionFee": "0.00020000", "coin": "BTC", "status": 4,
     "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "txId": "", "applyTime": "2024-05-02 09:30:00",
     "network": "BTC", "withdrawOrderId": "btxwnew"},
])


class FakeWalletClient:
    """Answers the wallet endpoints from fixed data; records withdrawals it is asked for.

    Set ``history_error`` / ``config_error`` / ``apply_error`` to make a call raise instead
    (a lost network, garbage, a rejection); ``history_calls`` counts the polls.
    """

    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []
        self.history: tuple[Withdrawal, ...] = HISTORY
        self.history_error: BaseException | None = None
        self.config_error: BaseException | None = None
        self.apply_error: BaseException | None = None
        self.history_calls = 0

    async def capital_config(self) -> tuple[CoinConfig, ...]:
        if self.config_error is not None:
            raise self.config_error
        return COINS

    async def withdraw_history(self, **_: Any) -> tuple[Withdrawal, ...]:
        self.history_calls += 1
        if self.history_error is not None:
            raise self.history_error
        return self.history

    async def withdraw_apply(self, coin: str, address: str, amount: Decimal, **kw: Any) -> WithdrawApplyResult:
        self.applied.append({"coin": coin, "address": address, "amount": amount, **kw})
        if self.apply_error is not None:
            raise self.apply_error
        return WithdrawApplyResult(id="c" * 32)


class WithdrawHostApp(App[None]):
    """A bare app that opens the withdraw screen on a fake client (no feeds, no clock on screen)."""

    def __init__(self, interval_s: float = 3600) -> None:
        super().__init__()
        self.client = FakeWalletClient()
        self.interval_s = interval_s

    def on_mount(self) -> None:
        self.push_screen(WithdrawScreen(client=lambda: self.client, interval_s=self.interval_s))
