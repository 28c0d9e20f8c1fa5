"""Withdrawals through the Exchange's wallet part: lifecycle, history filters, every -4xxx,
capital config, account views and demo setup."""

from __future__ import annotations

import re

import pytest

from btx_tui.exchange.state.accounts import DEMO_FUNDING
from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.withdrawal_networks import format_time

from .core_support import D, T0, FakeClock, bal, open_exchange, snapshot

TRON = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"
EVM = "0x" + "ab" * 20
BTC_ADDR = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
XRP_ADDR = "rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ex(tmp_path, clock) -> Exchange:
    e = open_exchange(tmp_path, clock)
    yield e
    e.check_invariants()
    e.close()


def test_demo_account_and_keys(ex):
    acct = ex.accounts.demo_account_id
    for asset, amount in DEMO_FUNDING.items():
        assert bal(ex, acct, asset) == (amount, D(0))
        assert ex.accounts.ledger.deposits[asset] == amount
    keys = {k["name"]: k for k in ex.accounts.demo_keys()}
    assert {n: k["permissions"] for n, k in keys.items()} == {
        "full": ["READ", "TRADE", "WITHDRAW"], "trade": ["READ", "TRADE"], "read": ["READ"]}
    for k in keys.values():
        assert re.fullmatch(r"[A-Za-z0-9]{64}", k["api_key"]) and re.fullmatch(r"[A-Za-z0-9]{64}", k["api_secret"])
        key = ex.accounts.key(k["api_key"])
        assert key.account_id == acct and key.secret == k["api_secret"]
    assert len({k["api_key"] for k in keys.values()}) == 3
    assert ex.accounts.key("nope") is None
    restr = ex.accounts.api_restrictions(ex.accounts.key(keys["trade"]["api_key"]))
    assert (restr["enableReading"], restr["enableSpotAndMarginTrading"], restr["enableWithdrawals"],
            restr["ipRestrict"]) == (True, True, False, False)


def test_account_view(ex):
    acct = ex.accounts.demo_account_id
    view = ex.accounts.account(acct, omit_zero=True)
    assert {b["asset"]: b["free"] for b in view["balances"]} == {
        "BTC": "0.25000000", "BTT": "50000000.00000000", "ETH": "3.00000000",
        "TRX": "20000.00000000", "USDT": "10000.00000000"}
    assert (view["makerCommission"], view["takerCommission"], view["uid"], view["accountType"]) == (10, 10, acct, "SPOT")
    assert view["commissionRates"]["maker"] == "0.00100000"
    full = ex.accounts.account(acct, omit_zero=False)
    assert len(full["balances"]) > len(view["balances"])
    assert {"asset": "SOL", "free": "0.00000000", "locked": "0.00000000"} in full["balances"]


def test_withdrawal_lifecycle(ex, clock):
    acct = ex.accounts.demo_account_id
    out = ex.wallet.withdraw_apply(acct, "USDT", "TRX", TRON, None, D("100"), "w-1")
    assert re.fullmatch(r"[0-9a-f]{32}", out["id"])
    assert bal(ex, acct, "USDT") == (D("9899"), D("101"))  # amount + 1 USDT fee locked
    [h] = ex.wallet.withdraw_history(acct, None, None, None, None, None, None, None)
    assert (h["id"], h["status"], h["amount"], h["transactionFee"], h["network"], h["txId"]) == \
        (out["id"], 4, "100.00000000", "1.00000000", "TRX", "")
    assert h["applyTime"] == format_time(T0) == "2023-11-14 22:13:20"
    assert "completeTime" not in h and h["withdrawOrderId"] == "w-1" and h["transferType"] == 0
    clock.advance(2999)
    ex.wallet.process_withdrawals()
    assert ex.wallet.withdraw_history(acct, None, None, None, None, None, None, None)[0]["status"] == 4
    clock.advance(1)
    ex.wallet.process_withdrawals()
    [h] = ex.wallet.withdraw_history(acct, None, None, None, None, None, None, None)
    assert h["status"] == 6 and re.fullmatch(r"[0-9a-f]{64}", h["txId"])
    assert h["completeTime"] == "2023-11-14 22:13:23"
    assert bal(ex, acct, "USDT") == (D("9899"), D("0"))
    assert ex.accounts.ledger.withdrawn["USDT"] == D("100") and ex.accounts.ledger.fees["USDT"] == D("1")


def test_default_network_and_history_filters(ex, clock):
    acct = ex.accounts.demo_account_id
    a = ex.wallet.withdraw_apply(acct, "USDT", None, TRON, None, D("10"), "x")
    clock.advance(10_000)
    ex.wallet.process_withdrawals()
    b = ex.wallet.withdraw_apply(acct, "BTC", "BTC", BTC_ADDR, None, D("0.01"), "y")
    c = ex.wallet.withdraw_apply(acct, "USDT", "BSC", EVM, None, D("20"), None)
    hist = lambda **kw: [h["id"] for h in ex.wallet.withdraw_history(  # noqa: E731
        acct, kw.get("coin"), kw.get("woid"), kw.get("status"), kw.get("offset"), kw.get("limit"),
        kw.get("start"), kw.get("end"))]
    assert hist() == [c["id"], b["id"], a["id"]]  # newest first
    assert ex.wallet.withdraw_history(acct, None, "x", None, None, None, None, None)[0]["network"] == "TRX"
    assert hist(coin="USDT") == [c["id"], a["id"]]
    assert hist(woid="y") == [b["id"]]
    assert hist(status=6) == [a["id"]] and hist(status=4) == [c["id"], b["id"]]
    assert hist(offset=1, limit=1) == [b["id"]]
    assert hist(start=T0 + 1) == [c["id"], b["id"]] and hist(end=T0) == [a["id"]]
    other = ex.accounts.create_account({"USDT": D(100)})
    assert ex.wallet.withdraw_history(other, None, None, None, None, None, None, None) == []


@pytest.mark.parametrize("args, code, words", [
    (("SOL", None, EVM, None, "1"), -4018, "not withdrawable"),
    (("NOPE", None, EVM, None, "1"), -4018, "not withdrawable"),
    (("MATIC", None, EVM, None, "100"), -4018, "not withdrawable"),
    (("USDT", "BTC", TRON, None, "100"), -4019, "Network BTC is not withdrawable"),
    (("USDT", "TRX", EVM, None, "100"), -4007, "Invalid address"),
    (("USDT", "ETH", TRON, None, "100"), -4007, "Invalid address"),
    (("XRP", None, XRP_ADDR, None, "30"), -4008, "address tag"),
    (("XRP", None, XRP_ADDR, "abc", "30"), -4008, "address tag"),
    (("USDT", "TRX", TRON, None, "9.99"), -4022, "below the minimum"),
    (("USDT", "TRX", TRON, None, "10000001"), -4023, "above the maximum"),
    (("BTT", "TRX", TRON, None, "4000000.5"), -4021, "multiple"),
    (("USDT", "TRX", TRON, None, "9999.5"), -4026, "Insufficient balance"),
    (("USDT", "TRX", TRON, None, "0"), -4022, "positive"),
])
def test_withdrawal_rejections(ex, args, code, words):
    acct = ex.accounts.demo_account_id
    before = snapshot(ex)
    with pytest.raises(ApiError) as info:
        ex.wallet.withdraw_apply(acct, *args[:4], D(args[4]), None)
    assert (info.value.http_status, info.value.code) == (400, code)
    assert words in info.value.msg
    assert snapshot(ex) == before


def test_xrp_with_memo_and_locked_funds_are_not_withdrawable(ex):
    acct = ex.accounts.create_account({"XRP": D("100")})
    ex.wallet.withdraw_apply(acct, "XRP", "XRP", XRP_ADDR, "12345", D("30"), None)
    assert bal(ex, acct, "XRP") == (D("69.8"), D("30.2"))
    with pytest.raises(ApiError) as info:
        ex.wallet.withdraw_apply(acct, "XRP", "XRP", XRP_ADDR, "12345", D("69.7"), None)
    assert info.value.code == -4026


def test_capital_config(ex):
    acct = ex.accounts.demo_account_id
    ex.wallet.withdraw_apply(acct, "USDT", "TRX", TRON, None, D("100"), None)
    coins = {c["coin"]: c for c in ex.wallet.capital_config(acct)}
    usdt = coins["USDT"]
    assert (usdt["free"], usdt["locked"], usdt["withdrawAllEnable"]) == ("9899.00000000", "101.00000000", True)
    nets = {n["network"]: n for n in usdt["networkList"]}
    assert set(nets) == {"TRX", "ETH", "BSC"}
    assert nets["TRX"]["isDefault"] and not nets["ETH"]["isDefault"]
    assert (nets["ETH"]["withdrawFee"], nets["ETH"]["withdrawMin"]) == ("4.50000000", "10.00000000")
    assert re.fullmatch(nets["ETH"]["addressRegex"], EVM)
    assert {n["network"] for n in coins["BTT"]["networkList"]} == {"TRX", "BSC"}
    assert coins["MATIC"]["withdrawAllEnable"] is False
    assert coins["SOL"]["networkList"] == [] and coins["SOL"]["free"] == "0.00000000"
