"""Client-side CPU cost per call: btx-tui's ``BtxClient`` vs ccxt's async ``binance`` class.

``BtxClient`` runs twice, on each candidate transport under httpx's API: ``btx`` is the
default (``httpx-aiohttp``'s ``AiohttpTransport``: aiohttp's pool and parser) and ``btx-httpx``
is httpx's own ``AsyncHTTPTransport`` (httpcore + h11), passed as ``transport=``.

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
a wrapper around ``BtxClient.rest.http.send`` (every request ``RestSession`` puts on the
wire goes through it, retries and clock syncs included), and a wrapper around ccxt's
``Exchange.fetch`` (every ccxt HTTP request goes through it).

Floors (not targets): ``GET /api/v3/ping`` through a bare ``httpx.AsyncClient`` on each
transport, against bare aiohttp (ccxt's transport).  Endpoints are recorded too, so an
endpoint the paper exchange lacks shows up by name.

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
#: Transport floors (not targets), GET ping: bare httpx.AsyncClient on each transport vs bare aiohttp.
FLOOR_AIOHTTP = "floor: ping httpx-aiohttp"
FLOOR_HTTPX = "floor: ping httpx"
FLOORS = (FLOOR_AIOHTTP, FLOOR_HTTPX)
ALL = (*FLOORS, *OPS)
#: The sides of each op: BtxClient on each transport, then ccxt (the baseline).
SIDES = ("btx", "btx-httpx", "ccxt")
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
    return {FLOOR_AIOHTTP: "floor_ping_aiohttp_transport", FLOOR_HTTPX: "floor_ping_httpx_transport"}.get(
        op, op.replace("+", "_"))


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
    """Count at BtxClient's wire: every request its httpx client sends (retries included)."""
    http = client.rest.http
    original = http.send

    async def send(request: Any, **kw: Any) -> Any:
        log.add(request.method, str(request.url))
        return await original(request, **kw)

    http.send = send  # type: ignore[method-assign]


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
    import aiohttp
    import httpx
    from httpx_aiohttp import AiohttpTransport

    logs = {side: RequestLog() for side in SIDES}
    clients = {
        "btx": BtxClient(base_url, api_key, SecretStr(secret)),
        "btx-httpx": BtxClient(base_url, api_key, SecretStr(secret), transport=httpx.AsyncHTTPTransport()),
    }
    cx = make_ccxt(base_url, api_key, secret)
    for side, client in clients.items():
        hook_btx(client, logs[side])
    hook_ccxt(cx, logs["ccxt"])
    figures: dict[str, Any] = {}
    closers: list[Callable[[], Awaitable[Any]]] = []
    try:
        # ---- setup (untimed): markets on every side; counted.
        for log in logs.values():
            log.enabled = True
        for client in clients.values():
            info = await client.exchange_info()  # also adopts the server's weight limit
            await client.sync_clock()
        await cx.load_markets()
        setup = {side: log.take() for side, log in logs.items()}
        for log in logs.values():
            log.enabled = False
        specs = {s.symbol: s for s in info.symbols}
        usyms = [cx.safe_symbol(s) for s in symbols]
        depth_u, order_u = cx.safe_symbol(DEPTH_SYMBOL), cx.safe_symbol(ORDER_SYMBOL)
        tick = Decimal(str(cx.markets[order_u]["precision"]["price"]))
        # Far below the market (the seeded bids go down to ref - 10 %): 30 % of the best bid.
        best_bid = (await clients["btx"].depth(ORDER_SYMBOL, 5)).bids[0].price
        price = (best_bid * Decimal("0.3")).quantize(tick)
        qty = Decimal("0.01")
        assert ORDER_SYMBOL in specs and price * qty >= Decimal(5)

        def btx_ops(btx: BtxClient) -> dict[str, Callable[[], Awaitable[None]]]:
            async def tickers() -> None:
                assert len(await btx.tickers_24hr(symbols)) == len(symbols)

            async def depth() -> None:
                await btx.depth(DEPTH_SYMBOL, 100)

            async def balance() -> None:
                await btx.account()

            async def place_cancel() -> None:
                placed = await btx.place_order(OrderRequest(ORDER_SYMBOL, "BUY", "LIMIT", quantity=qty, price=price))
                assert placed.outcome is Outcome.ACCEPTED and placed.order is not None, placed.describe()
                await btx.cancel_order(ORDER_SYMBOL, order_id=placed.order.order_id)

            return {"tickers": tickers, "depth": depth, "balance": balance, "place+cancel": place_cancel}

        async def ccxt_tickers() -> None:
            assert len(await cx.fetch_tickers(usyms)) == len(usyms)

        async def ccxt_depth() -> None:
            await cx.fetch_order_book(depth_u, 100)

        async def ccxt_balance() -> None:
            await cx.fetch_balance()

        async def ccxt_place_cancel() -> None:
            order = await cx.create_order(order_u, "limit", "buy", float(qty), float(price))
            await cx.cancel_order(order["id"], order_u)

        # Transport floors: bare httpx.AsyncClient on each transport vs bare aiohttp (GET ping).
        bare_aiohttp_transport = httpx.AsyncClient(base_url=base_url, transport=AiohttpTransport())
        bare_httpx = httpx.AsyncClient(base_url=base_url, http1=True, http2=False)
        raw_aiohttp = aiohttp.ClientSession()
        closers.extend([bare_aiohttp_transport.aclose, bare_httpx.aclose, raw_aiohttp.close])
        ping_url = base_url.rstrip("/") + "/api/v3/ping"

        async def aiohttp_transport_ping() -> None:
            (await bare_aiohttp_transport.get("/api/v3/ping")).json()

        async def httpx_ping() -> None:
            (await bare_httpx.get("/api/v3/ping")).json()

        async def aiohttp_ping() -> None:
            async with raw_aiohttp.get(ping_url) as resp:
                await resp.text()

        ops = {side: btx_ops(client) for side, client in clients.items()}
        ops["ccxt"] = {"tickers": ccxt_tickers, "depth": ccxt_depth, "balance": ccxt_balance,
                       "place+cancel": ccxt_place_cancel}
        table: dict[str, tuple[Callable[[], Awaitable[Any]], ...]] = {
            FLOOR_AIOHTTP: (aiohttp_transport_ping, aiohttp_ping),
            FLOOR_HTTPX: (httpx_ping, aiohttp_ping),
        }
        for op in OPS:
            table[op] = tuple(ops[side][op] for side in SIDES)

        # ---- sanity: every side sees the same data (one call each, untimed).
        cbook = await cx.fetch_order_book(depth_u, 100)
        for client in clients.values():
            book = await client.depth(DEPTH_SYMBOL, 100)
            assert len(book.bids) == len(cbook["bids"]) == 100, (len(book.bids), len(cbook["bids"]))
        for side in SIDES:
            await ops[side]["place+cancel"]()  # raises if broken
        assert not await clients["btx"].open_orders(ORDER_SYMBOL), "place+cancel left open orders"

        # ---- warm-up, then timed rounds (rotating which side goes first).
        for op in ALL:
            for fn in table[op]:
                for _ in range(args.warmup):
                    await fn()
        samples: dict[tuple[str, int], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for op in ALL:
                n = len(table[op])
                for i in range(n):
                    idx = (i + r) % n
                    samples.setdefault((op, idx), []).append(await timed(table[op][idx], args.n))

        # ---- request counting pass (untimed).
        requests: dict[str, dict[str, Any]] = {}
        for op in OPS:
            per: dict[str, Any] = {}
            for side in SIDES:
                log = logs[side]
                log.enabled = True
                for _ in range(args.count_calls):
                    await ops[side][op]()
                log.enabled = False
                calls = log.take()
                per[side] = {"per_call": len(calls) / args.count_calls,
                             "endpoints": sorted({f"{m} {p}" for m, p in calls})}
            requests[op] = per

        def put(key: str, name: str, op: str, idx: int) -> None:
            cpu = [s[0] for s in samples[(op, idx)]]
            figures[f"{key}_{name}_cpu_us"] = round(median(cpu), 1)
            figures[f"{key}_{name}_cpu_us_min_max"] = [round(min(cpu), 1), round(max(cpu), 1)]
            figures[f"{key}_{name}_wall_us"] = round(median([s[1] for s in samples[(op, idx)]]), 1)

        for op in FLOORS:
            key = _key(op)
            put(key, "client", op, 0)
            put(key, "aiohttp", op, 1)
            figures[f"{key}_cpu_ratio_vs_aiohttp"] = round(
                figures[f"{key}_client_cpu_us"] / figures[f"{key}_aiohttp_cpu_us"], 3)
        for op in OPS:
            key = _key(op)
            for idx, side in enumerate(SIDES):
                name = side.replace("-", "_")
                put(key, name, op, idx)
                figures[f"{key}_{name}_requests"] = requests[op][side]["per_call"]
                figures[f"{key}_{name}_endpoints"] = requests[op][side]["endpoints"]
            for name in ("btx", "btx_httpx"):
                figures[f"{key}_{name}_cpu_ratio"] = round(
                    figures[f"{key}_{name}_cpu_us"] / figures[f"{key}_ccxt_cpu_us"], 3)
        for side in SIDES:
            figures[f"setup_{side.replace('-', '_')}_requests"] = [f"{m} {p}" for m, p in setup[side]]
    finally:
        for close in closers:
            await close()
        for client in clients.values():
            await client.aclose()
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
    met = {"btx": True, "btx_httpx": True}
    for op in OPS:
        key = _key(op)
        row: list[str] = [op]
        for name in ("btx", "btx_httpx"):
            ratio = figures[f"{key}_{name}_cpu_ratio"]
            ok = ratio <= 0.5 and figures[f"{key}_{name}_requests"] <= figures[f"{key}_ccxt_requests"]
            met[name] = met[name] and ok
            row += [f"{figures[f'{key}_{name}_cpu_us']:.0f}", f"{ratio:.2f}x" + ("" if ok else " NO")]
        row += [f"{figures[f'{key}_ccxt_cpu_us']:.0f}",
                f"{figures[f'{key}_btx_requests']:g} / {figures[f'{key}_btx_httpx_requests']:g} / "
                f"{figures[f'{key}_ccxt_requests']:g}",
                f"{figures[f'{key}_btx_wall_us']:.0f} / {figures[f'{key}_btx_httpx_wall_us']:.0f} / "
                f"{figures[f'{key}_ccxt_wall_us']:.0f}"]
        rows.append(row)
    figures["all_targets_met"] = met["btx"]
    figures["all_targets_met_httpx_transport"] = met["btx_httpx"]
    floor_rows = []
    for op, label in ((FLOOR_AIOHTTP, "httpx.AsyncClient on httpx-aiohttp"), (FLOOR_HTTPX, "httpx.AsyncClient (httpcore)")):
        key = _key(op)
        floor_rows.append((label, f"{figures[f'{key}_client_cpu_us']:.0f}", f"{figures[f'{key}_aiohttp_cpu_us']:.0f}",
                           f"{figures[f'{key}_cpu_ratio_vs_aiohttp']:.2f}x"))
    print(f"btx-tui BtxClient (httpx-aiohttp | httpx transport) vs ccxt {ccxt.__version__} binance (async), "
          f"one process, one loop; {args.rounds} rounds x {args.n} calls per op and side, median of rounds")
    print(GENEROUS_NOTE)
    if not figures["sniffio_installed"]:
        print("NOTE: sniffio is not installed: httpcore 1.0.x then retries `import sniffio` "
              "(a sys.path scan) several times per request, inflating every httpx-transport row")
    print()
    print_table("client CPU per call (µs, process_time) — target btx <= 0.5x ccxt, requests btx <= ccxt",
                ("op", "btx µs", "btx/ccxt", "btx-httpx µs", "btx-httpx/ccxt", "ccxt µs",
                 "requests btx / btx-httpx / ccxt", "wall µs btx / btx-httpx / ccxt"),
                rows)
    print_table("floors: GET /api/v3/ping, bare (µs CPU per call)",
                ("client", "µs", "bare aiohttp µs", "ratio"), floor_rows)
    print("endpoints per op:")
    for op in OPS:
        key = _key(op)
        for side in SIDES:
            name = side.replace("-", "_")
            print(f"  {op if side == 'btx' else '':<13} {side}: {', '.join(figures[f'{key}_{name}_endpoints'])}")
    for side in SIDES:
        print(f"setup requests {side}: {', '.join(figures[f'setup_{side.replace(chr(45), chr(95))}_requests'])}")
    print()
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
