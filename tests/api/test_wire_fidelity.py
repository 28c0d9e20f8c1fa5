"""Endpoints widely used clients call beyond trading, each through our client against the real
paper exchange, with the standard's error codes for misuse."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from btx_tui.api import BadRequest, BtxClient, MiniTicker, Ticker24h
from btx_tui.api.orders import OrderRequest
from btx_tui.api.ratebudget import request_weight
from btx_tui.exchange.process.launcher import PaperExchange

SYMBOL = "ETHUSDT"


def _client(ex: PaperExchange, key: str = "full") -> BtxClient:
    api_key, secret = ex.key(key)
    return BtxClient(ex.base_url, api_key, SecretStr(secret), trust_env=False)


async def _one_trade(client: BtxClient, price: Decimal = Decimal("2500.00"), qty: Decimal = Decimal("0.1000")) -> None:
    await client.post_order(OrderRequest(SYMBOL, "SELL", "LIMIT", quantity=qty, price=price, time_in_force="GTC"))
    await client.post_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=qty, price=price, time_in_force="IOC"))


async def _code(coro) -> int | None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest) as exc:
        await coro
    return exc.value.code


async def test_window_tickers_history_and_ui_klines(fresh_exchange: PaperExchange) -> None:
    async with _client(fresh_exchange) as client:
        await _one_trade(client)
        (rolling,) = await client.rolling_tickers([SYMBOL], "1m")
        assert isinstance(rolling, Ticker24h)
        assert rolling.count == 1 and rolling.last_price == Decimal("2500") and rolling.volume == Decimal("0.1")
        assert rolling.open_time % 60_000 == 0 and rolling.close_time - rolling.open_time <= 120_000
        assert rolling.first_id == rolling.last_id
        (week,) = await client.rolling_tickers([SYMBOL], "7d")
        assert week.count == 1 and week.close_time - week.open_time <= 7 * 86_400_000 + 60_000
        (day,) = await client.trading_day_tickers([SYMBOL], "-1:00")
        assert day.count == 1 and (day.open_time - 3_600_000) % 86_400_000 == 0  # midnight at UTC-1
        assert day.close_time == day.open_time + 86_400_000 - 1
        (mini,) = await client.tickers_24hr_mini([SYMBOL])
        assert isinstance(mini, MiniTicker) and mini.count == 1 and mini.last_price == Decimal("2500")
        trades = await client.historical_trades(SYMBOL, 10, from_id=rolling.first_id)
        assert [t.id for t in trades] == [rolling.first_id] and trades[0].price == Decimal("2500")
        assert await client.historical_trades(SYMBOL, 10, from_id=rolling.first_id + 1) == ()
        assert [t.id for t in await client.historical_trades(SYMBOL)] == [rolling.first_id]
        now = (await client.server_time()).server_time
        plain = await client.klines(SYMBOL, "1m", 5, end_time=now)
        ui = await client.ui_klines(SYMBOL, "1m", 5, end_time=now)
        assert ui == plain and sum(k.trades for k in ui) == 1
    async with httpx.AsyncClient(base_url=fresh_exchange.base_url) as http:
        single = (await http.get("/api/v3/ticker", params={"symbol": SYMBOL, "type": "MINI"})).json()
        assert set(single) == {"symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume",
                               "quoteVolume", "openTime", "closeTime", "firstId", "lastId", "count"}
        assert single["symbol"] == SYMBOL
        mini24 = (await http.get("/api/v3/ticker/24hr", params={"symbol": SYMBOL, "type": "MINI"})).json()
        assert set(mini24) == set(single)
        full = (await http.get("/api/v3/ticker/tradingDay", params={"symbol": SYMBOL})).json()
        assert full["priceChange"] and "bidPrice" not in full
        for path, query, code in (
                ("/api/v3/ticker", {"symbol": SYMBOL, "windowSize": "60m"}, -1100),
                ("/api/v3/ticker", {"symbol": SYMBOL, "windowSize": "8d"}, -1100),
                ("/api/v3/ticker", {}, -1102),
                ("/api/v3/ticker", {"symbol": SYMBOL, "type": "SMALL"}, -1100),
                ("/api/v3/ticker", {"symbol": "NOPEUSDT"}, -1121),
                ("/api/v3/ticker/tradingDay", {"symbol": SYMBOL, "timeZone": "15:00"}, -1100),
                ("/api/v3/ticker/tradingDay", {"symbol": SYMBOL, "timeZone": "x"}, -1100),
                ("/api/v3/ticker/24hr", {"symbol": SYMBOL, "type": "TINY"}, -1100),
                ("/api/v3/uiKlines", {"symbol": SYMBOL, "interval": "7m"}, -1120),
                ("/api/v3/historicalTrades", {}, -1102),
                ("/api/v3/historicalTrades", {"symbol": SYMBOL, "limit": "1001"}, -1100)):
            answer = await http.get(path, params=query)
            assert answer.status_code == 400 and answer.json()["code"] == code, (path, query, answer.text)
        many = json.dumps([f"S{i}" for i in range(101)], separators=(",", ":"))
        assert (await http.get("/api/v3/ticker", params={"symbols": many})).json()["code"] == -1101


def test_weights_follow_the_standard() -> None:
    assert request_weight("GET", "/api/v3/ticker", [("symbol", "A")]) == 4
    assert request_weight("GET", "/api/v3/ticker", [("symbols", json.dumps(["A"] * 51))]) == 200
    assert request_weight("GET", "/api/v3/ticker/tradingDay", [("symbols", '["A","B"]')]) == 8
    assert request_weight("GET", "/api/v3/historicalTrades") == 25
    assert request_weight("GET", "/api/v3/uiKlines") == 2
    assert request_weight("GET", "/api/v3/account/commission") == 20
    assert request_weight("GET", "/api/v3/myPreventedMatches", [("preventedMatchId", "1")]) == 2
    assert request_weight("GET", "/api/v3/myPreventedMatches", [("orderId", "1")]) == 20
    assert request_weight("POST", "/api/v3/order/test", [("computeCommissionRates", "true")]) == 20
    assert request_weight("POST", "/api/v3/order/test") == 1


async def test_weights_charged_by_the_exchange_match(fresh_exchange: PaperExchange) -> None:
    async with httpx.AsyncClient(base_url=fresh_exchange.base_url) as http:
        before = int((await http.get("/api/v3/ping")).headers["x-mbx-used-weight-1m"])
        after = int((await http.get("/api/v3/ticker", params={"symbols": '["BTCUSDT","ETHUSDT"]'}))
                    .headers["x-mbx-used-weight-1m"])
        assert after - before == 8
        last = int((await http.get("/api/v3/historicalTrades", params={"symbol": SYMBOL}))
                   .headers["x-mbx-used-weight-1m"])
        assert last - after == 25


async def test_fees_commission_and_wallet_status(paper_exchange: PaperExchange) -> None:
    async with _client(paper_exchange) as client:
        commission = await client.account_commission("BTCUSDT")
        assert commission.standard_commission.maker == Decimal("0.001")
        assert commission.standard_commission.taker == Decimal("0.001")
        assert commission.tax_commission.maker == 0 and not commission.discount.enabled_for_account
        assert await _code(client.account_commission("NOPEUSDT")) == -1121
        order = OrderRequest("BTCUSDT", "BUY", "LIMIT", quantity=Decimal("0.001"), price=Decimal("50000.00"),
                             time_in_force="GTC")
        rates = await client.order_commission_rates(order)
        assert rates.standard_commission_for_order.taker == Decimal("0.001")
        assert await client.open_orders("BTCUSDT") == ()  # order/test placed nothing
        assert await client.prevented_matches("BTCUSDT", order_id=1) == ()
        assert await client.prevented_matches("BTCUSDT", prevented_match_id=1) == ()
        assert await _code(client.prevented_matches("BTCUSDT")) == -1102
        assert await _code(client.prevented_matches("BTCUSDT", from_prevented_match_id=1)) == -1102
        assert (await client.system_status()).status == 0
        assert (await client.account_status()).data == "Normal"
        fees = await client.trade_fees()
        assert {f.symbol for f in fees} >= {"BTCUSDT", "BTTUSDT"}
        assert all(f.maker_commission == Decimal("0.001") for f in fees)
        assert [f.symbol for f in await client.trade_fees("ETHUSDT")] == ["ETHUSDT"]
        details = await client.asset_details()
        assert details["BTC"].withdraw_fee == Decimal("0.0002") and details["BTC"].min_withdraw_amount == Decimal("0.001")
        assert list(await client.asset_details("USDT")) == ["USDT"]
        assert await _code(client.asset_details("NOPE")) == -1100
    async with httpx.AsyncClient(base_url=paper_exchange.base_url) as http:
        info = (await http.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()["symbols"][0]
        assert info["amendAllowed"] is True and info["opoAllowed"] is False  # amend keepPriority is served
        assert info["pegInstructionsAllowed"] is False
        unsigned = await http.get("/sapi/v1/account/status")
        assert unsigned.status_code == 401 and unsigned.json()["code"] == -2014


async def test_deposit_address_credit_and_history(fresh_exchange: PaperExchange) -> None:
    async with _client(fresh_exchange) as client:
        address = await client.deposit_address("USDT")
        assert address.coin == "USDT" and address.address.startswith("T") and len(address.address) == 34
        assert (await client.deposit_address("USDT")).address == address.address  # stable
        erc20 = await client.deposit_address("USDT", "ETH")
        assert erc20.address.startswith("0x") and len(erc20.address) == 42
        xrp = await client.deposit_address("XRP")
        assert xrp.tag.isdigit()
        assert await _code(client.deposit_address("NOPE")) == -1100
        assert await _code(client.deposit_address("USDT", "BTC")) == -1100
        before = next(b.free for b in (await client.account()).balances if b.asset == "USDT")
        # The CLI credits a deposit through the running exchange (its admin endpoint).
        done = subprocess.run([sys.executable, "-m", "btx_tui", "exchange", "deposit", "--data-dir",
                               str(fresh_exchange.data_dir), "--address", address.address, "--amount", "150.5"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        entry = json.loads(done.stdout.strip().splitlines()[-1])
        assert entry["amount"] == "150.50000000" and entry["status"] == 1
        after = next(b.free for b in (await client.account()).balances if b.asset == "USDT")
        assert after - before == Decimal("150.5")
        (deposit,) = await client.deposit_history(coin="USDT")
        assert deposit.address == address.address and deposit.amount == Decimal("150.5")
        assert deposit.tx_id == entry["txId"] and deposit.status == 1
        assert await client.deposit_history(coin="BTC") == ()
        assert await client.deposit_history(status=0) == ()
    refused = subprocess.run([sys.executable, "-m", "btx_tui", "exchange", "deposit", "--data-dir",
                              str(fresh_exchange.data_dir), "--address", "Tnotours", "--amount", "1"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "address" in refused.stderr
    async with httpx.AsyncClient(base_url=fresh_exchange.base_url) as http:
        no_token = await http.post("/admin/deposit", data={"address": address.address, "amount": "1"})
        assert no_token.status_code == 401
    async with _client(fresh_exchange) as client:
        assert len(await client.deposit_history()) == 1  # the refused ones changed nothing


def test_deposit_cli_without_a_running_exchange(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "dd"
    done = subprocess.run([sys.executable, "-m", "btx_tui", "exchange", "deposit", "--data-dir", str(data_dir),
                           "--coin", "BTC", "--amount", "0.5"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout.strip().splitlines()[-1])
    assert entry["coin"] == "BTC" and entry["network"] == "BTC" and entry["address"].startswith("bc1q")
    from btx_tui.exchange.state.exchange import Exchange

    ex = Exchange.open(data_dir)
    try:
        demo = ex.accounts.demo_account_id
        assert ex.accounts.ledger.balance(demo, "BTC").free == Decimal("0.75")  # 0.25 demo + 0.5
        ex.check_invariants()
    finally:
        ex.close()
