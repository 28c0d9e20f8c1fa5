"""Signing vectors from the contract and the exact encoding of request parameters."""

from decimal import Decimal

import pytest
from pydantic import SecretStr

from btx_tui.api.signing import decimal_to_wire, encode_params, encode_symbols, params, sign

SECRET = SecretStr("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")


def test_query_only_vector() -> None:
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
               "&recvWindow=5000&timestamp=1499827319559")
    assert sign(SECRET, payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_query_plus_body_vector() -> None:
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    assert sign(SECRET, query, body) == "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"


def test_params_render_vector_request_exactly() -> None:
    p = params(("symbol", "LTCBTC"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
               ("quantity", Decimal("1.00000000")), ("price", Decimal("0.1")), ("skipped", None),
               ("recvWindow", 5000), ("timestamp", 1499827319559))
    assert encode_params(p) == ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
                                "&recvWindow=5000&timestamp=1499827319559")


def test_symbols_array_is_compact_and_percent_encoded() -> None:
    text = encode_symbols(["BTCUSDT", "BTTUSDT"])
    assert text == '["BTCUSDT","BTTUSDT"]'
    assert encode_params([("symbols", text)]) == "symbols=%5B%22BTCUSDT%22%2C%22BTTUSDT%22%5D"


@pytest.mark.parametrize(("value", "wire"), [
    (Decimal("0.00100000"), "0.001"), (Decimal("1E+2"), "100"), (Decimal("0E-8"), "0"),
    (Decimal("0.0000006123"), "0.0000006123"), (Decimal("5"), "5"),
])
def test_decimal_to_wire(value: Decimal, wire: str) -> None:
    assert decimal_to_wire(value) == wire


@pytest.mark.parametrize("bad", [Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), Decimal("1E-21")])
def test_decimal_to_wire_refuses_invalid(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        decimal_to_wire(bad)


def test_floats_are_refused_as_parameters() -> None:
    with pytest.raises(TypeError):
        params(("price", 0.1))


@pytest.mark.parametrize("text", ["BTCUSDT", "0.00100000", "btx-Ab_c.9~", "", '["A","B"]', "a b&c=d",
                                  "é", "100%", "x+y", "ü/ö?"])
def test_encoding_matches_urllib_quote(text: str) -> None:
    from urllib.parse import quote
    assert encode_params([(text, text)]) == f"{quote(text, safe='-_.~')}={quote(text, safe='-_.~')}"
