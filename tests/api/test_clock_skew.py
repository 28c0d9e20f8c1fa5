"""The client's clock offset and its -1021 resync, against the real paper exchange.

Contract section 2: a signed request is accepted only if ``timestamp < serverTime + 1000``
and ``serverTime - timestamp <= recvWindow`` (5000 here). Every signed call the dashboard
makes (account, place + cancel an order, open orders) must succeed however the clocks
disagree, after AT MOST ONE resync (three ``/api/v3/time`` samples) per call.

Two ways of skewing, both against the real server process:

* the CLIENT's wall clock, through ``ServerClock(wall_ms=...)`` — offsets of -70 s, -3 s,
  +0.9 s, +1.1 s and +70 s, and a clock drifting a few seconds per "minute";
* the SERVER's clock, through the exchange's ``clock_skew`` fault (set at run time via the
  admin endpoint, so one exchange serves every case).

Each case runs in two phases: skewed from the start (the first sync measures the offset:
no -1021 at all) and a jump after a sync at zero offset (one -1021 and one resync exactly
when the jump leaves the window, none otherwise). A transport wrapper around the client's
real transport counts ``/api/v3/time`` requests and -1021 answers per call.

The +0.9 s / +1.1 s cases sit 100 ms inside / outside the 1 s bound: the few ms between the
client stamping a request and the server checking it on loopback do not reach that margin.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from btx_tui.api import BtxClient
from btx_tui.api.clock import ServerClock, system_wall_ms
from btx_tui.api.errors import TimestampError
from btx_tui.api.orders import OrderRequest
from btx_tui.api.http import default_transport
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

from .conftest import FAST_RETRY

TOKEN = "clock-skew-admin-token"
SYMBOL = "BTCUSDT"
RECV_WINDOW_MS = 5000
OFFSETS_MS = [-70_000, -3_000, 900, 1_100, 70_000]


def breaks_window(client_ahead_ms: int) -> bool:
    """Would a timestamp ``client_ahead_ms`` ahead of the server's clock be refused?"""
    return client_ahead_ms >= 1000 or -client_ahead_ms > RECV_WINDOW_MS


@dataclass
class Seen:
    method: str
    path: str
    status: int
    code: int | None


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    """The client's real transport, recording every request and the error code answered."""

    inner: httpx.AsyncBaseTransport = field(default_factory=default_transport)
    log: list[Seen] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        code = None
        if response.status_code >= 400:
            try:
                code = json.loads(response.content).get("code")
            except ValueError:
                code = None
        self.log.append(Seen(request.method, request.url.path, response.status_code, code))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def times(self, start: int = 0) -> int:
        return sum(1 for s in self.log[start:] if s.path == "/api/v3/time")

    def rejects(self, start: int = 0) -> int:
        return sum(1 for s in self.log[start:] if s.code == -1021)


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(Path(tmp_path_factory.mktemp("clock-skew")) / "paper", market=False,
                              seed=1, extra_args=["--admin-token", TOKEN])
    try:
        yield ex
    finally:
        ex.stop()


def set_server_skew(ex: PaperExchange, skew_ms: int) -> None:
    """``clock_skew:*:1:<ms>`` on the running exchange (0 clears every fault)."""
    faults = [{"kind": "clock_skew", "endpoint": "*", "probability": 1, "arg": str(skew_ms)}]
    with httpx.Client(base_url=ex.base_url, headers={"X-BTX-ADMIN-TOKEN": TOKEN}) as http:
        if skew_ms:
            resp = http.post("/admin/faults", json={"faults": faults, "seed": 1})
        else:
            resp = http.delete("/admin/faults")
        assert resp.status_code == 200, resp.text
        if skew_ms:  # the server now reports a skewed serverTime
            server = http.get("/api/v3/time").json()["serverTime"]
            assert abs(server - system_wall_ms() - skew_ms) < 5_000


@pytest.fixture
def server_skew(exchange: PaperExchange) -> Iterator[Callable[[int], None]]:
    yield lambda skew_ms: set_server_skew(exchange, skew_ms)
    set_server_skew(exchange, 0)


class SkewedWall:
    """A local wall clock ``offset_ms`` off the true one; the test moves it."""

    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms

    def __call__(self) -> int:
        return system_wall_ms() + self.offset_ms


@dataclass
class Harness:
    client: BtxClient
    transport: CountingTransport
    per_call: list[tuple[str, int, int]] = field(default_factory=list)
    """(call, /time requests, -1021 answers) for each signed call."""

    async def call(self, name: str, coro_fn: Callable) -> object:
        start = len(self.transport.log)
        result = await coro_fn()
        times, rejects = self.transport.times(start), self.transport.rejects(start)
        self.per_call.append((name, times, rejects))
        # At most one resync per call: one -1021 at most, and one 3-sample sync per -1021
        # (plus the lazy first sync of a fresh client).
        assert rejects <= 1, (name, self.transport.log[start:])
        assert times in (0, 3, 6), (name, self.transport.log[start:])
        assert times // 3 <= rejects + (1 if len(self.per_call) == 1 else 0), (name, self.per_call)
        return result

    async def round(self, tag: str) -> None:
        """The dashboard's signed calls: account, place + query open + cancel an order."""
        account = await self.call("account", self.client.account)
        assert any(b.asset == "USDT" for b in account.balances)
        request = OrderRequest(symbol=SYMBOL, side="BUY", type="LIMIT", time_in_force="GTC",
                               quantity=Decimal("0.001"), price=Decimal("20000.00"),
                               client_order_id=f"skew-{tag}")
        order = await self.call("place", lambda: self.client.post_order(request))
        assert order.status == "NEW"
        open_ids = {o.order_id for o in await self.call("open", lambda: self.client.open_orders(SYMBOL))}
        assert order.order_id in open_ids
        cancelled = await self.call(
            "cancel", lambda: self.client.cancel_order(SYMBOL, order_id=order.order_id))
        assert cancelled.status == "CANCELED"


@pytest.fixture
def make_harness(exchange: PaperExchange):
    def factory(wall: Callable[[], int]) -> Harness:
        transport = CountingTransport()
        api_key, secret = exchange.key("full")
        client = BtxClient(exchange.base_url, api_key, SecretStr(secret), transport=transport,
                           retry=FAST_RETRY, recv_window_ms=RECV_WINDOW_MS,
                           clock=ServerClock(wall_ms=wall))
        return Harness(client, transport)

    return factory


async def _close(h: Harness) -> None:
    await h.client.aclose()


@pytest.mark.parametrize("offset_ms", OFFSETS_MS)
async def test_client_clock_skewed_from_start(make_harness, offset_ms: int) -> None:
    """The first signed call measures the offset: no -1021 ever, exactly one sync."""
    h = make_harness(SkewedWall(offset_ms))
    try:
        await h.round(f"start{offset_ms}")
        assert h.transport.times() == 3
        assert h.transport.rejects() == 0
        assert abs(h.client.clock_offset_ms + offset_ms) < 1_000  # server − local ≈ −offset
    finally:
        await _close(h)


@pytest.mark.parametrize("offset_ms", OFFSETS_MS)
async def test_client_clock_jumps_after_sync(make_harness, offset_ms: int) -> None:
    """Synced at zero, then the local clock jumps: one -1021 + one resync iff the jump
    leaves the window, on the first call only; every call succeeds."""
    wall = SkewedWall(0)
    h = make_harness(wall)
    try:
        await h.client.sync_clock()
        assert h.transport.times() == 3
        wall.offset_ms = offset_ms
        await h.round(f"jump{offset_ms}")
        expected = 1 if breaks_window(offset_ms) else 0
        assert h.transport.rejects() == expected, h.transport.log
        assert h.transport.times() == 3 + 3 * expected
        if expected:
            assert h.per_call[0] == ("account", 3, 1)
        assert all(times == 0 and rejects == 0 for _, times, rejects in h.per_call[1:]), h.per_call
    finally:
        await _close(h)


@pytest.mark.parametrize(("rate_ms", "expected_rejects"), [(3_000, 6), (-3_000, 3), (700, 3)])
async def test_client_clock_drifts(make_harness, rate_ms: int, expected_rejects: int) -> None:
    """The local clock drifts ``rate_ms`` per minute-equivalent over six minutes; each
    drift that leaves the window since the last sync costs one -1021 and one resync.

    +3 s/min: every minute crosses the 1 s "ahead" bound -> 6. -3 s/min: 6 s behind the last
    sync every second minute, past the 5 s window -> 3. +0.7 s/min: 1.4 s ahead of the last
    sync at minutes 2, 4 and 6 -> 3.
    """
    wall = SkewedWall(0)
    h = make_harness(wall)
    try:
        await h.client.sync_clock()
        synced_at = 0
        predicted = 0
        for minute in range(1, 7):
            wall.offset_ms += rate_ms
            if breaks_window(wall.offset_ms - synced_at):
                predicted += 1
                synced_at = wall.offset_ms
            await h.round(f"drift{rate_ms}-{minute}")
        assert predicted == expected_rejects
        assert h.transport.rejects() == expected_rejects, h.per_call
        assert h.transport.times() == 3 + 3 * expected_rejects
    finally:
        await _close(h)


@pytest.mark.parametrize("offset_ms", OFFSETS_MS)
async def test_server_clock_skew_fault(make_harness, server_skew, offset_ms: int) -> None:
    """The same through the server: ``clock_skew:*:1:<ms>`` moves the exchange's clock (its
    timestamp check and ``serverTime``) by −offset, i.e. the client is ``offset`` ahead."""
    h = make_harness(system_wall_ms)
    try:
        await h.client.sync_clock()  # at zero skew
        server_skew(-offset_ms)
        await h.round(f"server{offset_ms}")
        expected = 1 if breaks_window(offset_ms) else 0
        assert h.transport.rejects() == expected, h.transport.log
        assert h.transport.times() == 3 + 3 * expected
        assert abs(h.client.clock_offset_ms - (-offset_ms if expected else 0)) < 1_000
    finally:
        await _close(h)


async def test_a_jump_right_after_the_resync_is_raised_not_retried(make_harness) -> None:
    """Control: the session really resyncs at most once per call. If the clock jumps again
    right after the resync, the second -1021 is raised (TimestampError), not looped on."""
    wall = SkewedWall(0)
    h = make_harness(wall)
    try:
        await h.client.sync_clock()
        wall.offset_ms = 70_000
        measure = h.client.rest._measure_clock

        async def measure_then_jump(samples: int) -> int:
            offset = await measure(samples)
            wall.offset_ms += 70_000  # the local clock jumps again just after the resync
            return offset

        h.client.rest._measure_clock = measure_then_jump  # type: ignore[method-assign]
        with pytest.raises(TimestampError):
            await h.client.account()
        assert h.transport.rejects() == 2  # the first -1021, one resync, the second: raised
        assert h.transport.times() == 6
    finally:
        await _close(h)
