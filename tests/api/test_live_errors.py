"""Every typed error, produced by the real paper exchange (mock faults only where unavoidable)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from btx_tui.api import (
    AuthError,
    BadRequest,
    BadResponse,
    Banned,
    FilterFailure,
    InsufficientBalance,
    NetworkError,
    OrderRequest,
    Outcome,
    TimestampError,
    UnknownOrder,
    WithdrawalRejected,
)
from btx_tui.api.clock import ServerClock, system_wall_ms

from .conftest import GARBAGE_AFTER, STATUS_503_BEFORE, FaultTransport, once

D = Decimal


async def test_insufficient_balance_is_rejected_typed(make_client) -> None:
    async with make_client("full") as c:
        res = await c.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("100"), price=D("90000")))
        assert res.outcome is Outcome.REJECTED and isinstance(res.error, InsufficientBalance)
        assert res.error.code == -2010 and res.error.http_status == 400 and res.resolution_attempts == 0
        assert "Insufficient balance" in res.describe()


@pytest.mark.parametrize(("qty", "price", "filter_name"), [
    (D("0.0000101"), D("100"), "LOT_SIZE"),
    (D("0.001"), D("100.001"), "PRICE_FILTER"),
    (D("0.00001"), D("100"), "NOTIONAL"),
])
async def test_filter_failures_name_the_filter(make_client, qty: Decimal, price: Decimal, filter_name: str) -> None:
    async with make_client("full") as c:
        res = await c.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=qty, price=price))
        assert res.outcome is Outcome.REJECTED
        assert isinstance(res.error, FilterFailure) and res.error.filter == filter_name and res.error.code == -1013


async def test_unknown_order_on_query_and_cancel(make_client) -> None:
    async with make_client("full") as c:
        with pytest.raises(UnknownOrder) as q:
            await c.get_order("BTCUSDT", orig_client_order_id="btx-does-not-exist")
        assert q.value.code == -2013
        with pytest.raises(UnknownOrder) as d:
            await c.cancel_order("BTCUSDT", order_id=987654321)
        assert d.value.code == -2011


async def test_read_key_cannot_place(make_client) -> None:
    async with make_client("read") as c:
        res = await c.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=D("0.001"), price=D("100")))
        assert res.outcome is Outcome.REJECTED and isinstance(res.error, AuthError)
        assert (res.error.http_status, res.error.code) == (401, -2015)


async def test_wrong_secret_is_a_bad_signature(make_client) -> None:
    async with make_client("full", secret="x" * 64) as c:
        with pytest.raises(AuthError) as err:
            await c.account()
        assert err.value.code == -1022


async def test_no_credentials_fails_locally(make_client) -> None:
    transport = FaultTransport()
    async with make_client(None, transport=transport) as c:
        with pytest.raises(AuthError):
            await c.account()
    assert transport.seen == []


async def test_unknown_symbol_and_withdrawal_reject(make_client) -> None:
    async with make_client("full") as c:
        with pytest.raises(BadRequest) as err:
            await c.depth("NOPEUSDT")
        assert err.value.code == -1121
        with pytest.raises(WithdrawalRejected):
            await c.withdraw_apply("TRX", "not-an-address", D("12"))


@pytest.mark.parametrize("skew_ms", [70_000, -70_000])
async def test_skewed_clock_recovers_after_one_resync(make_client, skew_ms: int) -> None:
    skew = [0]
    clock = ServerClock(wall_ms=lambda: system_wall_ms() + skew[0])
    transport = FaultTransport()
    async with make_client("full", clock=clock, transport=transport) as c:
        await c.account()  # first sync at the true time
        generation = clock.generation
        skew[0] = skew_ms  # the local clock jumps (e.g. NTP step, sleep/resume)
        before = transport.count("GET", "/api/v3/account")
        acc = await c.account()
        assert acc.can_trade
        assert clock.generation == generation + 1  # exactly one resync
        assert transport.count("GET", "/api/v3/account") == before + 2  # rejected once, re-signed once
        assert abs((c.clock_offset_ms or 0) + skew_ms) < 5_000


async def test_timestamp_error_surfaces_when_resync_cannot_help(make_client) -> None:
    class DriftingClock(ServerClock):
        def now_ms(self) -> int:  # ignores the measured offset: always 70 s ahead
            return system_wall_ms() + 70_000

    async with make_client("full", clock=DriftingClock()) as c:
        with pytest.raises(TimestampError) as err:
            await c.account()
        assert err.value.code == -1021


async def test_get_is_retried_after_503_and_garbage(make_client) -> None:
    transport = FaultTransport(plan=once("GET", "/api/v3/depth", STATUS_503_BEFORE))
    async with make_client(None, transport=transport) as c:
        assert (await c.depth("BTCUSDT")).last_update_id >= 0
        assert transport.count("GET", "/api/v3/depth") == 2
    transport = FaultTransport(plan=once("GET", "/api/v3/avgPrice", GARBAGE_AFTER))
    async with make_client(None, transport=transport) as c:
        assert (await c.avg_price("BTCUSDT")).price > 0
        assert transport.count("GET", "/api/v3/avgPrice") == 2


async def test_persistent_garbage_becomes_bad_response(make_client) -> None:
    transport = FaultTransport(plan=lambda r: GARBAGE_AFTER)
    async with make_client(None, transport=transport) as c:
        with pytest.raises(BadResponse):
            await c.ping()
        assert transport.count("GET", "/api/v3/ping") == 4  # FAST_RETRY.attempts


async def test_refused_connection_is_a_network_error(make_client) -> None:
    import socket
    from btx_tui.api import BtxClient
    from .conftest import FAST_RETRY
    with socket.socket() as s:  # bound, never listening (and ours, so nobody else listens there)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        async with BtxClient(f"http://127.0.0.1:{port}", retry=FAST_RETRY, timeout_s=2) as c:
            with pytest.raises(NetworkError) as err:
                await c.ping()
            assert not err.value.maybe_sent and "connect" in str(err.value).lower()


def _mock(status: int, retry_after: str, calls: list[float], client_ref: list) -> httpx.MockTransport:
    """429/418 can't be produced on demand without hammering the shared server: mock them."""
    def handler(request: httpx.Request) -> httpx.Response:
        budget = client_ref[0].rest.budget
        calls.append(budget._monotonic())
        if len(calls) == 1:
            return httpx.Response(status, json={"code": -1003, "msg": "Too much request weight used"},
                                  headers={"Retry-After": retry_after})
        return httpx.Response(200, json={"serverTime": 1}, headers={"X-MBX-USED-WEIGHT-1M": "3"})
    return httpx.MockTransport(handler)


async def test_429_pauses_all_requests_then_retries() -> None:
    from btx_tui.api import BtxClient
    from .conftest import FAST_RETRY
    calls: list[float] = []
    ref: list = []
    c = BtxClient("http://127.0.0.1:9", retry=FAST_RETRY, transport=_mock(429, "0.2", calls, ref))
    ref.append(c)
    async with c:
        assert (await c.server_time()).server_time == 1
        paused_until = c.rest.budget._paused_until
        assert paused_until is not None and len(calls) == 2
        assert calls[1] >= paused_until  # the retry was sent only after Retry-After had passed
        assert c.budget.server_used == 3


async def test_418_bans_raise_and_pause() -> None:
    from btx_tui.api import BtxClient
    from .conftest import FAST_RETRY
    calls: list[float] = []
    ref: list = []
    c = BtxClient("http://127.0.0.1:9", retry=FAST_RETRY, transport=_mock(418, "120", calls, ref))
    ref.append(c)
    async with c:
        with pytest.raises(Banned) as err:
            await c.server_time()
        assert err.value.retry_after == 120 and len(calls) == 1
        assert c.budget.paused_for > 100 and c.budget.paused_until is not None
