"""Price alerts: kinds, firing once, persistence, bad input and bad files."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from btx_tui.api.alerts import ALERTS_FILE, AlertBook, AlertError, AlertKind, AlertsFileError


def book(tmp_path: Path) -> AlertBook:
    return AlertBook.open(tmp_path)


def test_above_and_below_fire_once_at_their_price(tmp_path: Path) -> None:
    b = book(tmp_path)
    up = b.add("btcusdt", "above", D("95000"), 1, price="96,000.50")
    down = b.add("BTCUSDT", AlertKind.BELOW, D("95000"), 2, price=D("94000"))
    assert up.symbol == "BTCUSDT" and up.level == D("96000.50")
    assert b.evaluate({"BTCUSDT": D("96000.49")}, 10) == []
    fired = b.evaluate({"BTCUSDT": D("96000.50")}, 11)
    assert [a.id for a in fired] == [up.id] and fired[0].fired_ms == 11 and fired[0].fired_price == D("96000.50")
    assert b.evaluate({"BTCUSDT": D("97000")}, 12) == []  # once only
    assert [a.id for a in b.evaluate({"BTCUSDT": D("93000")}, 13)] == [down.id]
    assert all(a.fired for a in b.list())


def test_a_crossing_fires_only_when_the_price_passes_the_level_from_its_side(tmp_path: Path) -> None:
    b = book(tmp_path)
    from_below = b.add("ETHUSDT", "cross", D("2000"), 1, price="2100")
    from_above = b.add("ETHUSDT", "cross", D("2000"), 1, price="1900")
    assert b.evaluate({"ETHUSDT": D("1950")}, 2) == []
    assert [a.id for a in b.evaluate({"ETHUSDT": D("2100")}, 3)] == [from_below.id]
    assert [a.id for a in b.evaluate({"ETHUSDT": D("1899.99")}, 4)] == [from_above.id]
    with pytest.raises(AlertError, match="either side"):
        b.add("ETHUSDT", "cross", D("2000"), 5, price="2000")


def test_a_percentage_move_is_measured_from_the_price_when_set(tmp_path: Path) -> None:
    b = book(tmp_path)
    up = b.add("BTCUSDT", "move", D("100"), 1, pct="5")
    down = b.add("BTCUSDT", "move", D("100"), 1, pct="-2.5")
    assert up.level == D("105.00") and down.level == D("97.5000")
    assert b.evaluate({"BTCUSDT": D("104.99"), "ETHUSDT": D("1")}, 2) == []
    assert [a.id for a in b.evaluate({"BTCUSDT": D("105")}, 3)] == [up.id]
    assert [a.id for a in b.evaluate({"BTCUSDT": D("97.5")}, 4)] == [down.id]
    assert "+5%" in up.describe()


def test_alerts_persist_list_and_remove(tmp_path: Path) -> None:
    b = book(tmp_path)
    a1 = b.add("BTCUSDT", "above", D("1"), 1, price="2")
    a2 = b.add("ETHUSDT", "move", D("10"), 2, pct="1")
    b.evaluate({"BTCUSDT": D("2")}, 3)
    again = book(tmp_path)
    assert again.list() == b.list() and [a.id for a in again.list("ETHUSDT")] == [a2.id]
    assert again.list()[0].fired and again.list()[0].level == D("2")
    assert again.remove(a1.id).id == a1.id
    assert [a.id for a in book(tmp_path).list()] == [a2.id]
    with pytest.raises(AlertError, match="no alert"):
        again.remove(a1.id)
    assert not list(tmp_path.glob(".alerts.*"))  # no temporary file left behind


@pytest.mark.parametrize("args, message", [
    (("BTC-USDT", "above", D("1")), {"price": "2"}),
    (("BTCUSDT", "sideways", D("1")), {"price": "2"}),
    (("BTCUSDT", "above", D("0")), {"price": "2"}),
    (("BTCUSDT", "above", D("1")), {"price": "abc"}),
    (("BTCUSDT", "above", D("1")), {"price": "-3"}),
    (("BTCUSDT", "above", D("1")), {"pct": "3"}),
    (("BTCUSDT", "move", D("1")), {"pct": "0"}),
    (("BTCUSDT", "move", D("1")), {"pct": "-100"}),
    (("BTCUSDT", "move", D("1")), {"price": "2"}),
    (("BTCUSDT", "below", D("1")), {"price": "NaN"}),
])
def test_bad_alerts_are_refused_and_change_nothing(tmp_path: Path, args: tuple, message: dict) -> None:
    b = book(tmp_path)
    keep = b.add("BTCUSDT", "above", D("1"), 1, price="5")
    before = (tmp_path / ALERTS_FILE).read_bytes()
    with pytest.raises(AlertError):
        b.add(*args, 2, **message)
    assert b.list() == [keep] and (tmp_path / ALERTS_FILE).read_bytes() == before


@pytest.mark.parametrize("content", ["{not json", "[]", '{"version": 9, "alerts": []}',
                                     '{"version": 1, "alerts": [{"id": "x"}]}',
                                     '{"version": 1, "alerts": [{"id": "x", "symbol": "A", "kind": "up",'
                                     ' "level": "1", "ref_price": "1", "created_ms": 1}]}'])
def test_a_damaged_file_is_a_clear_error_not_a_crash(tmp_path: Path, content: str) -> None:
    (tmp_path / ALERTS_FILE).write_text(content)
    with pytest.raises(AlertsFileError, match="alerts file .* damaged"):
        AlertBook.open(tmp_path)
    assert (tmp_path / ALERTS_FILE).read_text() == content  # left for the user to inspect


def test_the_file_is_plain_json_with_exact_decimals(tmp_path: Path) -> None:
    b = book(tmp_path)
    b.add("BTTUSDT", "below", D("0.0000006123"), 1, price="0.0000006100")
    raw = json.loads((tmp_path / ALERTS_FILE).read_text())
    assert raw["version"] == 1 and raw["alerts"][0]["level"] == "0.0000006100"
    assert raw["alerts"][0]["ref_price"] == "0.0000006123"
