"""How fast the paper exchange's database grows while the synthetic market runs.

Runs the real synthetic market (``SyntheticMarket.step``, the same parts, the same SQLite
file) in-process on a simulated clock that advances 250 ms per step, as fast as the
machine steps, so an hour of market time takes a few minutes.  It starts from a fresh data
dir with the seeded history backfill (``state/backfill.py``), as ``btx-tui exchange`` does,
and reports, for the pruned market (the default) and for the unpruned one (``--no-prune``,
the old behaviour), the file size (database + write-ahead log) and row counts at each
report point and the growth projected to MB per hour of market time.

    .venv/bin/python bench/exchange_growth.py --quick     # 3 market-minutes each, < 60 s
    .venv/bin/python bench/exchange_growth.py             # 60 market-minutes, pruned only

The last stdout line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from btx_tui.exchange import synthetic_market as sm  # noqa: E402
from btx_tui.exchange.state.backfill import backfill_history  # noqa: E402
from btx_tui.exchange.state.exchange import Exchange  # noqa: E402

STEP_MS = int(sm.STEP_S * 1000)
START_MS = 1_796_000_000_000


def size_mb(data_dir: Path) -> float:
    return sum(p.stat().st_size for p in data_dir.glob("exchange.sqlite3*")) / 1e6


def rows(ex: Exchange) -> dict[str, int]:
    return {t: ex.store.scalar(f"SELECT COUNT(*) FROM {t}") for t in ("orders", "trades", "kline_1m")}


def first_request_s(market: bool) -> float:
    """Seconds from starting ``btx-tui exchange`` on a fresh data dir to its first answered
    ``ticker/24hr`` (with the market: after the recent history is written)."""
    data_dir = tempfile.mkdtemp(prefix="btx-first-")
    cmd = [sys.executable, "-m", "btx_tui", "exchange", "--port", "0", "--data-dir", data_dir]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd + ([] if market else ["--no-market"]), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        with urllib.request.urlopen(url + "/api/v3/ticker/24hr?symbol=BTCUSDT", timeout=30) as r:
            body = json.load(r)
        took = time.perf_counter() - t0
        assert (body["count"] > 0) == market, body
        return took
    finally:
        proc.terminate()
        proc.wait(10)


def run(minutes: float, prune: bool, report_every: float) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="btx-growth-"))
    clock = [START_MS]
    ex = Exchange.open(data_dir, clock=lambda: clock[0])
    t0 = time.perf_counter()
    backfill_history(ex.store, ex.counters, ex.symbols, ex.now_ms(), 42)
    ex.market_data.load()
    ex.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    backfill_s = time.perf_counter() - t0
    base = size_mb(data_dir)
    market = sm.SyntheticMarket(ex, 42)
    if not prune:
        market.prune = lambda: None  # type: ignore[method-assign,assignment,return-value]
    market.setup()
    steps = int(minutes * 60_000 / STEP_MS)
    points = []
    t0 = time.perf_counter()
    every = max(1, int(report_every * 60_000 / STEP_MS))
    for i in range(1, steps + 1):
        clock[0] += STEP_MS
        market.step()
        if i % every == 0 or i == steps:
            mins = i * STEP_MS / 60_000
            points.append({"market_min": round(mins, 1), "mb": round(size_mb(data_dir), 2), **rows(ex)})
            print(f"  {'pruned' if prune else 'unpruned'} {mins:6.1f} min: {points[-1]}", flush=True)
    wall = time.perf_counter() - t0
    ex.check_invariants()
    ex.close()
    final = size_mb(data_dir)
    mins = steps * STEP_MS / 60_000
    # Growth over the second half (pruning reaches its steady state within minutes).
    first = points[len(points) // 2]
    slope = (points[-1]["mb"] - first["mb"]) / max(points[-1]["market_min"] - first["market_min"], 1e-9) * 60
    return {"prune": prune, "market_minutes": mins, "wall_s": round(wall, 1),
            "backfill_s": round(backfill_s, 2), "after_backfill_mb": round(base, 2),
            "final_mb": round(final, 2), "peak_mb": max(p["mb"] for p in points), "grew_mb": round(final - base, 2),
            "mb_per_hour_projected": round((final - base) / mins * 60, 1),
            "mb_per_hour_second_half": round(slope, 1), "points": points}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 market-minutes per mode (< 60 s)")
    ap.add_argument("--minutes", type=float, default=None, help="market minutes per mode")
    ap.add_argument("--no-prune", action="store_true", help="also run without pruning (the old growth)")
    args = ap.parse_args(argv)
    minutes = args.minutes or (3.0 if args.quick else 60.0)
    modes = [True, False] if (args.no_prune or args.quick) else [True]
    out: dict = {"first_request_s": {}}
    for market in (False, True):
        times = sorted(first_request_s(market) for _ in range(3))
        out["first_request_s"]["with_history" if market else "no_market"] = round(times[1], 2)
        print(f"first served request on a fresh data dir ({'synthetic market + history' if market else '--no-market'}):"
              f" median of 3 {times[1]:.2f} s (min {times[0]:.2f}, max {times[2]:.2f})", flush=True)
    for prune in modes:
        r = run(minutes, prune, report_every=1.0 if minutes <= 10 else 10.0)
        out["pruned" if prune else "unpruned"] = r
        print(f"{'pruned' if prune else 'unpruned'}: {r['market_minutes']:.0f} market-min in {r['wall_s']} s;"
              f" {r['after_backfill_mb']} MB after backfill ({r['backfill_s']} s) -> {r['final_mb']} MB"
              f" (peak {r['peak_mb']} MB with the WAL);"
              f" +{r['grew_mb']} MB = {r['mb_per_hour_projected']} MB/hour projected"
              f" ({r['mb_per_hour_second_half']} MB/hour over the second half)", flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
