"""Pre-flight rounding (property-based) and the field-tagged checks."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from btx_tui.api.models_trading import CommissionRates
from btx_tui.api.preflight import SymbolRules, check_order, round_price, round_quantity

D = Decimal
TICKS = st.sampled_from([D("0.0000000001"), D("0.01"), D("0.01000000"), D("0.5"), D("1"), D("10.00000000"),
                         D("0.00000100")])
AMOUNTS = st.decimals(min_value=D("0.0000000001"), max_value=D("10000000"), places=12,
                      allow_nan=False, allow_infinity=False)


@given(price=AMOUNTS, tick=TICKS)
def test_buy_price_on_tick_never_above_asked(price: Decimal, tick: Decimal) -> None:
    r = round_price(price, tick, "BUY")
    assert r % tick == 0
    assert r <= price and price - r < tick
    assert "E" not in format(r, "f")


@given(price=AMOUNTS, tick=TICKS)
def test_sell_price_on_tick_never_below_asked(price: Decimal, tick: Decimal) -> None:
    r = round_price(price, tick, "SELL")
    assert r % tick == 0
    assert r >= price and r - price < tick


@given(qty=AMOUNTS, step=TICKS)
def test_quantity_never_rounded_up(qty: Decimal, step: Decimal) -> None:
    r = round_quantity(qty, step)
    assert r % step == 0
    assert r <= qty and qty - r < step


def test_rounding_keeps_exact_values_and_tick_decimals() -> None:
    assert round_price(D("100.12"), D("0.01000000"), "BUY") == D("100.12")
    assert str(round_price(D("100.129"), D("0.01000000"), "BUY")) == "100.12"
    assert str(round_price(D("100.121"), D("0.01"), "SELL")) == "100.13"
    assert round_price(D("0.00000061237"), D("0.0000000001"), "BUY") == D("0.0000006123")
    assert round_quantity(D("5"), D("0")) == D("5")  # a zero step means no constraint


BTC = SymbolRules(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
                  order_types=("LIMIT", "LIMIT_MAKER", "MARKET"), tick_size=D("0.01"), min_price=D("0.01"),
                  max_price=D("1000000"), step_size=D("0.00001"), min_qty=D("0.00001"), max_qty=D("9000"),
                  market_step_size=D("0.00001"), market_min_qty=D("0.00001"), market_max_qty=D("100"),
                  min_notional=D("5"), apply_min_to_market=True, max_notional=D("9000000"),
                  max_num_orders=200)
FUNDS = {"USDT": D("1000"), "BTC": D("0.5")}


def test_valid_limit_buy_with_costs_and_balances_after() -> None:
    r = check_order(BTC, side="BUY", type="LIMIT", quantity=D("0.0100009"), price=D("50000.019"),
                    free_balances=FUNDS)
    assert r.ok, r.problems
    assert (r.price, r.quantity) == (D("50000.01"), D("0.01"))
    assert r.price_adjusted and r.quantity_adjusted
    assert r.notional == D("500.0001")
    assert (r.commission, r.commission_asset) == (D("0.00001"), "BTC")
    assert r.balances_after["USDT"] == D("499.9999") and r.balances_after["BTC"] == D("0.50999")
    req = r.to_request()
    assert req.price == D("50000.01") and req.time_in_force == "GTC"


def test_below_minimum_quantity_is_field_tagged() -> None:
    r = check_order(BTC, side="BUY", type="LIMIT", quantity=D("0.000009"), price=D("50000"), free_balances=FUNDS)
    assert ("quantity", "Below the minimum quantity 0.00001 BTC") in [tuple(p) for p in r.problems]
    with pytest.raises(ValueError):
        r.to_request()


def test_price_bounds_notional_and_balance() -> None:
    r = check_order(BTC, side="BUY", type="LIMIT", quantity=D("1"), price=D("2000000"), free_balances=FUNDS)
    assert r.problems_for("price") == ("Above the maximum price 1000000 USDT",)
    r = check_order(BTC, side="BUY", type="LIMIT", quantity=D("0.0001"), price=D("100"), free_balances=FUNDS)
    assert r.problems_for("notional") == ("Order value 0.01 USDT is below the minimum 5 USDT",)
    r = check_order(BTC, side="BUY", type="LIMIT", quantity=D("1"), price=D("50000"), free_balances=FUNDS)
    assert r.problems_for("balance") == ("Not enough USDT: needs 50000, free 1000",)
    r = check_order(BTC, side="SELL", type="LIMIT", quantity=D("0.6"), price=D("50000"), free_balances=FUNDS)
    assert r.problems_for("balance") == ("Not enough BTC: needs 0.6, free 0.5",)


def test_market_orders_use_market_lot_size_and_reference_price() -> None:
    r = check_order(BTC, side="SELL", type="MARKET", quantity=D("150"), reference_price=D("50000"),
                    free_balances={"BTC": D("200")})
    assert r.problems_for("quantity") == ("Above the maximum quantity 100 BTC",)  # MARKET_LOT_SIZE, not 9000
    r = check_order(BTC, side="SELL", type="MARKET", quantity=D("0.00005"), reference_price=D("50000"),
                    free_balances=FUNDS)
    assert r.problems_for("notional")  # 2.5 USDT < 5, applyMinToMarket
    r = check_order(BTC, side="SELL", type="MARKET", quantity=D("0.1"), reference_price=D("50000"),
                    free_balances=FUNDS, commission_rates=CommissionRates(maker=D("0.001"), taker=D("0.002")))
    assert r.ok and r.commission == D("10") and r.commission_asset == "USDT"  # taker rate on 5000


def test_market_buy_by_quote_amount_needs_that_much_quote() -> None:
    r = check_order(BTC, side="BUY", type="MARKET", quote_order_qty=D("1500"), reference_price=D("50000"),
                    free_balances=FUNDS)
    assert r.problems_for("balance") == ("Not enough USDT: needs 1500, free 1000",)
    r = check_order(BTC, side="BUY", type="MARKET", quote_order_qty=D("100"), reference_price=D("50000"),
                    free_balances=FUNDS)
    assert r.ok and r.quote_order_qty == D("100") and r.quantity is None
    assert r.commission == D("0.000002")  # 0.002 BTC received × 0.1 %


def test_missing_fields_and_wrong_type() -> None:
    rules = BTC.model_copy(update={"order_types": ("LIMIT",), "status": "HALT"})
    r = check_order(rules, side="BUY", type="MARKET", price=D("1"))
    fields = {p.field for p in r.problems}
    assert {"symbol", "type", "price", "quantity"} <= fields


def test_max_num_orders() -> None:
    r = check_order(BTC, side="BUY", type="LIMIT", quantity=D("0.01"), price=D("1000"), open_orders=200)
    assert r.problems_for("symbol") == ("Already 200 open orders on BTCUSDT (maximum 200)",)
