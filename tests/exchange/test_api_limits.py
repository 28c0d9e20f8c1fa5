"""Rate limits, bans, body caps and internal errors, against an in-process server.

These need small limits and an injected clock, so they build the app with
``create_app(exchange, limits=..., clock=...)`` and serve it with the same uvicorn
configuration as ``btx-tui exchange`` on a real loopback socket (port 0, in a thread).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from btx_tui.exchange.http.app import create_app
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.http.ratelimit import Limits

from .api_helpers import Api, ThreadServer, assert_json_error

MINUTE = 60_000
T0 = 1_800_000_000_000 - 1_800_000_000_000 % MINUTE + 1_000  # 1 s into a minute


class Clock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Served:
    def __init__(self, api: Api, clock: Clock, exchange: Exchange, app: Any = None) -> None:
        self.api, self.clock, self.exchange, self.app = api, clock, exchange, app

    def exchange_app_stats(self) -> dict[str, int]:
        return self.app.limiter.stats.as_dict()

    def signed(self, *args: Any, **kwargs: Any) -> httpx.Response:
        return self.api.signed(*args, timestamp=self.clock.now, **kwargs)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    servers: list[ThreadServer] = []
    exchanges: list[Exchange] = []

    def start(limits: Limits, wrap: Any = None) -> Served:
        clock = Clock()
        exchange = Exchange.open(tmp_path / f"ex{len(exchanges)}", clock=clock)
        exchanges.append(exchange)
        app = create_app(wrap(exchange) if wrap else exchange, limits=limits, clock=clock)
        server = ThreadServer(app).__enter__()
        servers.append(server)
        key = next(k for k in exchange.accounts.demo_keys() if k["name"] == "full")
        return Served(Api(server.base_url, key["api_key"], key["api_secret"]), clock, exchange, app)

    yield start
    for server in servers:
        server.__exit__(None, None, None)
    for exchange in exchanges:
        exchange.close()


def weight(resp: httpx.Response) -> int:
    return int(resp.headers["x-mbx-used-weight-1m"])


def test_429_then_418_ban_then_recovery(serve: Any) -> None:
    s = serve(Limits(weight_per_minute=10, ban_grace=1, ban_base_ms=120_000))
    assert [weight(s.api.public("/api/v3/ping")) for _ in range(10)] == list(range(1, 11))

    too_much = s.api.public("/api/v3/ping")
    assert_json_error(too_much, 429, -1003,
                      "Too much request weight used; current limit is 10 request weight per 1 MINUTE.")
    assert too_much.headers["retry-after"] == "59"
    assert weight(too_much) == 10

    s.clock.now += 500
    assert_json_error(s.api.public("/api/v3/ping"), 429, -1003)  # within the grace
    banned = s.api.public("/api/v3/time")
    until = s.clock.now + 120_000
    assert_json_error(banned, 418, -1003, f"Way too much request weight used; IP banned until {until}.")
    assert banned.headers["retry-after"] == "120"

    s.clock.now += 60_000  # a new minute, but still banned
    still = s.api.public("/api/v3/ping")
    assert_json_error(still, 418, -1003)
    assert still.headers["retry-after"] == "60"
    assert weight(still) == 0

    s.clock.now = until
    assert s.api.public("/api/v3/ping").status_code == 200
    assert s.exchange_app_stats() == {"over_limit": 1, "strikes": 2, "bans": 1, "refused_banned": 1}


def test_a_compressed_weight_window_is_declared_counted_and_named_truthfully(serve: Any) -> None:
    """A soak compresses time with a 6 s window: exchangeInfo, the header name, the 429 text,
    Retry-After and the window reset all follow it, and the refusals are counted."""
    s = serve(Limits(weight_per_minute=30, weight_interval_s=6))
    s.clock.now = T0 - T0 % 6_000 + 1_000  # 1 s into a 6 s window
    info = s.api.public("/api/v3/exchangeInfo")  # weight 20
    declared = [r for r in info.json()["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT"]
    assert declared == [{"rateLimitType": "REQUEST_WEIGHT", "interval": "SECOND", "intervalNum": 6, "limit": 30}]
    assert info.headers["x-mbx-used-weight-6s"] == "20"
    assert "x-mbx-used-weight-1m" not in info.headers
    for _ in range(10):
        assert s.api.public("/api/v3/ping").status_code == 200
    refused = s.api.public("/api/v3/ping")
    assert refused.status_code == 429 and refused.json() == {
        "code": -1003, "msg": "Too much request weight used; current limit is 30 request weight per 6 SECOND."}
    assert refused.headers["retry-after"] == "5" and refused.headers["x-mbx-used-weight-6s"] == "30"
    assert s.exchange_app_stats() == {"over_limit": 1, "strikes": 0, "bans": 0, "refused_banned": 0}
    s.clock.now += 5_000  # the next 6 s window
    fresh = s.api.public("/api/v3/ping")
    assert fresh.status_code == 200 and fresh.headers["x-mbx-used-weight-6s"] == "1"


def test_other_ip_unaffected_by_a_ban(serve: Any) -> None:
    s = serve(Limits(weight_per_minute=2, ban_grace=0))
    for _ in range(2):
        assert s.api.public("/api/v3/ping").status_code == 200
    assert s.api.public("/api/v3/ping").status_code == 429
    assert s.api.public("/api/v3/ping").status_code == 418
    # X-Forwarded-For is not trusted: it cannot escape the ban.
    spoof = s.api.raw("GET", "/api/v3/ping", headers={"X-Forwarded-For": "10.9.8.7"})
    assert spoof.status_code == 418
    # A genuinely different client address (127.0.0.2 is loopback on Linux) is unaffected.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=s.api.base_url, transport=transport) as other:
        resp = other.get("/api/v3/ping")
    assert resp.status_code == 200 and weight(resp) == 1


def test_order_count_limits_and_headers(serve: Any) -> None:
    s = serve(Limits(orders_per_10s=2, orders_per_day=3))
    s.clock.now = T0 - T0 % 10_000 + 2_000
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.00100", "price": "50000.00"}
    counts = []
    for _ in range(2):
        resp = s.signed("POST", "/api/v3/order", order)
        assert resp.status_code == 200, resp.text
        counts.append((resp.headers["x-mbx-order-count-10s"], resp.headers["x-mbx-order-count-1d"]))
    assert counts == [("1", "1"), ("2", "2")]
    before = len(s.exchange.orders.open_orders(s.exchange.accounts.demo_account_id, "BTCUSDT"))

    refused = s.signed("POST", "/api/v3/order", order)
    assert_json_error(refused, 429, -1015, "Too many new orders; current limit is 2 orders per 10 SECOND.")
    assert refused.headers["retry-after"] == "8"
    assert "x-mbx-order-count-10s" not in refused.headers
    assert len(s.exchange.orders.open_orders(s.exchange.accounts.demo_account_id, "BTCUSDT")) == before

    limits = s.signed("GET", "/api/v3/rateLimit/order").json()
    assert [(x["limit"], x["count"]) for x in limits] == [(2, 2), (3, 2)]

    s.clock.now += 10_000
    resp = s.signed("POST", "/api/v3/order", order)
    assert resp.status_code == 200
    assert (resp.headers["x-mbx-order-count-10s"], resp.headers["x-mbx-order-count-1d"]) == ("1", "3")
    s.clock.now += 10_000
    assert_json_error(s.signed("POST", "/api/v3/order", order), 429, -1015,
                      "Too many new orders; current limit is 3 orders per 1 DAY.")


def test_exchange_info_declares_the_configured_limits(serve: Any) -> None:
    s = serve(Limits(weight_per_minute=123, orders_per_10s=7))
    limits = s.api.public("/api/v3/exchangeInfo").json()["rateLimits"]
    assert [x["limit"] for x in limits] == [123, 7, 160_000]


def test_weight_header_on_every_kind_of_response(serve: Any) -> None:
    s = serve(Limits(max_body_bytes=1024))
    responses = [
        s.api.public("/api/v3/ping"),                       # 200
        s.api.raw("GET", "/nope"),                          # 404
        s.api.raw("DELETE", "/api/v3/time"),                # 405
        s.api.public("/api/v3/depth"),                      # 400
        s.signed("GET", "/api/v3/account", api_key="Z" * 64),  # 401
        s.api.raw("POST", "/api/v3/order", body=b"a=" + b"x" * 2000),  # 403
    ]
    assert [r.status_code for r in responses] == [200, 404, 405, 400, 401, 403]
    used = [weight(r) for r in responses]
    assert used == sorted(used) and used[-1] >= 6
    for r in responses:
        assert r.headers["content-type"] == "application/json"
        json.loads(r.text)


def test_huge_bodies_are_403_without_state_change(serve: Any) -> None:
    s = serve(Limits(max_body_bytes=4096))
    big = b"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&pad=" + b"x" * 10_000
    assert_json_error(s.api.raw("POST", "/api/v3/order", body=big), 403, -1000)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for _ in range(10):
            yield b"x" * 1000

    resp = s.api.http.post("/api/v3/order", content=chunks(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_json_error(resp, 403, -1000)
    assert s.exchange.orders.open_orders(s.exchange.accounts.demo_account_id, None) == []
    # A body just under the cap is read and validated normally.
    assert_json_error(s.api.raw("POST", "/api/v3/order", body=b"a=" + b"x" * 4000), 401, -2014)


class _Delegate:
    """Delegates to ``inner``; subclasses override the calls that hit a 'bug'."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _ExplodingMarketData(_Delegate):
    def depth(self, *args: Any) -> Any:
        raise RuntimeError("secret-ish internal detail")


class _ExplodingTrading(_Delegate):
    def place_order(self, *args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("boom")


class _ExplodingWallet(_Delegate):
    def process_withdrawals(self) -> None:
        raise RuntimeError("background failure must not stop the server")


class _Exploding(_Delegate):
    """Delegates to the real exchange's parts, but some of their calls hit a 'bug'."""

    def __init__(self, inner: Exchange) -> None:
        super().__init__(inner)
        self.market_data = _ExplodingMarketData(inner.market_data)
        self.trading = _ExplodingTrading(inner.trading)
        self.wallet = _ExplodingWallet(inner.wallet)


def test_unexpected_exception_is_json_500(serve: Any) -> None:
    s = serve(Limits(), wrap=_Exploding)
    resp = s.api.public("/api/v3/depth", {"symbol": "BTCUSDT"})
    body = assert_json_error(resp, 500, -1000, "An unknown error occurred while processing the request.")
    assert "secret-ish" not in resp.text
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    assert_json_error(s.signed("POST", "/api/v3/order", order), 500, -1000)
    assert body["code"] == -1000
    assert s.api.public("/api/v3/ping").status_code == 200  # still serving
