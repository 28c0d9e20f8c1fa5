"""Connection health from feed state, and the default polling plan's request weight."""

from __future__ import annotations

import time

from btx_tui.api.errors import NetworkError, ServerError
from btx_tui.api.ratebudget import request_weight
from btx_tui.config import Settings
from btx_tui.tui.feeds import Feed
from btx_tui.tui.fetchers import BOOK_LIMIT, KLINES_LIMIT, TRADES_LIMIT
from btx_tui.tui.connection_health import connection_state, short_error


async def _noop() -> tuple[str, object]:
    return "", None


def feed(name: str, *, ok_ago: float | None = None, failing_for: float | None = None,
         error: BaseException | None = None) -> Feed:
    f = Feed(name, 1.0, _noop)
    now = time.monotonic()
    f.last_ok = now - ok_ago if ok_ago is not None else None
    if failing_for is not None:
        f.failing_since = now - failing_for
        f.last_error = error or NetworkError("Could not connect", maybe_sent=False)
        f.failures = 1
    return f


def test_live_when_every_feed_succeeds() -> None:
    assert connection_state([feed("a", ok_ago=1), feed("b", ok_ago=2)], False, True) == ("live", "")


def test_degraded_when_some_fail_while_others_still_succeed() -> None:
    state, error = connection_state(
        [feed("a", ok_ago=0.5), feed("b", ok_ago=9, failing_for=3, error=ServerError("x", http_status=503))],
        False, True)
    assert state == "degraded" and error == "HTTP 503"


def test_down_when_nothing_succeeded_since_the_failures_began() -> None:
    # "slow" has not tried since the outage began (long interval) and still counts as ok,
    # but its last success is older than the first failure: the exchange is down.
    feeds = [feed("a", ok_ago=5, failing_for=3), feed("slow", ok_ago=8)]
    assert connection_state(feeds, False, True) == ("down", "exchange unreachable")


def silent(name: str, *, ok_ago: float, fetching_for: float, timeout_s: float = 2.0) -> Feed:
    """A feed whose fetch has been in flight ``fetching_for`` s (a hung exchange)."""
    f = feed(name, ok_ago=ok_ago)
    f.timeout_s = timeout_s
    f.fetching_since = time.monotonic() - fetching_for
    return f


def test_silence_longer_than_interval_plus_timeout_is_degraded_then_down() -> None:
    # interval 1 s + timeout 2 s: 2.5 s without an answer is still fine
    assert connection_state([silent("a", ok_ago=2.5, fetching_for=1.5), feed("b", ok_ago=0.5)],
                            False, True) == ("live", "")
    assert connection_state([silent("a", ok_ago=4, fetching_for=3), feed("b", ok_ago=0.5)],
                            False, True) == ("degraded", "no answer")
    # silent for interval + 2 timeouts, and nothing else answered meanwhile: down
    assert connection_state([silent("a", ok_ago=6, fetching_for=5), silent("b", ok_ago=5.5, fetching_for=4)],
                            False, True) == ("down", "no answer")
    # ... but another feed still answering keeps it degraded
    assert connection_state([silent("a", ok_ago=6, fetching_for=5), feed("b", ok_ago=0.5)],
                            False, True)[0] == "degraded"


def test_a_pause_or_backoff_before_a_fetch_is_not_silence() -> None:
    # last answer 60 s ago (paused meanwhile), the fetch began 1 s ago: not overdue
    assert connection_state([silent("a", ok_ago=60, fetching_for=1)], False, True) == ("live", "")


def test_paused_and_connecting() -> None:
    assert connection_state([feed("a", ok_ago=1)], True, True)[0] == "paused"
    assert connection_state([feed("a")], False, True)[0] == "connecting"
    assert connection_state([feed("a")], False, False)[0] == "connecting"


def test_short_errors_are_few_words() -> None:
    assert short_error(NetworkError("refused", maybe_sent=False)) == "exchange unreachable"
    assert short_error(ValueError("x")) == "ValueError"


def test_default_polling_uses_well_under_the_weight_limit() -> None:
    """At the default intervals the dashboard must leave room for trading and a second session."""
    ui = Settings().ui
    per_request = {
        "tickers": (ui.tickers_interval_s, request_weight("GET", "/api/v3/ticker/24hr",
                                                          {"symbols": '["A","B","C","D","E"]'})),
        "book": (ui.book_interval_s, request_weight("GET", "/api/v3/depth", {"limit": str(BOOK_LIMIT)})),
        "trades": (ui.trades_interval_s, request_weight("GET", "/api/v3/aggTrades", {"limit": str(TRADES_LIMIT)})),
        "klines": (ui.klines_interval_s, request_weight("GET", "/api/v3/klines", {"limit": str(KLINES_LIMIT)})),
        "account": (ui.account_interval_s, request_weight("GET", "/api/v3/account")),
        "prices": (ui.prices_interval_s, request_weight("GET", "/api/v3/ticker/price")),
        "orders": (ui.orders_interval_s, request_weight("GET", "/api/v3/openOrders")),
        "history": (ui.history_interval_s, request_weight("GET", "/api/v3/allOrders")
                    + request_weight("GET", "/api/v3/myTrades")),
    }
    per_minute = sum(60 / interval * weight for interval, weight in per_request.values())
    assert per_minute < 0.55 * 6000, per_request


def test_failing_feeds_retry_within_the_cap_with_jitter_whatever_their_interval() -> None:
    from btx_tui.tui.feeds import MAX_BACKOFF_S

    async def never() -> tuple[str, object]:
        raise AssertionError

    slow = Feed("prices", 15.0, never, failures=5)
    delays = {slow.backoff_s() for _ in range(50)}
    assert all(MAX_BACKOFF_S / 2 <= d <= MAX_BACKOFF_S for d in delays)  # not 15 s: the cap holds
    assert len(delays) > 1  # jittered
    fast = Feed("book", 0.5, never, failures=1)
    assert all(0.5 <= fast.backoff_s() <= 1.0 for _ in range(50))  # first retry: 1-2x the interval
