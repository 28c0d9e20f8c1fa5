"""Weight windows, order counts, 429 and 418 bans (btx_tui.exchange.http.ratelimit)."""

from __future__ import annotations

import pytest

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.ratelimit import Limits, RateLimiter

T0 = 1_700_000_040_000


def minute_start(ms: int) -> int:
    return ms - ms % 60_000


def test_weight_counts_and_resets_each_minute() -> None:
    rl = RateLimiter(Limits(weight_per_minute=10))
    t = minute_start(T0) + 1_000
    rl.charge("1.2.3.4", 4, t)
    rl.charge("1.2.3.4", 6, t + 1)
    assert rl.used_weight("1.2.3.4", t + 2) == 10
    assert rl.used_weight("5.6.7.8", t + 2) == 0
    assert rl.used_weight("1.2.3.4", t + 60_000) == 0
    rl.charge("1.2.3.4", 10, t + 60_000)
    assert rl.used_weight("1.2.3.4", t + 60_000) == 10


def test_over_limit_is_429_with_retry_after_until_window_end() -> None:
    rl = RateLimiter(Limits(weight_per_minute=5))
    t = minute_start(T0) + 45_500
    rl.charge("ip", 5, t)
    with pytest.raises(ApiError) as exc:
        rl.charge("ip", 1, t)
    err = exc.value
    assert (err.http_status, err.code) == (429, -1003)
    assert err.msg == "Too much request weight used; current limit is 5 request weight per 1 MINUTE."
    assert err.headers["Retry-After"] == "15"  # 14.5 s rounded up
    assert rl.used_weight("ip", t) == 5  # refused requests do not count


def test_keeps_sending_during_retry_after_gets_banned_and_bans_double() -> None:
    rl = RateLimiter(Limits(weight_per_minute=1, ban_grace=1, ban_base_ms=120_000))
    t = minute_start(T0) + 10_000
    rl.charge("ip", 1, t)
    with pytest.raises(ApiError) as exc:
        rl.charge("ip", 1, t + 1)
    assert exc.value.http_status == 429
    with pytest.raises(ApiError) as exc:  # strike 1: within grace
        rl.charge("ip", 1, t + 2)
    assert exc.value.http_status == 429
    with pytest.raises(ApiError) as exc:  # strike 2: banned
        rl.charge("ip", 1, t + 3)
    err = exc.value
    assert (err.http_status, err.code) == (418, -1003)
    until = t + 3 + 120_000
    assert err.msg == f"Way too much request weight used; IP banned until {until}."
    assert err.headers["Retry-After"] == "120"
    with pytest.raises(ApiError) as exc:
        rl.check_ban("ip", until - 1)
    assert exc.value.http_status == 418 and exc.value.headers["Retry-After"] == "1"
    rl.check_ban("other-ip", t + 4)  # other clients unaffected
    rl.check_ban("ip", until)  # ban over

    # Offend again: the second ban lasts twice as long.
    t2 = minute_start(until) + 60_000
    rl.charge("ip", 1, t2)
    for offset in (1, 2):
        with pytest.raises(ApiError):
            rl.charge("ip", 1, t2 + offset)
    with pytest.raises(ApiError) as exc:
        rl.charge("ip", 1, t2 + 3)
    assert exc.value.http_status == 418
    assert exc.value.headers["Retry-After"] == "240"


def test_waiting_for_retry_after_avoids_a_ban() -> None:
    rl = RateLimiter(Limits(weight_per_minute=1, ban_grace=0))
    t = minute_start(T0) + 59_000
    rl.charge("ip", 1, t)
    with pytest.raises(ApiError) as exc:
        rl.charge("ip", 1, t + 10)
    assert exc.value.headers["Retry-After"] == "1"
    rl.charge("ip", 1, minute_start(T0) + 60_000)  # after the window: accepted, no ban
    assert rl.used_weight("ip", minute_start(T0) + 60_000) == 1


def test_order_limits_per_account() -> None:
    rl = RateLimiter(Limits(orders_per_10s=2, orders_per_day=3))
    t = 1_700_000_000_000  # a multiple of 10 s
    assert t % 10_000 == 0
    rl.check_order(1, t)
    assert rl.add_order(1, t) == (1, 1)
    assert rl.add_order(1, t + 1) == (2, 2)
    with pytest.raises(ApiError) as exc:
        rl.check_order(1, t + 2_500)
    err = exc.value
    assert (err.http_status, err.code) == (429, -1015)
    assert err.msg == "Too many new orders; current limit is 2 orders per 10 SECOND."
    assert err.headers["Retry-After"] == "8"
    rl.check_order(2, t + 2)  # another account is unaffected
    rl.check_order(1, t + 10_000)  # next 10 s window
    assert rl.add_order(1, t + 10_000) == (1, 3)
    with pytest.raises(ApiError) as exc:
        rl.check_order(1, t + 20_000)
    assert exc.value.msg == "Too many new orders; current limit is 3 orders per 1 DAY."
    assert rl.order_counts(1, t + 20_000) == (0, 3)


def test_rate_limits_description_uses_configured_values() -> None:
    described = Limits(weight_per_minute=7).rate_limits()
    assert described[0] == {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                            "intervalNum": 1, "limit": 7}
    assert [d["limit"] for d in described[1:]] == [50, 160_000]
