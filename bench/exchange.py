"""Benchmarks of the bundled paper exchange, each measured against a baseline in the same run.

Run from the repository root::

    .venv/bin/python bench/exchange.py --engine-only
    .venv/bin/python bench/exchange.py            # engine + HTTP (~1 min)
    .venv/bin/python bench/exchange.py --quick    # engine + shorter HTTP + shorter fan-out
    .venv/bin/python bench/exchange.py --ws-only --quick   # WebSocket fan-out only (~15 s)

Prints a readable table per section, then, as the LAST stdout line, one JSON object with
every figure (so scripts can ``tail -1 | jq``).  Each section is one function returning a
flat ``dict`` of figures; ``main()`` runs the selected sections.

Sections:

* engine: ``btx_tui.exchange.state.matching.OrderBook`` on a seeded, realistic op stream for one
  symbol (≈55 % limit adds near the touch, some marketable; ≈35 % cancels of random
  resting orders; ≈10 % market orders), compared with (a) the same stream applied to a
  bare ``dict`` insert/delete loop — the interpreter's floor for "do nothing useful per
  op" — and (b) a naive list-scanning matcher, i.e. what a straightforward implementation
  gives.  Both engines' traded volume is cross-checked on the naive prefix.
* engine with triggers resting: the same stream, and after every submission that traded
  each distinct fill price goes through the symbol's
  ``btx_tui.exchange.state.triggers.TriggerBook`` as ``Trading`` does, with
  ``--resting-stops`` (default 10,000) untriggered stop orders resting: all of them on the
  benchmarked symbol's trigger book (the worst case of "10k across symbols": only this
  symbol trades), beyond the stream's price excursions so none fires (firing is a
  placement, measured by the engine itself), plus ``--trailing`` tracking trailing stops
  (looked at one by one on every trade price).
* http (skipped with ``--engine-only``): the real server (child process, rate limits
  lifted) over loopback with signed requests — LIMIT-order throughput with 8 keep-alive
  connections, placement latency p50/p99 at a paced 200 orders/s, and ``GET /api/v3/ping``
  measured the same ways in the same run as the floor; ``--quick`` shortens it.
* ws (skipped with ``--engine-only``; alone with ``--ws-only``): WebSocket fan-out - 100
  connections x 5 ``depth@100ms`` streams on the live synthetic market, delivery lag
  p50/p99 (``bench/exchange_ws.py``).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/exchange_http.py, bench/_common.py

from exchange_http import bench_http, print_http_table  # noqa: E402
from exchange_ws import bench_ws, print_ws_table  # noqa: E402

from btx_tui.exchange.state.matching import (  # noqa: E402
    BUY, FOK, GTC, IOC, LIMIT, LIMIT_MAKER, MARKET, SELL, Order, OrderBook,
)
from btx_tui.exchange.state.triggers import ABOVE, BELOW, Trigger, TriggerBook  # noqa: E402

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


def resting_triggers(stops: int, trailing: int, seed: int, mid: int = 100_000) -> TriggerBook:
    """``stops`` fixed stops 2-50 % away from ``mid`` (both directions) and ``trailing``
    tracking trailing stops with a 20 % delta: nothing the stream's few-tick moves can fire."""
    rng = random.Random(seed)
    tb = TriggerBook("BTCUSDT")
    for oid in range(1, stops + 1):
        away = rng.randint(mid // 50, mid // 2)
        if rng.random() < 0.5:
            tb.add(Trigger(10_000_000 + oid, sell=True, direction=BELOW, stop=mid - away))
        else:
            tb.add(Trigger(10_000_000 + oid, sell=False, direction=ABOVE, stop=mid + away))
    for oid in range(1, trailing + 1):
        sell = oid % 2 == 0
        tb.add(Trigger(20_000_000 + oid, sell=sell, direction=BELOW if sell else ABOVE,
                       delta=2000, extreme=mid))
    return tb


def run_engine_with_triggers(book: OrderBook, tb: TriggerBook, ops: list[tuple]) -> tuple[float, int, int]:
    """Apply ``ops`` and pass every distinct fill price of each submission to the trigger
    book (what ``Trading._after_match`` does); returns (seconds, fills, triggers fired)."""
    submit, cancel, on_price = book.submit, book.cancel, tb.on_price
    fills = fired = 0
    t0 = time.perf_counter()
    for op in ops:
        code = op[0]
        if code == ADD:
            res = submit(Order(op[1], op[2], op[3], op[4], op[5]), op[6], op[7])
        elif code == CANCEL:
            cancel(op[1])
            continue
        else:
            res = submit(Order(op[1], op[2], op[3], 0, op[4]), MARKET, None, op[5])
        got = res.fills
        if got:
            fills += len(got)
            last = None
            for f in got:
                if f.price != last:
                    last = f.price
                    fired += len(on_price(last))
            tb.moved.clear()
    return time.perf_counter() - t0, fills, fired


def bench_engine_triggers(ops: int = 200_000, seed: int = 7, repeat: int = 3,
                          stops: int = 10_000, trailing: int = 0) -> dict:
    """Engine throughput with stop orders resting (best of ``repeat``) vs the same loop with
    none resting, on the same stream in the same run."""
    initial, stream = make_engine_ops(ops, seed)
    gc.collect()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        best = bare = None
        for _ in range(repeat):
            secs, fills, fired = run_engine_with_triggers(
                _fresh_book(initial), resting_triggers(stops, trailing, seed), stream)
            if best is None or secs < best[0]:
                best = (secs, fills, fired)
            # the same loop with an empty trigger book: what the resting stops cost
            bare_secs = run_engine_with_triggers(_fresh_book(initial), TriggerBook("BTCUSDT"), stream)[0]
            bare = bare_secs if bare is None else min(bare, bare_secs)
    finally:
        if gc_was:
            gc.enable()
    secs, fills, fired = best  # type: ignore[misc]
    return {
        "triggers_resting_stops": stops,
        "triggers_trailing": trailing,
        "triggers_engine_ops_per_s": round(ops / secs),
        "triggers_none_resting_ops_per_s": round(ops / bare),  # type: ignore[operator]
        "triggers_vs_bare_ratio": round(bare / secs, 3),  # type: ignore[operator]
        "triggers_fills_checked": fills,
        "triggers_fired": fired,
    }


def print_triggers_table(r: dict) -> None:
    print(f"== matching engine with {r['triggers_resting_stops']:,} untriggered stops "
          f"(+{r['triggers_trailing']} trailing) resting ==")
    print(f"  engine + trigger checks  {r['triggers_engine_ops_per_s']:>12,} ops/s")
    print(f"  no stops resting         {r['triggers_none_resting_ops_per_s']:>12,} ops/s   "
          f"(with triggers at {r['triggers_vs_bare_ratio']:.0%})")
    print(f"  fills checked / fired    {r['triggers_fills_checked']:,} / {r['triggers_fired']}")
    print()


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine-only", action="store_true",
                        help="run only the matching-engine section (no server)")
    parser.add_argument("--ops", type=int, default=200_000, help="engine ops (default 200000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs; best is reported")
    parser.add_argument("--naive-ops", type=int, default=20_000,
                        help="ops replayed on the naive baseline (it is slow)")
    parser.add_argument("--quick", action="store_true",
                        help="shorter HTTP section and a 100k-op trigger case (~20 s in all)")
    parser.add_argument("--resting-stops", type=int, default=10_000,
                        help="untriggered stops resting in the trigger case (default 10000)")
    parser.add_argument("--trailing", type=int, default=0,
                        help="tracking trailing stops in the trigger case (default 0)")
    parser.add_argument("--http-conns", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--http-orders", type=int, default=12_000, help="orders in the closed-loop phase")
    parser.add_argument("--http-rate", type=float, default=200.0, help="paced phase rate (req/s)")
    parser.add_argument("--http-paced-s", type=float, default=10.0, help="paced phase length (s)")
    parser.add_argument("--http-symbols", type=int, default=15,
                        help="symbols the orders rotate over (MAX_NUM_ORDERS is 200 per symbol and account)")
    parser.add_argument("--ws-only", action="store_true", help="run only the WebSocket fan-out section")
    parser.add_argument("--ws-conns", type=int, default=100, help="fan-out connections (default 100)")
    parser.add_argument("--ws-seconds", type=float, default=20.0, help="fan-out measuring time (--quick: 6)")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {}
    if not args.ws_only:
        engine = bench_engine(args.ops, args.seed, args.repeat, min(args.naive_ops, args.ops))
        print_engine_table(engine)
        figures.update(engine)
        triggers = bench_engine_triggers(min(args.ops, 100_000) if args.quick else args.ops, args.seed,
                                         2 if args.quick else args.repeat, args.resting_stops, args.trailing)
        print_triggers_table(triggers)
        figures.update(triggers)
    if not args.engine_only and not args.ws_only:
        http = bench_http(args)
        print_http_table(http)
        figures.update(http)
    if not args.engine_only:
        ws = bench_ws(args)
        print_ws_table(ws)
        figures.update(ws)
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
