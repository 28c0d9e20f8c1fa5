"""The stream layer vs polling, and orders over the WebSocket API vs REST (issue #10).

Run from the repository root::

    .venv/bin/python bench/streams.py --quick    # ~15 s
    .venv/bin/python bench/streams.py            # ~45 s

One paper exchange (a child process, loopback, rate limits lifted, seeded books — see
``bench/_common.py``), one asyncio loop, the same run:

1. **Trade → consumer.** A driver account executes MARKET sells against the seeded bids at
   random 50-250 ms intervals. Two consumers watch BTCUSDT at once: ``MarketStreams`` (the
   ``aggTrade`` stream, delivered as ``TradesUpdate``) and a REST poll of ``aggTrades`` every
   ``trades_interval_s`` (1.0 s, the dashboard's default; and 0.5 s, its book cadence, for
   reference). Latency of a trade = the consumer's wall clock when the trade reaches it
   minus the trade's engine time ``T`` (same machine, same clock). This is the api layer's
   share of "event → screen"; painting is measured by ``bench/latency.py`` (integration).
2. **Order round trip.** A LIMIT BUY far below the market placed and cancelled, N times per
   path, alternating: ``BtxClient.place_order`` + ``cancel_order`` (REST) vs
   ``WsOrderVenue.place_order`` + ``cancel_order`` (WebSocket API). Wall time of the place
   call (incl. the app's safe path: naming, one send, typed outcome) and of the cancel.

Prints tables, then as the LAST stdout line one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import pct, print_table, seed_exchange, start_bench_exchange
from pydantic import SecretStr

from btx_tui.api import BtxClient, OrderRequest, Outcome
from btx_tui.api.signing import HmacSigner
from btx_tui.api.streams import MarketStreams, StreamMode, TradesUpdate, WsOrderVenue

SYMBOL = "BTCUSDT"


def _now_ms() -> float:
    return time.time_ns() / 1e6


async def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("bench: condition not reached")
        await asyncio.sleep(0.02)


async def _poller(client: BtxClient, interval: float, seen: dict[int, float], stop: asyncio.Event) -> None:
    last = -1
    while not stop.is_set():
        trades = await client.agg_trades(SYMBOL, limit=100)
        now = _now_ms()
        for t in trades:
            if t.agg_id > last:
                seen.setdefault(t.agg_id, now - t.time)
        if trades:
            last = max(last, trades[-1].agg_id)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


async def _trade_latency(base_url: str, driver: dict, n_trades: int) -> dict[str, Any]:
    stream_lat: dict[int, float] = {}
    poll_1s: dict[int, float] = {}
    poll_05s: dict[int, float] = {}
    rng = random.Random(7)

    def on_update(update: Any) -> None:
        if isinstance(update, TradesUpdate) and not update.gap_fill:
            now = _now_ms()
            for t in update.trades:
                stream_lat.setdefault(t.agg_id, now - t.time)

    async with BtxClient(base_url) as market_client, BtxClient(base_url) as poll_client, \
            BtxClient(base_url, driver["api_key"], SecretStr(driver["api_secret"])) as trader:
        streams = MarketStreams(market_client, on_update)
        streams.follow(SYMBOL, None)
        async with streams:
            await _wait(lambda: streams.health()["trades"].mode is StreamMode.STREAM)
            await asyncio.sleep(0.5)  # the seed fill has landed
            stop = asyncio.Event()
            pollers = [asyncio.create_task(_poller(poll_client, 1.0, poll_1s, stop)),
                       asyncio.create_task(_poller(poll_client, 0.5, poll_05s, stop))]
            await asyncio.sleep(1.2)  # both pollers have seen the history
            start_ids = set(poll_1s)
            for _ in range(n_trades):
                result = await trader.place_order(OrderRequest(SYMBOL, "SELL", "MARKET", quantity=Decimal("0.0002")))
                assert result.outcome is Outcome.ACCEPTED, result
                await asyncio.sleep(rng.uniform(0.05, 0.25))
            await asyncio.sleep(1.5)
            stop.set()
            await asyncio.gather(*pollers)
    new = [a for a in stream_lat if a not in start_ids]
    executed = sorted(a for a in poll_1s if a not in start_ids)
    out: dict[str, Any] = {"trades": len(executed)}
    for name, table in (("stream", stream_lat), ("poll_1s", poll_1s), ("poll_05s", poll_05s)):
        values = [table[a] for a in executed if a in table]
        out[f"{name}_trade_to_consumer_p50_ms"] = round(pct(values, 0.5), 1)
        out[f"{name}_trade_to_consumer_p99_ms"] = round(pct(values, 0.99), 1)
        out[f"{name}_delivered"] = len(values)
    out["stream_missed"] = len(set(executed) - set(new))
    return out


async def _order_round_trips(base_url: str, account: dict, n: int) -> dict[str, Any]:
    key, secret = account["api_key"], SecretStr(account["api_secret"])
    place: dict[str, list[float]] = {"rest": [], "ws": []}
    cancel: dict[str, list[float]] = {"rest": [], "ws": []}
    async with BtxClient(base_url, key, secret) as client, WsOrderVenue(client, key, HmacSigner(secret)) as ws:
        await client.sync_clock()
        venues = {"rest": client, "ws": ws}
        for i in range(n + 3):  # 3 warm-up rounds
            for name in (("rest", "ws") if i % 2 else ("ws", "rest")):
                venue = venues[name]
                t0 = time.perf_counter()
                result = await venue.place_order(OrderRequest(SYMBOL, "BUY", "LIMIT", quantity=Decimal("0.0002"),
                                                              price=Decimal("50000")))
                t1 = time.perf_counter()
                assert result.outcome is Outcome.ACCEPTED and result.order is not None, result
                await venue.cancel_order(SYMBOL, order_id=result.order.order_id)
                t2 = time.perf_counter()
                if i >= 3:
                    place[name].append((t1 - t0) * 1000)
                    cancel[name].append((t2 - t1) * 1000)
    out: dict[str, Any] = {"order_round_trips": n}
    for name in ("rest", "ws"):
        out[f"{name}_place_p50_ms"] = round(pct(place[name], 0.5), 2)
        out[f"{name}_place_p99_ms"] = round(pct(place[name], 0.99), 2)
        out[f"{name}_cancel_p50_ms"] = round(pct(cancel[name], 0.5), 2)
        out[f"{name}_cancel_p99_ms"] = round(pct(cancel[name], 0.99), 2)
    return out


async def _run(base_url: str, accounts: list[dict], quick: bool) -> dict[str, Any]:
    figures = await _trade_latency(base_url, accounts[0], 30 if quick else 120)
    figures.update(await _order_round_trips(base_url, accounts[1], 40 if quick else 200))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="btx-bench-streams-") as tmp:
        data = Path(tmp) / "paper"
        accounts = seed_exchange(data, [SYMBOL], levels=40, trades=3, bench_accounts=2)
        ex = start_bench_exchange(data)
        try:
            figures = asyncio.run(_run(ex.base_url, accounts, args.quick))
        finally:
            ex.stop()
    print_table(f"Trade executed in the engine -> api consumer ({figures['trades']} trades, {SYMBOL})",
                ["path", "p50 ms", "p99 ms", "delivered"],
                [[label, figures[f"{k}_trade_to_consumer_p50_ms"], figures[f"{k}_trade_to_consumer_p99_ms"],
                  figures[f"{k}_delivered"]]
                 for label, k in (("stream (aggTrade)", "stream"), ("REST poll 1.0 s", "poll_1s"),
                                  ("REST poll 0.5 s", "poll_05s"))])
    print_table(f"Order round trip, {figures['order_round_trips']} each, alternating",
                ["path", "place p50", "place p99", "cancel p50", "cancel p99"],
                [[k.upper(), figures[f"{k}_place_p50_ms"], figures[f"{k}_place_p99_ms"],
                  figures[f"{k}_cancel_p50_ms"], figures[f"{k}_cancel_p99_ms"]] for k in ("rest", "ws")])
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
