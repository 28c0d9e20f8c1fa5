"""Weight table and budget arithmetic with a fake clock (no real waiting)."""

import asyncio
import socket

import httpx
import pytest

from btx_tui.api.client import BtxClient
from btx_tui.api.errors import NetworkError
from btx_tui.api.ratebudget import RateBudget, request_weight
from btx_tui.api.signing import encode_symbols


@pytest.mark.parametrize(("method", "path", "params", "weight"), [
    ("GET", "/api/v3/depth", {}, 5), ("GET", "/api/v3/depth", {"limit": "100"}, 5),
    ("GET", "/api/v3/depth", {"limit": "101"}, 25), ("GET", "/api/v3/depth", {"limit": "1000"}, 50),
    ("GET", "/api/v3/depth", {"limit": "5000"}, 250),
    ("GET", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}, 2),
    ("GET", "/api/v3/ticker/24hr", {"symbols": encode_symbols(["A"] * 20)}, 2),
    ("GET", "/api/v3/ticker/24hr", {"symbols": encode_symbols(["A"] * 21)}, 40),
    ("GET", "/api/v3/ticker/24hr", {"symbols": encode_symbols(["A"] * 101)}, 80),
    ("GET", "/api/v3/ticker/24hr", {}, 80),
    ("GET", "/api/v3/ticker/price", {"symbol": "X"}, 2), ("GET", "/api/v3/ticker/price", {}, 4),
    ("GET", "/api/v3/openOrders", {"symbol": "X"}, 6), ("GET", "/api/v3/openOrders", {}, 80),
    ("DELETE", "/api/v3/openOrders", {"symbol": "X"}, 1),
    ("POST", "/api/v3/order", {}, 1), ("GET", "/api/v3/order", {}, 4), ("DELETE", "/api/v3/order", {}, 1),
    ("GET", "/api/v3/myTrades", {"symbol": "X"}, 20), ("GET", "/api/v3/myTrades", {"orderId": "1"}, 5),
    ("GET", "/api/v3/exchangeInfo", {}, 20), ("GET", "/api/v3/rateLimit/order", {}, 40),
    ("GET", "/api/v3/account", {}, 20), ("GET", "/api/v3/klines", {}, 2), ("GET", "/api/v3/trades", {}, 25),
])
def test_weights_follow_the_contract(method: str, path: str, params: dict, weight: int) -> None:
    assert request_weight(method, path, params) == weight


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _budget(t: FakeTime, limit: int = 100) -> RateBudget:
    return RateBudget(limit, safety=0.9, monotonic=t.monotonic, wall=lambda: 0.0, sleep=t.sleep)


async def test_acquire_within_budget_does_not_wait() -> None:
    t = FakeTime()
    b = _budget(t)
    for _ in range(9):
        await b.acquire(10)
    assert t.slept == [] and b.used() == 90 and b.effective_limit == 90


async def test_acquire_over_budget_waits_for_the_window_to_slide() -> None:
    t = FakeTime()
    b = _budget(t)
    await b.acquire(50)
    t.now += 30
    await b.acquire(40)
    await b.acquire(10)  # 100 > 90: must wait until the first 50 leaves the window (30 s)
    assert sum(t.slept) == pytest.approx(30.0)
    assert b.used() == 50


async def test_server_reported_weight_counts() -> None:
    t = FakeTime()
    b = _budget(t)
    b.observe(httpx.Headers({"X-MBX-USED-WEIGHT-1M": "85"}))
    assert b.used() == 85
    await b.acquire(5)
    assert b.used() == 90
    await b.acquire(5)  # must wait for the server's observation to age out
    assert sum(t.slept) == pytest.approx(60.0)


async def test_pause_blocks_every_request_until_retry_after() -> None:
    t = FakeTime()
    b = _budget(t)
    b.pause(12)
    snap = b.snapshot()
    assert snap.pause_remaining_s == 12 and snap.paused_for == 12 and snap.paused_until == 12
    await b.acquire(1)
    assert sum(t.slept) == pytest.approx(12.0)
    b.pause(5)
    b.pause(2)  # never shortens
    assert b.pause_remaining() == 5
    assert b.snapshot().paused_until is not None


def test_snapshot_reports_order_counters_and_ignores_garbage_headers() -> None:
    t = FakeTime()
    b = _budget(t)
    b.observe(httpx.Headers({"X-MBX-ORDER-COUNT-10S": "3", "X-MBX-ORDER-COUNT-1D": "40",
                             "X-MBX-USED-WEIGHT-1M": "lots"}))
    snap = b.snapshot()
    assert (snap.order_count_10s, snap.order_count_1d, snap.server_used, snap.used) == (3, 40, None, 0)
    assert snap.limit == 100 and snap.fraction == 0


async def test_running_sums_match_a_recount() -> None:
    # used() keeps running sums; they must equal a recount of the window at every step.
    import random
    rng = random.Random(7)
    t = FakeTime()
    b = RateBudget(10**9, safety=1.0, monotonic=t.monotonic, wall=lambda: 0.0, sleep=t.sleep)

    booked: list[tuple[float, int, int]] = []  # every booking ever: (time, weight, ticket)

    def recount() -> int:
        horizon = t.now - b.window_s
        live = [(ts, w, seq) for ts, w, seq in booked if ts > horizon]
        local = sum(w for _, w, _ in live)
        if b._server is None or b._server[0] <= horizon:
            return local
        seen, reported, last = b._server
        # Our weight the report counted that has left the window since is taken off it.
        aged = sum(w for ts, w, seq in booked if seq <= last and seen - b.window_s < ts <= horizon)
        since = sum(w for _, w, seq in live if seq > last)
        return max(local, max(0, reported - aged) + since)

    for _ in range(2000):
        action = rng.random()
        if action < 0.6:
            weight = rng.randint(1, 50)
            booked.append((t.now, weight, await b.acquire(weight)))
        elif action < 0.8:
            b.observe(httpx.Headers({"X-MBX-USED-WEIGHT-1M": str(rng.randint(0, 3000))}))
        else:
            t.now += rng.uniform(0, 20)
        assert b.used() == recount()


async def test_adopting_a_shorter_window_reads_its_header_and_expires_on_it() -> None:
    """An exchange declaring 600 weight per 6 s (a compressed-time soak): the budget keeps
    540 per sliding 6 s and reads ``x-mbx-used-weight-6s``, not the one-minute header."""
    t = FakeTime()
    b = _budget(t, limit=6000)
    assert b.header == "x-mbx-used-weight-1m"
    b.adopt(600, 6)
    assert (b.limit, b.window_s, b.header, b.effective_limit) == (600, 6.0, "x-mbx-used-weight-6s", 540)
    b.observe({"x-mbx-used-weight-1m": "599"})  # not this window's count: ignored
    assert b.used() == 0
    b.observe({"x-mbx-used-weight-6s": "500"})
    assert b.used() == 500
    await b.acquire(50)
    assert t.slept and t.now == pytest.approx(1006.0)  # waited for the server's count to age out
    with pytest.raises(ValueError):
        b.adopt(0, 6)


async def test_refund_unbooks_exactly_one_request() -> None:
    t = FakeTime()
    b = _budget(t)
    first = await b.acquire(10)
    second = await b.acquire(20)
    b.observe({"x-mbx-used-weight-1m": "10"})  # the server has seen the first only
    third = await b.acquire(30)
    assert b.used() == 60
    b.refund(third)  # booked after the server's report
    assert b.used() == 30
    b.refund(second)
    assert b.used() == 10
    b.refund(second)  # twice is harmless
    b.refund(999)  # unknown ticket: nothing happens
    assert b.used() == 10 and first == 1
    t.now += 61
    assert b.used() == 0 and b._local == 0


async def test_requests_refused_at_connect_cost_no_weight() -> None:
    """An exchange that is down charges nothing, so the budget must not either (an outage
    would otherwise fill it, and the dashboard would throttle itself once the exchange returns)."""
    # Bound and never listening: connections are refused, and as the port stays ours no other
    # process (another xdist worker's exchange) can start listening on it meanwhile.
    with socket.socket() as s, socket.socket() as probe:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert probe.connect_ex(("127.0.0.1", port)) != 0
        async with BtxClient(f"http://127.0.0.1:{port}", None, None) as client:
            for _ in range(3):
                with pytest.raises(NetworkError) as exc:
                    await client.depth("BTCUSDT", 100)
                assert exc.value.maybe_sent is False
            assert client.budget.used == 0


async def test_a_server_report_ages_with_our_own_expiring_weight() -> None:
    """A report taken near the limit must not freeze the budget for a whole window: once our
    own weight that it counted leaves the window, it is taken off the report too."""
    t = FakeTime()
    b = _budget(t)  # effective 90
    await b.acquire(50)
    t.now += 30
    await b.acquire(30)
    b.observe({"x-mbx-used-weight-1m": "85"})  # ours (80) + 5 from another program on our IP
    assert b.used() == 85
    await b.acquire(10)
    # Waited until the first 50 left the window (t = 1060), not until the report did (t = 1090).
    assert t.now == pytest.approx(1060.0)
    assert b.used() == 45  # 35 left of the report + the 10 booked since; ours alone is 40


def _queueing_budget() -> tuple[RateBudget, FakeTime, list[str]]:
    """85 of an effective 90 used: a weight-80 request must wait ~59 s for room. The fake sleep
    yields, so other tasks run while a request waits; each ``_take`` logs when it got through."""
    clock = FakeTime()

    async def yielding_sleep(seconds: float) -> None:
        clock.now += seconds
        await asyncio.sleep(0)

    b = RateBudget(100, safety=0.9, monotonic=clock.monotonic, wall=lambda: 0.0, sleep=yielding_sleep)
    return b, clock, []


async def _take(b: RateBudget, order: list[str], name: str, weight: int, urgent: bool = False) -> None:
    await b.acquire(weight, urgent=urgent)
    order.append(name)


async def _fill_to_85(b: RateBudget, clock: FakeTime) -> None:
    await b.acquire(80)
    clock.now += 1
    await b.acquire(5)


async def test_waiters_are_served_first_come_first_served() -> None:
    """A heavy request waiting for room is not overtaken by cheap ones arriving after it."""
    b, clock, order = _queueing_budget()
    await _fill_to_85(b, clock)
    heavy = asyncio.create_task(_take(b, order, "heavy", 80))
    await asyncio.sleep(0)  # the heavy one is waiting now
    cheap = [asyncio.create_task(_take(b, order, f"cheap{i}", 2)) for i in range(3)]
    await asyncio.gather(heavy, *cheap)
    assert order[0] == "heavy", order


async def test_a_traders_order_does_not_queue_behind_waiting_polls() -> None:
    b, clock, order = _queueing_budget()
    await _fill_to_85(b, clock)
    heavy = asyncio.create_task(_take(b, order, "heavy poll", 80))
    await asyncio.sleep(0)
    await _take(b, order, "order", 1, urgent=True)  # fits now (86 <= 90): goes at once
    assert order == ["order"]  # ahead of the poll that was already waiting
    await heavy
    b.pause(5)
    paused_at = clock.now
    await _take(b, order, "cancel", 1, urgent=True)  # but never through a Retry-After pause
    assert clock.now >= paused_at + 5
