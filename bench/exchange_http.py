"""HTTP section of ``bench/exchange.py``: signed order placement vs ``ping`` over loopback.

Split from the engine section so each file has one job; ``bench/exchange.py`` runs both.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

def _http_plan(symbols: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Per symbol: far-from-market (side, price, qty) choices, cycled by the workers.

    BUYs at 40-50 % of the reference price, SELLs at 150-160 %, ten distinct levels a side,
    so nothing ever trades and the books grow realistic depth.
    """
    from decimal import Decimal as D

    from btx_tui.exchange.state.symbols import MARKETS

    plan: dict[str, list[tuple[str, str, str]]] = {}
    for sym in symbols:
        spec = MARKETS[sym]
        choices = []
        for k in range(10):
            for side, factor in (("BUY", D("0.5") - D(k) / 100), ("SELL", D("1.5") + D(k) / 100)):
                price = (spec.ref_price * factor / spec.tick_size).to_integral_value() * spec.tick_size
                qty = (spec.min_notional * 2 / price / spec.step_size).to_integral_value(rounding="ROUND_UP")
                qty = max(qty * spec.step_size, spec.min_qty)
                choices.append((side, _wire(price), _wire(qty)))
        plan[sym] = choices
    return plan


def _wire(value: Any) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _order_requests(host: str, plan: dict, symbols: list[str], key: dict, conn_no: int,
                    count: int, tag: str, start: int) -> list[bytes]:
    """``count`` pre-signed ``POST /api/v3/order`` requests for one connection's account."""
    from _common import build_request, signed_query

    now = str(int(time.time() * 1000))
    out = []
    for i in range(start, start + count):
        sym = symbols[i % len(symbols)]
        choices = plan[sym]
        side, price, qty = choices[(i // len(symbols)) % len(choices)]
        q = signed_query(key["api_secret"], [
            ("symbol", sym), ("side", side), ("type", "LIMIT"), ("timeInForce", "GTC"),
            ("quantity", qty), ("price", price), ("newClientOrderId", f"bench{tag}{conn_no}x{i}"),
            ("newOrderRespType", "FULL"), ("recvWindow", "60000"), ("timestamp", now)])
        out.append(build_request("POST", "/api/v3/order", host, q, key["api_key"]))
    return out


async def _closed_loop(conns: list, requests: list[list[bytes]]) -> tuple[list[float], Counter, float]:
    """Each connection sends its requests back to back; returns (latencies s, statuses, wall s)."""
    latencies: list[float] = []
    statuses: Counter = Counter()

    async def worker(conn: Any, reqs: list[bytes]) -> None:
        clock = time.perf_counter
        for data in reqs:
            t0 = clock()
            status, _ = await conn.request(data)
            latencies.append(clock() - t0)
            statuses[status] += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c, r) for c, r in zip(conns, requests)))
    return latencies, statuses, time.perf_counter() - t0


async def _paced(conns: list, requests: list[bytes], rate: float
                 ) -> tuple[list[float], Counter, float, list[float]]:
    """Open loop at ``rate``/s: request i is due at t0 + i/rate on connection i % len(conns).

    Returns latencies counted from the *due* time (so waiting for a busy connection counts),
    statuses, wall time and latencies counted from the actual send.  The client sleeps to
    1.5 ms before the due time and then yields in a loop, so timer granularity (uvloop's is
    1 ms) does not show up as server latency.
    """
    latencies: list[float] = []
    from_send: list[float] = []
    statuses: Counter = Counter()
    n = len(conns)
    t0 = time.perf_counter() + 0.05

    async def worker(k: int) -> None:
        clock = time.perf_counter
        for i in range(k, len(requests), n):
            due = t0 + i / rate
            delay = due - clock()
            if delay > 0.0015:
                await asyncio.sleep(delay - 0.0015)
            while clock() < due:
                await asyncio.sleep(0)
            sent = clock()
            status, _ = await conns[k].request(requests[i])
            done = clock()
            latencies.append(done - due)
            from_send.append(done - sent)
            statuses[status] += 1

    await asyncio.gather(*(worker(k) for k in range(n)))
    return latencies, statuses, time.perf_counter() - t0, from_send


def _phase_figures(prefix: str, lat: list[float], statuses: Counter, wall: float, cpu_client: float,
                   cpu_server: float) -> dict:
    from _common import pct

    n = len(lat)
    return {
        f"{prefix}_requests": n,
        f"{prefix}_per_s": round(n / wall),
        f"{prefix}_p50_ms": round(1000 * pct(lat, 0.50), 3),
        f"{prefix}_p99_ms": round(1000 * pct(lat, 0.99), 3),
        f"{prefix}_max_ms": round(1000 * max(lat), 3),
        f"{prefix}_non_200": sum(c for s, c in statuses.items() if s != 200),
        f"{prefix}_client_cpu_pct": round(100 * cpu_client / wall, 1),
        f"{prefix}_server_cpu_pct": round(100 * cpu_server / wall, 1),
    }


async def _http_run(base_url: str, server_pid: int, keys: list[dict], symbols: list[str],
                    args: argparse.Namespace) -> dict:
    from urllib.parse import urlsplit

    from _common import RawConnection, build_request, pct, process_cpu_seconds

    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    hostport = f"{host}:{port}"
    per_symbol = (args.http_orders // args.http_conns + 20
                  + int(args.http_rate * args.http_paced_s) // args.http_conns + 1) / len(symbols)
    if per_symbol > 195:  # MAX_NUM_ORDERS: 200 open orders per symbol and account
        raise SystemExit(f"too many orders per symbol and account ({per_symbol:.0f}); "
                         "raise --http-symbols or --http-conns")
    conns = [await RawConnection.open(host, port) for _ in range(args.http_conns)]
    plan = _http_plan(symbols)
    figures: dict[str, Any] = {}
    ping = build_request("GET", "/api/v3/ping", hostport)
    placed = 0

    async def measure(prefix: str, coro: Any) -> None:
        gc.collect()
        c0, s0 = time.process_time(), process_cpu_seconds(server_pid)
        lat, statuses, wall, *extra = await coro
        if extra:
            figures[f"{prefix}_from_send_p50_ms"] = round(1000 * pct(extra[0], 0.50), 3)
            figures[f"{prefix}_from_send_p99_ms"] = round(1000 * pct(extra[0], 0.99), 3)
        figures.update(_phase_figures(prefix, lat, statuses, wall, time.process_time() - c0,
                                      process_cpu_seconds(server_pid) - s0))
        if any(s != 200 for s in statuses):
            figures[f"{prefix}_statuses"] = {str(k): v for k, v in sorted(statuses.items())}

    try:
        # warm-up: both paths, every connection
        warm = [_order_requests(hostport, plan, symbols, keys[c], c, 20, "w", 0)
                for c in range(len(conns))]
        await _closed_loop(conns, warm)
        await _closed_loop(conns, [[ping] * 200 for _ in conns])
        placed += 20 * len(conns)

        # (c) floor first and (a) orders: closed loop, all connections busy.
        per_conn = max(1, args.http_orders // len(conns))
        # ping is ~10x faster: 4x as many requests keep its window long enough to measure.
        await measure("ping_closed", _closed_loop(conns, [[ping] * (4 * per_conn) for _ in conns]))
        reqs = [_order_requests(hostport, plan, symbols, keys[c], c, per_conn, "a", 0)
                for c in range(len(conns))]
        await measure("order_closed", _closed_loop(conns, reqs))
        placed += per_conn * len(conns)

        # (b) paced: orders, then ping, at the same rate.
        total = int(args.http_rate * args.http_paced_s)
        per = -(-total // len(conns))
        by_conn = [_order_requests(hostport, plan, symbols, keys[c], c, per, "b", 0)
                   for c in range(len(conns))]
        paced = [by_conn[i % len(conns)][i // len(conns)] for i in range(total)]
        await measure("order_paced", _paced(conns, paced, args.http_rate))
        placed += total
        await measure("ping_paced", _paced(conns, [ping] * total, args.http_rate))

        # Cross-check (untimed): every accepted order rests, nothing traded; then bulk-cancel.
        from _common import signed_query

        cancelled = 0
        for c in range(len(conns)):
            for sym in symbols:
                q = signed_query(keys[c]["api_secret"], [("symbol", sym), ("recvWindow", "60000"),
                                                         ("timestamp", str(int(time.time() * 1000)))])
                status, body = await conns[0].request(
                    build_request("DELETE", "/api/v3/openOrders", hostport, q, keys[c]["api_key"]))
                if status == 200:
                    cancelled += len(json.loads(body))
        figures["orders_placed_total"] = placed
        figures["orders_bulk_cancelled"] = cancelled
    finally:
        for conn in conns:
            await conn.close()
    return figures


def bench_http(args: argparse.Namespace) -> dict:
    """Signed order placement and ping over loopback HTTP; returns figures (see section doc)."""
    import shutil
    import tempfile

    from _common import GENEROUS_NOTE, exchange_symbols, seed_exchange, start_bench_exchange

    if args.quick:
        args.http_orders = min(args.http_orders, 4000)
        args.http_paced_s = min(args.http_paced_s, 5.0)
    data_dir = Path(tempfile.mkdtemp(prefix="btx-bench-http-"))
    try:
        symbols = exchange_symbols(data_dir)[: args.http_symbols]
        keys = seed_exchange(data_dir, symbols, levels=20, trades=2, bench_accounts=args.http_conns)
        server = start_bench_exchange(data_dir)
        try:
            runner_kw: dict[str, Any] = {}
            try:
                import uvloop

                runner_kw["loop_factory"] = uvloop.new_event_loop
                loop_name = "uvloop"
            except ImportError:  # pragma: no cover - Windows
                loop_name = "asyncio"
            with asyncio.Runner(**runner_kw) as runner:
                figures = runner.run(_http_run(server.base_url, server.proc.pid, keys, symbols, args))
        finally:
            server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    figures.update({
        "http_connections": args.http_conns, "http_symbols": len(symbols),
        "http_paced_rate_per_s": args.http_rate, "http_client": f"raw asyncio streams ({loop_name}), "
        "pre-signed requests, HTTP/1.1 keep-alive", "http_server_limits": "lifted (see docs)",
        "http_note": GENEROUS_NOTE,
    })
    figures["order_vs_ping_throughput_ratio"] = round(
        figures["order_closed_per_s"] / figures["ping_closed_per_s"], 3)
    for phase in ("closed", "paced"):
        for q in ("p50", "p99"):
            figures[f"order_vs_ping_{phase}_{q}_ratio"] = round(
                figures[f"order_{phase}_{q}_ms"] / figures[f"ping_{phase}_{q}_ms"], 2)
    figures["order_throughput_target_met"] = figures["order_closed_per_s"] >= 1000
    return figures


def print_http_table(r: dict) -> None:
    rows = []
    for name, key in (("orders, closed loop", "order_closed"), ("ping, closed loop", "ping_closed"),
                      (f"orders, paced {r['http_paced_rate_per_s']:g}/s", "order_paced"),
                      (f"ping, paced {r['http_paced_rate_per_s']:g}/s", "ping_paced")):
        rows.append((name, f"{r[f'{key}_requests']:,}", f"{r[f'{key}_per_s']:,}", f"{r[f'{key}_p50_ms']:.2f}",
                     f"{r[f'{key}_p99_ms']:.2f}", f"{r[f'{key}_non_200']}",
                     f"{r[f'{key}_client_cpu_pct']:.0f}%", f"{r[f'{key}_server_cpu_pct']:.0f}%"))
    header = ("phase", "requests", "req/s", "p50 ms", "p99 ms", "non-200", "client CPU", "server CPU")
    cells = [header, *rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]
    print(f"== paper exchange over loopback HTTP ({r['http_connections']} keep-alive connections, "
          f"signed LIMIT orders far from the market on {r['http_symbols']} symbols) ==")
    print(f"  client: {r['http_client']}")
    print(f"  {r['http_note']}")
    for n, row in enumerate(cells):
        print("  " + "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                               for i, c in enumerate(row)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
    target = "met" if r["order_throughput_target_met"] else "MISSED"
    print(f"  order/ping throughput {r['order_vs_ping_throughput_ratio']:.2f}; "
          f"latency order/ping closed p50 {r['order_vs_ping_closed_p50_ratio']:.1f}x "
          f"p99 {r['order_vs_ping_closed_p99_ratio']:.1f}x, paced p50 {r['order_vs_ping_paced_p50_ratio']:.1f}x "
          f"p99 {r['order_vs_ping_paced_p99_ratio']:.1f}x; target >= 1,000 orders/s: {target}")
    print(f"  cross-check: {r['orders_placed_total']:,} orders placed, {r['orders_bulk_cancelled']:,} "
          "still resting and bulk-cancelled afterwards")
    print()


# ------------------------------------------------------------------------- main
