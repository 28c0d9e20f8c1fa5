"""Pre-flight of stop, take-profit, trailing and OCO orders: rounding, the messages the order
form shows (field-tagged), and rules read from the real paper exchange's exchangeInfo."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from btx_tui.api.preflight import (
    LegInput,
    SymbolRules,
    Trigger,
    check_oco,
    check_stop_order,
    describe_stop,
    round_stop_price,
    trigger_of,
)

D = Decimal
TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
RULES = SymbolRules(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", order_types=TYPES,
                    tick_size=D("0.01"), min_price=D("0.01"), max_price=D("1000000"),
                    step_size=D("0.00001"), min_qty=D("0.00001"), max_qty=D("9000"), min_notional=D("5"),
                    max_num_orders=200, oco_allowed=True, allow_trailing_stop=True,
                    trailing_above=(10, 2000), trailing_below=(10, 2000))


@pytest.mark.parametrize("side,type,trigger", [
    ("BUY", "STOP_LOSS", Trigger.ABOVE), ("SELL", "TAKE_PROFIT_LIMIT", Trigger.ABOVE),
    ("SELL", "STOP_LOSS_LIMIT", Trigger.BELOW), ("BUY", "TAKE_PROFIT", Trigger.BELOW),
])
def test_trigger_direction_follows_the_standard(side, type, trigger) -> None:
    assert trigger_of(side, type) is trigger


@given(stop=st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=6, allow_nan=False,
                        allow_infinity=False))
def test_stop_price_rounding_never_fires_earlier(stop: Decimal) -> None:
    up = round_stop_price(stop, D("0.01"), "BUY", "STOP_LOSS")  # fires on a rise: never lower
    down = round_stop_price(stop, D("0.01"), "SELL", "STOP_LOSS")  # fires on a fall: never higher
    assert up % D("0.01") == 0 and up >= stop and up - stop < D("0.01")
    assert down % D("0.01") == 0 and down <= stop and stop - down < D("0.01")


def test_stop_limit_is_rounded_and_previewed() -> None:
    r = check_stop_order(RULES, side="SELL", type="STOP_LOSS_LIMIT", quantity=D("0.5000012"),
                         price=D("62000.004"), stop_price=D("62100.009"), last_price=D("63000"),
                         free_balances={"BTC": D("1")})
    assert r.ok, r.problems
    assert (r.quantity, r.price, r.stop_price) == (D("0.50000"), D("62000.01"), D("62100.00"))
    assert r.quantity_adjusted and r.price_adjusted and r.stop_price_adjusted
    assert r.trigger is Trigger.BELOW and r.time_in_force == "GTC"
    assert describe_stop(r, "BTC") == "sells 0.5 BTC at ≥ 62,000.01 if the last price falls to 62,100"
    req = r.to_request()
    assert dict(req.to_params())["stopPrice"] == "62100" and dict(req.to_params())["timeInForce"] == "GTC"


def test_would_trigger_immediately() -> None:
    r = check_stop_order(RULES, side="SELL", type="STOP_LOSS", quantity=D("0.1"), stop_price=D("64000"),
                         last_price=D("63000"))
    assert r.problems_for("stop_price") == (
        "Would trigger immediately: the last price 63,000 is already at or below the stop price 64,000",)
    r = check_stop_order(RULES, side="BUY", type="STOP_LOSS", quantity=D("0.1"), stop_price=D("62000"),
                         last_price=D("63000"))
    assert r.problems_for("stop_price") == (
        "Would trigger immediately: the last price 63,000 is already at or above the stop price 62,000",)
    with pytest.raises(ValueError, match="pre-flight problems"):
        r.to_request()


def test_missing_trigger_trailing_bounds_and_fields_that_do_not_apply() -> None:
    r = check_stop_order(RULES, side="SELL", type="STOP_LOSS", quantity=D("0.1"), price=D("60000"),
                         time_in_force="GTC")
    assert r.problems_for("stop_price") == ("Enter a stop price or a trailing delta",)
    assert r.problems_for("price") == ("A STOP_LOSS order takes no price (it trades at market once triggered)",)
    assert r.problems_for("time_in_force") == ("Time in force does not apply to STOP_LOSS orders",)
    r = check_stop_order(RULES, side="SELL", type="STOP_LOSS", quantity=D("0.1"), trailing_delta=5000)
    assert r.problems_for("trailing_delta") == (
        "Trailing delta must be between 0.1 % (10 bps) and 20 % (2000 bps)",)
    no_trailing = RULES.model_copy(update={"allow_trailing_stop": False})
    r = check_stop_order(no_trailing, side="SELL", type="STOP_LOSS", quantity=D("0.1"), trailing_delta=100)
    assert r.problems_for("trailing_delta") == ("BTCUSDT does not allow trailing stops",)
    r = check_stop_order(RULES, side="BUY", type="LIMIT", quantity=D("0.1"), price=D("60000"),
                         stop_price=D("61000"))
    assert r.problems_for("stop_price") == ("A LIMIT order takes no stop price",)
    r = check_stop_order(RULES, side="SELL", type="TAKE_PROFIT_LIMIT", quantity=D("0.1"), stop_price=D("70000"))
    assert r.problems_for("price") == ("Enter a price above zero",)
    assert r.problems_for("stop_price") == ()


def test_trailing_preview_and_market_buy_reservation() -> None:
    r = check_stop_order(RULES, side="BUY", type="STOP_LOSS", quantity=D("1"), trailing_delta=200,
                         last_price=D("60000"), free_balances={"USDT": D("64000")})
    assert describe_stop(r, "BTC") == ("buys 1 BTC at market if the last price rises 2 % (200 bps) "
                                       "from its lowest since placement")
    # 1 × 60,000 × 1.05 × 1.02 = 64,260 > 64,000 free
    assert r.problems_for("balance") == (
        "Not enough USDT: needs 64260, free 64000 (a market buy stop reserves 5 % above its stop price)",)
    r = check_stop_order(RULES, side="SELL", type="STOP_LOSS", quantity=D("0.00001"), stop_price=D("100"))
    assert r.problems_for("notional") == ("Order value 0.001 USDT is below the minimum 5 USDT",)


def test_oco_is_checked_as_one_order() -> None:
    ok = check_oco(RULES, side="SELL", quantity=D("0.5"), above=LegInput("LIMIT_MAKER", price=D("65000.001")),
                   below=LegInput("STOP_LOSS_LIMIT", price=D("61000"), stop_price=D("61500.009")),
                   last_price=D("63000"), free_balances={"BTC": D("0.5")}, open_orders=3)
    assert ok.ok, ok.problems
    assert (ok.above.price, ok.below.stop_price, ok.lock, ok.lock_asset) == (
        D("65000.01"), D("61500.00"), D("0.50000"), "BTC")
    req = ok.to_request()
    wire = dict(req.to_params())
    assert (wire["aboveType"], wire["abovePrice"], wire["belowStopPrice"], wire["belowTimeInForce"]) == (
        "LIMIT_MAKER", "65000.01", "61500", "GTC")
    assert "aboveTimeInForce" not in wire

    bad = check_oco(RULES, side="SELL", quantity=D("0.5"), above=LegInput("STOP_LOSS", stop_price=D("62000")),
                    below=LegInput("LIMIT_MAKER", price=D("64000")), last_price=D("63000"),
                    free_balances={"BTC": D("0.4")}, open_orders=199)
    assert bad.problems_for("above.type") == ("In a sell OCO the upper order is a limit-maker or take-profit",)
    assert bad.problems_for("below.type") == ("In a sell OCO the lower order is a stop-loss",)
    assert bad.problems_for("above.stop_price") == ("Must be above the last price 63,000 USDT",)
    assert bad.problems_for("below.price") == ("Must be below the last price 63,000 USDT",)
    assert bad.problems_for("balance") == (
        "Not enough BTC: the OCO locks 0.5 (one lock for both orders), free 0.4",)
    assert bad.problems_for("symbol") == ("An OCO needs room for 2 orders: 199 of 200 are open on BTCUSDT",)


def test_buy_oco_locks_the_larger_leg() -> None:
    r = check_oco(RULES, side="BUY", quantity=D("1"), above=LegInput("STOP_LOSS", stop_price=D("64000")),
                  below=LegInput("LIMIT_MAKER", price=D("60000")), last_price=D("63000"),
                  free_balances={"USDT": D("70000")})
    assert r.ok and (r.lock, r.lock_asset) == (D("67200"), "USDT")  # 64,000 × 1.05 > 60,000


async def test_rules_from_the_exchange_carry_the_new_capabilities(make_client) -> None:
    async with make_client(None) as c:
        info = (await c.exchange_info(symbol="BTCUSDT")).symbol("BTCUSDT")
    rules = SymbolRules.from_symbol_info(info)
    assert rules.oco_allowed and rules.allow_trailing_stop and rules.amend_allowed and rules.cancel_replace_allowed
    assert rules.trailing_above == (10, 2000) and rules.trailing_below == (10, 2000)
    assert {"STOP_LOSS", "TAKE_PROFIT_LIMIT"} <= set(rules.order_types)
