"""Market-data endpoints and generic HTTP behaviour over a real loopback socket."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .api_helpers import Api, api_for, assert_json_error, raw_http


@pytest.fixture
def api(paper_exchange) -> Iterator[Api]:
    with api_for(paper_exchange.base_url) as client:
        yield client


def ok(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert int(resp.headers["x-mbx-used-weight-1m"]) >= 1
    return resp.json()


def test_ping_and_time(api: Api) -> None:
    assert ok(api.public("/api/v3/ping")) == {}
    body = ok(api.public("/api/v3/time"))
    assert isinstance(body["serverTime"], int) and body["serverTime"] > 1_600_000_000_000


def test_used_weight_header_grows_by_endpoint_weight(api: Api) -> None:
    first = int(api.public("/api/v3/ping").headers["x-mbx-used-weight-1m"])
    second = int(api.public("/api/v3/exchangeInfo").headers["x-mbx-used-weight-1m"])
    # exchangeInfo weighs 20 (a minute boundary in between would reset the counter)
    assert second == first + 20 or second == 20


def test_exchange_info_all_one_and_several(api: Api) -> None:
    info = ok(api.public("/api/v3/exchangeInfo"))
    assert info["timezone"] == "UTC"
    assert {r["rateLimitType"] for r in info["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS"}
    assert {"BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX"} <= {s["symbol"] for s in info["symbols"]}
    one = ok(api.public("/api/v3/exchangeInfo", {"symbol": "BTCUSDT"}))
    assert [s["symbol"] for s in one["symbols"]] == ["BTCUSDT"]
    several = ok(api.public("/api/v3/exchangeInfo", {"symbols": ["BTCUSDT", "ETHUSDT"]}))
    assert sorted(s["symbol"] for s in several["symbols"]) == ["BTCUSDT", "ETHUSDT"]


def test_depth_trades_agg_klines_avg(api: Api) -> None:
    depth = ok(api.public("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}))
    assert set(depth) >= {"lastUpdateId", "bids", "asks"}
    assert isinstance(ok(api.public("/api/v3/trades", {"symbol": "BTCUSDT"})), list)
    assert isinstance(ok(api.public("/api/v3/aggTrades", {"symbol": "BTCUSDT", "limit": 10})), list)
    assert isinstance(ok(api.public("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"})), list)
    avg = ok(api.public("/api/v3/avgPrice", {"symbol": "BTCUSDT"}))
    assert set(avg) >= {"mins", "price"} and isinstance(avg["price"], str)


@pytest.mark.parametrize("limit, weight", [(100, 5), (101, 25), (500, 25), (1000, 50), (5000, 250)])
def test_depth_weight_by_limit(api: Api, limit: int, weight: int) -> None:
    before = int(api.public("/api/v3/ping").headers["x-mbx-used-weight-1m"])
    after = int(api.public("/api/v3/depth", {"symbol": "ETHUSDT", "limit": limit})
                .headers["x-mbx-used-weight-1m"])
    assert after - before == weight or after == weight  # (minute rollover)


@pytest.mark.parametrize("path, fields", [
    ("/api/v3/ticker/24hr", {"symbol", "lastPrice", "volume", "count", "priceChangePercent"}),
    ("/api/v3/ticker/price", {"symbol", "price"}),
    ("/api/v3/ticker/bookTicker", {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}),
])
def test_tickers_object_for_symbol_array_otherwise(api: Api, path: str, fields: set[str]) -> None:
    one = ok(api.public(path, {"symbol": "BTTUSDT"}))
    assert isinstance(one, dict) and one["symbol"] == "BTTUSDT" and fields <= set(one)
    some = ok(api.public(path, {"symbols": ["BTTUSDT", "BTCUSDT"]}))
    assert isinstance(some, list) and sorted(t["symbol"] for t in some) == ["BTCUSDT", "BTTUSDT"]
    everything = ok(api.public(path))
    assert isinstance(everything, list) and len(everything) >= 5
    single_list = ok(api.public(path, {"symbols": ["BTTUSDT"]}))
    assert isinstance(single_list, list) and len(single_list) == 1


def test_symbols_percent_encoded_by_hand(api: Api) -> None:
    resp = api.raw("GET", "/api/v3/ticker/price",
                   b"symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D")
    assert len(ok(resp)) == 2


@pytest.mark.parametrize("path, params, status, code", [
    ("/api/v3/depth", {"symbol": "NOPEUSDT"}, 400, -1121),
    ("/api/v3/ticker/price", {"symbol": "NOPEUSDT"}, 400, -1121),
    ("/api/v3/ticker/24hr", {"symbols": ["BTCUSDT", "NOPEUSDT"]}, 400, -1121),
    ("/api/v3/exchangeInfo", {"symbol": "NOPEUSDT"}, 400, -1121),
    ("/api/v3/depth", {}, 400, -1102),
    ("/api/v3/depth", {"symbol": ""}, 400, -1102),
    ("/api/v3/depth", {"symbol": "btcusdt"}, 400, -1100),
    ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 0}, 400, -1100),
    ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5001}, 400, -1100),
    ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "ten"}, 400, -1100),
    ("/api/v3/trades", {"symbol": "BTCUSDT", "limit": 1001}, 400, -1100),
    ("/api/v3/klines", {"symbol": "BTCUSDT"}, 400, -1102),
    ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7m"}, 400, -1120),
    ("/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m", "startTime": "-5"}, 400, -1100),
    ("/api/v3/ticker/price", {"symbol": "BTCUSDT", "symbols": ["ETHUSDT"]}, 400, -1106),
    ("/api/v3/ticker/price", {"symbols": "BTCUSDT"}, 400, -1100),
    ("/api/v3/ticker/price", {"symbols": '["BTCUSDT", "ETHUSDT"]'}, 400, -1100),
    ("/api/v3/avgPrice", {}, 400, -1102),
])
def test_market_errors(api: Api, path: str, params: dict, status: int, code: int) -> None:
    assert_json_error(api.public(path, params), status, code)


def test_duplicate_parameter_is_1101(api: Api) -> None:
    resp = api.raw("GET", "/api/v3/depth", b"symbol=BTCUSDT&symbol=ETHUSDT")
    assert_json_error(resp, 400, -1101, "Duplicate values for a parameter detected.")


def test_unknown_path_is_json_404(api: Api) -> None:
    for path in ("/", "/api/v3/nope", "/api/v3/ping/", "/sapi/v1/../../etc/passwd", "/%00"):
        assert_json_error(api.raw("GET", path), 404, -1000)


def test_wrong_method_is_json_405(api: Api) -> None:
    resp = api.raw("POST", "/api/v3/ping")
    assert_json_error(resp, 405, -1000)
    assert "GET" in resp.headers["allow"]
    assert_json_error(api.raw("PUT", "/api/v3/order"), 405, -1000)


def test_public_endpoints_ignore_api_key(api: Api) -> None:
    resp = api.raw("GET", "/api/v3/ping", headers={"X-MBX-APIKEY": "garbage key!"})
    assert resp.status_code == 200 and resp.json() == {}


def test_weird_inputs_never_html_or_500(api: Api) -> None:
    queries = [b"symbol=%ff%fe", b"symbol=BTCUSDT&limit=99999999999999999999999",
               b"symbols=%5B%5D", b"symbols=" + b"%5B" * 500, b"symbol=" + b"A" * 5000,
               b"%%%%", b"symbol=BTCUSDT&&&&", b"=", b"symbols=%5B%22A%22" + b"%2C%22B%22" * 300 + b"%5D"]
    for query in queries:
        for path in ("/api/v3/depth", "/api/v3/ticker/24hr", "/api/v3/exchangeInfo", "/api/v3/klines"):
            resp = api.raw("GET", path, query)
            assert resp.status_code in (200, 400), (path, query, resp.text)
            assert resp.headers["content-type"] == "application/json"
            json.loads(resp.text)
            assert "Traceback" not in resp.text


def test_huge_query_is_403(api: Api) -> None:
    resp = api.raw("GET", "/api/v3/ping", b"x=" + b"a" * 20_000)
    assert_json_error(resp, 403, -1000)


@pytest.mark.parametrize("request_bytes", [
    b"GET /api/v3/ping?x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200_000 + b"\r\n\r\n",
    b"BLAH\x00 / HTTP/9\r\n\r\n",
    b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
], ids=["long-url", "huge-header", "garbage", "bad-content-length"])
def test_malformed_http_gets_json_too(paper_exchange, request_bytes: bytes) -> None:
    status, headers, body = raw_http(paper_exchange.base_url, request_bytes)
    assert status in (400, 403, 413), (status, body)
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == -1000
