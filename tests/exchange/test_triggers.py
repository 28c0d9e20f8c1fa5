"""The trigger book on its own (integers): stop-price conditions, trailing stops as the
standard's Trailing Stop FAQ scenarios describe them, removal, and deterministic order."""

from __future__ import annotations

import pytest

from btx_tui.exchange.state.triggers import ABOVE, BELOW, Trigger, TriggerBook


def ids(fired: list[Trigger]) -> list[int]:
    return [t.order_id for t in fired]


def test_above_fires_at_or_over_the_stop_and_below_at_or_under():
    tb = TriggerBook("X")
    tb.add(Trigger(1, sell=False, direction=ABOVE, stop=110))   # STOP_LOSS BUY
    tb.add(Trigger(2, sell=True, direction=BELOW, stop=90))     # STOP_LOSS SELL
    assert tb.on_price(109) == [] and tb.on_price(91) == []
    assert ids(tb.on_price(110)) == [1]
    assert ids(tb.on_price(90)) == [2]
    assert len(tb) == 0 and tb.on_price(50) == []


def test_one_price_fires_every_crossed_stop_in_order_id_order():
    tb = TriggerBook("X")
    for oid, stop in ((7, 95), (3, 99), (5, 97), (9, 80)):
        tb.add(Trigger(oid, sell=True, direction=BELOW, stop=stop))
    assert ids(tb.on_price(95)) == [3, 5, 7]
    assert [t.order_id for t in tb.triggers()] == [9]


def test_removed_trigger_never_fires():
    tb = TriggerBook("X")
    tb.add(Trigger(1, sell=True, direction=BELOW, stop=90))
    tb.add(Trigger(2, sell=True, direction=BELOW, stop=90))
    assert tb.remove(1) is not None and tb.remove(1) is None
    assert ids(tb.on_price(80)) == [2]


def test_trailing_sell_without_stop_price_scenario_e():
    # Placed at 40,000 with 700 bps: new highs move the trigger; 7 % below the high fires.
    tb = TriggerBook("X")
    tb.add(Trigger(1, sell=True, direction=BELOW, delta=700, extreme=40_000))
    assert tb.on_price(42_000) == [] and tb.get(1).extreme == 42_000
    assert tb.moved == {1}
    tb.moved.clear()
    assert tb.on_price(39_500) == []          # ~595 bps below 42,000: not enough
    assert tb.on_price(45_500) == []
    assert tb.on_price(42_316) == []          # just above 45,500 * 0.93 = 42,315
    assert ids(tb.on_price(42_315)) == [1]


def test_trailing_buy_with_activation_price_scenario_a():
    # STOP_LOSS_LIMIT BUY, stop 44,000, 500 bps: ignores moves until a trade >= 44,000.
    tb = TriggerBook("X")
    tb.add(Trigger(1, sell=False, direction=ABOVE, stop=44_000, delta=500))
    assert tb.on_price(37_000) == [] and not tb.get(1).tracking
    assert tb.on_price(44_000) == []
    trig = tb.get(1)
    assert trig.tracking and trig.extreme == 44_000 and tb.moved == {1}
    assert tb.on_price(46_000) == []          # ~454 bps above the low
    assert tb.on_price(42_000) == [] and trig.extreme == 42_000
    assert tb.on_price(44_099) == []
    assert ids(tb.on_price(44_100)) == [1]   # 42,000 * 1.05


def test_trailing_take_profit_sell_scenario_d():
    tb = TriggerBook("X")
    tb.add(Trigger(1, sell=True, direction=ABOVE, stop=42_000, delta=750))
    for price in (41_500, 39_000):
        assert tb.on_price(price) == []
    assert tb.on_price(45_000) == [] and tb.get(1).extreme == 45_000
    assert tb.on_price(44_000) == []
    assert tb.on_price(46_500) == []
    assert ids(tb.on_price(43_012)) == [1]   # <= 46,500 * 0.925 = 43,012.5


def test_restored_tracking_trailing_keeps_its_extreme():
    tb = TriggerBook("X")
    tb.add(Trigger(1, sell=True, direction=BELOW, stop=39_000, delta=1000, extreme=41_000,
                   tracking=True))
    assert ids(tb.on_price(36_900)) == [1]


def test_bad_triggers_are_programming_errors():
    tb = TriggerBook("X")
    with pytest.raises(ValueError):
        tb.add(Trigger(1, sell=True, direction=BELOW))           # neither stop nor delta
    with pytest.raises(ValueError):
        tb.add(Trigger(2, sell=True, direction=0, stop=5))
    tb.add(Trigger(3, sell=True, direction=BELOW, stop=5))
    with pytest.raises(ValueError):
        tb.add(Trigger(3, sell=True, direction=BELOW, stop=5))
