"""Client-side CPU cost per call: btx-tui's ``BtxClient`` vs ccxt's async ``binance`` class.

Run from the repository root::

    .venv/bin/python bench/client.py            # ~20 s
    .venv/bin/python bench/client.py --quick    # ~6 s

Both clients talk to the same bundled paper exchange (a child process, loopback, rate limits
lifted — see ``bench/_common.py``), in ONE process and ONE asyncio event loop, in the same
run.  For each operation we measure ``time.process_time()`` around N sequential calls after a
warm-up: that is the client's own CPU (the server runs in another process and is not
counted).  Rounds alternate which client goes first; the figure is the median over rounds,
and the stable figure is the ratio btx/ccxt.

Operations (same work on both sides):

1. ``tickers``: 24 h tickers of 20 symbols — ``BtxClient.tickers_24hr(symbols)`` vs
   ``fetch_tickers(symbols)`` (both one ``GET /api/v3/ticker/24hr?symbols=[...]``);
2. ``depth``: order book, 100 levels a side — ``depth(sym, 100)`` vs ``fetch_order_book``;
3. ``balance``: ``account()`` vs ``fetch_balance()``;
4. ``place+cancel``: a LIMIT BUY far below the market, then its cancel —
   ``place_order`` (the app's safe path) + ``cancel_order`` vs ``create_order`` + ``cancel_order``.

HTTP requests are counted at each client's send choke point in a separate, untimed pass:
a wrapper around ``BtxClient``'s ``LeanTransport.request`` (every request ``RestSession``
puts on the wire goes through it, retries and clock syncs included), and a wrapper around
ccxt's ``Exchange.fetch`` (every ccxt HTTP request goes through it).

Floors (not targets): ``GET /api/v3/ping`` through bare httpx (``httpx.AsyncClient``), through
btx's bare ``LeanTransport`` (pre-built request bytes, no JSON) and through bare aiohttp
(ccxt's transport).  Endpoints are recorded too,
so an endpoint the paper exchange lacks shows up by name.

Prints a table, then as the LAST stdout line one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    GENEROUS_NOTE, exchange_symbols, median, print_table, seed_exchange, start_bench_exchange,
)

from pydantic import SecretStr  # noqa: E402

from btx_tui.api.client import BtxClient  # noqa: E402
from btx_tui.api.orders import OrderRequest, Outcome  # noqa: E402

OPS = ("tickers", "depth", "balance", "place+cancel")
#: Transport floors (not targets): bare httpx vs bare aiohttp (ccxt's transport), GET ping.
FLOOR = "floor: ping"
#: btx's own transport, bare (pre-built request bytes), vs bare aiohttp, GET ping.
FLOOR_LEAN = "floor: lean ping"
FLOORS = (FLOOR, FLOOR_LEAN)
ALL = (*FLOORS, *OPS)
DEPTH_SYMBOL = "BTCUSDT"
ORDER_SYMBOL = "ETHUSDT"

#: ccxt options: spot only, no currencies/margin endpoints, no clock adjustment.
#: ``fetchMargins`` must be False: by default ``load_markets`` (with an apiKey) also calls
#: ``GET /sapi/v1/margin/allPairs`` and ``/sapi/v1/margin/isolated/allPairs``, which the
#: paper exchange does not implement (404 -1000) — ccxt then fails ``load_markets``.
CCXT_OPTIONS = {
    "defaultType": "spot",
    "fetchMarkets": ["spot"],
    "fetchCurrencies": False,
    "adjustForTimeDifference": False,
    "fetchMargins": False,
}


def _key(op: str) -> str:
    return {FLOOR: "floor_ping", FLOOR_LEAN: "floor_lean_ping"}.get(op, op.replace("+", "_"))


def make_ccxt(base_url: str, api_key: str, secret: str) -> Any:
    """ccxt's async ``binance`` pointed at ``base_url`` (every urls['api'] entry rewritten)."""
    import ccxt.async_support as ccxt_async

    exchange = ccxt_async.binance({
        "apiKey": api_key,
        "secret": secret,
        # Off: its throttle would add sleeps (and some CPU) to ccxt; btx's budget stays on,
        # so this favours ccxt.
        "enableRateLimit": False,
        "options": dict(CCXT_OPTIONS),
    })
    api = exchange.urls["api"]
    for name, url in list(api.items()):
        parts = urlsplit(url)
        api[name] = base_url.rstrip("/") + parts.path  # e.g. <base>/api/v3, <base>/sapi/v1
    return exchange


class RequestLog:
    """Counts HTTP requests per side and remembers (method, path) of each."""

    def __init__(self) -> None:
        self.enabled = False
        self.calls: list[tuple[str, str]] = []

    def add(self, method: str, url: str) -> None:
        if self.enabled:
            self.calls.append((method.upper(), urlsplit(str(url)).path))

    def take(self) -> list[tuple[str, str]]:
        calls, self.calls = self.calls, []
        return calls


def hook_btx(client: BtxClient, log: RequestLog) -> None:
    """Count at BtxClient's wire: every request its transport is handed (retries included)."""
    transport = client.rest.transport
    original = transport.request

    async def request(origin: Any, data: bytes, **kw: Any) -> Any:
        if log.enabled:
            method, target = data.split(b" ", 2)[:2]
            log.add(method.decode(), target.decode())
        return await original(origin, data, **kw)

    transport.request = request  # type: ignore[method-assign]


def hook_ccxt(exchange: Any, log: RequestLog) -> None:
    original = exchange.fetch

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        log.add(method, url)
        return await original(url, method, headers, body)

    exchange.fetch = fetch


async def timed(fn: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    """(CPU µs/call, wall µs/call) of ``n`` sequential calls."""
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        await fn()
    return (1e6 * (time.process_time() - c0) / n, 1e6 * (time.perf_counter() - w0) / n)


async def run(base_url: str, api_key: str, secret: str, symbols: list[str], args: argparse.Namespace) -> dict:
    btx_log, ccxt_log = RequestLog(), RequestLog()
    btx = BtxClient(base_url, api_key, SecretStr(secret))
    cx = make_ccxt(base_url, api_key, secret)
    hook_btx(btx, btx_log)
    hook_ccxt(cx, ccxt_log)
    figures: dict[str, Any] = {}
    closers: list[Callable[[], Awaitable[Any]]] = []
    try:
        # ---- setup (untimed): markets on both sides; counted.
        btx_log.enabled = ccxt_log.enabled = True
        info = await btx.exchange_info()  # also adopts the server's weight limit
        await btx.sync_clock()
        await cx.load_markets()
        btx_setup, ccxt_setup = btx_log.take(), ccxt_log.take()
        btx_log.enabled = ccxt_log.enabled = False
        specs = {s.symbol: s for s in info.symbols}
        usyms = [cx.safe_symbol(s) for s in symbols]
        depth_u, order_u = cx.safe_symbol(DEPTH_SYMBOL), cx.safe_symbol(ORDER_SYMBOL)
        tick = Decimal(str(cx.markets[order_u]["precision"]["price"]))
        # Far below the market (the seeded bids go down to ref - 10 %): 30 % of the best bid.
        best_bid = (await btx.depth(ORDER_SYMBOL, 5)).bids[0].price
        price = (best_bid * Decimal("0.3")).quantize(tick)
        qty = Decimal("0.01")
        assert ORDER_SYMBOL in specs and price * qty >= Decimal(5)

        async def btx_tickers() -> None:
            assert len(await btx.tickers_24hr(symbols)) == len(symbols)

        async def ccxt_tickers() -> None:
            assert len(await cx.fetch_tickers(usyms)) == len(usyms)

        async def btx_depth() -> None:
            await btx.depth(DEPTH_SYMBOL, 100)

        async def ccxt_depth() -> None:
            await cx.fetch_order_book(depth_u, 100)

        async def btx_balance() -> None:
            await btx.account()

        async def ccxt_balance() -> None:
            await cx.fetch_balance()

        async def btx_place_cancel() -> None:
            placed = await btx.place_order(OrderRequest(ORDER_SYMBOL, "BUY", "LIMIT", quantity=qty, price=price))
            assert placed.outcome is Outcome.ACCEPTED and placed.order is not None, placed.describe()
            await btx.cancel_order(ORDER_SYMBOL, order_id=placed.order.order_id)

        async def ccxt_place_cancel() -> None:
            order = await cx.create_order(order_u, "limit", "buy", float(qty), float(price))
            await cx.cancel_order(order["id"], order_u)

        # Transport floors: the HTTP library under each client, bare (GET /api/v3/ping).
        import aiohttp
        import httpx

        raw_httpx = httpx.AsyncClient(base_url=base_url, http1=True, http2=False)
        raw_aiohttp = aiohttp.ClientSession()
        closers.extend([raw_httpx.aclose, raw_aiohttp.close])
        ping_url = base_url.rstrip("/") + "/api/v3/ping"

        async def httpx_ping() -> None:
            (await raw_httpx.get("/api/v3/ping")).json()

        async def aiohttp_ping() -> None:
            async with raw_aiohttp.get(ping_url) as resp:
                await resp.text()

        from btx_tui.api.transport import LeanTransport, Origin

        raw_lean = LeanTransport()
        closers.append(raw_lean.aclose)
        lean_origin = Origin.from_url(base_url)
        lean_ping_bytes = b"GET /api/v3/ping HTTP/1.1\r\n" + lean_origin.host_line + b"\r\n"

        async def lean_ping() -> None:
            (await raw_lean.request(lean_origin, lean_ping_bytes)).content.decode()

        table = {
            "floor: ping": (httpx_ping, aiohttp_ping),
            "floor: lean ping": (lean_ping, aiohttp_ping),
            "tickers": (btx_tickers, ccxt_tickers),
            "depth": (btx_depth, ccxt_depth),
            "balance": (btx_balance, ccxt_balance),
            "place+cancel": (btx_place_cancel, ccxt_place_cancel),
        }

        # ---- sanity: both sides see the same data (one call each, untimed).
        book = await btx.depth(DEPTH_SYMBOL, 100)
        cbook = await cx.fetch_order_book(depth_u, 100)
        assert len(book.bids) == len(cbook["bids"]) == 100, (len(book.bids), len(cbook["bids"]))
        check = await btx_place_cancel(), await ccxt_place_cancel()  # noqa: F841 (raise if broken)
        open_after = await btx.open_orders(ORDER_SYMBOL)
        assert not open_after, "place+cancel left open orders"

        # ---- warm-up, then timed rounds (alternating which side goes first).
        for op in ALL:
            for fn in table[op]:
                for _ in range(args.warmup):
                    await fn()
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for op in ALL:
                order = (0, 1) if r % 2 == 0 else (1, 0)
                for side_idx in order:
                    side = ("btx", "ccxt")[side_idx]
                    samples.setdefault((op, side), []).append(await timed(table[op][side_idx], args.n))

        # ---- request counting pass (untimed).
        requests: dict[str, dict[str, Any]] = {}
        for op in OPS:
            per: dict[str, Any] = {}
            for side, fn, log in (("btx", table[op][0], btx_log), ("ccxt", table[op][1], ccxt_log)):
                log.enabled = True
                for _ in range(args.count_calls):
                    await fn()
                log.enabled = False
                calls = log.take()
                per[side] = {"per_call": len(calls) / args.count_calls,
                             "endpoints": sorted({f"{m} {p}" for m, p in calls})}
            requests[op] = per

        for op in ALL:
            key = _key(op)
            b_cpu = median([s[0] for s in samples[(op, "btx")]])
            c_cpu = median([s[0] for s in samples[(op, "ccxt")]])
            figures[f"{key}_btx_cpu_us"] = round(b_cpu, 1)
            figures[f"{key}_ccxt_cpu_us"] = round(c_cpu, 1)
            figures[f"{key}_cpu_ratio"] = round(b_cpu / c_cpu, 3)
            figures[f"{key}_btx_wall_us"] = round(median([s[1] for s in samples[(op, 'btx')]]), 1)
            figures[f"{key}_ccxt_wall_us"] = round(median([s[1] for s in samples[(op, 'ccxt')]]), 1)
            if op in FLOORS:
                continue
            figures[f"{key}_btx_requests"] = requests[op]["btx"]["per_call"]
            figures[f"{key}_ccxt_requests"] = requests[op]["ccxt"]["per_call"]
            figures[f"{key}_btx_endpoints"] = requests[op]["btx"]["endpoints"]
            figures[f"{key}_ccxt_endpoints"] = requests[op]["ccxt"]["endpoints"]
            spread = [s[0] for s in samples[(op, "btx")]]
            figures[f"{key}_btx_cpu_us_min_max"] = [round(min(spread), 1), round(max(spread), 1)]
            spread = [s[0] for s in samples[(op, "ccxt")]]
            figures[f"{key}_ccxt_cpu_us_min_max"] = [round(min(spread), 1), round(max(spread), 1)]
        for name in [k for k in figures if k.startswith("floor_ping_")]:
            new = name.replace("_btx_", "_httpx_").replace("_ccxt_", "_aiohttp_").replace(
                "cpu_ratio", "cpu_ratio_httpx_vs_aiohttp")
            figures[new] = figures.pop(name)
        for name in [k for k in figures if k.startswith("floor_lean_ping_")]:
            new = name.replace("_btx_", "_lean_").replace("_ccxt_", "_aiohttp_").replace(
                "cpu_ratio", "cpu_ratio_lean_vs_aiohttp")
            figures[new] = figures.pop(name)
        figures["setup_btx_requests"] = [f"{m} {p}" for m, p in btx_setup]
        figures["setup_ccxt_requests"] = [f"{m} {p}" for m, p in ccxt_setup]
    finally:
        for close in closers:
            await close()
        await btx.aclose()
        await cx.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="~20 s run (fewer calls and rounds)")
    parser.add_argument("--n", type=int, default=None, help="calls per op per side per round")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--count-calls", type=int, default=10, help="calls per op in the counting pass")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)
    args.n = args.n or (40 if args.quick else 150)
    args.rounds = args.rounds or (3 if args.quick else 5)
    if args.quick:
        args.warmup = min(args.warmup, 10)

    import ccxt

    data_dir = Path(tempfile.mkdtemp(prefix="btx-bench-client-"))
    started = time.perf_counter()
    try:
        symbols = exchange_symbols(data_dir)[:20]
        seed_exchange(data_dir, symbols, levels=100, trades=5)
        server = start_bench_exchange(data_dir)
        try:
            api_key, secret = server.key("full")
            figures = asyncio.run(run(server.base_url, api_key, secret, symbols, args))
        finally:
            server.stop()
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    figures.update({
        "calls_per_round": args.n, "rounds": args.rounds, "warmup": args.warmup,
        "ccxt_version": ccxt.__version__, "python": sys.version.split()[0],
        "event_loop": "asyncio (default)", "symbols": len(symbols),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "sniffio_installed": importlib.util.find_spec("sniffio") is not None,
    })
    rows = []
    for op in OPS:
        key = _key(op)
        ratio = figures[f"{key}_cpu_ratio"]
        b_req, c_req = figures[f"{key}_btx_requests"], figures[f"{key}_ccxt_requests"]
        ok = ratio <= 0.5 and b_req <= c_req
        rows.append((op, f"{figures[f'{key}_btx_cpu_us']:.0f}", f"{figures[f'{key}_ccxt_cpu_us']:.0f}",
                     f"{ratio:.2f}x", f"{b_req:g} / {c_req:g}",
                     f"{figures[f'{key}_btx_wall_us']:.0f} / {figures[f'{key}_ccxt_wall_us']:.0f}",
                     "yes" if ok else "NO"))
    figures["all_targets_met"] = all(r[-1] == "yes" for r in rows)
    rows.append(("floor: ping (bare httpx / bare aiohttp)", f"{figures['floor_ping_httpx_cpu_us']:.0f}",
                 f"{figures['floor_ping_aiohttp_cpu_us']:.0f}", f"{figures['floor_ping_cpu_ratio_httpx_vs_aiohttp']:.2f}x",
                 "1 / 1", f"{figures['floor_ping_httpx_wall_us']:.0f} / {figures['floor_ping_aiohttp_wall_us']:.0f}",
                 "-"))
    rows.append(("floor: ping (bare btx LeanTransport / bare aiohttp)", f"{figures['floor_lean_ping_lean_cpu_us']:.0f}",
                 f"{figures['floor_lean_ping_aiohttp_cpu_us']:.0f}",
                 f"{figures['floor_lean_ping_cpu_ratio_lean_vs_aiohttp']:.2f}x", "1 / 1",
                 f"{figures['floor_lean_ping_lean_wall_us']:.0f} / {figures['floor_lean_ping_aiohttp_wall_us']:.0f}",
                 "-"))
    print(f"btx-tui BtxClient vs ccxt {ccxt.__version__} binance (async), one process, one loop; "
          f"{args.rounds} rounds x {args.n} calls per op and side, median of rounds")
    print(GENEROUS_NOTE)
    if not figures["sniffio_installed"]:
        print("NOTE: sniffio is not installed: httpcore 1.0.x then retries `import sniffio` "
              "(a sys.path scan) several times per request, inflating the bare-httpx floor row "
              "(BtxClient no longer uses httpx to send)")
    print()
    print_table("client CPU per call (µs, process_time) — target btx <= 0.5x ccxt, requests btx <= ccxt",
                ("op", "btx µs", "ccxt µs", "btx/ccxt", "requests btx/ccxt", "wall µs btx/ccxt", "target"),
                rows)
    print("endpoints per op:")
    for op in OPS:
        key = _key(op)
        print(f"  {op:<13} btx: {', '.join(figures[f'{key}_btx_endpoints'])}")
        print(f"  {'':<13} ccxt: {', '.join(figures[f'{key}_ccxt_endpoints'])}")
    print(f"setup requests  btx: {', '.join(figures['setup_btx_requests'])}")
    print(f"                ccxt: {', '.join(figures['setup_ccxt_requests'])}")
    print()
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
