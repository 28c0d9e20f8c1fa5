"""Restart durability: whatever the exchange acknowledged survives ``kill -9``, and the
reopened exchange is exactly the state of the acknowledged (plus possibly one more
committed) operations - books rebuilt with their time priority, so the next marketable
order gets the very same fills.

The traffic is deterministic (seeded RNG, fake clock, explicit client ids), so the parent
can replay it in-process and compare the full state with what the killed child left.
Run as ``python -m tests.exchange.test_core_durability DIR`` it is that child.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from btx_tui.exchange.state.exchange import Exchange
from btx_tui.exchange.errors import ApiError
from btx_tui.exchange.state.store import DB_NAME
from btx_tui.exchange.state.trading import OcoRequest, OrderRequest, OtoRequest

from .core_support import D, FakeClock, open_exchange, req, snapshot

ROOT = Path(__file__).resolve().parents[2]
SEED = 20241124
FUNDING = {"USDT": D("200000"), "BTC": D("5"), "ETH": D("50"), "BTT": D("500000000")}
TRON = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"
PLAN = [("BTCUSDT", D("95000"), D("5"), 6, 4000), ("ETHUSDT", D("3400"), D("0.5"), 20, 5000),
        ("BTTUSDT", D("0.0000006"), D("0.0000000001"), 9_000_000, 40_000_000)]


def setup(ex: Exchange) -> list[int]:
    return [ex.accounts.create_account(FUNDING) for _ in range(3)]


def step(ex: Exchange, clock: FakeClock, accts: list[int], rng: random.Random, i: int) -> None:
    """One deterministic operation (an ApiError is part of the script, not a failure)."""
    clock.advance(rng.randint(1, 50))
    a = rng.choice(accts)
    sym, center, tick_step, lo, hi = rng.choice(PLAN)
    side = rng.choice(["BUY", "SELL"])
    qty = str(ex.symbols[sym].lots_to_qty(rng.randint(lo, hi)))
    op = rng.random()
    try:
        if op < 0.5:
            price = str(center + tick_step * rng.randint(-8, 8))
            kind = rng.choice(["GTC", "GTC", "GTC", "IOC", "FOK", "MAKER"])
            if kind == "MAKER":
                ex.trading.place_order(a, req(sym, side, "LIMIT_MAKER", qty, price, cid=f"s{i}"))
            else:
                ex.trading.place_order(a, req(sym, side, "LIMIT", qty, price, tif=kind, cid=f"s{i}"))
        elif op < 0.57:  # a stop order: fixed, trailing, or both
            type_ = rng.choice(["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"])
            stop = center + tick_step * rng.randint(-8, 8)
            delta = rng.choice([None, None, 10, 30])
            limit = stop + tick_step * rng.randint(-3, 3) if type_.endswith("_LIMIT") else None
            ex.trading.place_order(a, OrderRequest(
                sym, side, type_, "GTC" if limit else None, D(qty), None, limit, f"s{i}", None,
                stop if (delta is None or rng.random() < 0.5) else None, delta))
        elif op < 0.62:  # an OCO around the last price
            last = ex.market_data.last_price(sym) or center
            gap = tick_step * rng.randint(1, 6)
            profit_at, loss_at = (last + gap, last - gap) if side == "SELL" else (last - gap, last + gap)
            profit = OrderRequest(sym, side, "LIMIT_MAKER", None, D(qty), None, profit_at, f"a{i}", None)
            loss = OrderRequest(sym, side, "STOP_LOSS_LIMIT", "GTC", D(qty), None, loss_at, f"b{i}", None,
                                loss_at, rng.choice([None, 10]))
            above, below = (profit, loss) if side == "SELL" else (loss, profit)
            ex.trading.place_oco(a, OcoRequest(sym, side, D(qty), f"l{i}", above, below, None))
        elif op < 0.66:  # an OTO: a limit entry, then a limit exit the other way
            entry = center + tick_step * rng.randint(-8, 8)
            exit_side = "SELL" if side == "BUY" else "BUY"
            exit_at = entry + tick_step * (rng.randint(1, 5) * (1 if exit_side == "SELL" else -1))
            work = OrderRequest(sym, side, "LIMIT", "GTC", D(qty), None, entry, f"w{i}", None)
            pend = OrderRequest(sym, exit_side, "LIMIT", "GTC", D(qty), None, exit_at, f"p{i}", None)
            ex.trading.place_oto(a, OtoRequest(sym, f"o{i}", work, (pend,), exit_side, None))
        elif op < 0.72:
            ex.trading.place_order(a, req(sym, side, "MARKET", qty, cid=f"s{i}"))
        elif op < 0.95:
            mine = sorted(o.order_id for o in ex.trading.open_by_id.values() if o.account_id == a)
            if mine:
                oid = mine[rng.randrange(len(mine))]
                ex.trading.cancel_order(a, ex.trading.open_by_id[oid].symbol, oid, None, f"x{i}")
        elif op < 0.98:
            ex.wallet.withdraw_apply(a, "USDT", "TRX", TRON, None, D(rng.randint(10, 500)), f"w{i}")
        else:
            clock.advance(3000)
            ex.wallet.process_withdrawals()
    except ApiError:
        pass


def probe(ex: Exchange, acct: int) -> list[dict]:
    """Two big marketable orders: their fills reveal the books' exact price-time order."""
    out = []
    for side in ("BUY", "SELL"):
        for sym in ("BTCUSDT", "BTTUSDT"):
            qty = "0.5" if sym == "BTCUSDT" else "60000000"
            r = ex.trading.place_order(acct, req(sym, side, "MARKET", qty, cid=f"probe-{side}-{sym}"))
            out.append({k: r[k] for k in ("orderId", "status", "executedQty", "cummulativeQuoteQty", "fills")})
    return out


def child(data_dir: str) -> None:
    clock = FakeClock()
    ex = open_exchange(Path(data_dir), clock)
    accts = setup(ex)
    rng = random.Random(SEED)
    print("ready", flush=True)
    for i in range(1_000_000):
        if sys.stdin.readline().strip() != "go":  # lockstep: the parent knows where we are
            return
        step(ex, clock, accts, rng, i)
        print(i, flush=True)  # acknowledged: committed before this line


def replay(path: Path, steps: int) -> tuple[Exchange, FakeClock, list[int], random.Random]:
    clock = FakeClock()
    ex = open_exchange(path, clock)
    accts = setup(ex)
    rng = random.Random(SEED)
    for i in range(steps):
        step(ex, clock, accts, rng, i)
    return ex, clock, accts, rng


def test_kill_9_mid_traffic_loses_nothing_acknowledged(tmp_path):
    data = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "tests.exchange.test_core_durability", str(data)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "ready"
        last = -1
        while last < 400:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            assert line, "child died"
            last = int(line)
        # Let it start one more operation and kill it while it is (most likely) in it.
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(random.random() * 0.003)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    reopened = Exchange.open(data, clock=FakeClock())
    reopened.check_invariants()
    got = snapshot(reopened)
    assert len(got["trades"]) > 20 and got["open"], "traffic too thin to prove anything"
    assert got["lists"] and any(t for t in got["triggers"].values()), "no stops or lists to prove"
    assert any(lst[4] == "OTO" for lst in got["lists"]), "no OTO to prove"
    assert any(r[5].startswith(("STOP", "TAKE")) and r[15] != -1 for r in got["orders"]), \
        "no stop order ever triggered"

    ex, clock, accts, rng = replay(tmp_path / "replay", last + 1)
    if snapshot(ex) != got:  # the child may have committed one more step before the kill
        step(ex, clock, accts, rng, last + 1)
    assert snapshot(ex) == got
    reopened._clock = ex._clock  # same time for the probes
    assert probe(reopened, accts[0]) == probe(ex, accts[0])
    reopened.check_invariants()
    ex.check_invariants()
    reopened.close()
    ex.close()


def test_crash_image_rebuilds_books_exactly(tmp_path):
    """Copy the database files of a live exchange (what a crash leaves: db + WAL, no
    checkpoint, no close) and open the copy: same state, same books, same next fills."""
    live, clock, accts, _ = replay(tmp_path / "live", 450)
    live.check_invariants()
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (DB_NAME, DB_NAME + "-wal"):
        if (tmp_path / "live" / name).exists():
            shutil.copy(tmp_path / "live" / name, copy / name)
    twin = Exchange.open(copy, clock=clock)
    twin.check_invariants()
    assert snapshot(twin) == snapshot(live)
    for sym in ("BTCUSDT", "ETHUSDT", "BTTUSDT"):
        assert twin.market_data.depth(sym, 5000) == live.market_data.depth(sym, 5000)
        for book in (twin.books[sym], live.books[sym]):
            assert len(list(book.orders())) > 0
        assert [(o.order_id, o.seq, o.filled) for o in twin.books[sym].orders()] == \
            [(o.order_id, o.seq, o.filled) for o in live.books[sym].orders()]
    assert probe(twin, accts[1]) == probe(live, accts[1])
    assert snapshot(twin) == snapshot(live)
    twin.close()
    live.close()


def test_clean_reopen_keeps_keys_ids_and_balances(tmp_path):
    clock = FakeClock()
    ex = open_exchange(tmp_path, clock)
    keys = ex.accounts.demo_keys()
    acct = ex.accounts.demo_account_id
    first = ex.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000", cid="keep"))
    before = snapshot(ex)
    ex.close()
    again = open_exchange(tmp_path, clock)
    assert again.accounts.demo_keys() == keys and again.accounts.demo_account_id == acct
    assert snapshot(again) == before
    assert again.orders.get_order(acct, "BTCUSDT", None, "keep")["orderId"] == first["orderId"]
    nxt = again.trading.place_order(acct, req("BTCUSDT", "BUY", "LIMIT", "0.01", "90000"))
    assert nxt["orderId"] > first["orderId"]
    again.check_invariants()
    again.close()


if __name__ == "__main__":
    child(sys.argv[1])
