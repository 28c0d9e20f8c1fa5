"""Signature and timestamp rules (btx_tui.exchange.http.auth), including the contract's vectors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from btx_tui.exchange.http.auth import authenticate, check_timing, sign, signature_valid
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import parse

from .api_helpers import hmac_hex

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
QUERY = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
BODY = b"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
VECTOR_1 = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
VECTOR_2 = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
NOW = 1499827319559 + 100
KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def test_vector_1_single_payload() -> None:
    assert sign(SECRET, QUERY + b"&" + BODY) == VECTOR_1


def test_the_test_helper_signs_like_the_contract_vector() -> None:
    assert hmac_hex(SECRET, QUERY + b"&" + BODY) == VECTOR_1


def test_vector_2_query_plus_body_without_separator() -> None:
    assert sign(SECRET, QUERY + BODY) == VECTOR_2
    params = parse(QUERY + b"&signature=" + VECTOR_2.encode(), BODY)
    assert params.payload == QUERY + BODY
    assert signature_valid(SECRET, params.payload, params.signature)


def test_vector_1_parsed_from_body_only_and_upper_case() -> None:
    params = parse(b"", QUERY + b"&" + BODY + b"&signature=" + VECTOR_1.upper().encode())
    assert signature_valid(SECRET, params.payload, params.signature)
    assert not signature_valid(SECRET, params.payload, VECTOR_2)
    assert not signature_valid(SECRET, params.payload, "é" * 64)


@dataclass(frozen=True)
class FakeKey:
    secret: str
    account_id: int
    permissions: frozenset[str]
    key_type: str = "HMAC"
    public_key: str = ""


class FakeKeys:
    def __init__(self, perms: frozenset[str]) -> None:
        self.perms = perms

    def key(self, api_key: str) -> FakeKey | None:
        return FakeKey(SECRET, 7, self.perms) if api_key == KEY else None


FULL = FakeKeys(frozenset({"READ", "TRADE", "WITHDRAW"}))


def auth(query: bytes, body: bytes = b"", header: bytes | None = KEY.encode(),
         keys: FakeKeys = FULL, perm: str = "TRADE", now: int = NOW) -> FakeKey:
    return authenticate(keys, header, parse(query, body), perm, now)


def signed(payload: str, now_offset: int = 0) -> bytes:
    return (payload + "&signature=" + sign(SECRET, payload)).encode()


def test_authenticate_happy_path_both_vectors() -> None:
    assert auth(QUERY + b"&signature=" + VECTOR_2.encode(), BODY).account_id == 7
    assert auth(QUERY + b"&" + BODY + b"&signature=" + VECTOR_1.encode()).account_id == 7


@pytest.mark.parametrize(
    "header, expected",
    [(None, (401, -2014)), (b"", (401, -2014)), (b"short", (401, -2014)),
     (b"has space in it 12345", (401, -2014)), (b"\xff" * 64, (401, -2014)),
     (b"A" * 64, (401, -2015))],
)
def test_key_format_and_unknown(header: bytes | None, expected: tuple[int, int]) -> None:
    with pytest.raises(ApiError) as exc:
        auth(QUERY + b"&signature=" + VECTOR_2.encode(), BODY, header=header)
    assert (exc.value.http_status, exc.value.code) == expected


def test_missing_permission_is_2015() -> None:
    with pytest.raises(ApiError) as exc:
        auth(QUERY + b"&signature=" + VECTOR_2.encode(), BODY, keys=FakeKeys(frozenset({"READ"})))
    assert (exc.value.http_status, exc.value.code) == (401, -2015)
    assert exc.value.msg == "Invalid API-key, IP, or permissions for action."


def test_missing_signature_and_timestamp() -> None:
    with pytest.raises(ApiError) as exc:
        auth(QUERY, BODY)
    assert exc.value.code == -1102 and "'signature'" in exc.value.msg
    with pytest.raises(ApiError) as exc:
        auth(signed("symbol=LTCBTC&recvWindow=5000"))
    assert exc.value.code == -1102 and "'timestamp'" in exc.value.msg
    with pytest.raises(ApiError) as exc:
        auth(signed("symbol=LTCBTC&timestamp=12ab"))
    assert exc.value.code == -1100 and "'timestamp'" in exc.value.msg


def test_bad_signature_is_1022() -> None:
    with pytest.raises(ApiError) as exc:
        auth(QUERY + b"&signature=" + VECTOR_1.encode(), BODY)  # vector 1 != split payload
    assert (exc.value.http_status, exc.value.code) == (400, -1022)
    assert exc.value.msg == "Signature for this request is not valid."


def test_timing_window() -> None:
    ts = 1_000_000
    ok = parse(f"timestamp={ts}".encode(), b"")
    check_timing(ok, ts + 5000)  # exactly at the edge of the default window
    check_timing(ok, ts - 999)   # 999 ms ahead is tolerated
    with pytest.raises(ApiError) as exc:
        check_timing(ok, ts + 5001)
    assert exc.value.code == -1021
    assert exc.value.msg == "Timestamp for this request is outside of the recvWindow."
    with pytest.raises(ApiError) as exc:
        check_timing(ok, ts - 1000)
    assert exc.value.code == -1021
    assert exc.value.msg == "Timestamp for this request was 1000ms ahead of the server's time."
    wide = parse(f"timestamp={ts}&recvWindow=60000".encode(), b"")
    check_timing(wide, ts + 60000)
    with pytest.raises(ApiError) as exc:
        check_timing(parse(f"timestamp={ts}&recvWindow=60001".encode(), b""), ts)
    assert exc.value.code == -1100 and "'recvWindow'" in exc.value.msg


def test_recv_window_over_max_rejected_before_signature() -> None:
    with pytest.raises(ApiError) as exc:
        auth(signed(f"timestamp={NOW}&recvWindow=999999"))
    assert exc.value.code == -1100


def test_stale_and_future_signed_requests() -> None:
    with pytest.raises(ApiError) as exc:
        auth(signed(f"timestamp={NOW - 6000}"))
    assert exc.value.code == -1021
    with pytest.raises(ApiError) as exc:
        auth(signed(f"timestamp={NOW + 1000}"))
    assert exc.value.code == -1021
    assert auth(signed(f"timestamp={NOW - 59000}&recvWindow=60000")).account_id == 7
