"""Fan-out section of ``bench/exchange.py``: many WebSocket connections on diff-depth streams.

The real server (``btx-tui exchange`` in a child process, its synthetic market trading on
all five markets, so every book moves ~4 times a second) and N client connections
(``websockets`` client on uvloop, one process), each on the combined stream of the five
``<symbol>@depth@100ms`` diff streams.  Delivery lag of each event = the client's wall clock
when the frame is parsed minus the event's ``E`` (the server's wall clock, ms, when the
throttled diff is flushed to every subscribed connection): the cost of fanning one event out
to every queue, writing it to N sockets and reading it back - not the 100 ms throttle
itself, which is the stream's contract.  Every connection also checks ``U == previous u + 1``
per stream, so a lost or reordered event would show as a sequence break.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

from _common import pct, print_table, process_cpu_seconds
from btx_tui.exchange.process.launcher import start_paper_exchange

SYMBOLS = ("btcusdt", "ethusdt", "trxusdt", "bttusdt", "btttrx")


async def _reader(url: str, lags: list[float], breaks: list[int], measuring: list[bool],
                  ready: asyncio.Event, counter: list[int]) -> None:
    """One connection: timestamps and checks every frame (a lean loop: no per-frame timeout
    task, so the client's own cost per frame stays small; the run cancels it at the end)."""
    async with websockets.connect(url, open_timeout=30, max_queue=None) as ws:
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        last: dict[str, int] = {}
        loads, clock = json.loads, time.time
        async for raw in ws:
            now_ms = clock() * 1000
            message = loads(raw)
            data = message["data"]
            if measuring[0]:
                lags.append(now_ms - data["E"])
            stream = message["stream"]
            previous = last.get(stream)
            if previous is not None and data["U"] != previous + 1:
                breaks[0] += 1
            last[stream] = data["u"]


async def _run(ws_base: str, conns: int, seconds: float, pid: int) -> dict[str, Any]:
    url = ws_base + "/stream?streams=" + "/".join(f"{s}@depth@100ms" for s in SYMBOLS)
    lags: list[float] = []
    breaks = [0]
    measuring = [False]
    ready = asyncio.Event()
    counter = [0, conns]
    tasks = [asyncio.create_task(_reader(url, lags, breaks, measuring, ready, counter)) for _ in range(conns)]
    await asyncio.wait_for(ready.wait(), 60)
    await asyncio.sleep(1.0)  # every subscription live before measuring
    measuring[0] = True
    cpu_server, cpu_client, wall = process_cpu_seconds(pid), time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - wall
    cpu_server = process_cpu_seconds(pid) - cpu_server
    cpu_client = time.process_time() - cpu_client
    measuring[0] = False
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "ws_fanout_connections": conns,
        "ws_fanout_streams_per_connection": len(SYMBOLS),
        "ws_fanout_seconds": round(wall, 1),
        "ws_fanout_events": len(lags),
        "ws_fanout_events_per_s": round(len(lags) / wall),
        "ws_fanout_lag_p50_ms": round(pct(lags, 0.50), 2),
        "ws_fanout_lag_p99_ms": round(pct(lags, 0.99), 2),
        "ws_fanout_lag_max_ms": round(max(lags), 2) if lags else float("nan"),
        "ws_fanout_sequence_breaks": breaks[0],
        "ws_fanout_server_cpu_pct": round(100 * cpu_server / wall),
        "ws_fanout_client_cpu_pct": round(100 * cpu_client / wall),
    }


def bench_ws(args: argparse.Namespace) -> dict[str, Any]:
    seconds = 6.0 if args.quick else args.ws_seconds
    with tempfile.TemporaryDirectory(prefix="btx-bench-ws-") as tmp:
        ex = start_paper_exchange(Path(tmp) / "paper", market=True, seed=1)
        try:
            ws_base = "ws://" + ex.base_url.split("://", 1)[1]
            try:
                import uvloop

                runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
            except ImportError:
                runner = asyncio.Runner()
            with runner:
                return runner.run(_run(ws_base, args.ws_conns, seconds, ex.proc.pid))
        finally:
            ex.stop()


def print_ws_table(r: dict[str, Any]) -> None:
    print_table(
        f"WebSocket fan-out: {r['ws_fanout_connections']} connections x "
        f"{r['ws_fanout_streams_per_connection']} depth@100ms streams, synthetic market, "
        f"{r['ws_fanout_seconds']} s",
        ["figure", "value"],
        [["events delivered", f"{r['ws_fanout_events']:,} ({r['ws_fanout_events_per_s']:,}/s)"],
         ["delivery lag p50 ms", r["ws_fanout_lag_p50_ms"]],
         ["delivery lag p99 ms (target <= 20)", r["ws_fanout_lag_p99_ms"]],
         ["delivery lag max ms", r["ws_fanout_lag_max_ms"]],
         ["U != previous u + 1", r["ws_fanout_sequence_breaks"]],
         ["server CPU", f"{r['ws_fanout_server_cpu_pct']} %"],
         ["client CPU", f"{r['ws_fanout_client_cpu_pct']} %"]])
