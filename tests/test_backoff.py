"""The one backoff policy: exponential from the first delay, jittered inside its band, capped."""

from __future__ import annotations

import pytest

from btx_tui.backoff import Backoff


def test_delays_double_inside_a_half_to_full_band_until_the_cap() -> None:
    policy = Backoff(first_s=1.0, cap_s=8.0)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (40, 8.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
        assert len(set(delays)) > 1, f"attempt {attempt}: no jitter"
    assert policy.ceiling(1000) == 8.0  # no overflow, still capped


def test_the_floor_holds_and_never_exceeds_the_cap() -> None:
    feed = Backoff(first_s=30.0, cap_s=8.0, floor_s=15.0)  # a 15 s feed: retried within the cap
    assert all(8.0 / 2 <= feed.delay(1) <= 8.0 for _ in range(100))
    floored = Backoff(first_s=0.2, cap_s=8.0, floor_s=1.0)
    assert all(1.0 <= floored.delay(1) <= 1.0 for _ in range(100))  # the band is below the floor


def test_full_jitter_spreads_from_zero() -> None:
    policy = Backoff(first_s=4.0, cap_s=4.0, spread=1.0)
    delays = [policy.delay(1) for _ in range(500)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert min(delays) < 1.0 < 3.0 < max(delays)


@pytest.mark.parametrize("attempt", [0, -3])
def test_attempts_below_one_count_as_the_first(attempt: int) -> None:
    assert Backoff(first_s=2.0, cap_s=10.0).ceiling(attempt) == 2.0
