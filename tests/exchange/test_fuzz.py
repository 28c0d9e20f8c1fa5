"""Property-based fuzzing of every endpoint of the paper exchange (issue "Never lose an order").

Hypothesis throws malformed parameters, encodings, signatures, timestamps and bodies at each
endpoint the app routes (``all_endpoints()``: public, USER_DATA, TRADE, WITHDRAW), plus random
methods on known paths and random paths, and checks the contract's promises for *every*
answer (section 4): never a 5xx, never HTML — ``application/json`` whose body parses — every
non-2xx body exactly ``{"code": <negative int>, "msg": <str>}``, ``X-MBX-USED-WEIGHT-1M``
always present, and a *rejected* TRADE/WITHDRAW request changes nothing (balances, open
orders, the account's accepted-order count, withdrawals).

Why raw sockets rather than httpx: httpx normalises URLs (it would re-encode the very
percent-encoding garbage and raw bytes we want the server to see), so each request is built
byte for byte and sent on its own ``Connection: close`` socket. The app runs in-process
(``create_app`` + the server's own uvicorn config in a thread, as ``test_api_limits`` does)
with limits too high to ever answer 429, and its withdrawal processor disabled so nothing
moves state between our before/after snapshots.

schemathesis is not used: the paper exchange publishes no OpenAPI description to drive it.
Runs are derandomized (fixed seed, no example database) so CI sees the same examples.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from btx_tui.exchange.http.app import create_app
from btx_tui.exchange.http.route_table import all_endpoints
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.http.ratelimit import Limits
from btx_tui.exchange.http.endpoints import NONE, TRADE, WITHDRAW

from .api_helpers import ThreadServer, hmac_hex, now_ms

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HUGE_LIMITS = Limits(weight_per_minute=10**12, orders_per_10s=10**12, orders_per_day=10**12,
                     ban_grace=10**9)

TRON_ADDRESS = "TN3W4H6rK2ce4vX9YnFQHwKENnHjoxb3m9"
ENDPOINTS = all_endpoints()
SIGNED = [e for e in ENDPOINTS if e.security != NONE]
PUBLIC = [e for e in ENDPOINTS if e.security == NONE]
MUTATING = {TRADE, WITHDRAW}

_LIMIT_BUY = [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
              ("quantity", "0.00100"), ("price", "20000.00")]
#: A valid parameter set per endpoint: mutations start from here, so a fuzzed request gets
#: past the first checks and reaches the deep ones (filters, balance, matching, -4xxx).
BASE: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("GET", "/api/v3/exchangeInfo"): [("symbol", "BTCUSDT")],
    ("GET", "/api/v3/depth"): [("symbol", "BTCUSDT"), ("limit", "5")],
    ("GET", "/api/v3/trades"): [("symbol", "BTCUSDT"), ("limit", "5")],
    ("GET", "/api/v3/aggTrades"): [("symbol", "BTCUSDT"), ("limit", "5")],
    ("GET", "/api/v3/klines"): [("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "5")],
    ("GET", "/api/v3/ticker/24hr"): [("symbol", "BTCUSDT")],
    ("GET", "/api/v3/ticker/price"): [("symbols", '["BTCUSDT","BTTUSDT"]')],
    ("GET", "/api/v3/ticker/bookTicker"): [("symbol", "BTTUSDT")],
    ("GET", "/api/v3/avgPrice"): [("symbol", "BTCUSDT")],
    ("POST", "/api/v3/order"): _LIMIT_BUY,
    ("POST", "/api/v3/order/test"): _LIMIT_BUY,
    ("GET", "/api/v3/order"): [("symbol", "BTCUSDT"), ("orderId", "1")],
    ("DELETE", "/api/v3/order"): [("symbol", "BTCUSDT"), ("orderId", "1")],
    ("GET", "/api/v3/openOrders"): [("symbol", "BTCUSDT")],
    ("DELETE", "/api/v3/openOrders"): [("symbol", "BTCUSDT")],
    ("GET", "/api/v3/allOrders"): [("symbol", "BTCUSDT"), ("limit", "10")],
    ("GET", "/api/v3/myTrades"): [("symbol", "BTCUSDT"), ("limit", "10")],
    ("GET", "/api/v3/account"): [("omitZeroBalances", "true")],
    ("POST", "/sapi/v1/capital/withdraw/apply"): [("coin", "USDT"), ("address", TRON_ADDRESS),
                                                  ("amount", "25")],
    ("GET", "/sapi/v1/capital/withdraw/history"): [("coin", "USDT"), ("limit", "10")],
}

#: Every parameter name the contract knows (sections 1-7), fuzzed on every endpoint.
KNOWN_PARAMS = sorted({
    "symbol", "symbols", "limit", "fromId", "startTime", "endTime", "interval", "side", "type",
    "timeInForce", "quantity", "quoteOrderQty", "price", "newClientOrderId", "newOrderRespType",
    "orderId", "origClientOrderId", "omitZeroBalances", "coin", "network", "address",
    "addressTag", "amount", "withdrawOrderId", "status", "offset", "recvWindow", "timestamp",
    "signature", "stopPrice", "icebergQty", "strategyId",
})

NASTY_VALUES = [
    "", " ", "-1", "0", "-0", "0.0", "1e5", "1E-8", "NaN", "nan", "Infinity", "-Infinity",
    "0x10", "+1", "1_000", "00000000000000000000001", "99999999999999999999999999999",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "1." + "0" * 21 + "1", "0.000000000000000000001", "１２３", "٣", "½", "BTCUSDT", "btcusdt",
    "BTC USDT", "BTCUSDT\x00", '["BTCUSDT"]', '["BTCUSDT",]', "[]", '[""]', '["btcusdt"]',
    '["NOPE"]', "[" + ",".join(['"BTCUSDT"'] * 200) + "]", "null", "true", "false", "{}",
    "BUY", "SELL", "LIMIT", "MARKET", "LIMIT_MAKER", "GTC", "IOC", "FOK", "ACK", "FULL",
    "1m", "1M", "99h", "USDT", "BTT", TRON_ADDRESS, "0x" + "ab" * 20, "<script>", "' OR 1=1 --",
    "%", "%%", "%zz", "%00", "%FF%FE", "%C3%28", "%E2%82", "+", "&", "=", "==", "a=b", "\u202e",
    "\ud7ff", "\U0001f4a9", "é" * 40, "x" * 129, "9" * 5000,
]

TOKENS = (b"GET", b"POST", b"DELETE", b"PUT", b"PATCH", b"HEAD", b"OPTIONS", b"TRACE")


# ---------------------------------------------------------------- raw HTTP


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def send(port: int, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]] = (),
         body: bytes = b"") -> Reply:
    """One request on a fresh ``Connection: close`` socket, bytes exactly as given."""
    head = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    head += [k + b": " + v for k, v in headers]
    if body or method in (b"POST", b"DELETE", b"PUT", b"PATCH"):
        head.append(b"Content-Length: " + str(len(body)).encode())
    data = b"\r\n".join(head) + b"\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    top, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete HTTP answer: {raw[:200]!r}"
    lines = top.decode("latin-1").split("\r\n")
    parsed = [(k.strip().lower(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:])]
    return Reply(int(lines[0].split()[1]), parsed, rest)


def check_contract(reply: Reply, method: bytes) -> object | None:
    """The answer-shape properties every response must have; returns the parsed body."""
    seen = f"answer: {reply.status} {reply.headers} {reply.body[:300]!r}"
    assert reply.status < 500, "a 5xx from fuzzed input (execution status unknown!) " + seen
    assert reply.header("content-type") == ["application/json"], seen
    assert len(reply.header("x-mbx-used-weight-1m")) == 1, seen
    assert reply.header("x-mbx-used-weight-1m")[0].isdigit(), seen
    if method == b"HEAD":  # no body travels on HEAD; the headers above still apply
        return None
    assert reply.header("content-length") == [str(len(reply.body))], seen
    body = json.loads(reply.body.decode("utf-8"))
    if not 200 <= reply.status < 300:
        assert isinstance(body, dict) and set(body) == {"code", "msg"}, body
        assert type(body["code"]) is int and body["code"] < 0, body
        assert isinstance(body["msg"], str), body
    return body


# ---------------------------------------------------------------- the server


@dataclass
class Target:
    port: int
    keys: dict[str, dict]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    exchange = Exchange.open(Path(tmp_path_factory.mktemp("fuzz")) / "ex")
    # Withdrawals complete in the background (~1/s): freeze them so a before/after snapshot
    # of a rejected request can only differ because of that request.
    exchange.wallet.process_withdrawals = lambda: None  # type: ignore[method-assign]
    keys = {k["name"]: k for k in exchange.accounts.demo_keys()}
    with ThreadServer(create_app(exchange, limits=HUGE_LIMITS)) as server:
        yield Target(server.port, keys)
    exchange.close()


def signed_get(t: Target, path: str, pairs: list[tuple[str, str]] = ()) -> object:
    key = t.keys["full"]
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in [*pairs, ("timestamp", str(now_ms()))])
    query += "&signature=" + hmac_hex(key["api_secret"], query.encode())
    reply = send(t.port, b"GET", (path + "?" + query).encode(),
                 [(b"X-MBX-APIKEY", key["api_key"].encode())])
    assert reply.status == 200, reply
    return json.loads(reply.body)


def snapshot(t: Target) -> tuple:
    """Everything a TRADE/WITHDRAW request could change, for the demo account."""
    account = signed_get(t, "/api/v3/account")
    balances = sorted((b["asset"], b["free"], b["locked"]) for b in account["balances"])
    orders = sorted(json.dumps(o, sort_keys=True) for o in signed_get(t, "/api/v3/openOrders"))
    day_count = [r["count"] for r in signed_get(t, "/api/v3/rateLimit/order") if r["interval"] == "DAY"]
    withdrawals = sorted(json.dumps(w, sort_keys=True)
                         for w in signed_get(t, "/sapi/v1/capital/withdraw/history"))
    return balances, orders, day_count, withdrawals


# ---------------------------------------------------------------- strategies

nasty_text = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.text(max_size=24),
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.binary(max_size=16).map(lambda b: b.decode("latin-1")),
)


def encode_pair(name: str, value: str, how: str) -> bytes:
    """``name=value`` encoded properly, raw (only framing bytes escaped) or as given garbage."""
    if how == "quoted":
        return (quote(name, safe="") + "=" + quote(value, safe="")).encode()
    if how == "plus":
        return (quote(name, safe="") + "=" + quote(value, safe="").replace("%20", "+")).encode()
    raw = (name + "=" + value).encode("utf-8", "surrogatepass")
    # Raw: everything except what would break the HTTP framing itself (CR, LF, space, #).
    return b"".join(b"%%%02X" % c if c in b"\r\n #" else bytes([c]) for c in raw)


@st.composite
def mutated_params(draw: st.DrawFn, base: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """A parameter list (name, value, encoding) derived from ``base`` by random mutations."""
    pairs = [(k, v, "quoted") for k, v in base]
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["replace", "drop", "dup", "extra", "garbage_name", "reencode"]))
        if op == "replace" and pairs:
            i = draw(st.integers(0, len(pairs) - 1))
            pairs[i] = (pairs[i][0], draw(nasty_text), pairs[i][2])
        elif op == "drop" and pairs:
            pairs.pop(draw(st.integers(0, len(pairs) - 1)))
        elif op == "dup" and pairs:
            k, v, how = pairs[draw(st.integers(0, len(pairs) - 1))]
            pairs.append((k, draw(st.one_of(st.just(v), nasty_text)), how))
        elif op == "extra":
            pairs.append((draw(st.sampled_from(KNOWN_PARAMS)), draw(nasty_text), "quoted"))
        elif op == "garbage_name":
            pairs.append((draw(nasty_text), draw(nasty_text), draw(st.sampled_from(["quoted", "raw"]))))
        elif op == "reencode" and pairs:
            i = draw(st.integers(0, len(pairs) - 1))
            pairs[i] = (pairs[i][0], pairs[i][1], draw(st.sampled_from(["quoted", "plus", "raw"])))
    return pairs


@dataclass
class SignedCase:
    method: bytes
    path: str
    security: str
    query: bytes
    body: bytes
    headers: list[tuple[bytes, bytes]]
    auth_valid: bool


@st.composite
def signed_cases(draw: st.DrawFn, keys: dict[str, dict]) -> SignedCase:
    endpoint = draw(st.sampled_from(SIGNED))
    pairs = draw(mutated_params(BASE.get((endpoint.method, endpoint.path), [])))
    auth_valid = True

    rw_mode = draw(st.sampled_from(["absent", "absent", "valid", "zero", "over", "garbage"]))
    recv_window = 5000
    if rw_mode == "valid":
        recv_window = draw(st.integers(1000, 60000))
        pairs.append(("recvWindow", str(recv_window), "quoted"))
    elif rw_mode != "absent":
        auth_valid = False
        value = {"zero": "0", "over": str(draw(st.integers(60001, 10**20)))}.get(rw_mode) or draw(nasty_text)
        pairs.append(("recvWindow", value, "quoted"))

    ts_mode = draw(st.sampled_from(["now", "now", "now", "stale", "future", "garbage", "missing"]))
    now = now_ms()
    if ts_mode == "now":
        pairs.append(("timestamp", str(now), "quoted"))
    elif ts_mode == "stale":
        auth_valid = False
        pairs.append(("timestamp", str(now - recv_window - draw(st.integers(2000, 10**12))), "quoted"))
    elif ts_mode == "future":
        auth_valid = False
        pairs.append(("timestamp", str(now + draw(st.integers(3000, 10**12))), "quoted"))
    elif ts_mode == "garbage":
        auth_valid = False
        pairs.append(("timestamp", draw(nasty_text), draw(st.sampled_from(["quoted", "raw"]))))
    else:
        auth_valid = False

    # Placement: GET takes the query only; POST/DELETE may split across query and body.
    encoded = [encode_pair(k, v, how) for k, v, how in pairs]
    if endpoint.method == "GET":
        split = len(encoded)
    else:
        split = draw(st.integers(0, len(encoded)))
    query, body = b"&".join(encoded[:split]), b"&".join(encoded[split:])

    key_name = draw(st.sampled_from(["full", "full", "full", "trade", "read", "unknown", "malformed",
                                     "missing"]))
    secret = keys["full"]["api_secret"]
    headers: list[tuple[bytes, bytes]] = []
    if key_name in keys:
        headers.append((b"X-MBX-APIKEY", keys[key_name]["api_key"].encode()))
        secret = keys[key_name]["api_secret"]
        if key_name == "read" and endpoint.security != "USER_DATA":
            auth_valid = False
        if key_name == "trade" and endpoint.security == WITHDRAW:
            auth_valid = False
    else:
        auth_valid = False
        if key_name == "unknown":
            headers.append((b"X-MBX-APIKEY", b"Z" * 64))
        elif key_name == "malformed":
            headers.append((b"X-MBX-APIKEY", draw(nasty_text).encode("utf-8", "surrogatepass")
                            .replace(b"\r", b"").replace(b"\n", b"")))

    good = hmac_hex(secret, query + body)
    sig_mode = draw(st.sampled_from(["valid", "valid", "valid", "upper", "bad", "truncated",
                                     "missing", "empty", "garbage", "dup"]))
    sig = {"valid": good, "upper": good.upper(), "bad": hmac_hex("not-the-secret", query + body),
           "truncated": good[: draw(st.integers(0, 63))], "empty": "", "dup": good}.get(sig_mode)
    if sig is None and sig_mode == "garbage":
        sig = draw(nasty_text)
    if sig_mode not in ("valid", "upper"):
        auth_valid = False
    if sig_mode != "missing":
        sig_pair = encode_pair("signature", sig or "", "quoted")
        if sig_mode == "dup":
            sig_pair += b"&" + sig_pair
        sig_in_query = endpoint.method == "GET" or draw(st.booleans())
        if sig_in_query:
            query = query + b"&" + sig_pair if query else sig_pair
        else:
            body = body + b"&" + sig_pair if body else sig_pair

    if body or endpoint.method != "GET":
        content_type = draw(st.sampled_from([b"application/x-www-form-urlencoded", b"application/json",
                                             b"text/plain; charset=utf-8", b"multipart/form-data", None]))
        if content_type is not None:
            headers.append((b"Content-Type", content_type))
    return SignedCase(endpoint.method.encode(), endpoint.path, endpoint.security, query, body,
                      headers, auth_valid)


# ---------------------------------------------------------------- the properties


def test_fuzz_signed_endpoints(target: Target) -> None:
    """Garbage at every USER_DATA/TRADE/WITHDRAW endpoint: contract-shaped answers; a
    rejected TRADE/WITHDRAW request leaves the account exactly as it was."""
    statuses: Counter[str] = Counter()

    @settings(FUZZ, max_examples=600)
    @given(case=signed_cases(target.keys))
    def run(case: SignedCase) -> None:
        target_bytes = case.path.encode() + (b"?" + case.query if case.query else b"")
        note(f"{case.method!r} {target_bytes[:400]!r} body={case.body[:400]!r} headers={case.headers!r}")
        mutating = case.security in MUTATING
        before = snapshot(target) if mutating else None
        reply = send(target.port, case.method, target_bytes, case.headers, case.body)
        body = check_contract(reply, case.method)
        ok = 200 <= reply.status < 300
        statuses["2xx" if ok else str(body["code"])] += 1
        if case.auth_valid and not ok:
            # Our own signing/timing was right: the refusal must come from the parameters.
            assert body["code"] not in (-1021, -1022, -2014, -2015), body
        if mutating and not ok:
            assert snapshot(target) == before, "a rejected request changed the account"

    run()
    print(statuses)
    # The fuzzing must reach past authentication into the handlers, and get refused too.
    assert statuses["2xx"] > 0, statuses
    assert sum(n for code, n in statuses.items() if code not in ("2xx", "-1022", "-1021")) > 0, statuses
    assert statuses["-1022"] > 0 and statuses["-1021"] > 0, statuses


@st.composite
def public_cases(draw: st.DrawFn) -> tuple[bytes, bytes, list[tuple[bytes, bytes]]]:
    endpoint = draw(st.sampled_from(PUBLIC))
    pairs = draw(mutated_params(BASE.get((endpoint.method, endpoint.path), [])))
    encoded = [encode_pair(k, v, how) for k, v, how in pairs]
    headers = []
    if draw(st.booleans()):  # public endpoints ignore a key, whatever it looks like
        headers.append((b"X-MBX-APIKEY", draw(st.sampled_from([b"", b"x", b"Z" * 64, b"\xff\xfe"]))))
    return endpoint.path.encode(), b"&".join(encoded), headers


def test_fuzz_public_endpoints(target: Target) -> None:
    """Market-data endpoints fed malformed/duplicated/unknown parameters answer per contract."""
    statuses: Counter[int] = Counter()

    @FUZZ
    @given(case=public_cases())
    def run(case: tuple[bytes, bytes, list[tuple[bytes, bytes]]]) -> None:
        path, query, headers = case
        note(f"GET {path!r}?{query[:400]!r}")
        reply = send(target.port, b"GET", path + (b"?" + query if query else b""), headers)
        check_contract(reply, b"GET")
        statuses[reply.status] += 1

    run()
    assert statuses[200] > 0 and statuses[400] > 0, statuses


path_segment = st.text(st.characters(codec="ascii", exclude_characters="\r\n #?"), max_size=12)
random_paths = st.one_of(
    st.sampled_from(sorted({e.path for e in ENDPOINTS})),
    st.sampled_from(["/", "//api/v3/ping", "/api/v3/ping/", "/API/V3/PING", "/api/v3/%70ing",
                     "/api/v3/../v3/ping", "/admin/faults", "/sapi/v1/", "/api/v3/order%00",
                     "/api/v3/" + "a" * 3000, "/%ff%fe", "/api/v3/tïcker"]),
    st.lists(path_segment, min_size=1, max_size=5).map(lambda segs: "/" + "/".join(segs)),
)


@given(
    method=st.one_of(st.sampled_from(TOKENS), st.from_regex(rb"\A[A-Z]{1,12}\Z")),
    path=random_paths,
    query=st.binary(max_size=64).map(lambda b: b.replace(b" ", b"+").replace(b"\r", b"")
                                     .replace(b"\n", b"").replace(b"#", b"")),
    body=st.one_of(st.just(b""), st.binary(max_size=256), st.just(b"{\"symbol\": \"BTCUSDT\"}")),
)
@FUZZ
def test_fuzz_methods_paths_and_bytes(target: Target, method: bytes, path: str, query: bytes,
                                      body: bytes) -> None:
    """Random methods on known and unknown paths with raw byte queries and bodies."""
    target_bytes = path.encode("utf-8") + (b"?" + query if query else b"")
    reply = send(target.port, method, target_bytes,
                 [(b"Content-Type", b"application/x-www-form-urlencoded")] if body else [], body)
    check_contract(reply, method)
    known = {e.path: e for e in ENDPOINTS}
    if method in (b"GET", b"POST", b"DELETE", b"PUT") and path not in known and reply.status != 403:
        assert reply.status in (400, 404), reply.status  # unknown path: JSON 404, never HTML


def test_huge_and_oversized_requests(target: Target) -> None:
    """Oversized queries, bodies and headers are refused as JSON, and change nothing."""
    before = snapshot(target)
    key = target.keys["full"]
    cases = [
        (b"GET", b"/api/v3/depth?symbol=BTCUSDT&limit=" + b"9" * 20000, [], b""),
        (b"POST", b"/api/v3/order", [(b"X-MBX-APIKEY", key["api_key"].encode()),
                                     (b"Content-Type", b"application/x-www-form-urlencoded")],
         b"symbol=BTCUSDT&price=" + b"1" * 70000),
        (b"GET", b"/api/v3/account", [(b"X-MBX-APIKEY", b"k" * 70000)], b""),
        (b"DELETE", b"/api/v3/openOrders?symbol=BTCUSDT", [(b"X-MBX-APIKEY", key["api_key"].encode())],
         b"&".join([b"symbol=BTCUSDT"] * 5000)),
    ]
    for method, tgt, headers, body in cases:
        reply = send(target.port, method, tgt, headers, body)
        check_contract(reply, method)
        assert 400 <= reply.status < 500, reply
    assert snapshot(target) == before


def test_snapshot_sees_a_real_change(target: Target) -> None:
    """Control for the state property: an accepted order does change the snapshot."""
    before = snapshot(target)
    key = target.keys["full"]
    query = "&".join(f"{k}={v}" for k, v in _LIMIT_BUY) + f"&timestamp={now_ms()}"
    query += "&signature=" + hmac_hex(key["api_secret"], query.encode())
    reply = send(target.port, b"POST", b"/api/v3/order?" + query.encode(),
                 [(b"X-MBX-APIKEY", key["api_key"].encode())])
    assert reply.status == 200, reply
    assert snapshot(target) != before


decimal_text = st.one_of(
    st.from_regex(r"\A[0-9]{1,6}(\.[0-9]{1,10})?\Z"),
    st.sampled_from(["0.00100", "0.00001", "20000.00", "20000.001", "0.0000006", "1000000000",
                     "25", "10", "9.99", "4000000", "0"]),
)
_SYMBOLS = ["BTCUSDT", "BTTUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX", "NOPEUSDT"]


@st.composite
def wellformed_trading(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]]]:
    """Well-formed, correctly signed TRADE/WITHDRAW requests with random values: these get
    past format checks into filters, balance, matching and withdrawal validation."""
    kind = draw(st.sampled_from(["order", "order", "order", "test", "cancel", "cancel_all", "withdraw"]))
    opt = lambda name, values: [(name, draw(values))] if draw(st.booleans()) else []  # noqa: E731
    if kind in ("order", "test"):
        pairs = [("symbol", draw(st.sampled_from(_SYMBOLS))), ("side", draw(st.sampled_from(["BUY", "SELL"]))),
                 ("type", draw(st.sampled_from(["LIMIT", "MARKET", "LIMIT_MAKER"])))]
        pairs += opt("timeInForce", st.sampled_from(["GTC", "IOC", "FOK"]))
        pairs += opt("quantity", decimal_text) + opt("price", decimal_text)
        pairs += opt("quoteOrderQty", decimal_text)
        pairs += opt("newClientOrderId", st.sampled_from(["dup-id", "fz-1", "fz-2"]))
        pairs += opt("newOrderRespType", st.sampled_from(["ACK", "RESULT", "FULL"]))
        return "POST", "/api/v3/order" if kind == "order" else "/api/v3/order/test", pairs
    if kind == "cancel":
        pairs = [("symbol", draw(st.sampled_from(_SYMBOLS)))]
        pairs += opt("orderId", st.integers(0, 40).map(str))
        pairs += opt("origClientOrderId", st.sampled_from(["dup-id", "fz-1", "nope"]))
        pairs += opt("newClientOrderId", st.sampled_from(["c-1", "dup-id"]))
        return "DELETE", "/api/v3/order", pairs
    if kind == "cancel_all":
        return "DELETE", "/api/v3/openOrders", [("symbol", draw(st.sampled_from(_SYMBOLS)))]
    pairs = [("coin", draw(st.sampled_from(["USDT", "BTT", "BTC", "XRP", "MATIC", "ADA", "NOPE"]))),
             ("address", draw(st.sampled_from([TRON_ADDRESS, "0x" + "ab" * 20, "bc1" + "q" * 30,
                                                "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe", "T123"]))),
             ("amount", draw(decimal_text))]
    pairs += opt("network", st.sampled_from(["TRX", "BSC", "ETH", "BTC", "NOPE"]))
    pairs += opt("addressTag", st.sampled_from(["1", "0", "abc", "123456789012"]))
    pairs += opt("withdrawOrderId", st.sampled_from(["w-1", "w-2"]))
    return "POST", "/sapi/v1/capital/withdraw/apply", pairs


def test_fuzz_wellformed_trading_never_half_applies(target: Target) -> None:
    """Valid-looking orders, cancels and withdrawals with random values: every refusal is a
    documented 4xx and leaves balances, open orders, order count and withdrawals untouched."""
    statuses: Counter[str] = Counter()
    key = target.keys["full"]

    @settings(FUZZ, max_examples=300)
    @given(case=wellformed_trading(), split=st.integers(0, 12))
    def run(case: tuple[str, str, list[tuple[str, str]]], split: int) -> None:
        method, path, pairs = case
        pairs = [*pairs, ("timestamp", str(now_ms()))]
        encoded = [encode_pair(k, v, "quoted") for k, v in pairs]
        query, body = b"&".join(encoded[:split]), b"&".join(encoded[split:])
        sig = b"signature=" + hmac_hex(key["api_secret"], query + body).encode()
        if body:
            body += b"&" + sig
        else:
            query = query + b"&" + sig if query else sig
        headers = [(b"X-MBX-APIKEY", key["api_key"].encode())]
        if body:
            headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
        before = snapshot(target)
        reply = send(target.port, method.encode(), path.encode() + (b"?" + query if query else b""),
                     headers, body)
        answer = check_contract(reply, method.encode())
        ok = 200 <= reply.status < 300
        statuses["2xx" if ok else str(answer["code"])] += 1
        if not ok:
            assert reply.status in (400, 401), (reply.status, answer)
            assert answer["code"] not in (-1021, -1022, -2014, -2015, -1000), answer
            assert snapshot(target) == before, f"rejected {method} {path} {answer} changed the account"

    run()
    print(statuses)
    assert statuses["2xx"] > 0, statuses
    # The deep checks were reached: filters, balance/duplicate, unknown order, withdrawal rules.
    for code in ("-1013", "-2011"):
        assert statuses[code] > 0, statuses
    assert any(code.startswith("-4") for code in statuses), statuses
