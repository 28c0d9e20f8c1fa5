"""Valuing balances in the quote currency."""

from __future__ import annotations

from decimal import Decimal

from btx_tui.api.models_trading import Balance
from btx_tui.tui.widgets.balances import rate_to, valuation

PRICES = {"BTCUSDT": Decimal("95000"), "ETHBTC": Decimal("0.036"), "BTTTRX": Decimal("0.0000024"),
          "TRXUSDT": Decimal("0.25")}


def test_no_prices_yet_values_nothing_and_does_not_fail() -> None:
    balances = [Balance(asset="BTC", free=Decimal(1), locked=Decimal(0)),
                Balance(asset="USDT", free=Decimal(5), locked=Decimal(1))]
    assert valuation(balances, {}, "USDT") == {"BTC": None, "USDT": Decimal(6)}


def test_direct_inverse_and_bridged_rates() -> None:
    assert rate_to("BTC", "USDT", PRICES) == Decimal("95000")
    assert rate_to("USDT", "BTC", PRICES) == 1 / Decimal("95000")
    assert rate_to("ETH", "USDT", PRICES) == Decimal("0.036") * Decimal("95000")  # via BTC
    assert rate_to("BTT", "USDT", PRICES) == Decimal("0.0000024") * Decimal("0.25")  # via TRX
    assert rate_to("XYZ", "USDT", PRICES) is None


def test_locked_counts_in_the_value() -> None:
    value = valuation([Balance(asset="BTC", free=Decimal("0.1"), locked=Decimal("0.15"))], PRICES, "USDT")
    assert value == {"BTC": Decimal("23750.000")}
