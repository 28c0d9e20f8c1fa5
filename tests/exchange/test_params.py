"""Raw parameter parsing and format validation (btx_tui.exchange.http.params)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.http.params import INTERVALS, parse


def code_of(excinfo: pytest.ExceptionInfo[ApiError]) -> tuple[int, int, str]:
    err = excinfo.value
    return err.http_status, err.code, err.msg


def test_query_and_body_merge_and_query_wins() -> None:
    p = parse(b"symbol=BTCUSDT&side=BUY", b"side=SELL&quantity=1")
    assert p.values == {"symbol": "BTCUSDT", "side": "BUY", "quantity": "1"}


def test_duplicate_within_one_source_is_1101() -> None:
    for query, body in ((b"a=1&a=2", b""), (b"", b"a=1&b=2&a=1")):
        with pytest.raises(ApiError) as exc:
            parse(query, body)
        assert code_of(exc) == (400, -1101, "Duplicate values for a parameter detected.")


def test_signature_is_stripped_from_raw_bytes_without_reencoding() -> None:
    # %2C stays percent-encoded in the payload: the server signs the bytes as received.
    p = parse(b"a=1&signature=ABC&b=%2C", b"c=3")
    assert p.payload == b"a=1&b=%2Cc=3"
    assert p.signature == "ABC"
    assert p.values["b"] == ","
    p = parse(b"a=1", b"c=3&signature=deadbeef")
    assert p.payload == b"a=1c=3"
    assert p.signature == "deadbeef"
    p = parse(b"signature=x&a=1", b"")
    assert p.payload == b"a=1"


def test_plus_and_percent_decoding() -> None:
    p = parse(b"symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&x=a+b", b"")
    assert p.values["x"] == "a b"
    assert p.symbol_list() == ["BTCUSDT", "ETHUSDT"]


def test_mandatory_missing_and_empty() -> None:
    p = parse(b"symbol=&side=BUY", b"")
    with pytest.raises(ApiError) as exc:
        p.require("symbol")
    assert code_of(exc) == (
        400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
    )
    with pytest.raises(ApiError) as exc:
        p.require("side", "type")
    assert exc.value.msg.startswith("Mandatory parameter 'type'")
    with pytest.raises(ApiError) as exc:
        p.require_one_of("quantity", "quoteOrderQty")
    assert code_of(exc) == (
        400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
    )


@pytest.mark.parametrize(
    "value", ["-1", "1e5", "NaN", "1.", ".5", "1,5", " 1", "1.2.3", "Infinity",
              "1" * 21, "0." + "1" * 21, "１"],
)
def test_bad_decimals_are_1100(value: str) -> None:
    p = parse(b"", b"")
    p.values["price"] = value
    with pytest.raises(ApiError) as exc:
        p.decimal("price")
    assert code_of(exc) == (
        400, -1100,
        "Illegal characters found in parameter 'price'; legal range is "
        "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
    )


def test_good_decimals() -> None:
    p = parse(b"a=0.0000006123&b=12&c=" + b"9" * 20 + b"." + b"9" * 20, b"")
    assert p.decimal("a") == Decimal("0.0000006123")
    assert p.decimal("b") == Decimal(12)
    assert p.decimal("c") == Decimal("9" * 20 + "." + "9" * 20)
    assert p.decimal("absent") is None


def test_integers_and_ranges() -> None:
    p = parse(b"limit=0&orderId=x&big=99999999999999999999&ok=42", b"")
    with pytest.raises(ApiError) as exc:
        p.limit(100, 5000)
    assert exc.value.code == -1100 and "'limit'" in exc.value.msg and "1-5000" in exc.value.msg
    with pytest.raises(ApiError) as exc:
        p.integer("orderId")
    assert exc.value.code == -1100
    with pytest.raises(ApiError) as exc:
        p.integer("big")  # beyond int64
    assert exc.value.code == -1100
    assert p.integer("ok") == 42
    assert p.integer("absent", default=7) == 7


def test_client_order_id_rules() -> None:
    p = parse(b"newClientOrderId=", b"")
    with pytest.raises(ApiError) as exc:
        p.client_id("newClientOrderId")
    assert code_of(exc) == (400, -1118, "New client order ID was empty.")
    for bad in ("a" * 37, "has space", "semi;colon", "dot.ted"):
        p.values["newClientOrderId"] = bad
        with pytest.raises(ApiError) as exc:
            p.client_id("newClientOrderId")
        assert exc.value.code == -1100
    p.values["newClientOrderId"] = "My-order_01"
    assert p.client_id("newClientOrderId") == "My-order_01"


def test_symbol_and_symbols() -> None:
    with pytest.raises(ApiError) as exc:
        parse(b'symbol=BTCUSDT&symbols=["ETHUSDT"]', b"").symbol_list()
    assert code_of(exc) == (400, -1106, "Parameter 'symbols' sent when not required.")
    assert parse(b"", b"").symbol_list() is None
    assert parse(b"symbol=BTCUSDT", b"").symbol_list() == ["BTCUSDT"]
    for bad in (b'symbols=["BTCUSDT", "ETHUSDT"]', b"symbols=BTCUSDT", b'symbols=["btcusdt"]',
                b"symbols=[]", b'symbols=[1]', b"symbol=btcusdt"):
        with pytest.raises(ApiError) as exc:
            parse(bad, b"").symbol_list()
        assert exc.value.code == -1100, bad
    with pytest.raises(ApiError) as exc:
        parse(b'symbols=["BTCUSDT","BTCUSDT"]', b"").symbol_list()
    assert exc.value.code == -1101


def test_enums_and_booleans() -> None:
    from btx_tui.exchange.http.params import SIDES, side_error

    p = parse(b"side=buy&omitZeroBalances=TRUE&flag=yes", b"")
    with pytest.raises(ApiError) as exc:
        p.enum("side", SIDES, side_error)
    assert code_of(exc) == (400, -1117, "Invalid side.")
    assert p.boolean("omitZeroBalances") is True
    with pytest.raises(ApiError) as exc:
        p.boolean("flag")
    assert exc.value.code == -1100
    assert "1M" in INTERVALS and "1s" in INTERVALS and "2m" not in INTERVALS


def test_forbid_and_empty_optional_counts_as_absent() -> None:
    p = parse(b"price=&quoteOrderQty=5", b"")
    p.forbid("price")  # empty: not sent
    with pytest.raises(ApiError) as exc:
        p.forbid("quoteOrderQty")
    assert code_of(exc) == (400, -1106, "Parameter 'quoteOrderQty' sent when not required.")


def test_garbage_never_raises_anything_but_api_error() -> None:
    for raw in (b"%", b"%zz=%ff", b"=&&=", b"\xff\xfe=\x00", b"a=%E2%82", b"&&&", b"===",
                b"a=1&a"):
        try:
            p = parse(raw, b"")
        except ApiError as exc:  # the only exception allowed
            assert exc.code == -1101
        else:
            assert isinstance(p.values, dict) and "" not in p.values
