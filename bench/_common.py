"""Shared helpers of the HTTP benchmarks: a seeded paper exchange, timing, tables.

Why a launcher of our own instead of ``btx_tui.exchange.process.launcher.start_paper_exchange``: the contract's
rate limits (6,000 weight/min per IP, 50 orders/10 s per account) would throttle any
benchmark within seconds, and the server takes other limits only in-process
(``create_app(limits=...)``).  So the benchmark starts the *same* server entry point
(``btx_tui.exchange.process.server.run``: uvicorn + httptools + uvloop, same app, same Exchange) in
a child process, with ``create_app`` wrapped to pass generous limits.  The server keeps its
own process (and core); nothing else about it changes.  Run this file as::

    python bench/_common.py serve --data-dir DIR [--port 0] [--generous]

Before the server starts, :func:`seed_exchange` fills the data directory in-process
through the ``Exchange``'s parts (untimed): 100-level books and a few trades on the
benchmarked symbols, so depth/ticker answers have realistic sizes, plus funded
benchmark accounts with TRADE keys.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from btx_tui.exchange.process.launcher import LISTENING_PREFIX, PaperExchange, PaperExchangeError, _read_first_line  # noqa: E402

#: Limits high enough never to trigger during a benchmark (weight, orders per 10 s / day).
GENEROUS_LIMITS = {"weight_per_minute": 10**9, "orders_per_10s": 10**9, "orders_per_day": 10**9}

GENEROUS_NOTE = ("server: `btx_tui.exchange.process.server.run` in a child process with "
                 "create_app(limits=Limits(weight/min, orders/10s, orders/day = 1e9)) "
                 "— rate limits lifted for the benchmark only")


# ------------------------------------------------------------------ seeding


def _round(value: Decimal, step: Decimal, rounding: str = ROUND_UP) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


def min_order(spec: Any, price: Decimal, notional_factor: int = 2) -> Decimal:
    """A quantity at ``price`` worth about ``notional_factor`` × minNotional, on the step."""
    qty = _round(spec.min_notional * notional_factor / price, spec.step_size)
    return max(qty, spec.min_qty)


def seed_exchange(data_dir: Path, symbols: Sequence[str], *, levels: int = 100,
                  trades: int = 5, bench_accounts: int = 0) -> list[dict]:
    """Fill ``data_dir`` (exchange NOT running) with books, trades and benchmark accounts.

    A market-maker account rests ``levels`` bids and asks 0.1 % apart around each symbol's
    reference price (so ``depth?limit=100`` returns 100 levels a side) after ``trades``
    trades at the reference price against a taker account (so tickers are not zero).
    Returns ``bench_accounts`` keys ``[{"api_key","api_secret","account_id"}]``, each on
    its own account funded with 10^12 of every asset (so funds never limit a benchmark).
    """
    from btx_tui.exchange.state.exchange import Exchange
    from btx_tui.exchange.state.trading import OrderRequest
    from btx_tui.exchange.state.symbols import ASSETS

    data_dir.mkdir(parents=True, exist_ok=True)
    ex = Exchange.open(data_dir)
    try:
        rich = {asset: Decimal(10) ** 12 for asset in ASSETS}
        out: list[dict] = []
        with ex.batch():
            maker = ex.accounts.create_account(rich, "bench-maker")
            taker = ex.accounts.create_account(rich, "bench-taker")
            for sym in symbols:
                spec = ex.symbols[sym]
                ref = _round(spec.ref_price, spec.tick_size)
                for i in range(trades):
                    qty = min_order(spec, ref) * (i + 1)
                    ex.trading.place_order(maker, OrderRequest(sym, "SELL", "LIMIT", "GTC", qty, None, ref,
                                                       f"seed-m{i}", "ACK"))
                    ex.trading.place_order(taker, OrderRequest(sym, "BUY", "LIMIT", "GTC", qty, None, ref,
                                                       f"seed-t{i}", "ACK"))
                for k in range(1, levels + 1):
                    for side, sign in (("BUY", -1), ("SELL", 1)):
                        price = _round(ref * (1 + sign * Decimal(k) / 1000), spec.tick_size)
                        qty = min_order(spec, price, 2 + k % 7)
                        ex.trading.place_order(maker, OrderRequest(sym, side, "LIMIT", "GTC", qty, None, price,
                                                           None, "ACK"))
            for n in range(bench_accounts):
                acct = ex.accounts.create_account(rich, f"bench-{n}")
                key = ex.accounts.create_api_key(acct, frozenset({"READ", "TRADE"}), f"bench-{n}")
                out.append({"api_key": key.api_key, "api_secret": key.secret, "account_id": acct})
        return out
    finally:
        ex.close()


def exchange_symbols(data_dir: Path) -> list[str]:
    """The exchange's symbols in exchangeInfo order (read in-process, before the server runs)."""
    from btx_tui.exchange.state.exchange import Exchange

    ex = Exchange.open(data_dir)
    try:
        return [s["symbol"] for s in ex.market_data.exchange_info(None)["symbols"]]
    finally:
        ex.close()


# ------------------------------------------------------------------ server


def start_bench_exchange(data_dir: Path, *, generous: bool = True, timeout: float = 30.0) -> PaperExchange:
    """Start the paper exchange (``--no-market``) as a child process; see the module doc."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "serve", "--data-dir", str(data_dir)]
    if generous:
        cmd.append("--generous")
    err = open(data_dir / "exchange.stderr.log", "ab")  # noqa: SIM115 - child keeps it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    err.close()
    line = _read_first_line(proc, timeout)
    if not line.startswith(LISTENING_PREFIX):
        proc.kill()
        proc.wait(5)
        detail = (data_dir / "exchange.stderr.log").read_text(errors="replace")[-2000:]
        raise PaperExchangeError(f"bench exchange failed to start: {line!r}\n{detail}")
    base_url = line[len(LISTENING_PREFIX):].strip()
    keys = {k["name"]: k for k in json.loads((data_dir / "demo-keys.json").read_text())["keys"]}
    return PaperExchange(proc, base_url, data_dir, keys)


def _serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/_common.py serve")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--generous", action="store_true", help="lift the rate limits")
    args = parser.parse_args(argv)
    from btx_tui.exchange.process import server
    from btx_tui.exchange.http.ratelimit import Limits

    if args.generous:
        original = server.create_app
        limits = Limits(**GENEROUS_LIMITS)

        def create_app(exchange: Any, **kw: Any) -> Any:
            kw["limits"] = limits
            return original(exchange, **kw)

        server.create_app = create_app  # type: ignore[assignment]
    return server.run(args.host, args.port, args.data_dir, seed=1, market=False)


# ------------------------------------------------------------------ figures


def pct(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) by nearest rank; values need not be sorted."""
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned table (first column left, the rest right-aligned)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"== {title} ==")
    for n, row in enumerate(cells):
        print("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(row)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
    print()


@dataclass
class Stopwatch:
    """CPU (process) and wall seconds of a block."""

    cpu: float = 0.0
    wall: float = 0.0

    def __enter__(self) -> "Stopwatch":
        self._c, self._w = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self._c
        self.wall = time.perf_counter() - self._w


# ------------------------------------------------------------------ lean HTTP client


class RawConnection:
    """One HTTP/1.1 keep-alive connection on asyncio streams, for pre-built requests.

    Why not httpx: a benchmark client must cost far less than the server it measures;
    httpx spends ~0.7 ms CPU per request (see bench/client.py's floor row), about as much
    as the server's whole order path, so the client would be the bottleneck.  This sends
    pre-encoded (pre-signed) request bytes and reads ``content-length`` framed answers —
    all the paper exchange ever sends — in a few µs.
    """

    def __init__(self, reader: Any, writer: Any) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> "RawConnection":
        import asyncio

        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, data: bytes) -> tuple[int, bytes]:
        """Send one request; return (status, body)."""
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at < 0:
            raise RuntimeError(f"response without content-length: {head[:200]!r}")
        end = lower.find(b"\r\n", at + 2)
        body = await self.reader.readexactly(int(lower[at + 17:end]))
        return status, body

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


def build_request(method: str, path: str, host: str, query: str = "", api_key: str | None = None) -> bytes:
    """The bytes of one HTTP/1.1 request with an empty body (parameters in the query)."""
    target = f"{path}?{query}" if query else path
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    if api_key:
        lines.append(f"X-MBX-APIKEY: {api_key}")
    if method != "GET":
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def signed_query(secret: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``k=v&...&signature=<hmac>`` (values must already be URL-safe)."""
    import hashlib
    import hmac

    query = "&".join(f"{k}={v}" for k, v in pairs)
    sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={sig}"


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of another process (Linux ``/proc/PID/stat``); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        raise SystemExit(_serve_main(sys.argv[2:]))
    print("usage: python bench/_common.py serve --data-dir DIR [--port 0] [--generous]", file=sys.stderr)
    raise SystemExit(2)
