"""Mapping of responses (including garbage) to the typed error hierarchy."""

import httpx
import pytest

from btx_tui.api import errors as e


def _err(status: int, body: bytes | str, headers: dict[str, str] | None = None) -> e.BtxError:
    raw = body.encode() if isinstance(body, str) else body
    return e.error_from_response(status, raw, httpx.Headers(headers or {}))


@pytest.mark.parametrize(("status", "code", "msg", "cls"), [
    (400, -1013, "Filter failure: LOT_SIZE", e.FilterFailure),
    (400, -2010, "Account has insufficient balance for requested action.", e.InsufficientBalance),
    (400, -2010, "Order would immediately match and take.", e.OrderRejected),
    (400, -2011, "Unknown order sent.", e.UnknownOrder),
    (400, -2013, "Order does not exist.", e.UnknownOrder),
    (400, -1021, "Timestamp for this request is outside of the recvWindow.", e.TimestampError),
    (400, -1022, "Signature for this request is not valid.", e.AuthError),
    (401, -2015, "Invalid API-key, IP, or permissions for action.", e.AuthError),
    (401, -2014, "API-key format invalid.", e.AuthError),
    (400, -1121, "Invalid symbol.", e.BadRequest),
    (400, -4003, "Amount below the minimum", e.WithdrawalRejected),
    (503, -1007, "Timeout waiting for response from backend server.", e.OutcomeUnknown),
    (400, -1006, "An unexpected response was received from the message bus.", e.OutcomeUnknown),
    (500, -1000, "An unknown error occurred while processing the request.", e.ServerError),
])
def test_codes_map_to_types(status: int, code: int, msg: str, cls: type) -> None:
    err = _err(status, f'{{"code":{code},"msg":"{msg}"}}')
    assert type(err) is cls
    assert (err.http_status, err.code, err.msg) == (status, code, msg)
    assert msg in str(err) and str(code) in str(err)


def test_filter_failure_names_the_filter() -> None:
    err = _err(400, '{"code":-1013,"msg":"Filter failure: MARKET_LOT_SIZE"}')
    assert isinstance(err, e.FilterFailure) and err.filter == "MARKET_LOT_SIZE"
    assert "market-order quantity" in str(err)


def test_rate_limit_and_ban_carry_retry_after() -> None:
    limited = _err(429, '{"code":-1003,"msg":"Too much request weight used"}', {"Retry-After": "7"})
    assert type(limited) is e.RateLimited and limited.retry_after == 7
    banned = _err(418, '{"code":-1003,"msg":"IP banned"}', {"Retry-After": "120"})
    assert type(banned) is e.Banned and banned.retry_after == 120
    assert _err(429, "", {"Retry-After": "soon"}).retry_after == 1.0  # garbled header → default


@pytest.mark.parametrize(("status", "body", "cls"), [
    (502, "<html><body>Bad Gateway</body></html>", e.ServerError),
    (404, "<!DOCTYPE html><h1>Not Found</h1>", e.BadRequest),
    (400, "", e.BadRequest),
    (500, b"\xff\xfe\x00garbage", e.ServerError),
    (400, '["not", "an", "object"]', e.BadRequest),
    (400, '{"code":"x","msg":5}', e.BadRequest),
    (302, "", e.BadResponse),
])
def test_garbage_bodies_become_typed_errors(status: int, body: str | bytes, cls: type) -> None:
    err = _err(status, body)
    assert type(err) is cls
    assert err.code is None and f"HTTP {status}" in err.msg
    assert "<html" not in str(err).lower()


def test_network_error_says_whether_it_may_have_been_sent() -> None:
    assert e.NetworkError("x", maybe_sent=True).maybe_sent
    assert not e.NetworkError("x", maybe_sent=False).maybe_sent
