"""The standard's local-book sync rules (``order_book_sync.py``) on hand-made events: the
REST-shaped ``Depth`` it produces, stale/duplicate events dropped, every gap refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btx_tui.api.models import Depth
from btx_tui.api.streams import BookOutOfSync, OrderBookSync

D = Decimal


def _snapshot(last: int) -> Depth:
    return Depth.model_validate({"lastUpdateId": last, "bids": [["100.0", "1"], ["99.0", "2"]],
                                 "asks": [["101.0", "1"]]})


def _diff(first: int, last: int, bids=(), asks=()) -> dict:  # type: ignore[no-untyped-def]
    return {"e": "depthUpdate", "E": 1, "s": "X", "U": first, "u": last, "b": list(bids), "a": list(asks)}


def test_buffered_events_before_the_snapshot_are_dropped_and_the_straddling_one_applied() -> None:
    book = OrderBookSync("X")
    assert not book.feed(_diff(5, 8, bids=[["98.0", "5"]]))  # older than the snapshot: dropped
    assert not book.feed(_diff(9, 12, bids=[["100.0", "0"]], asks=[["102.0", "3"]]))
    assert book.needs_snapshot
    assert book.apply_snapshot(_snapshot(10))
    depth = book.depth()
    assert depth.last_update_id == 12
    assert [(p, q) for p, q in depth.bids] == [(D("99.0"), D("2"))]  # 100 removed, 98 never applied
    assert [(p, q) for p, q in depth.asks] == [(D("101.0"), D("1")), (D("102.0"), D("3"))]
    assert depth == Depth.model_validate({"lastUpdateId": 12, "bids": [["99.0", "2"]],
                                          "asks": [["101.0", "1"], ["102.0", "3"]]})


def test_a_duplicate_is_ignored_and_a_gap_or_reorder_is_refused() -> None:
    book = OrderBookSync("X")
    book.feed(_diff(11, 11))
    assert book.apply_snapshot(_snapshot(10))
    assert book.feed(_diff(12, 13, bids=[["99.5", "1"]]))
    assert not book.feed(_diff(12, 13, bids=[["99.5", "7"]]))  # duplicate: nothing new
    assert book.depth().bids[1] == (D("99.5"), D("1"))
    with pytest.raises(BookOutOfSync, match="gap"):
        book.feed(_diff(15, 16))  # 14 is missing (dropped, or reordered after 15)


def test_a_snapshot_older_than_every_buffered_event_is_refused() -> None:
    book = OrderBookSync("X")
    book.feed(_diff(20, 22))
    with pytest.raises(BookOutOfSync, match="does not meet"):
        book.apply_snapshot(_snapshot(10))


def test_quiet_market_after_subscribing_the_snapshot_is_the_book() -> None:
    book = OrderBookSync("X")
    assert book.apply_snapshot(_snapshot(10), subscribed_before=True)
    assert book.depth().last_update_id == 10
    assert book.feed(_diff(9, 11, asks=[["101.0", "0"]]))  # the next event straddles 11
    assert book.depth().asks == ()
    with pytest.raises(BookOutOfSync):
        OrderBookSync("Y").depth()
