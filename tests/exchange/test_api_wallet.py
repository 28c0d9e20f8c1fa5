"""Withdrawal endpoints over a real loopback socket (uses its own paper exchange)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from btx_tui.exchange.process.launcher import start_paper_exchange

from .api_helpers import TRON_ADDRESS, Api, api_for, assert_json_error



@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    ex = start_paper_exchange(tmp_path_factory.mktemp("api-wallet") / "paper", market=False, seed=1)
    try:
        with api_for(ex.base_url, ex.keys["full"]) as api:
            yield api
    finally:
        ex.stop()


def ok(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/json"
    return resp.json()


def usdt(api: Api) -> tuple[Decimal, Decimal]:
    balances = ok(api.signed("GET", "/api/v3/account"))["balances"]
    row = next(b for b in balances if b["asset"] == "USDT")
    return Decimal(row["free"]), Decimal(row["locked"])


def test_config_apply_and_history_until_completed(full: Api) -> None:
    config = ok(full.signed("GET", "/sapi/v1/capital/config/getall"))
    usdt_cfg = next(c for c in config if c["coin"] == "USDT")
    assert any(n["network"] == "TRX" and n["isDefault"] for n in usdt_cfg["networkList"])

    free0, locked0 = usdt(full)
    applied = ok(full.signed("POST", "/sapi/v1/capital/withdraw/apply", {
        "coin": "USDT", "address": TRON_ADDRESS, "amount": "25", "withdrawOrderId": "w-1"}))
    assert isinstance(applied["id"], str) and applied["id"]
    free1, locked1 = usdt(full)
    assert free1 == free0 - Decimal("26") and locked1 == locked0 + Decimal("26")  # amount + fee 1

    # The server's background task completes it (~3 s processing, polled ~1/s).
    deadline = time.monotonic() + 15
    while True:
        history = ok(full.signed("GET", "/sapi/v1/capital/withdraw/history",
                                 {"coin": "USDT", "withdrawOrderId": "w-1"}))
        assert [h["id"] for h in history] == [applied["id"]]
        if history[0]["status"] == 6 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert history[0]["status"] == 6
    assert usdt(full) == (free1, locked0)
    assert ok(full.signed("GET", "/sapi/v1/capital/withdraw/history", {"status": 4})) == []


@pytest.mark.parametrize("params, status, code", [
    ({"address": TRON_ADDRESS, "amount": "25"}, 400, -1102),
    ({"coin": "USDT", "amount": "25"}, 400, -1102),
    ({"coin": "USDT", "address": TRON_ADDRESS}, 400, -1102),
    ({"coin": "USDT", "address": TRON_ADDRESS, "amount": "-25"}, 400, -1100),
    ({"coin": "usdt", "address": TRON_ADDRESS, "amount": "25"}, 400, -1100),
    ({"coin": "USDT", "address": "has space", "amount": "25"}, 400, -1100),
    ({"coin": "NOPE", "address": TRON_ADDRESS, "amount": "25"}, 400, -4018),
    ({"coin": "USDT", "address": "0xnothex", "amount": "25"}, 400, -4007),
    ({"coin": "USDT", "address": TRON_ADDRESS, "amount": "1"}, 400, -4022),
])
def test_apply_errors_change_nothing(full: Api, params: dict, status: int, code: int) -> None:
    before = usdt(full), ok(full.signed("GET", "/sapi/v1/capital/withdraw/history"))
    assert_json_error(full.signed("POST", "/sapi/v1/capital/withdraw/apply", params), status, code)
    assert (usdt(full), ok(full.signed("GET", "/sapi/v1/capital/withdraw/history"))) == before


def test_history_parameter_errors(full: Api) -> None:
    assert_json_error(full.signed("GET", "/sapi/v1/capital/withdraw/history", {"status": 9}), 400, -1100)
    assert_json_error(full.signed("GET", "/sapi/v1/capital/withdraw/history", {"limit": 1001}), 400, -1100)
    assert_json_error(full.signed("GET", "/sapi/v1/capital/withdraw/history", {"offset": "x"}), 400, -1100)
