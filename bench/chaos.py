"""Chaos run: thousands of seeded order operations against a paper exchange that fails on purpose.

Why: "never lose an order" is a claim about the whole service layer — ``BtxClient`` retries,
``place_order``'s three outcomes, the ``SqliteJournal`` and ``reconcile`` — under the failures
a real exchange produces.  This drives them together: a seeded mix of limit/market placements,
untriggered stop-limit orders, OCO lists, amends (keepPriority), cancels (a list leg's cancel
cancels its list), cancel-alls and queries on the demo "full" account of a real paper exchange
(``--no-market``) whose fault injector hits ~5 % of requests with every answer-losing kind
(executed-then-dropped, 5xx with and without executing, -1006/-1007, HTML, truncated JSON,
429, hidden fresh orders, delays past the client's timeout).  Every ``restart_every``
operations the client and the journal object are closed and reopened on the same journal
*file* (the in-memory state is gone, the journal survives) and reconciled.  At the end the
faults are cleared, one last reconciliation runs, and the journal is compared with the
exchange's full order and trade history.

Run the long version::

    .venv/bin/python bench/chaos.py --ops 2000 --seed 7

and the CI test's settings (no order pacing, a shorter wait before "absent")::

    .venv/bin/python bench/chaos.py --ops 400 --restart-every 150 --order-limit 1000 \
        --recv-window 3000 --resolve-max-delay 0.5

It prints a table, then one JSON line of the figures (last line).  ``tests/test_chaos.py``
imports :func:`run_chaos` for the short CI version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from btx_tui.api.client import BtxClient  # noqa: E402
from btx_tui.api.errors import BtxError  # noqa: E402
from btx_tui.api.journal import JournalState, SqliteJournal, journal_file, state_of  # noqa: E402
from btx_tui.api.models_trading import Order  # noqa: E402
from btx_tui.api.order_changes import AmendRequest  # noqa: E402
from btx_tui.api.order_lists import ListLeg, OcoRequest  # noqa: E402
from btx_tui.api.orders import OrderRequest, Outcome, ResolvePolicy, is_btx_client_order_id  # noqa: E402
from btx_tui.api.reconcile import ReconcilePolicy, reconcile  # noqa: E402
from btx_tui.api.rest import RetryPolicy  # noqa: E402
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange  # noqa: E402

ADMIN_TOKEN = "chaos-admin-token"
ORDER_PATH = "GET /api/v3/order"

#: Every fault kind that changes what the client sees, all on every endpoint ("*"), each with
#: the same share of the total rate.  ``delay`` sleeps past the client's timeout (the request
#: still executes); ``order_not_found_for`` hides a fresh order from ``GET /api/v3/order``.
FAULT_KINDS: tuple[tuple[str, str, str | None], ...] = (
    ("500", "*", None), ("502", "*", None), ("504", "*", None),
    ("execute_then_500", "*", None), ("execute_then_502", "*", None), ("execute_then_504", "*", None),
    ("execute_then_503", "*", None), ("html_503", "*", None), ("-1006", "*", None), ("-1007", "*", None),
    ("html", "*", None), ("truncated", "*", None), ("execute_then_drop", "*", None), ("429", "*", "1"),
    ("delay", "*", "1.5"), ("order_not_found_for", ORDER_PATH, "1"),
)

#: Reference prices of the traded markets: buys rest 20-50 % below, sells 20-50 % above, so
#: resting orders never meet — except the deliberate crossing limits and the market orders,
#: which trade against our own resting orders (self-trades: real fills, balances barely move).
REFS = {"BTCUSDT": Decimal("95000"), "ETHUSDT": Decimal("3400"), "TRXUSDT": Decimal("0.25")}

#: (operation, weight) of the seeded mix.
MIX: tuple[tuple[str, int], ...] = (
    ("place_limit", 22), ("place_cross", 3), ("place_market", 4), ("place_stop", 5), ("place_oco", 4),
    ("amend", 4), ("cancel", 18), ("cancel_all", 2),
    ("q_open_orders", 12), ("q_order", 15), ("q_account", 6), ("q_my_trades", 7), ("q_all_orders", 7),
)
PLACEMENTS = {"place_limit", "place_cross", "place_market", "place_stop", "place_oco"}


@dataclass
class ChaosConfig:
    ops: int = 400
    seed: int = 7
    restart_every: int = 150
    fault_rate: float = 0.05
    client_timeout_s: float = 1.0
    #: The client's ``recvWindow``: an unknown outcome is proven absent only once its request is
    #: older than this + 1 s (``orders.query_until_found``), so it sets the length of every
    #: "proven absent" wait. The contract's default is 5,000; any value above the ``delay``
    #: fault (1.5 s, the longest a request of this run executes late) proves the same.
    recv_window_ms: int = 5000
    #: Longest pause between the queries that resolve an unknown outcome (the client's
    #: ``ResolvePolicy.max_delay_s``; its default is 3 s). The rule that proves absence is
    #: unchanged (only "does not exist" answers older than recvWindow + 1 s, three in a row);
    #: a shorter pause only asks sooner once the request is old enough. None: the default.
    resolve_max_delay_s: float | None = None
    max_open: int = 40
    #: The exchange's orders-per-10-s limit (``--order-limit``); None: the contract's 50.
    #: Orders are paced under what ``exchangeInfo`` declares, so placements test faults, not
    #: the order-rate limiter; a higher limit only removes the waiting.
    order_limit: int | None = None
    #: Below the delay fault plus the client timeout, "does not exist" proves nothing.
    settle_s: float = 3.0


@dataclass
class ChaosFigures:
    """What one run produced; ``ok`` says whether every invariant held."""

    ops: int = 0
    seed: int = 0
    restarts: int = 0
    seconds: float = 0.0
    paced_s: float = 0.0
    """Seconds spent waiting to stay under the exchange's orders-per-10-s limit."""
    requests_faulted: int = 0
    faults_by_kind: dict[str, int] = field(default_factory=dict)
    placements: int = 0
    list_placements: int = 0
    amends: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unknown_seen: int = 0
    resolved_inline: int = 0
    left_pending: int = 0
    reconcile_resolved: int = 0
    still_unknown_at_end: int = 0
    wrong_absent: int = 0
    wrong_absent_samples: list[str] = field(default_factory=list)
    typed_errors: dict[str, int] = field(default_factory=dict)
    unhandled: int = 0
    unhandled_samples: list[str] = field(default_factory=list)
    exchange_orders: int = 0
    duplicates: int = 0
    orphans: int = 0
    exchange_lists: int = 0
    list_duplicates: int = 0
    list_orphans: int = 0
    list_state_mismatches: int = 0
    state_mismatches: int = 0
    open_orders_equal: bool = False
    fills_equal: bool = False
    exchange_trades: int = 0
    journal_fills: int = 0
    reconcile_mismatches: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def all_resolved(self) -> bool:
        return self.still_unknown_at_end == 0

    @property
    def ok(self) -> bool:
        return (self.duplicates == 0 and self.orphans == 0 and self.unhandled == 0 and self.all_resolved
                and self.state_mismatches == 0 and self.open_orders_equal and self.fills_equal
                and self.list_duplicates == 0 and self.list_orphans == 0 and self.list_state_mismatches == 0
                and not self.problems)

    def summary(self) -> dict[str, Any]:
        """The last-line JSON of bench/chaos.py."""
        return {"ops": self.ops, "seed": self.seed, "faults": self.requests_faulted,
                "duplicates": self.duplicates, "orphans": self.orphans, "unknown": self.unknown_seen,
                "lists": self.exchange_lists, "list_duplicates": self.list_duplicates,
                "list_orphans": self.list_orphans, "amends": self.amends,
                "resolved": self.all_resolved, "wrong_absent": self.wrong_absent,
                "unhandled": self.unhandled, "seconds": round(self.seconds, 1), "restarts": self.restarts,
                "ok": self.ok}


class _Admin:
    """The exchange's ``/admin/faults`` endpoint."""

    def __init__(self, base_url: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, headers={"X-BTX-ADMIN-TOKEN": ADMIN_TOKEN}, timeout=10)

    async def set(self, rate: float, seed: int) -> None:
        p = rate / len(FAULT_KINDS)
        faults = [{"kind": k, "endpoint": e, "probability": p, "arg": a} for k, e, a in FAULT_KINDS]
        r = await self._http.post("/admin/faults", json={"faults": faults, "seed": seed})
        r.raise_for_status()

    async def clear(self) -> None:
        (await self._http.delete("/admin/faults")).raise_for_status()

    async def counters(self) -> dict[str, Any]:
        r = await self._http.get("/admin/faults")
        r.raise_for_status()
        return r.json()

    async def aclose(self) -> None:
        await self._http.aclose()


@dataclass
class _Market:
    symbol: str
    tick: Decimal
    step: Decimal
    min_notional: Decimal


class _Driver:
    """Runs the operations; owns the client and the journal object between restarts."""

    def __init__(self, cfg: ChaosConfig, ex: PaperExchange, journal_path: Path, figs: ChaosFigures) -> None:
        self.cfg, self.ex, self.path, self.figs = cfg, ex, journal_path, figs
        self.rng = random.Random(cfg.seed)
        self.markets: dict[str, _Market] = {}
        self.sent: deque[float] = deque()
        self.orders_per_10s = 45  # replaced by 90 % of the limit exchangeInfo declares
        self.results: dict[str, Any] = {}  # harness memory (not the client's): cid -> PlacementResult
        self.client: BtxClient | None = None
        self.journal: SqliteJournal | None = None
        self.policy = ReconcilePolicy(settle_s=cfg.settle_s)
        self.resolver = (ResolvePolicy() if cfg.resolve_max_delay_s is None else
                         ResolvePolicy(max_delay_s=cfg.resolve_max_delay_s, max_queries=40))

    def open(self) -> None:
        key, secret = self.ex.key("full")
        self.client = BtxClient(self.ex.base_url, key, SecretStr(secret), timeout_s=self.cfg.client_timeout_s,
                                recv_window_ms=self.cfg.recv_window_ms,
                                retry=RetryPolicy(attempts=5, base_delay_s=0.05, max_delay_s=0.5))
        self.journal = SqliteJournal(self.path)

    async def close(self) -> None:
        assert self.client is not None and self.journal is not None
        await self.client.aclose()
        self.journal.close()
        self.client = self.journal = None

    async def reconcile(self, final: bool = False) -> None:
        """Reconcile until the open orders could be read (a BtxError there changes nothing)."""
        assert self.client is not None and self.journal is not None
        for _ in range(20):
            try:
                report = await reconcile(self.client, self.journal, policy=self.policy, symbols=list(REFS))
            except BtxError as exc:
                self._typed(exc)
                continue
            self.figs.reconcile_resolved += len(report.resolved) + len(report.absent)
            self.figs.reconcile_mismatches.extend(report.mismatches)
            self.figs.reconcile_resolved += len(report.lists_resolved) + len(report.lists_absent)
            if final:
                self.figs.still_unknown_at_end = (len(self.journal.pending())
                                                  + len(self.journal.lists(JournalState.PENDING))
                                                  + len(self.journal.pending_amends()))
            return
        self.figs.problems.append("reconcile never managed to read the open orders")

    async def load_markets(self) -> None:
        assert self.client is not None
        info = await self.client.exchange_info(symbols=list(REFS))
        order_limits = [rl.limit for rl in info.rate_limits if rl.rate_limit_type == "ORDERS"
                        and rl.interval == "SECOND" and rl.interval_num == 10]
        if not order_limits:
            raise RuntimeError("exchangeInfo declares no orders-per-10-s limit")
        self.orders_per_10s = max(1, order_limits[0] * 9 // 10)
        for sym in REFS:
            s = info.symbol(sym)
            pf, lot, notional = s.price_filter, s.lot_size, s.notional
            assert pf is not None and lot is not None and notional is not None, sym
            self.markets[sym] = _Market(sym, pf.tick_size, lot.step_size, notional.min_notional)

    # -- helpers ----------------------------------------------------------------------------

    def _typed(self, exc: BtxError) -> None:
        name = type(exc).__name__
        self.figs.typed_errors[name] = self.figs.typed_errors.get(name, 0) + 1

    async def _pace_order(self) -> None:
        """Stay under the exchange's orders-per-10-s limit (the client does not count orders)."""
        now = time.monotonic()
        while self.sent and now - self.sent[0] > 10.5:
            self.sent.popleft()
        if len(self.sent) >= self.orders_per_10s:
            wait = 10.5 - (now - self.sent[0])
            self.figs.paced_s += wait
            await asyncio.sleep(wait)
            self.sent.popleft()
        self.sent.append(time.monotonic())

    def _qty(self, m: _Market, price: Decimal) -> Decimal:
        notional = m.min_notional * Decimal(self.rng.choice((2, 3)))
        q = (notional / price / m.step).to_integral_value(ROUND_DOWN) * m.step
        return max(q + m.step, m.step)

    def _price(self, m: _Market, side: str, far: bool) -> Decimal:
        ref = REFS[m.symbol]
        off = Decimal(self.rng.randint(20, 50)) / 100
        factor = (1 - off) if (side == "BUY") == far else (1 + off)
        return (ref * factor / m.tick).to_integral_value(ROUND_DOWN) * m.tick

    def _open_entries(self, symbol: str | None = None) -> list[Any]:
        assert self.journal is not None
        return [e for e in self.journal.entries(JournalState.ACCEPTED) if symbol in (None, e.symbol)]

    def _record(self, orders: Any) -> None:
        assert self.journal is not None
        for o in orders:
            self.journal.record_order(o)

    # -- operations -------------------------------------------------------------------------

    async def step(self, op: str) -> None:
        m = self.markets[self.rng.choice(list(self.markets))]
        side = self.rng.choice(("BUY", "SELL"))
        if op in PLACEMENTS and len(self._open_entries(m.symbol)) >= self.cfg.max_open:
            op = "cancel_all" if self.rng.random() < 0.2 else "cancel"
        assert self.client is not None and self.journal is not None
        if op == "place_limit":
            price = self._price(m, side, far=True)
            await self._place(OrderRequest(m.symbol, side, "LIMIT", quantity=self._qty(m, price), price=price))
        elif op == "place_cross":
            price = self._price(m, side, far=False)  # buy above / sell below the reference: crosses ours
            await self._place(OrderRequest(m.symbol, side, "LIMIT", quantity=self._qty(m, REFS[m.symbol]),
                                           price=price, time_in_force="IOC"))
        elif op == "place_market":
            await self._place(OrderRequest(m.symbol, side, "MARKET", quantity=self._qty(m, REFS[m.symbol])))
        elif op == "place_stop":
            # Untriggered stop-limits far beyond any price the run trades at: they rest, lock
            # funds, and are cancelled, amended or queried like the others.
            ref = REFS[m.symbol]
            off = Decimal(self.rng.randint(0, 15)) / 100
            stop = self._tick(m, ref * ((Decimal("0.2") + off) if side == "SELL" else (Decimal("1.6") + off)))
            price = self._tick(m, stop * (Decimal("0.99") if side == "SELL" else Decimal("1.01")))
            kind = "STOP_LOSS_LIMIT"
            await self._place(OrderRequest(m.symbol, side, kind, quantity=self._qty(m, price), price=price,
                                           stop_price=stop))
        elif op == "place_oco":
            await self._place_oco(m, side)
        elif op == "amend":
            entries = [e for e in self._open_entries() if e.type in ("LIMIT", "STOP_LOSS_LIMIT")
                       and e.quantity is not None and not e.executed_qty]
            if entries:
                e = self.rng.choice(entries)
                mk = self.markets[e.symbol]
                assert e.quantity is not None
                new_qty = (e.quantity * Decimal("0.8") / mk.step).to_integral_value(ROUND_DOWN) * mk.step
                if e.price and new_qty * e.price >= mk.min_notional and new_qty > 0:
                    await self._pace_order()
                    self.figs.amends += 1
                    await self.client.amend_order(AmendRequest(e.symbol, new_qty,
                                                               orig_client_order_id=e.client_order_id),
                                                  journal=self.journal, resolver=self.resolver)
        elif op == "cancel":
            entries = self._open_entries()
            if entries:
                e = self.rng.choice(entries)
                self._record([await self.client.cancel_order(e.symbol, orig_client_order_id=e.client_order_id)])
        elif op == "cancel_all":
            self._record(await self.client.cancel_open_orders(m.symbol))
        elif op == "q_open_orders":
            self._record(await self.client.open_orders(m.symbol))
        elif op == "q_order":
            entries = self.journal.entries()
            if entries:
                e = self.rng.choice(entries[-50:])
                if e.state is not JournalState.ABSENT and e.state is not JournalState.REJECTED:
                    self._record([await self.client.get_order(e.symbol, orig_client_order_id=e.client_order_id)])
        elif op == "q_account":
            await self.client.account()
        elif op == "q_my_trades":
            self.journal.record_fills(await self.client.my_trades(m.symbol, limit=50))
        elif op == "q_all_orders":
            self._record(await self.client.all_orders(m.symbol, limit=50))

    def _tick(self, m: _Market, price: Decimal) -> Decimal:
        return (price / m.tick).to_integral_value(ROUND_DOWN) * m.tick

    async def _place_oco(self, m: _Market, side: str) -> None:
        """A bracket far from the traded range: a limit-maker on the profit side (a market
        order may take it, which cancels the stop in the same step), a stop-limit beyond."""
        assert self.client is not None
        ref = REFS[m.symbol]
        off = Decimal(self.rng.randint(0, 10)) / 100
        if side == "SELL":
            maker = ListLeg("LIMIT_MAKER", price=self._tick(m, ref * (Decimal("1.55") + off)))
            stop = self._tick(m, ref * (Decimal("0.25") + off))
            stopper = ListLeg("STOP_LOSS_LIMIT", price=self._tick(m, stop * Decimal("0.99")), stop_price=stop)
            above, below, low = maker, stopper, stopper.price
        else:
            maker = ListLeg("LIMIT_MAKER", price=self._tick(m, ref * (Decimal("0.45") - off)))
            stop = self._tick(m, ref * (Decimal("1.65") + off))
            stopper = ListLeg("STOP_LOSS_LIMIT", price=self._tick(m, stop * Decimal("1.01")), stop_price=stop)
            above, below, low = stopper, maker, maker.price
        assert low is not None
        req = OcoRequest(m.symbol, side, self._qty(m, low), above=above, below=below)
        await self._pace_order()
        await self._pace_order()  # two orders
        res = await self.client.place_order_list(req, journal=self.journal, resolver=self.resolver)
        self.figs.placements += 1
        self.figs.list_placements += 1
        self.results[req.list_client_order_id] = res
        key = "list " + res.outcome.value + (" (after unknown)" if res.initial_outcome is Outcome.UNKNOWN else "")
        self.figs.outcomes[key] = self.figs.outcomes.get(key, 0) + 1
        if res.initial_outcome is Outcome.UNKNOWN:
            self.figs.unknown_seen += 1
            if res.resolved:
                self.figs.resolved_inline += 1
            else:
                self.figs.left_pending += 1

    async def _place(self, req: OrderRequest) -> None:
        assert self.client is not None
        await self._pace_order()
        res = await self.client.place_order(req, journal=self.journal, resolver=self.resolver)
        self.figs.placements += 1
        self.results[req.client_order_id] = res
        key = res.outcome.value + (" (after unknown)" if res.initial_outcome is Outcome.UNKNOWN else "")
        self.figs.outcomes[key] = self.figs.outcomes.get(key, 0) + 1
        if res.initial_outcome is Outcome.UNKNOWN:
            self.figs.unknown_seen += 1
            if res.resolved:
                self.figs.resolved_inline += 1
            else:
                self.figs.left_pending += 1

    async def run(self) -> None:
        ops, weights = zip(*MIX, strict=True)
        for i in range(self.cfg.ops):
            if i and i % self.cfg.restart_every == 0:
                await self.close()
                self.open()
                self.figs.restarts += 1
                await self.reconcile()
            op = self.rng.choices(ops, weights)[0]
            try:
                await self.step(op)
            except BtxError as exc:
                self._typed(exc)
            except Exception:  # noqa: BLE001 - the figure this run exists to measure
                self.figs.unhandled += 1
                if len(self.figs.unhandled_samples) < 5:
                    self.figs.unhandled_samples.append(f"{op}: {traceback.format_exc(limit=6)}")
            self.figs.ops += 1


async def _history(client: BtxClient, symbol: str) -> tuple[list[Order], list[Any]]:
    """Every order and trade of ``symbol`` on the account (paged by id)."""
    orders: list[Order] = []
    next_id = 0
    while True:
        page = await client.all_orders(symbol, order_id=next_id, limit=1000)
        orders.extend(page)
        if len(page) < 1000:
            break
        next_id = page[-1].order_id + 1
    trades: list[Any] = []
    from_id = 0
    while True:
        tpage = await client.my_trades(symbol, from_id=from_id, limit=1000)
        trades.extend(tpage)
        if len(tpage) < 1000:
            break
        from_id = tpage[-1].id + 1
    return orders, trades


async def _verify(drv: _Driver, figs: ChaosFigures) -> None:
    """Compare the journal with the exchange's full history (faults are off by now)."""
    client, journal = drv.client, drv.journal
    assert client is not None and journal is not None
    exchange: dict[str, Order] = {}
    cids: Counter[str] = Counter()
    trades: set[tuple[str, int, int, str, str]] = set()
    for sym in REFS:
        orders, tr = await _history(client, sym)
        for o in orders:
            cids[o.order_client_id] += 1
            exchange[o.order_client_id] = o
        trades |= {(t.symbol, t.id, t.order_id, f"{t.price:f}", f"{t.qty:f}") for t in tr}
    figs.exchange_orders = sum(cids.values())
    figs.exchange_trades = len(trades)
    figs.duplicates = sum(n - 1 for n in cids.values() if n > 1)
    entries = {e.client_order_id: e for e in journal.entries()}
    figs.orphans = sum(1 for cid in cids if cid not in entries or not is_btx_client_order_id(cid))
    for cid, e in entries.items():
        o = exchange.get(cid)
        if o is None:
            if e.state not in (JournalState.ABSENT, JournalState.REJECTED):
                figs.state_mismatches += 1
                figs.problems.append(f"{cid}: journal {e.state.value}, exchange has no such order")
        elif state_of(o) is not e.state or (o.executed_qty or 0) != (e.executed_qty or 0):
            figs.state_mismatches += 1
            figs.problems.append(f"{cid}: journal {e.state.value}/{e.executed_qty}, exchange "
                                 f"{o.status}/{o.executed_qty}")
    for cid, res in drv.results.items():
        if res.outcome is Outcome.REJECTED and cid in exchange and hasattr(res, "order"):
            figs.wrong_absent += 1  # reported "not placed" although it exists (reconcile healed it)
            figs.wrong_absent_samples.append(
                f"{cid}: {type(res.error).__name__} then proven_absent={res.proven_absent} after "
                f"{res.resolution_attempts} queries; exchange {exchange[cid].status}")
    lists: Counter[str] = Counter()
    list_status: dict[str, str] = {}
    from_id = 0
    while True:
        page = await client.all_order_lists(from_id=from_id, limit=1000)
        for lst in page:
            lists[lst.list_client_order_id] += 1
            list_status[lst.list_client_order_id] = str(lst.list_order_status)
        if len(page) < 1000:
            break
        from_id = page[-1].order_list_id + 1
    figs.exchange_lists = sum(lists.values())
    figs.list_duplicates = sum(n - 1 for n in lists.values() if n > 1)
    for lcid, res in drv.results.items():
        if getattr(res, "order_list", False) is not False and res.outcome is Outcome.REJECTED and lcid in lists:
            figs.wrong_absent += 1
            figs.wrong_absent_samples.append(f"list {lcid}: {type(res.error).__name__} then "
                                             f"proven_absent={res.proven_absent}; the exchange has it")
    journal_lists = {e.list_client_order_id: e for e in journal.lists()}
    figs.list_orphans = sum(1 for lcid in lists if lcid not in journal_lists)
    for lcid, le in journal_lists.items():
        status = list_status.get(lcid)
        expected = (None if status is None else JournalState.ACCEPTED if status == "EXECUTING"
                    else JournalState.DONE)
        if (expected is None and le.state not in (JournalState.ABSENT, JournalState.REJECTED)) or (
                expected is not None and le.state is not expected):
            figs.list_state_mismatches += 1
            figs.problems.append(f"list {lcid}: journal {le.state.value}, exchange {status}")
    open_exchange = {o.order_client_id for o in await client.open_orders()}
    open_journal = {e.client_order_id for e in journal.entries(JournalState.ACCEPTED)}
    figs.open_orders_equal = open_exchange == open_journal
    if not figs.open_orders_equal:
        figs.problems.append(f"open orders differ: only on exchange {sorted(open_exchange - open_journal)[:5]}, "
                             f"only in journal {sorted(open_journal - open_exchange)[:5]}")
    db = sqlite3.connect(f"file:{drv.path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT symbol, trade_id, order_id, price, qty FROM fills").fetchall()
    finally:
        db.close()
    journal_fills = {(s, t, o, f"{Decimal(p):f}", f"{Decimal(q):f}") for s, t, o, p, q in rows}
    figs.journal_fills = len(journal_fills)
    figs.fills_equal = journal_fills == trades
    if not figs.fills_equal:
        figs.problems.append(f"fills differ: {len(trades - journal_fills)} exchange trade(s) missing from the "
                             f"journal, {len(journal_fills - trades)} journal fill(s) unknown to the exchange")


async def run_chaos(cfg: ChaosConfig, work_dir: Path) -> ChaosFigures:
    """Start a faulty paper exchange in ``work_dir``, run ``cfg.ops`` operations, verify."""
    figs = ChaosFigures(seed=cfg.seed)
    limit_args = [] if cfg.order_limit is None else ["--order-limit", str(cfg.order_limit)]
    ex = start_paper_exchange(work_dir / "exchange", market=False, seed=1, extra_args=[
        "--admin-token", ADMIN_TOKEN, "--fault-seed", str(cfg.seed), *limit_args])
    admin = _Admin(ex.base_url)
    started = time.monotonic()
    try:
        drv = _Driver(cfg, ex, journal_file(work_dir / "client", ex.base_url, ex.key("full")[0]), figs)
        drv.open()
        await drv.load_markets()
        await admin.set(cfg.fault_rate, cfg.seed)
        await drv.run()
        await admin.clear()
        await drv.reconcile(final=True)
        await _verify(drv, figs)
        counters = await admin.counters()
        figs.faults_by_kind = dict(sorted(counters.get("injected", {}).items()))
        figs.requests_faulted = int(counters.get("total", sum(figs.faults_by_kind.values())))
        await drv.close()
    finally:
        figs.seconds = time.monotonic() - started
        await admin.aclose()
        ex.stop()
    return figs


def _table(figs: ChaosFigures) -> str:
    rows = [
        ("operations", figs.ops), ("client restarts", figs.restarts), ("placements", figs.placements),
        ("faults injected (requests)", figs.requests_faulted),
        *((f"  {k}", v) for k, v in figs.faults_by_kind.items()),
        *((f"outcome {k}", v) for k, v in sorted(figs.outcomes.items())),
        ("unknown outcomes seen", figs.unknown_seen), ("  resolved by place_order", figs.resolved_inline),
        ("  left pending for reconcile", figs.left_pending),
        ("intents settled by reconcile", figs.reconcile_resolved),
        ("still unknown at the end", figs.still_unknown_at_end),
        ("'not placed' verdicts later found placed", figs.wrong_absent),
        *((f"typed error {k}", v) for k, v in sorted(figs.typed_errors.items())),
        ("unhandled exceptions", figs.unhandled), ("exchange orders", figs.exchange_orders),
        ("duplicate orders", figs.duplicates), ("orphan orders", figs.orphans),
        ("list placements", figs.list_placements), ("exchange order lists", figs.exchange_lists),
        ("duplicate lists", figs.list_duplicates), ("orphan lists", figs.list_orphans),
        ("journal/exchange list mismatches", figs.list_state_mismatches), ("amends sent", figs.amends),
        ("journal/exchange state mismatches", figs.state_mismatches),
        ("open orders equal", figs.open_orders_equal),
        (f"fills equal ({figs.journal_fills} journal / {figs.exchange_trades} myTrades)", figs.fills_equal),
        ("reconcile mismatch notes", len(figs.reconcile_mismatches)), ("seconds", f"{figs.seconds:.1f}"),
        ("  of which paced under the order limit", f"{figs.paced_s:.1f}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--restart-every", type=int, default=250)
    ap.add_argument("--fault-rate", type=float, default=0.05)
    ap.add_argument("--order-limit", type=int, default=None,
                    help="the exchange's orders per 10 s (default: the contract's 50, paced under)")
    ap.add_argument("--recv-window", type=int, default=5000, help="the client's recvWindow, ms")
    ap.add_argument("--resolve-max-delay", type=float, default=None,
                    help="longest pause between resolving queries, s (default: the client's 3)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the client's per-fault warnings would drown the table
    cfg = ChaosConfig(ops=args.ops, seed=args.seed, restart_every=args.restart_every, fault_rate=args.fault_rate,
                      order_limit=args.order_limit, recv_window_ms=args.recv_window,
                      resolve_max_delay_s=args.resolve_max_delay)
    with tempfile.TemporaryDirectory(prefix="btx-chaos-") as tmp:
        figs = asyncio.run(run_chaos(cfg, Path(tmp)))
    print(_table(figs))
    for line in [*figs.problems[:10], *figs.unhandled_samples, *figs.wrong_absent_samples[:10],
                 *figs.reconcile_mismatches[:10]]:
        print("note:", line)
    print(json.dumps(figs.summary()))
    return 0 if figs.ok else 1


if __name__ == "__main__":
    sys.exit(main())
