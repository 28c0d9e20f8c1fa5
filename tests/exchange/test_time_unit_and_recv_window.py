"""``X-MBX-TIME-UNIT: MICROSECOND`` (every time field, both ways) and ``recvWindow`` with up to
three decimals, over HTTP against the real paper exchange."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from btx_tui.exchange.http.auth import sign
from btx_tui.exchange.process.launcher import PaperExchange
from tests.paper_account import PaperAccount

MICRO = {"X-MBX-TIME-UNIT": "MICROSECOND"}


def _signed(secret: str, **fields: str) -> str:
    query = urlencode(fields)
    return f"{query}&signature={sign(secret, query)}"


async def test_microsecond_time_unit(fresh_exchange: PaperExchange) -> None:
    key, secret = fresh_exchange.key("full")
    async with httpx.AsyncClient(base_url=fresh_exchange.base_url, headers={"X-MBX-APIKEY": key}) as http:
        ms = (await http.get("/api/v3/time")).json()["serverTime"]
        us = (await http.get("/api/v3/time", headers={"X-MBX-TIME-UNIT": "microsecond"})).json()["serverTime"]
        assert 10**15 < us and abs(us // 1000 - ms) < 60_000
        # A signed order with a microsecond timestamp; every time in the answer in microseconds.
        placed = await http.post("/api/v3/order", headers=MICRO, content=_signed(
            secret, symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="0.0100",
            price="2500.00", timestamp=str(us)), )
        assert placed.status_code == 200, placed.text
        body = placed.json()
        assert body["transactTime"] > 10**15 and body["workingTime"] > 10**15
        await http.post("/api/v3/order", content=_signed(
            secret, symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="IOC", quantity="0.0100",
            price="2500.00", timestamp=str(ms)))
        trades = (await http.get("/api/v3/trades", params={"symbol": "ETHUSDT"}, headers=MICRO)).json()
        assert trades[0]["time"] > 10**15
        # startTime/endTime read as microseconds: a window around the trade finds its candle.
        t_us = trades[0]["time"]
        candles = (await http.get("/api/v3/klines", headers=MICRO, params={
            "symbol": "ETHUSDT", "interval": "1m", "startTime": t_us - 60_000_000, "endTime": t_us})).json()
        assert candles and candles[-1][0] > 10**15 and candles[-1][6] > 10**15
        assert sum(c[8] for c in candles) == 1
        plain = (await http.get("/api/v3/klines", params={
            "symbol": "ETHUSDT", "interval": "1m", "startTime": t_us // 1000 - 60_000, "endTime": t_us // 1000})).json()
        assert [c[0] * 1000 for c in plain] == [c[0] for c in candles]
        ticker = (await http.get("/api/v3/ticker/24hr", params={"symbol": "ETHUSDT"}, headers=MICRO)).json()
        assert ticker["openTime"] > 10**15 and ticker["closeTime"] > 10**15
        account = (await http.get("/api/v3/account?" + _signed(secret, timestamp=str(us)), headers=MICRO)).json()
        assert account["updateTime"] > 10**15
        bad = await http.get("/api/v3/time", headers={"X-MBX-TIME-UNIT": "NANOSECOND"})
        assert bad.status_code == 400 and bad.json()["code"] == -1100


async def test_recv_window_with_three_decimals(fresh_account: PaperAccount) -> None:
    key, secret = fresh_account.key("read")
    async with httpx.AsyncClient(base_url=fresh_account.base_url, headers={"X-MBX-APIKEY": key}) as http:
        now = (await http.get("/api/v3/time")).json()["serverTime"]
        ok = await http.get("/api/v3/account?" + _signed(secret, recvWindow="5000.125", timestamp=str(now)))
        assert ok.status_code == 200, ok.text
        for window in ("5000.1234", "60000.001", "1e3", "-5"):
            bad = await http.get("/api/v3/account?" + _signed(secret, recvWindow=window, timestamp=str(now)))
            assert bad.status_code == 400 and bad.json()["code"] == -1100, (window, bad.text)
        # 2.5 ms of window: a request 1 s old is outside it (-1021), checked in microseconds.
        stale = await http.get("/api/v3/account?" + _signed(secret, recvWindow="2.500", timestamp=str(now - 1000)))
        assert stale.status_code == 400 and stale.json()["code"] == -1021
        # Microsecond timestamps are accepted whatever the header says.
        micro = await http.get("/api/v3/account?" + _signed(secret, timestamp=str(now * 1000 + 123)))
        assert micro.status_code == 200, micro.text
