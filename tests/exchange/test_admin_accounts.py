"""``POST /admin/accounts``: a new account on a running paper exchange, funded and keyed like
the demo account (the ``fresh_account`` fixture stands on it), against the real exchange over
loopback; the non-loopback refusal in-process (no other address may be reached from here).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from btx_tui.exchange.http.app import create_app
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from btx_tui.exchange.state.accounts import DEMO_FUNDING
from btx_tui.exchange.state.exchange import Exchange
from tests.paper_account import new_account

from .api_helpers import Api

PATH = "/admin/accounts"


def _token(exchange: PaperExchange) -> str:
    return (exchange.data_dir / "admin-token").read_text().strip()


def _create(exchange: PaperExchange, token: str | None = None, **form: str) -> httpx.Response:
    headers = {"X-BTX-ADMIN-TOKEN": token if token is not None else _token(exchange)}
    return httpx.post(exchange.base_url + PATH, data=form, headers=headers, timeout=10, trust_env=False)


def _api(exchange: PaperExchange, keys: dict[str, dict], name: str = "full") -> Api:
    return Api(exchange.base_url, keys[name]["api_key"], keys[name]["api_secret"])


def _balances(api: Api) -> dict[str, Decimal]:
    response = api.signed("GET", "/api/v3/account")
    assert response.status_code == 200, response.text
    return {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in response.json()["balances"]
            if Decimal(b["free"]) or Decimal(b["locked"])}


def _keys(body: dict) -> dict[str, dict]:
    return {k["name"]: k for k in body["keys"]}


def test_a_new_account_has_the_demo_funding_and_keys_that_trade(fresh_exchange: PaperExchange) -> None:
    response = _create(fresh_exchange, label="alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] == "alice"
    keys = _keys(body)
    # The demo-keys.json shape: the same names, permissions and fields, new keys and secrets.
    demo_keys = fresh_exchange.keys
    for name in ("full", "trade", "read"):
        assert set(keys[name]) == {"name", "api_key", "api_secret", "permissions"}
        assert keys[name]["permissions"] == demo_keys[name]["permissions"]
        assert keys[name]["api_key"] != demo_keys[name]["api_key"]
        assert keys[name]["api_secret"] != demo_keys[name]["api_secret"]
    new, demo = _api(fresh_exchange, keys), _api(fresh_exchange, demo_keys)
    trade, read = _api(fresh_exchange, keys, "trade"), _api(fresh_exchange, keys, "read")
    try:
        assert _balances(new) == DEMO_FUNDING
        assert new.signed("GET", "/api/v3/account").json()["uid"] == body["account"]
        assert demo.signed("GET", "/api/v3/account").json()["uid"] != body["account"]
        demo_before = _balances(demo)
        # The trade key trades for the new account; the demo account takes the other side.
        rest = trade.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                       "timeInForce": "GTC", "quantity": "0.01", "price": "50000"})
        assert rest.status_code == 200, rest.text
        assert [o["orderId"] for o in new.signed("GET", "/api/v3/openOrders").json()] == [rest.json()["orderId"]]
        assert demo.signed("GET", "/api/v3/openOrders").json() == []
        refused = read.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                                         "timeInForce": "GTC", "quantity": "0.01", "price": "50000"})
        assert refused.status_code == 401 and refused.json()["code"] == -2015
        assert _balances(demo) == demo_before  # the new account's order locked nothing of the demo's
        sell = demo.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                                                      "quantity": "0.01"})
        assert sell.status_code == 200 and sell.json()["status"] == "FILLED", sell.text
        after = _balances(new)
        assert after["BTC"] == DEMO_FUNDING["BTC"] + Decimal("0.01") - Decimal("0.00001")  # 0.1 % fee in BTC
        assert after["USDT"] == DEMO_FUNDING["USDT"] - Decimal("500")
        assert _balances(demo)["USDT"] == demo_before["USDT"] + Decimal("500") - Decimal("0.5")
        # Each new account is another one.
        second = _create(fresh_exchange)
        assert second.status_code == 200 and second.json()["account"] == body["account"] + 1
        assert second.json()["label"] == "paper-account"
        other = _api(fresh_exchange, _keys(second.json()))
        try:
            assert _balances(other) == DEMO_FUNDING
            assert other.signed("GET", "/api/v3/openOrders").json() == []
        finally:
            other.close()
    finally:
        for api in (new, demo, trade, read):
            api.close()


# The refusals need no exchange of their own: the worker's shared one (no other test runs on it
# meanwhile, so account ids there are consecutive unless a refused request made one).


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_a_missing_or_wrong_token_is_refused_and_creates_nothing(account_exchange: PaperExchange, token: str) -> None:
    first = _create(account_exchange).json()["account"]
    refused = _create(account_exchange, token=token)
    assert refused.status_code == 401 and refused.json()["code"] == -2015
    assert "keys" not in refused.json()
    assert _create(account_exchange).json()["account"] == first + 1  # no account was made in between


@pytest.mark.parametrize("label", ["demo", "DEMO", "synthetic-taker", "has space", "x" * 37, "émile"])
def test_a_bad_label_is_refused_with_the_contract_error_and_creates_nothing(
        account_exchange: PaperExchange, label: str) -> None:
    first = _create(account_exchange).json()["account"]
    refused = _create(account_exchange, label=label)
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == -1100 and "'label'" in refused.json()["msg"]
    assert _create(account_exchange).json()["account"] == first + 1


async def test_a_caller_off_loopback_is_refused(tmp_path: Path) -> None:
    exchange = Exchange.open(tmp_path)
    try:
        (tmp_path / "admin-token").write_text("tok\n")
        before = len(exchange.accounts)
        app = create_app(exchange)
        for client, status in ((("192.0.2.7", 40000), 403), (("127.0.0.1", 40000), 200)):
            transport = httpx.ASGITransport(app=app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="http://paper") as http:
                response = await http.post(PATH, headers={"X-BTX-ADMIN-TOKEN": "tok"})
            assert response.status_code == status, response.text
            if status == 403:
                assert response.json()["code"] == -1000
                assert len(exchange.accounts) == before
        assert len(exchange.accounts) == before + 1  # only the loopback call made one
        exchange.check_invariants()
    finally:
        exchange.close()


def test_a_new_account_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "paper"
    exchange = start_paper_exchange(data_dir, market=False)
    try:
        body = _create(exchange).json()
        keys = _keys(body)
        api = _api(exchange, keys)
        try:
            placed = api.signed("POST", "/api/v3/order", {"symbol": "ETHUSDT", "side": "SELL", "type": "LIMIT",
                                                          "timeInForce": "GTC", "quantity": "1", "price": "9000"})
            assert placed.status_code == 200, placed.text
        finally:
            api.close()
    finally:
        exchange.stop()
    exchange = start_paper_exchange(data_dir, market=False)
    try:
        api = _api(exchange, keys)
        try:
            assert _balances(api) == DEMO_FUNDING  # the resting sell locks its ETH, still held
            (order,) = api.signed("GET", "/api/v3/openOrders").json()
            assert order["orderId"] == placed.json()["orderId"]
        finally:
            api.close()
        assert _create(exchange).json()["account"] == body["account"] + 1
    finally:
        exchange.stop()
    reopened = Exchange.open(data_dir)
    try:
        assert reopened.accounts.label(body["account"]) == "paper-account"
        reopened.check_invariants()
    finally:
        reopened.close()


def _book_is_empty(base_url: str) -> list[str]:
    """The symbols whose public book holds anything."""
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as http:
        symbols = [s["symbol"] for s in http.get("/api/v3/exchangeInfo").json()["symbols"]]
        return [s for s in symbols if (d := http.get("/api/v3/depth", params={"symbol": s, "limit": 5}).json())
                and (d["bids"] or d["asks"])]


def test_the_fresh_account_fixture_leaves_an_empty_book(account_exchange: PaperExchange) -> None:
    """What ``fresh_account`` promises the next test: whatever a test left resting (orders,
    untriggered stops, order lists on several symbols) is cancelled at teardown."""
    assert _book_is_empty(account_exchange.base_url) == []
    account = new_account(account_exchange)
    api = _api(account_exchange, account.keys)
    try:
        for params in ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                        "quantity": "0.01", "price": "50000"},
                       {"symbol": "ETHUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                        "quantity": "0.1", "price": "9000"},
                       {"symbol": "ETHUSDT", "side": "SELL", "type": "STOP_LOSS_LIMIT", "timeInForce": "GTC",
                        "quantity": "0.1", "price": "1000", "stopPrice": "1100"}):
            placed = api.signed("POST", "/api/v3/order", params)
            assert placed.status_code == 200, placed.text
        oco = api.signed("POST", "/api/v3/orderList/oco", {
            "symbol": "BTTUSDT", "side": "SELL", "quantity": "30000000", "aboveType": "LIMIT_MAKER",
            "abovePrice": "0.0000009", "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "0.0000003",
            "belowPrice": "0.0000002", "belowTimeInForce": "GTC"})
        assert oco.status_code == 200, oco.text
        assert len(api.signed("GET", "/api/v3/openOrders").json()) == 5
        assert sorted(_book_is_empty(account_exchange.base_url)) == ["BTCUSDT", "BTTUSDT", "ETHUSDT"]
        account.cancel_everything()
        assert api.signed("GET", "/api/v3/openOrders").json() == []
        assert api.signed("GET", "/api/v3/openOrderList").json() == []
        assert _book_is_empty(account_exchange.base_url) == []
    finally:
        api.close()
