"""Fault injection ("never lose an order", part 1), over a real loopback socket.

One module-scoped paper exchange started with ``--admin-token`` serves most tests: each sets
its fault set through ``POST /admin/faults`` and the autouse fixture clears it afterwards.
For every kind the tests check what the client sees AND the state afterwards (did the order
get placed exactly once, or not at all).  A second exchange started with ``--fault`` flags
and no token covers the CLI path and the absent admin endpoint.  The admin endpoint's
loopback check is tested by calling the ASGI app directly with a fake peer address.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from btx_tui.cli import build_parser
from btx_tui.exchange.http.app import create_app
from btx_tui.exchange.http.fault_specs import KINDS, FaultError, FaultSpec, make_spec, parse_fault
from btx_tui.exchange.http.faults import FaultInjector
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

from .api_helpers import Api, assert_json_error, now_ms

TOKEN = "test-admin-token-0123456789"
SYMBOL = "BTCUSDT"
ORDER = "POST /api/v3/order"
_ids = itertools.count()


# ---- fixtures and helpers -------------------------------------------------------------------
@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    ex = start_paper_exchange(Path(tmp_path_factory.mktemp("faults")) / "paper", market=False,
                              extra_args=["--admin-token", TOKEN, "--log-level", "INFO"])
    try:
        yield ex
    finally:
        ex.stop()


@pytest.fixture(scope="module")
def api(chaos: PaperExchange) -> Iterator[Api]:
    key = chaos.keys["full"]
    client = Api(chaos.base_url, key["api_key"], key["api_secret"])
    yield client
    client.close()


@pytest.fixture(scope="module")
def admin(chaos: PaperExchange) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chaos.base_url, timeout=10.0,
                      headers={"X-BTX-ADMIN-TOKEN": TOKEN}) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_faults_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "admin" in request.fixturenames:
        request.getfixturevalue("admin").delete("/admin/faults")


def set_faults(admin: httpx.Client, *faults: dict[str, Any], seed: int | None = None) -> dict:
    body: dict[str, Any] = {"faults": list(faults)}
    if seed is not None:
        body["seed"] = seed
    resp = admin.post("/admin/faults", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def fault(kind: str, endpoint: str = ORDER, probability: float = 1, arg: Any = None) -> dict:
    return {"kind": kind, "endpoint": endpoint, "probability": probability, "arg": arg}


def new_cid() -> str:
    return f"fault-{now_ms()}-{next(_ids)}"


def place(api: Api, cid: str) -> httpx.Response:
    return api.signed("POST", "/api/v3/order", {
        "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.00100", "price": "40000.00", "newClientOrderId": cid})


def orders_with(api: Api, cid: str) -> list[dict]:
    """Every order of the account (open or closed) carrying client order id ``cid``."""
    resp = api.signed("GET", "/api/v3/allOrders", {"symbol": SYMBOL, "limit": 1000})
    assert resp.status_code == 200, resp.text
    return [o for o in resp.json() if o["clientOrderId"] == cid]


def get_order(api: Api, cid: str) -> httpx.Response:
    return api.signed("GET", "/api/v3/order", {"symbol": SYMBOL, "origClientOrderId": cid})


def injected(admin: httpx.Client) -> dict[str, int]:
    return admin.get("/admin/faults").json()["injected"]


# ---- kinds that execute, then hide the outcome -------------------------------------------
def test_execute_then_drop_places_exactly_one_order(api: Api, admin: httpx.Client, chaos: PaperExchange) -> None:
    set_faults(admin, fault("execute_then_drop"))
    cid = new_cid()
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        place(api, cid)
    assert injected(admin) == {"execute_then_drop": 1}
    admin.delete("/admin/faults")
    [order] = orders_with(api, cid)
    assert order["status"] == "NEW"
    found = get_order(api, cid)
    assert found.status_code == 200 and found.json()["clientOrderId"] == cid
    # logged at INFO with kind and endpoint, never the key, secret or signature
    log = (chaos.data_dir / "exchange.stderr.log").read_text()
    assert "fault injected: execute_then_drop on POST /api/v3/order" in log
    assert chaos.keys["full"]["api_secret"] not in log and chaos.keys["full"]["api_key"] not in log
    assert "signature" not in log and TOKEN not in log


@pytest.mark.parametrize("kind,status,code", [
    ("execute_then_503", 503, -1000),
    ("execute_then_500", 500, -1000),
    ("execute_then_502", 502, -1000),
    ("execute_then_504", 504, -1000),
    ("-1007", 503, -1007),
])
def test_execute_then_json_error_placed_the_order(api: Api, admin: httpx.Client, kind: str,
                                                  status: int, code: int) -> None:
    set_faults(admin, fault(kind))
    cid = new_cid()
    resp = place(api, cid)
    assert_json_error(resp, status, code, KINDS[kind].msg)
    admin.delete("/admin/faults")
    assert len(orders_with(api, cid)) == 1


def test_html_503_executes_and_answers_html(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("html_503"))
    cid = new_cid()
    resp = place(api, cid)
    assert resp.status_code == 503
    assert resp.headers["content-type"] == "text/html"
    assert resp.text.startswith("<html>") and "503" in resp.text
    admin.delete("/admin/faults")
    assert len(orders_with(api, cid)) == 1


def test_truncated_executes_and_sends_unparsable_200(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("truncated"))
    cid = new_cid()
    resp = place(api, cid)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.text.startswith('{"symbol":"BTCUSDT"')
    with pytest.raises(ValueError):
        resp.json()
    assert int(resp.headers["content-length"]) == len(resp.content)  # framing intact, JSON cut
    assert not resp.text.endswith("}")
    admin.delete("/admin/faults")
    assert len(orders_with(api, cid)) == 1


# ---- kinds that answer without executing ---------------------------------------------------
@pytest.mark.parametrize("kind,status,code", [
    ("500", 500, -1000), ("502", 502, -1000), ("504", 504, -1000), ("-1006", 500, -1006),
])
def test_json_error_without_executing_places_nothing(api: Api, admin: httpx.Client, kind: str,
                                                     status: int, code: int) -> None:
    set_faults(admin, fault(kind))
    cid = new_cid()
    assert_json_error(place(api, cid), status, code, KINDS[kind].msg)
    admin.delete("/admin/faults")
    assert orders_with(api, cid) == []
    assert_json_error(get_order(api, cid), 400, -2013, "Order does not exist.")


def test_html_502_places_nothing(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("html"))
    cid = new_cid()
    resp = place(api, cid)
    assert resp.status_code == 502 and resp.headers["content-type"] == "text/html"
    assert "<h1>502 Bad Gateway</h1>" in resp.text
    admin.delete("/admin/faults")
    assert orders_with(api, cid) == []


def test_429_with_retry_after_places_nothing(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("429", arg=1))
    strikes = admin.get("/admin/faults").json()["rate_limit"]["strikes"]
    cid = new_cid()
    resp = place(api, cid)
    assert_json_error(resp, 429, -1003)
    assert resp.headers["retry-after"] == "1"
    assert "request weight per 1 MINUTE" in resp.json()["msg"]
    admin.delete("/admin/faults")
    # Like a real 429 it opens a Retry-After window: a request inside it is refused (a strike).
    assert_json_error(api.public("/api/v3/ping"), 429, -1003)
    assert admin.get("/admin/faults").json()["rate_limit"]["strikes"] == strikes + 1
    time.sleep(1.05)
    assert orders_with(api, cid) == []
    assert api.public("/api/v3/ping").status_code == 200  # no ban followed one strike


# ---- modifiers -----------------------------------------------------------------------------
def test_delay_outlives_the_client_timeout_and_still_places(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("delay", arg=1.5))
    cid = new_cid()
    impatient = Api(api.base_url, api.api_key, api.secret)
    impatient.http.timeout = httpx.Timeout(0.4)
    try:
        with pytest.raises(httpx.ReadTimeout):
            place(impatient, cid)
    finally:
        impatient.close()
    admin.delete("/admin/faults")
    deadline = time.monotonic() + 10
    while not (found := orders_with(api, cid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(found) == 1
    assert injected(admin)["delay"] == 1


def test_delay_then_normal_answer(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("delay", endpoint="GET /api/v3/ping", arg=0.2))
    resp = api.public("/api/v3/ping")
    assert resp.status_code == 200 and resp.json() == {}


def test_order_not_found_for_hides_a_fresh_order_then_finds_it(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("order_not_found_for", endpoint="GET /api/v3/order", arg=1))
    cid = new_cid()
    assert place(api, cid).status_code == 200
    assert_json_error(get_order(api, cid), 400, -2013, "Order does not exist.")
    assert len(orders_with(api, cid)) == 1  # it exists all along
    deadline = time.monotonic() + 10
    while (resp := get_order(api, cid)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert resp.status_code == 200 and resp.json()["clientOrderId"] == cid
    assert injected(admin)["order_not_found_for"] >= 1


def test_clock_skew_offsets_server_time_and_the_timestamp_check(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("clock_skew", endpoint="*", arg=70000))
    server_time = api.public("/api/v3/time").json()["serverTime"]
    assert server_time - now_ms() > 60000
    info = api.public("/api/v3/exchangeInfo", {"symbol": SYMBOL}).json()
    assert info["serverTime"] - now_ms() > 60000
    assert_json_error(api.signed("GET", "/api/v3/account"), 400, -1021,
                      "Timestamp for this request is outside of the recvWindow.")
    # a client that syncs to serverTime gets through
    synced = api.public("/api/v3/time").json()["serverTime"]
    assert api.signed("GET", "/api/v3/account", timestamp=synced).status_code == 200
    admin.delete("/admin/faults")
    assert abs(api.public("/api/v3/time").json()["serverTime"] - now_ms()) < 30000


# ---- probabilities and seeds ---------------------------------------------------------------
def test_probability_zero_never_fires(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("500", endpoint="*", probability=0))
    assert all(api.public("/api/v3/ping").status_code == 200 for _ in range(40))
    assert admin.get("/admin/faults").json()["total"] == 0


def test_probability_one_always_fires_on_its_endpoint_only(api: Api, admin: httpx.Client) -> None:
    set_faults(admin, fault("502", endpoint="GET /api/v3/ping"))
    assert all(api.public("/api/v3/ping").status_code == 502 for _ in range(20))
    assert api.public("/api/v3/time").status_code == 200
    assert api.public("/api/v3/nope").status_code == 404  # unknown paths never get faults
    assert injected(admin) == {"502": 20}


def test_seeded_runs_fire_the_same_sequence(api: Api, admin: httpx.Client) -> None:
    def run(seed: int) -> list[int]:
        state = set_faults(admin, fault("500", endpoint="GET /api/v3/ping", probability=0.5), seed=seed)
        assert state["seed"] == seed and state["total"] == 0  # POST resets the counters
        return [api.public("/api/v3/ping").status_code for _ in range(30)]

    first, second = run(11), run(11)
    assert first == second
    assert set(first) == {200, 500}
    assert injected(admin)["500"] == first.count(500)


def test_seeded_plans_are_reproducible_in_process() -> None:
    spec = FaultSpec("500", "*", 0.3)

    def draws(seed: int) -> list[bool]:
        injector = FaultInjector([spec], seed=seed)
        return [injector.plan("GET", "/api/v3/ping") is not None for _ in range(200)]

    assert draws(5) == draws(5)
    assert draws(5) != draws(6)
    assert 20 < sum(draws(5)) < 100


# ---- the admin endpoint --------------------------------------------------------------------
def test_admin_requires_the_token(chaos: PaperExchange) -> None:
    url = chaos.base_url + "/admin/faults"
    for headers in ({}, {"X-BTX-ADMIN-TOKEN": "wrong"}, {"X-BTX-ADMIN-TOKEN": TOKEN + "x"}):
        for method in ("GET", "POST", "DELETE"):
            resp = httpx.request(method, url, headers=headers, json={"faults": [fault("500", "*")]})
            assert resp.status_code == 401, (method, headers)
            assert resp.headers["content-type"] == "application/json"
            assert resp.json()["code"] == -2015
    # nothing was installed by the refused POSTs
    resp = httpx.get(url, headers={"X-BTX-ADMIN-TOKEN": TOKEN})
    assert resp.status_code == 200 and resp.json()["faults"] == []


def test_admin_get_post_delete(api: Api, admin: httpx.Client) -> None:
    state = set_faults(admin, fault("execute_then_503"), fault("clock_skew", "*", 0.5, -2500), seed=42)
    assert state["faults"] == [
        {"kind": "execute_then_503", "endpoint": ORDER, "probability": 1.0, "arg": None},
        {"kind": "clock_skew", "endpoint": "*", "probability": 0.5, "arg": -2500},
    ]
    assert state["seed"] == 42 and state["injected"] == {} and state["total"] == 0
    assert place(api, new_cid()).status_code == 503
    cleared = admin.delete("/admin/faults").json()
    assert cleared["faults"] == []
    assert cleared["injected"]["execute_then_503"] == 1  # counters survive a clear
    assert place(api, new_cid()).status_code == 200


@pytest.mark.parametrize("body", [
    b"not json",
    b'{"faults": {}}',
    b'{"faults": [{"kind": "nope", "endpoint": "*", "probability": 1}]}',
    b'{"faults": [{"kind": "500", "endpoint": "GET /api/v3/nope", "probability": 1}]}',
    b'{"faults": [{"kind": "500", "endpoint": "*", "probability": 1.5}]}',
    b'{"faults": [{"kind": "500", "endpoint": "*", "probability": true}]}',
    b'{"faults": [{"kind": "delay", "endpoint": "*", "probability": 1}]}',
    b'{"faults": [{"kind": "500", "endpoint": "*", "probability": 1, "arg": 3}]}',
    b'{"faults": [], "seed": "x"}',
])
def test_admin_rejects_invalid_fault_sets(admin: httpx.Client, body: bytes) -> None:
    set_faults(admin, fault("500", "GET /api/v3/ping"))
    resp = admin.post("/admin/faults", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == -1130 and "Invalid fault set" in resp.json()["msg"]
    assert len(admin.get("/admin/faults").json()["faults"]) == 1  # unchanged


class _Clock:
    def now_ms(self) -> int:
        return now_ms()


async def _call(app: Any, method: str, path: str, client: tuple[str, int] | None,
                headers: list[tuple[bytes, bytes]], body: bytes = b"") -> tuple[int, dict]:
    sent: list[dict] = []
    scope = {"type": "http", "method": method, "path": path, "query_string": b"",
             "headers": headers, "client": client}

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


async def test_admin_is_loopback_only() -> None:
    app = create_app(_Clock(), faults=FaultInjector(admin_token=TOKEN))
    token = [(b"x-btx-admin-token", TOKEN.encode())]
    for peer in (("10.0.0.5", 5555), ("192.168.1.2", 1), ("2001:db8::1", 1), None):
        status, body = await _call(app, "GET", "/admin/faults", peer, token)
        assert status == 403 and body["code"] == -1000, peer
    for peer in (("127.0.0.1", 5555), ("::1", 1), ("127.8.9.10", 2)):
        status, body = await _call(app, "GET", "/admin/faults", peer, token)
        assert status == 200 and body["faults"] == [], peer


async def test_admin_path_is_404_without_a_token() -> None:
    token = [(b"x-btx-admin-token", TOKEN.encode())]
    for faults in (None, FaultInjector([FaultSpec("500", "GET /api/v3/ping", 1.0)])):
        app = create_app(_Clock(), faults=faults)
        for method in ("GET", "POST", "DELETE"):
            status, body = await _call(app, method, "/admin/faults", ("127.0.0.1", 1), token)
            assert (status, body["code"]) == (404, -1000)
            unknown = await _call(app, method, "/admin/other", ("127.0.0.1", 1), token)
            assert unknown == (status, body)


# ---- the command line ----------------------------------------------------------------------
def test_cli_faults_without_token(tmp_path: Path) -> None:
    ex = start_paper_exchange(tmp_path / "paper", market=False, extra_args=[
        "--fault", "500:GET /api/v3/ping:1", "--fault", "clock_skew:GET /api/v3/time:1:-70000",
        "--fault-seed", "3"])
    try:
        with httpx.Client(base_url=ex.base_url, timeout=10) as http:
            assert_json_error(http.get("/api/v3/ping"), 500, -1000)
            assert now_ms() - http.get("/api/v3/time").json()["serverTime"] > 60000
            assert http.get("/api/v3/exchangeInfo").status_code == 200
            resp = http.get("/admin/faults", headers={"X-BTX-ADMIN-TOKEN": TOKEN})
            assert_json_error(resp, 404, -1000)
    finally:
        ex.stop()
    log = (ex.data_dir / "exchange.stderr.log").read_text()
    assert "fault injection enabled: 2 fault(s), seed 3" in log
    assert "faults injected: 2 {'500': 1, 'clock_skew': 1}" in log  # summary at shutdown


def test_admin_token_from_the_environment_stays_out_of_the_process_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BTX_ADMIN_TOKEN", "env-admin-token-42")
    ex = start_paper_exchange(tmp_path / "paper", market=False)
    try:
        assert ex.proc is not None and not any("env-admin-token-42" in arg for arg in ex.proc.args)
        with httpx.Client(base_url=ex.base_url, timeout=10.0) as http:
            assert http.get("/admin/faults", headers={"X-BTX-ADMIN-TOKEN": "env-admin-token-42"}).status_code == 200
            assert http.get("/admin/faults", headers={"X-BTX-ADMIN-TOKEN": "wrong"}).status_code == 401
    finally:
        ex.stop()


def test_cli_parses_and_validates_faults() -> None:
    args = build_parser().parse_args([
        "exchange", "--fault", "execute_then_503:POST /api/v3/order:0.05",
        "--fault", "clock_skew:*:1:70000", "--fault-seed", "9", "--admin-token", "t0k"])
    assert args.fault == [FaultSpec("execute_then_503", ORDER, 0.05),
                          FaultSpec("clock_skew", "*", 1.0, 70000)]
    assert (args.fault_seed, args.admin_token) == (9, "t0k")
    defaults = build_parser().parse_args(["exchange"])
    assert (defaults.fault, defaults.fault_seed, defaults.admin_token) == (None, None, None)
    for bad in ("nope:*:1", "500:GET /api/v3/pong:1", "500:*:2", "500:*", "delay:*:1",
                "500:*:1:3", "clock_skew:*:1:1.5", "429:*:1:0"):
        with pytest.raises(SystemExit) as exc:
            build_parser().parse_args(["exchange", "--fault", bad])
        assert exc.value.code == 2, bad
    with pytest.raises(SystemExit):
        build_parser().parse_args(["exchange", "--admin-token", ""])


def test_parse_fault_values() -> None:
    assert parse_fault("delay:POST /api/v3/order:0.25:2.5") == FaultSpec("delay", ORDER, 0.25, 2.5)
    assert parse_fault("429:*:1") == FaultSpec("429", "*", 1.0, 1)  # default Retry-After
    assert parse_fault("-1006:DELETE /api/v3/order:1").endpoint == "DELETE /api/v3/order"
    with pytest.raises(FaultError, match="unknown endpoint"):
        make_spec("500", "GET /x", 1, known={"GET /y"})
    with pytest.raises(FaultError, match="probability"):
        make_spec("500", "*", float("nan"))
