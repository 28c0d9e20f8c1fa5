"""Benchmarks of the bundled paper exchange, each measured against a baseline in the same run.

Run from the repository root::

    .venv/bin/python bench/exchange.py --engine-only
    .venv/bin/python bench/exchange.py            # engine + HTTP (~1 min)
    .venv/bin/python bench/exchange.py --quick    # engine + shorter HTTP

Prints a readable table per section, then, as the LAST stdout line, one JSON object with
every figure (so scripts can ``tail -1 | jq``).  Each section is one function returning a
flat ``dict`` of figures; ``main()`` runs the selected sections.

Sections:

* engine: ``btx_tui.exchange.engine.OrderBook`` on a seeded, realistic op stream for one
  symbol (≈55 % limit adds near the touch, some marketable; ≈35 % cancels of random
  resting orders; ≈10 % market orders), compared with (a) the same stream applied to a
  bare ``dict`` insert/delete loop — the interpreter's floor for "do nothing useful per
  op" — and (b) a naive list-scanning matcher, i.e. what a straightforward implementation
  gives.  Both engines' traded volume is cross-checked on the naive prefix.
* http (skipped with ``--engine-only``): the real server (child process, rate limits
  lifted) over loopback with signed requests — LIMIT-order throughput with 8 keep-alive
  connections, placement latency p50/p99 at a paced 200 orders/s, and ``GET /api/v3/ping``
  measured the same ways in the same run as the floor; ``--quick`` shortens it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py (HTTP section)

from btx_tui.exchange.engine import (  # noqa: E402
    BUY, FOK, GTC, IOC, LIMIT, LIMIT_MAKER, MARKET, SELL, Order, OrderBook,
)

# Op codes of the pre-generated stream (tuples, so generation is outside the timing).
ADD, CANCEL, MKT = 0, 1, 2

# ----------------------------------------------------------------- engine section


def make_engine_ops(n: int, seed: int) -> tuple[list[tuple], list[tuple]]:
    """A seeded op stream for one symbol.

    Returns (initial, ops): ``initial`` are resting limit orders building ~50 levels a
    side around the mid; ``ops`` are (ADD, id, acct, side, price, qty, kind, tif),
    (CANCEL, id) and (MKT, id, acct, side, qty, budget) tuples.  Generation replays the
    stream on a scratch ``OrderBook`` (untimed) so that cancels pick orders that are
    really resting at that moment, like a trader cancelling its open orders; the
    recorded stream is then fixed and identical for every implementation measured.
    """
    rng = random.Random(seed)
    mid = 100_000
    next_id = 1
    initial: list[tuple] = []
    for depth in range(1, 51):
        for side, price in ((BUY, mid - depth), (SELL, mid + depth)):
            for _ in range(rng.randint(1, 3)):
                initial.append((ADD, next_id, rng.randint(1, 50), side, price,
                                rng.randint(1, 20), LIMIT, GTC))
                next_id += 1
    scratch = _fresh_book(initial)
    cancellable = [op[1] for op in initial]
    ops: list[tuple] = []
    for _ in range(n):
        if rng.random() < 0.04:
            mid += rng.choice((-1, 1))
        r = rng.random()
        acct = rng.randint(1, 50)
        side = BUY if rng.random() < 0.5 else SELL
        sign = 1 if side == BUY else -1
        if r < 0.55:
            if rng.random() < 0.10:  # marketable: through the mid by 1-4 ticks
                price = mid + sign * rng.randint(1, 4)
                tif = rng.choice((GTC, IOC, IOC, FOK))
                kind = LIMIT
            else:  # passive, concentrated near the touch
                price = mid - sign * (1 + min(int(rng.expovariate(0.1)), 49))
                kind, tif = (LIMIT_MAKER, None) if rng.random() < 0.1 else (LIMIT, GTC)
            op = (ADD, next_id, acct, side, price, rng.randint(1, 20), kind, tif)
            if scratch.submit(Order(next_id, acct, side, price, op[5]), kind, tif).rested:
                cancellable.append(next_id)
            next_id += 1
        elif r < 0.90:
            op = (CANCEL, -1)
            while cancellable:  # a random order that is still resting
                i = rng.randrange(len(cancellable))
                cancellable[i], cancellable[-1] = cancellable[-1], cancellable[i]
                oid = cancellable.pop()
                if scratch.cancel(oid) is not None:
                    op = (CANCEL, oid)
                    break
        else:
            if rng.random() < 0.2:  # by quote amount
                op = (MKT, next_id, acct, side, 0, rng.randint(1, 6) * mid)
            else:
                op = (MKT, next_id, acct, side, rng.randint(1, 6), None)
            scratch.submit(Order(next_id, acct, side, 0, op[4]), MARKET, None, op[5])
            next_id += 1
        ops.append(op)
    return initial, ops


def _fresh_book(initial: list[tuple]) -> OrderBook:
    book = OrderBook("BTCUSDT")
    for _, oid, acct, side, price, qty, kind, tif in initial:
        book.submit(Order(oid, acct, side, price, qty), kind, tif)
    return book


def run_engine(book: OrderBook, ops: list[tuple]) -> tuple[float, int, int, int]:
    """Apply ``ops``; returns (seconds, fills, lots traded, cancel hits)."""
    submit, cancel = book.submit, book.cancel
    fills = lots = hits = 0
    t0 = time.perf_counter()
    for op in ops:
        code = op[0]
        if code == ADD:
            res = submit(Order(op[1], op[2], op[3], op[4], op[5]), op[6], op[7])
            if res.fills:
                fills += len(res.fills)
                lots += sum([f.qty for f in res.fills])
        elif code == CANCEL:
            if cancel(op[1]) is not None:
                hits += 1
        else:
            res = submit(Order(op[1], op[2], op[3], 0, op[4]), MARKET, None, op[5])
            if res.fills:
                fills += len(res.fills)
                lots += sum([f.qty for f in res.fills])
    return time.perf_counter() - t0, fills, lots, hits


def run_dict_baseline(initial: list[tuple], ops: list[tuple]) -> float:
    """The same stream through a bare dict: the loop/dispatch/allocation floor."""
    d: dict[int, Any] = {op[1]: op for op in initial}
    t0 = time.perf_counter()
    for op in ops:
        code = op[0]
        if code == ADD:
            d[op[1]] = Order(op[1], op[2], op[3], op[4], op[5])
        elif code == CANCEL:
            d.pop(op[1], None)
        else:
            Order(op[1], op[2], op[3], 0, op[4])
    return time.perf_counter() - t0


class NaiveBook:
    """A straightforward matcher: one list of resting orders, scanned and sorted per taker."""

    def __init__(self, initial: list[tuple]) -> None:
        self.resting: list[list] = []  # [id, side, price, remaining, seq]
        self.seq = 0
        for _, oid, _acct, side, price, qty, _kind, _tif in initial:
            self.seq += 1
            self.resting.append([oid, side, price, qty, self.seq])

    def submit(self, oid: int, side: str, price: int | None, qty: int,
               kind: str, tif: str | None, budget: int | None) -> int:
        self.seq += 1
        opp = SELL if side == BUY else BUY
        makers = [o for o in self.resting if o[1] == opp and (
            price is None or (o[2] <= price if side == BUY else o[2] >= price))]
        makers.sort(key=lambda o: (o[2] if side == BUY else -o[2], o[4]))
        if kind == LIMIT_MAKER:
            if not makers:
                self.resting.append([oid, side, price, qty, self.seq])
            return 0
        if tif == FOK and sum(o[3] for o in makers) < qty:
            return 0
        want = qty if qty else 1 << 60
        spent = traded = 0
        for m in makers:
            if not want:
                break
            q = min(want, m[3])
            if budget is not None:
                q = min(q, (budget - spent) // m[2])
                if not q:
                    break
            m[3] -= q
            want -= q
            traded += q
            spent += q * m[2]
            if not m[3]:
                self.resting.remove(m)
        if want and tif == GTC:
            self.resting.append([oid, side, price, want, self.seq])
        return traded

    def cancel(self, oid: int) -> bool:
        for o in self.resting:
            if o[0] == oid:
                self.resting.remove(o)
                return True
        return False


def run_naive(initial: list[tuple], ops: list[tuple]) -> tuple[float, int]:
    book = NaiveBook(initial)
    lots = 0
    t0 = time.perf_counter()
    for op in ops:
        code = op[0]
        if code == ADD:
            lots += book.submit(op[1], op[3], op[4], op[5], op[6], op[7], None)
        elif code == CANCEL:
            book.cancel(op[1])
        else:
            lots += book.submit(op[1], op[3], None, op[4], MARKET, None, op[5])
    return time.perf_counter() - t0, lots


def bench_engine(ops: int = 200_000, seed: int = 7, repeat: int = 3, naive_ops: int = 20_000) -> dict:
    """Engine throughput (best of ``repeat`` runs) and its two baselines; returns figures."""
    initial, stream = make_engine_ops(ops, seed)
    kinds = {ADD: 0, CANCEL: 0, MKT: 0}
    for op in stream:
        kinds[op[0]] += 1

    gc.collect()
    gc_was = gc.isenabled()
    gc.disable()  # both sides measured without collector pauses; re-enabled below
    try:
        best = None
        for _ in range(repeat):
            book = _fresh_book(initial)
            secs, fills, lots, hits = run_engine(book, stream)
            if best is None or secs < best[0]:
                best = (secs, fills, lots, hits, len(book), book.depth(10_000))
        secs, fills, lots, hits, resting, (bids, asks) = best  # type: ignore[misc]
        dict_secs = min(run_dict_baseline(initial, stream) for _ in range(repeat))
        prefix = stream[:naive_ops]
        naive_secs, naive_lots = run_naive(initial, prefix)
        _, _, prefix_lots, _ = run_engine(_fresh_book(initial), prefix)
    finally:
        if gc_was:
            gc.enable()

    engine_rate = ops / secs
    naive_rate = len(prefix) / naive_secs
    return {
        "engine_ops": ops,
        "engine_mix_add_pct": round(100 * kinds[ADD] / ops, 1),
        "engine_mix_cancel_pct": round(100 * kinds[CANCEL] / ops, 1),
        "engine_mix_market_pct": round(100 * kinds[MKT] / ops, 1),
        "engine_ops_per_s": round(engine_rate),
        "engine_us_per_op": round(1e6 * secs / ops, 3),
        "engine_fills": fills,
        "engine_lots_traded": lots,
        "engine_cancel_hit_pct": round(100 * hits / max(kinds[CANCEL], 1), 1),
        "engine_final_resting_orders": resting,
        "engine_final_levels_bid": len(bids),
        "engine_final_levels_ask": len(asks),
        "baseline_dict_ops_per_s": round(ops / dict_secs),
        "engine_vs_dict_ratio": round(engine_rate / (ops / dict_secs), 3),
        "baseline_naive_ops": len(prefix),
        "baseline_naive_ops_per_s": round(naive_rate),
        "engine_vs_naive_speedup": round(engine_rate / naive_rate, 1),
        "naive_cross_check_ok": naive_lots == prefix_lots,
    }


def print_engine_table(r: dict) -> None:
    rows = [
        ("op stream", f"{r['engine_ops']:,} ops: {r['engine_mix_add_pct']}% limit adds, "
                      f"{r['engine_mix_cancel_pct']}% cancels, {r['engine_mix_market_pct']}% market"),
        ("engine", f"{r['engine_ops_per_s']:>12,} ops/s   ({r['engine_us_per_op']} µs/op)"),
        ("baseline: bare dict loop", f"{r['baseline_dict_ops_per_s']:>12,} ops/s   "
                                     f"(engine at {r['engine_vs_dict_ratio']:.0%} of the floor)"),
        ("baseline: naive matcher", f"{r['baseline_naive_ops_per_s']:>12,} ops/s   "
                                    f"(engine {r['engine_vs_naive_speedup']}x faster, "
                                    f"first {r['baseline_naive_ops']:,} ops)"),
        ("fills / lots traded", f"{r['engine_fills']:,} / {r['engine_lots_traded']:,}"),
        ("cancel hits", f"{r['engine_cancel_hit_pct']}% of cancels found their order"),
        ("final book", f"{r['engine_final_resting_orders']:,} orders, "
                       f"{r['engine_final_levels_bid']} bid / {r['engine_final_levels_ask']} ask levels"),
        ("naive cross-check", "same lots traded" if r["naive_cross_check_ok"] else "MISMATCH"),
    ]
    width = max(len(k) for k, _ in rows)
    print("== matching engine (one symbol, one core) ==")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print()


# --------------------------------------------------------------------- HTTP section
#
# The paper exchange over loopback HTTP with signed requests: (a) LIMIT-order placement
# throughput with several concurrent keep-alive connections, (b) placement latency at a
# paced rate (open loop: latency counts from the scheduled send time, so a slow answer
# cannot hide the queueing it causes), (c) the floor: ``GET /api/v3/ping`` measured the same
# ways in the same run.  The server is the real entry point in a child process with the
# rate limits lifted (see bench/_common.py); the client is a lean raw-asyncio client with
# requests pre-signed before each phase, and its own CPU use is reported so one can see it
# is not the bottleneck.


def _http_plan(symbols: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """Per symbol: far-from-market (side, price, qty) choices, cycled by the workers.

    BUYs at 40-50 % of the reference price, SELLs at 150-160 %, ten distinct levels a side,
    so nothing ever trades and the books grow realistic depth.
    """
    from decimal import Decimal as D

    from btx_tui.exchange.symbols import MARKETS

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine-only", action="store_true",
                        help="run only the matching-engine section (no server)")
    parser.add_argument("--ops", type=int, default=200_000, help="engine ops (default 200000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs; best is reported")
    parser.add_argument("--naive-ops", type=int, default=20_000,
                        help="ops replayed on the naive baseline (it is slow)")
    parser.add_argument("--quick", action="store_true", help="shorter HTTP section (~20 s in all)")
    parser.add_argument("--http-conns", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--http-orders", type=int, default=12_000, help="orders in the closed-loop phase")
    parser.add_argument("--http-rate", type=float, default=200.0, help="paced phase rate (req/s)")
    parser.add_argument("--http-paced-s", type=float, default=10.0, help="paced phase length (s)")
    parser.add_argument("--http-symbols", type=int, default=15,
                        help="symbols the orders rotate over (MAX_NUM_ORDERS is 200 per symbol and account)")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {}
    engine = bench_engine(args.ops, args.seed, args.repeat, min(args.naive_ops, args.ops))
    print_engine_table(engine)
    figures.update(engine)
    if not args.engine_only:
        http = bench_http(args)
        print_http_table(http)
        figures.update(http)
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
