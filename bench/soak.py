"""Rate-limit soak: the real dashboard polling at twice its default rate, for many weight windows.

Why: the exchange bans (HTTP 418) an IP that keeps sending after a 429, and a trader's
dashboard runs all day. The promise is that btx-tui never earns a 429 on its own account and,
when one arrives anyway (another program on the same IP, a proxy), sends nothing until
``Retry-After`` has passed.

The run: a paper exchange with fault injection (random 429s with ``Retry-After`` on every
endpoint, seeded) and the real app, headless, with every polling interval halved. Time can be
compressed: ``--window 6`` makes the exchange count weight in 6-second windows with the limit
scaled to match (600 per 6 s is 6,000 per minute), declared in ``exchangeInfo`` and named in
the ``X-MBX-USED-WEIGHT-6S`` header, and the client adopts it — so one real minute lives
through ten weight windows, a ten-minute soak. ``--window 60 --seconds 600`` is the real
thing.

Measured on both sides of the wire:

* exchange (its admin endpoint): 429s for going over the limit (must be 0), strikes —
  requests arriving inside a Retry-After window, i.e. already in flight when the 429 was
  sent — and 418 bans (must be 0);
* client (a recorder around the session's send, which calls the real one): every request's
  start, and every 429/418 with its Retry-After. A request *started* after a 429 arrived and
  before its Retry-After ended is a violation (must be 0).

Run: ``.venv/bin/python bench/soak.py`` (10-minute equivalent in 60 s) or
``.venv/bin/python bench/soak.py --window 60 --seconds 600``. The last stdout line is JSON.
``tests/tui/test_soak.py`` runs the compressed version in CI through :func:`run_soak`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from btx_tui.config import Settings  # noqa: E402
from btx_tui.exchange.process.launcher import start_paper_exchange  # noqa: E402
from btx_tui.api.client import BtxClient  # noqa: E402
from btx_tui.tui.app import BtxApp  # noqa: E402
from btx_tui.tui.app import default_client  # noqa: E402
from btx_tui.tui.connection_health import Connection  # noqa: E402

ADMIN_TOKEN = "soak-admin-token"
INTERVALS = ("tickers", "book", "trades", "klines", "account", "orders", "history", "prices")


@dataclass
class Sent:
    """One request as the client saw it (monotonic seconds)."""

    path: str
    started: float
    ended: float | None = None
    status: int | None = None
    retry_after_s: float | None = None


@dataclass
class SoakFigures:
    seconds: float
    window_s: int
    weight_limit: int
    windows: float = 0.0
    requests: int = 0
    requests_per_s: float = 0.0
    peak_window_weight: int = 0
    """Highest used-weight the exchange reported in any window."""
    faults_429: int = 0
    client_saw_429: int = 0
    client_saw_418: int = 0
    server_over_limit: int = 0
    server_strikes: int = 0
    server_bans: int = 0
    violations: int = 0
    """Requests started after a 429 arrived and before its Retry-After ended."""
    violation_samples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.seconds:.0f} s = {self.windows:.0f} windows of {self.window_s} s "
                f"(limit {self.weight_limit}): {self.requests} requests ({self.requests_per_s:.1f}/s), "
                f"peak window weight {self.peak_window_weight}/{self.weight_limit}; "
                f"429 injected {self.faults_429}, seen by the client {self.client_saw_429}; "
                f"server: over-limit 429s {self.server_over_limit}, strikes {self.server_strikes}, "
                f"bans {self.server_bans}; client 418s {self.client_saw_418}; "
                f"requests started inside Retry-After {self.violations}")


def doubled_polling() -> dict[str, float]:
    """Every polling interval at half its default (twice the default request rate)."""
    ui = Settings().ui
    return {f"{name}_interval_s": getattr(ui, f"{name}_interval_s") / 2 for name in INTERVALS}


class Recorder:
    """Logs every request the client sends and the answer's status, Retry-After and used weight.

    It wraps the session's one send (the real send still runs), so it sees exactly what the
    budget let through and when.
    """

    def __init__(self) -> None:
        self.log: list[Sent] = []
        self.peak_used = 0

    def wrap(self, client: BtxClient) -> BtxClient:
        rest = client._rest
        original, budget = rest._send, rest.budget

        async def send(method: str, path: str, query: str, signed: bool) -> Any:
            entry = Sent(path, time.monotonic())
            self.log.append(entry)
            try:
                response = await original(method, path, query, signed)
            finally:
                entry.ended = time.monotonic()
            entry.status = response.status_code
            if response.status_code in (418, 429):
                try:
                    entry.retry_after_s = float(response.headers.get("retry-after", "0"))
                except ValueError:
                    entry.retry_after_s = 0.0
            used = response.headers.get(budget.header)
            if used is not None and used.isdigit():
                self.peak_used = max(self.peak_used, int(used))
            return response

        rest._send = send  # an instance attribute: the session calls it like the method
        return client


def violations(log: list[Sent]) -> list[str]:
    """Requests started while a 429/418 the client had already received said to wait."""
    found = []
    for refusal in log:
        if refusal.retry_after_s is None or refusal.ended is None:
            continue
        until = refusal.ended + refusal.retry_after_s
        for other in log:
            if refusal.ended <= other.started < until:
                found.append(f"{other.path} started {other.started - refusal.ended:.3f} s after a "
                             f"{refusal.status} with Retry-After {refusal.retry_after_s:g} s")
    return found


async def run_soak(data_dir: Path, *, seconds: float = 60.0, window_s: int = 6, fault_p: float = 0.01,
                   retry_after_s: int = 2, seed: int = 7) -> SoakFigures:
    """Run the soak once (see the module docstring) and return its figures."""
    limit = 6000 * window_s // 60
    exchange = start_paper_exchange(data_dir, market=False, extra_args=[
        "--weight-window", str(window_s), "--weight-limit", str(limit), "--admin-token", ADMIN_TOKEN,
        "--fault", f"429:*:{fault_p}:{retry_after_s}", "--fault-seed", str(seed)])
    figures = SoakFigures(seconds, window_s, limit)
    recorder = Recorder()
    log = recorder.log
    try:
        api_key, secret = exchange.key("full")
        settings = Settings.model_validate({"ui": doubled_polling()})
        app = BtxApp(settings, Connection(exchange.base_url, api_key, SecretStr(secret), paper=True),
                     client_factory=lambda conn, cfg: recorder.wrap(default_client(conn, cfg)),
                     journal_path=data_dir / "journal.sqlite")
        async with app.run_test(size=(160, 48)):
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                await asyncio.sleep(0.25)
            figures.windows = (time.monotonic() - started) / window_s
            figures.peak_window_weight = recorder.peak_used
        with httpx.Client(base_url=exchange.base_url, headers={"X-BTX-ADMIN-TOKEN": ADMIN_TOKEN}) as admin:
            state = admin.get("/admin/faults").json()
    finally:
        exchange.stop()
    figures.requests = len(log)
    figures.requests_per_s = len(log) / seconds
    figures.faults_429 = state["injected"].get("429", 0)
    figures.client_saw_429 = sum(1 for s in log if s.status == 429)
    figures.client_saw_418 = sum(1 for s in log if s.status == 418)
    limits = state["rate_limit"]
    figures.server_over_limit = limits["over_limit"]
    figures.server_strikes = limits["strikes"]
    figures.server_bans = limits["bans"]
    found = violations(log)
    figures.violations = len(found)
    figures.violation_samples = found[:5]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="real seconds to run (default 60)")
    parser.add_argument("--window", type=int, default=6,
                        help="weight window in seconds; 60 is the contract's (default 6: time ×10)")
    parser.add_argument("--fault-p", type=float, default=0.01, help="probability of an injected 429")
    parser.add_argument("--retry-after", type=int, default=2, help="Retry-After of injected 429s, seconds")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="btx-soak-") as tmp:
        figs = asyncio.run(run_soak(Path(tmp) / "paper", seconds=args.seconds, window_s=args.window,
                                    fault_p=args.fault_p, retry_after_s=args.retry_after, seed=args.seed))
    print(f"soak: {figs.summary()}")
    # One weight window stands for one contract minute.
    print(f"  = {figs.windows:.0f} contract minutes at twice the default polling rate")
    for sample in figs.violation_samples:
        print(f"  violation: {sample}")
    print(json.dumps(asdict(figs)))
    ok = not (figs.server_over_limit or figs.server_bans or figs.client_saw_418 or figs.violations)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
