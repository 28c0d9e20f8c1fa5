"""Event → screen latency of the dashboard on streams vs polling, idle weight and CPU.

Figures (the polling baseline is measured in the same run, because these machines are shared
and noisy — the ratio is the stable figure):

* ``stream_event_to_screen_p99_ms``: a trade executed in the engine (another client places a
  crossing IOC order over REST on the followed market) → the trade is in the tape widget and
  the frame after it is painted; measured from the order's ``transactTime`` (the engine's
  clock, same host) to the paint. The app with ``[exchange] streams = auto``.
* ``poll_event_to_screen_p99_ms``: the same, same exchange, the same app with ``streams = false``
  at the default polling intervals (trades every 1 s).
* ``idle_weight_per_min``: request weight the streaming app spends while nobody acts, with a
  20-symbol watchlist on a live synthetic market (every request at the client's httpx seam,
  weighed by the contract's endpoint table); ``--quick`` measures a shorter window, scaled to
  a minute.
* ``app_cpu_pct``: CPU of the process (the app; the exchange is a child process) over that
  window, % of one core.

Goals: stream p99 ≤ 50 ms and ≥ 5× better than polling; ≤ 300 weight/min idle; CPU ≤ 5 %.

Run: ``.venv/bin/python bench/latency.py`` (``--quick``: ≤ 60 s). Last stdout line: one JSON
object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from btx_tui.api.client import BtxClient  # noqa: E402
from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce  # noqa: E402
from btx_tui.api.orders import OrderRequest  # noqa: E402
from btx_tui.config import Settings  # noqa: E402
from btx_tui.contract.endpoints import request_weight  # noqa: E402
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange  # noqa: E402
from btx_tui.tui.app import BtxApp  # noqa: E402
from btx_tui.tui.connection_health import Connection  # noqa: E402

SYMBOL = "BTTUSDT"
RESTING_PRICE = Decimal("0.0000050000")
"""The bench's own resting sell, far above the synthetic market: only the bench's buys reach it."""


def twenty_symbols(base_url: str) -> list[str]:
    import httpx

    info = httpx.get(base_url + "/api/v3/exchangeInfo", timeout=10).json()
    names = [s["symbol"] for s in info["symbols"]]
    first = ["BTTUSDT", "BTCUSDT", "ETHUSDT", "TRXUSDT", "BTTTRX"]
    return (first + [n for n in names if n not in first])[:20]


async def wait_until(cond: Any, timeout: float = 30.0, step: float = 0.001) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(step)


class WeightLog:
    """Request weight of every request the app's client sends (its httpx ``send`` seam)."""

    def __init__(self, client: BtxClient) -> None:
        self.weight = 0
        self.requests = 0
        http = client.rest.http
        original = http.send

        async def send(request: Any, **kw: Any) -> Any:
            url = urlsplit(str(request.url))
            params = parse_qsl(url.query)
            try:
                self.weight += request_weight(request.method, url.path, params)
            except Exception:  # noqa: BLE001 - an endpoint outside the table weighs 1
                self.weight += 1
            self.requests += 1
            return await original(request, **kw)

        http.send = send  # type: ignore[method-assign]


def make_app(exchange: PaperExchange, watchlist: list[str], streams: bool | str) -> BtxApp:
    api_key, secret = exchange.key("full")
    settings = Settings.model_validate({"ui": {"watchlist": watchlist, "symbol": SYMBOL},
                                        "exchange": {"streams": streams}})
    return BtxApp(settings, Connection(exchange.base_url, api_key, SecretStr(secret), paper=True))


async def event_to_screen(app: BtxApp, other: BtxClient, n: int, gap_s: float) -> list[float]:
    """``n`` trades made by ``other``; ms from each trade's transactTime to the painted tape."""
    out = []
    for i in range(n):
        request = OrderRequest(symbol=SYMBOL, side=OrderSide.BUY, type=OrderType.LIMIT,
                               time_in_force=TimeInForce.IOC, quantity=Decimal(1_100_000 + i),
                               price=RESTING_PRICE)
        painted_at: list[float] = []
        result = await other.place_order(request)
        order = result.order
        assert order is not None and order.fills, result.describe()
        trade_id = order.fills[0].trade_id
        tape = app.dashboard.tape

        def shown() -> bool:
            return any(t.first_trade_id <= trade_id <= t.last_trade_id for t in tape.trades)

        await wait_until(shown, timeout=15)
        done = asyncio.Event()
        app.screen.call_after_refresh(lambda: (painted_at.append(time.time() * 1000), done.set()))
        await done.wait()
        out.append(painted_at[0] - (order.transact_time or 0))
        await asyncio.sleep(gap_s)
    return out


def note(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


async def run(quick: bool, tmp: Path) -> dict[str, float]:
    exchange = start_paper_exchange(tmp / "paper", market=True, seed=42)
    try:
        watchlist = twenty_symbols(exchange.base_url)
        api_key, secret = exchange.key("full")
        async with BtxClient(exchange.base_url, api_key, SecretStr(secret)) as other:
            rest = await other.place_order(OrderRequest(
                symbol=SYMBOL, side=OrderSide.SELL, type=OrderType.LIMIT, time_in_force=TimeInForce.GTC,
                quantity=Decimal(40_000_000), price=RESTING_PRICE))
            assert rest.order is not None, rest.describe()
            figures: dict[str, float] = {}
            n_events = 20 if quick else 60
            window_s = 12.0 if quick else 60.0

            note("exchange up, resting order placed")
            app = make_app(exchange, watchlist, "auto")
            async with app.run_test(size=(160, 50)) as pilot:
                await wait_until(lambda: app.streams is not None and all(
                    h.live for h in app.streams.health().values()) and len(app.streams.health()) == 5, timeout=30)
                note("streams live")
                await wait_until(lambda: bool(app.dashboard.tape.trades), timeout=30)
                await pilot.pause(1)
                stream_ms = await event_to_screen(app, other, n_events, 0.1)
                note("stream latency measured")
                await pilot.pause(1)
                assert app.client is not None
                weights = WeightLog(app.client)
                cpu0, wall0 = time.process_time(), time.perf_counter()
                await asyncio.sleep(window_s)
                wall = time.perf_counter() - wall0
                figures["app_cpu_pct"] = (time.process_time() - cpu0) / wall * 100
                figures["idle_weight_per_min"] = weights.weight * 60 / wall
                figures["idle_requests_per_min"] = weights.requests * 60 / wall
                figures["stream_reconnects"] = max(h.reconnects for h in app.streams.health().values())
                note("window over, closing the app")

            note("idle window measured")
            app = make_app(exchange, watchlist, False)
            async with app.run_test(size=(160, 50)) as pilot:
                await wait_until(lambda: bool(app.dashboard.tape.trades), timeout=30)
                await pilot.pause(1)
                poll_ms = await event_to_screen(app, other, max(8, n_events // 2), 0.05)
            await other.cancel_open_orders(SYMBOL)
    finally:
        exchange.stop()
    figures.update({
        "stream_event_to_screen_p50_ms": sorted(stream_ms)[len(stream_ms) // 2],
        "stream_event_to_screen_p99_ms": p99(stream_ms),
        "poll_event_to_screen_p50_ms": sorted(poll_ms)[len(poll_ms) // 2],
        "poll_event_to_screen_p99_ms": p99(poll_ms),
        "events_stream": len(stream_ms),
        "events_poll": len(poll_ms),
        "idle_window_s": window_s,
    })
    figures["stream_vs_poll_p99"] = figures["poll_event_to_screen_p99_ms"] / max(
        figures["stream_event_to_screen_p99_ms"], 0.001)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (<= 60 s)")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        f = asyncio.run(run(args.quick, Path(tmp)))
    f["bench_wall_s"] = time.perf_counter() - started
    rows = [
        ("trade -> painted tape, streams, p99", f"{f['stream_event_to_screen_p99_ms']:.1f} ms  (target <= 50 ms)"),
        ("  p50", f"{f['stream_event_to_screen_p50_ms']:.1f} ms"),
        ("trade -> painted tape, polling, p99", f"{f['poll_event_to_screen_p99_ms']:.1f} ms (baseline)"),
        ("  p50", f"{f['poll_event_to_screen_p50_ms']:.1f} ms"),
        ("  streams better by", f"{f['stream_vs_poll_p99']:.1f}x  (target >= 5x)"),
        ("idle request weight, streams, 20 symbols", f"{f['idle_weight_per_min']:.0f}/min  (target <= 300)"),
        ("app CPU, streams, 20 symbols", f"{f['app_cpu_pct']:.1f} % of a core  (target <= 5 %)"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(json.dumps({k: round(v, 3) for k, v in f.items()}))


if __name__ == "__main__":
    main()
