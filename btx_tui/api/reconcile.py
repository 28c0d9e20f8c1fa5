"""Reconciliation: make the intent journal agree with what the exchange really holds.

Why: the journal knows which orders this app *meant* to place; only the exchange knows which
exist. After a crash, a lost answer or a network outage the two can disagree, and an order
left "pending" must never be guessed at (reported failed, or resent). So, on startup and
after every reconnect, :func:`reconcile`:

1. reads the open orders, and the recent orders and trades of every market the journal has
   unsettled business in (pending or accepted intents, intents proven absent within
   ``ReconcilePolicy.absent_recheck_s``, or markets the caller names), and brings the journal
   up to date (acknowledgements, fills deduplicated by trade + order id, cancels, expiries).
   An order "proven absent" that shows up after all is reported as a mismatch and its real
   state and fills are recorded;
2. resolves every pending intent to exactly one of *exists on the exchange* (its state brought
   up to date via ``GET /api/v3/order?origClientOrderId=…``) or *proven absent* — several
   -2013 answers with backoff; network errors and 5xx never count as absence. An intent
   still unresolved after ``max_queries`` stays pending and is reported as still unknown;
3. adopts orders the journal does not know that carry this app's ``btx-`` prefix (another
   btx-tui instance, or an order whose intent was lost) and reports them; other orders are
   none of our business and are ignored;
4. compares the account's locked balances with what the open orders reserve — an order
   list's live orders as ONE lock (its largest need), an OTO's ``PENDING_NEW`` orders as
   nothing, an untriggered market BUY stop as its reservation;
5. order lists: pending lists (outcome unknown) are resolved by ``listClientOrderId`` (found,
   or proven absent together with their legs), ``btx-`` lists the journal does not know are
   adopted, and known lists that finished are recorded as done; amends whose answer was lost
   are resolved by the order's new client id (found → the journal entry is renamed).

Nothing here sends an order. Returns a :class:`ReconcileReport` the UI can show.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from .errors import BtxError, UnknownOrder
from .journal import JournalEntry, JournalState, ListEntry, SqliteJournal
from .models_orderlists import OrderList
from .models_trading import MyTrade, Order, OrderSide, OrderStatus, OrderType
from .orders import ResolvePolicy, is_btx_client_order_id
from .preflight import MARKET_BUY_STOP_SLACK

if TYPE_CHECKING:
    from .client import BtxClient

__all__ = ["ReconcilePolicy", "ReconcileReport", "Resolution", "reconcile"]

log = logging.getLogger("btx_tui.api.reconcile")


@dataclass(frozen=True, slots=True)
class ReconcilePolicy:
    """How hard to look.

    Attributes:
        resolve: per-intent query policy (``absent_after`` -2013 answers prove absence).
        settle_s: an intent younger than this may still be travelling to the exchange (a request
            is accepted up to ``recvWindow`` after it was signed): wait until it is this old before
            counting "does not exist" answers.
        history_limit: how many recent orders and trades to read per market.
        check_balances: compare locked balances with the open orders' reservations.
        absent_recheck_s: the markets of intents proven absent less than this long ago are
            scanned too, so a verdict that was wrong (an order that landed late, or was judged
            by an older client without a settle time) is caught even if the order filled at
            once and so was never among the open orders. An order can only land within its
            receive window (at most 60 s) of being signed, so a day is a wide margin; it also
            covers an app closed overnight and restarted the next morning. Cost: two history
            requests per such market per reconciliation, and absent verdicts are rare. Keep it
            well under the journal's retention (30 days), after which the entry is gone anyway.
    """

    resolve: ResolvePolicy = field(default_factory=lambda: ResolvePolicy(absent_after=3, max_queries=6))
    settle_s: float = 10.0
    history_limit: int = 100
    check_balances: bool = True
    absent_recheck_s: float = 24 * 3600.0
    market_buy_stop_slack: Decimal = MARKET_BUY_STOP_SLACK
    """An untriggered market BUY stop locks quantity × stop price × (1 + trailing delta) ×
    this (the paper exchange's rule, docs/exchange-internals.md: it may fill above its stop)."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """A pending intent that turned out to exist on the exchange."""

    client_order_id: str
    symbol: str
    state: JournalState
    queries: int = 0


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What reconciliation found and did.

    Attributes:
        resolved: pending intents found on the exchange (journal state now the exchange's).
        adopted: client ids of ``btx-`` orders the journal did not know, now recorded.
        absent: pending intents proven absent (never placed).
        still_unknown: pending intents neither found nor proven absent (queries kept failing).
        mismatches: disagreements that need a human eye, one sentence each.
        updated: known orders whose state changed (filled, canceled, expired while away).
        new_fills: fills recorded that the journal did not have.
    """

    resolved: tuple[Resolution, ...] = ()
    adopted: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    still_unknown: tuple[str, ...] = ()
    mismatches: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    new_fills: int = 0
    lists_resolved: tuple[str, ...] = ()
    """``listClientOrderId`` of pending lists found on the exchange."""
    lists_absent: tuple[str, ...] = ()
    """Pending lists proven never placed (their legs are absent too)."""
    lists_adopted: tuple[str, ...] = ()
    """``btx-`` lists the journal did not know, now recorded."""
    lists_updated: tuple[str, ...] = ()
    """Known lists whose state changed (finished while away)."""
    lists_still_unknown: tuple[str, ...] = ()
    amends_resolved: tuple[str, ...] = ()
    """New client ids of amends whose outcome was unknown and that did happen."""
    amends_absent: tuple[str, ...] = ()
    """New client ids of amends proven not to have happened."""

    @property
    def changed(self) -> bool:
        """Did reconciliation learn anything the trader should hear about?"""
        return bool(self.resolved or self.adopted or self.absent or self.mismatches or self.updated
                    or self.lists_resolved or self.lists_absent or self.lists_adopted or self.lists_updated
                    or self.amends_resolved or self.amends_absent)

    def summary(self) -> str:
        """One line for a notification."""
        parts = []
        if self.resolved:
            states = ", ".join(f"{r.client_order_id} {r.state.value}" for r in self.resolved)
            parts.append(f"{len(self.resolved)} unclear order(s) found on the exchange ({states})")
        if self.absent:
            parts.append(f"{len(self.absent)} unclear order(s) were never placed")
        if self.adopted:
            parts.append(f"{len(self.adopted)} btx-tui order(s) from elsewhere adopted")
        if self.updated:
            parts.append(f"{len(self.updated)} order(s) changed while away")
        if self.lists_resolved:
            parts.append(f"{len(self.lists_resolved)} unclear order list(s) found on the exchange")
        if self.lists_absent:
            parts.append(f"{len(self.lists_absent)} unclear order list(s) were never placed")
        if self.lists_adopted:
            parts.append(f"{len(self.lists_adopted)} btx-tui order list(s) from elsewhere adopted")
        if self.lists_updated:
            parts.append(f"{len(self.lists_updated)} order list(s) changed while away")
        if self.amends_resolved:
            parts.append(f"{len(self.amends_resolved)} unclear amend(s) took effect")
        if self.amends_absent:
            parts.append(f"{len(self.amends_absent)} unclear amend(s) did not happen")
        if self.still_unknown or self.lists_still_unknown:
            n = len(self.still_unknown) + len(self.lists_still_unknown)
            parts.append(f"{n} still unknown — checking again on reconnect")
        parts.extend(self.mismatches)
        return "; ".join(parts) if parts else "journal and exchange agree"


@dataclass
class _Run:
    """Mutable collector behind one report."""

    resolved: list[Resolution] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    still_unknown: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    new_fills: int = 0
    skip: Collection[str] = ()
    lists_resolved: list[str] = field(default_factory=list)
    lists_absent: list[str] = field(default_factory=list)
    lists_adopted: list[str] = field(default_factory=list)
    lists_updated: list[str] = field(default_factory=list)
    lists_still_unknown: list[str] = field(default_factory=list)
    amends_resolved: list[str] = field(default_factory=list)
    amends_absent: list[str] = field(default_factory=list)

    def report(self) -> ReconcileReport:
        return ReconcileReport(tuple(self.resolved), tuple(self.adopted), tuple(self.absent),
                               tuple(self.still_unknown), tuple(self.mismatches), tuple(dict.fromkeys(self.updated)),
                               self.new_fills, tuple(self.lists_resolved), tuple(self.lists_absent),
                               tuple(self.lists_adopted), tuple(dict.fromkeys(self.lists_updated)),
                               tuple(self.lists_still_unknown), tuple(self.amends_resolved),
                               tuple(self.amends_absent))


def _observe(journal: SqliteJournal, order: Order, run: _Run, *, queries: int = 0) -> None:
    """Fold one exchange report of an order into the journal and the run's findings."""
    cid = order.order_client_id
    known = journal.get(cid)
    if known is None and journal.apply_amend(cid):
        # An amend whose answer was lost: the order now carries the amend's new id.
        run.amends_resolved.append(cid)
        known = journal.get(cid)
    if known is None:
        if _forgotten(journal, order):
            return  # finished before the journal's retention horizon: pruned on purpose, not news
        if is_btx_client_order_id(cid) and journal.record_order(order, adopt=True):
            run.adopted.append(cid)
            log.info("adopted %s %s (%s) found on the exchange", cid, order.symbol, order.status)
        return
    if known.state is JournalState.PENDING:
        journal.record_order(order)
        if cid in run.skip:
            return  # its placement is still in flight here: not news
        entry = journal.get(cid)
        state = entry.state if entry else JournalState.ACCEPTED
        run.resolved.append(Resolution(cid, order.symbol, state, queries))
        return
    if known.state is JournalState.ABSENT:
        run.mismatches.append(f"{cid} was thought never placed but exists on the exchange ({order.status})")
        journal.record_order(order)
        return
    before = known.state
    if journal.record_order(order):
        entry = journal.get(cid)
        if entry is not None and entry.state is not before:
            run.updated.append(cid)
    elif before.is_final and order.status is not None and order.status.is_open:
        run.mismatches.append(f"{cid} is {before.value} in the journal but open on the exchange")


def _forgotten(journal: SqliteJournal, order: Order) -> bool:
    """A finished order whose last change predates what the journal keeps (see ``prune``)."""
    if order.status is None or order.status.is_open:
        return False
    changed = order.update_time or order.time or order.transact_time
    return changed is not None and changed < journal.pruned_before_ms()


async def _query(client: BtxClient, entry: JournalEntry, policy: ReconcilePolicy) -> tuple[Order | None, bool, int]:
    """Look for one pending intent: (order or None, proven absent, queries made)."""
    rp = policy.resolve
    streak = queries = 0
    while queries < rp.max_queries:
        queries += 1
        try:
            order = await client.get_order(entry.symbol, orig_client_order_id=entry.client_order_id)
        except UnknownOrder:
            young_for = entry.created_ms / 1000 + policy.settle_s - time.time()
            if young_for > 0:
                # It may still be on its way: "not yet" proves nothing. Ask again once it is old enough.
                queries -= 1
                await asyncio.sleep(young_for)
                continue
            streak += 1
            if streak >= rp.absent_after:
                return None, True, queries
        except BtxError as exc:
            streak = 0  # only consecutive "does not exist" answers prove anything
            log.info("reconcile %s: query failed (%s)", entry.client_order_id, type(exc).__name__)
        else:
            return order, False, queries
        await asyncio.sleep(rp.delay(queries))
    return None, False, queries


async def _scan_history(client: BtxClient, journal: SqliteJournal, symbol: str, limit: int, run: _Run) -> None:
    """Recent orders and trades of one market (best effort: a failure leaves it to the queries)."""
    try:
        orders = await client.all_orders(symbol, limit=limit)
        trades = await client.my_trades(symbol, limit=limit)
    except BtxError as exc:
        log.info("reconcile: history of %s unavailable (%s)", symbol, type(exc).__name__)
        return
    for order in orders:
        _observe(journal, order, run)
    run.new_fills += journal.record_fills(trades)


def _reservation(o: Order, base: str, quote: str, policy: ReconcilePolicy) -> tuple[str, Decimal] | None:
    """(asset, amount) one open order keeps locked, per the exchange's rules; None for nothing
    (or nothing this client can know). A ``PENDING_NEW`` order of an OTO list locks nothing
    until its working order fills. An untriggered market BUY stop locks its reservation
    (see :attr:`ReconcilePolicy.market_buy_stop_slack`); a trailing one without a stop price
    is referenced to the last price at placement, which the client cannot know: not counted."""
    if o.status is OrderStatus.PENDING_NEW or o.orig_qty is None:
        return None
    remaining = o.orig_qty - (o.executed_qty or Decimal(0))
    if o.side is OrderSide.SELL:
        return base, remaining
    if o.type in (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT):
        if not o.stop_price:
            return None
        amount = o.orig_qty * o.stop_price * policy.market_buy_stop_slack
        if o.trailing_delta:
            amount = amount * (10_000 + o.trailing_delta) / 10_000
        return quote, amount
    if not o.price:
        return None
    return quote, remaining * o.price


async def _check_locks(client: BtxClient, journal: SqliteJournal, open_orders: Iterable[Order], run: _Run,
                       policy: ReconcilePolicy | None = None) -> None:
    """Each asset's locked balance must cover what the open orders reserve (not less).

    The orders of one list share ONE lock, the largest need among its live orders (an OCO's
    two legs; an OTOCO's pair once live) — the exchange locks the larger leg's need once.
    """
    policy = policy or ReconcilePolicy()
    ours = [o for o in open_orders if o.orig_qty is not None]
    if not ours:
        return
    try:
        info = await client.exchange_info(symbols=sorted({o.symbol for o in ours}))
        account = await client.account()
    except BtxError as exc:
        log.info("reconcile: balances unavailable (%s)", type(exc).__name__)
        return
    per_lock: dict[tuple[object, str], Decimal] = {}
    for o in ours:
        try:
            spec = info.symbol(o.symbol)
        except KeyError:
            continue
        need = _reservation(o, spec.base_asset, spec.quote_asset, policy)
        if need is None:
            continue
        asset, amount = need
        lock = (("list", o.symbol, o.order_list_id) if o.in_list else ("order", o.symbol, o.order_id), asset)
        per_lock[lock] = max(per_lock.get(lock, Decimal(0)), amount)
    need_by_asset: dict[str, Decimal] = {}
    for (_, asset), amount in per_lock.items():
        need_by_asset[asset] = need_by_asset.get(asset, Decimal(0)) + amount
    for asset, amount in sorted(need_by_asset.items()):
        locked = account.balance(asset).locked
        if locked < amount:
            run.mismatches.append(f"{asset}: {locked:f} locked but open orders reserve {amount:f}")


async def _resolve_amends(client: BtxClient, journal: SqliteJournal, policy: ReconcilePolicy, run: _Run) -> None:
    """Amends whose answer was lost: did the order take the new id? (queried by the new id)."""
    for amend in journal.pending_amends():
        if amend.new_client_order_id in run.skip:
            continue
        probe = JournalEntry(client_order_id=amend.new_client_order_id, symbol=amend.symbol, side="", type="",
                             state=JournalState.PENDING, origin="local", created_ms=amend.created_ms)
        order, absent, _ = await _query(client, probe, policy)
        if order is not None:
            if journal.apply_amend(amend.new_client_order_id):
                run.amends_resolved.append(amend.new_client_order_id)
            journal.record_order(order)
        elif absent:
            journal.mark_amend_absent(amend.new_client_order_id)
            run.amends_absent.append(amend.new_client_order_id)


async def _query_list(client: BtxClient, entry: ListEntry,
                      policy: ReconcilePolicy) -> tuple[OrderList | None, bool]:
    """Look for one pending list by ``listClientOrderId``: (list or None, proven absent)."""
    rp = policy.resolve
    streak = queries = 0
    while queries < rp.max_queries:
        queries += 1
        try:
            return await client.get_order_list(orig_client_order_id=entry.list_client_order_id), False
        except UnknownOrder:
            young_for = entry.created_ms / 1000 + policy.settle_s - time.time()
            if young_for > 0:
                queries -= 1
                await asyncio.sleep(young_for)
                continue
            streak += 1
            if streak >= rp.absent_after:
                return None, True
        except BtxError as exc:
            streak = 0
            log.info("reconcile list %s: query failed (%s)", entry.list_client_order_id, type(exc).__name__)
        await asyncio.sleep(rp.delay(queries))
    return None, False


async def _reconcile_lists(client: BtxClient, journal: SqliteJournal, policy: ReconcilePolicy, run: _Run) -> None:
    """Resolve pending lists, adopt ``btx-`` lists, and learn how open lists ended.

    Best effort: if the open lists cannot be read, the legs are still settled one by one
    (each leg is a named order) and the lists wait for the next reconciliation.
    """
    try:
        open_lists = await client.open_order_lists()
    except BtxError as exc:
        log.info("reconcile: open order lists unavailable (%s)", type(exc).__name__)
        return
    open_ids = set()
    for lst in open_lists:
        open_ids.add(lst.list_client_order_id)
        known = journal.get_list(lst.list_client_order_id)
        if known is None:
            if is_btx_client_order_id(lst.list_client_order_id) and journal.record_order_list(lst, adopt=True):
                run.lists_adopted.append(lst.list_client_order_id)
        elif known.state is JournalState.PENDING:
            if lst.list_client_order_id not in run.skip:
                journal.record_order_list(lst)
                run.lists_resolved.append(lst.list_client_order_id)
        elif journal.record_order_list(lst):
            run.lists_updated.append(lst.list_client_order_id)
    pending = [e for e in journal.lists(JournalState.PENDING)
               if e.list_client_order_id not in run.skip and e.list_client_order_id not in open_ids]
    results = await asyncio.gather(*(_query_list(client, e, policy) for e in pending))
    for entry, (found, absent) in zip(pending, results, strict=True):
        if found is not None:
            journal.record_order_list(found)
            run.lists_resolved.append(entry.list_client_order_id)
        elif absent:
            journal.mark_list_absent(entry.list_client_order_id)
            run.lists_absent.append(entry.list_client_order_id)
        else:
            run.lists_still_unknown.append(entry.list_client_order_id)
    for entry in journal.lists(JournalState.ACCEPTED):
        if entry.list_client_order_id in open_ids or entry.list_client_order_id in run.skip:
            continue
        try:
            found = await client.get_order_list(order_list_id=entry.order_list_id,
                                                orig_client_order_id=None if entry.order_list_id is not None
                                                else entry.list_client_order_id)
        except BtxError:
            continue  # next time
        if journal.record_order_list(found):
            run.lists_updated.append(entry.list_client_order_id)


async def reconcile(client: BtxClient, journal: SqliteJournal, *, policy: ReconcilePolicy | None = None,
                    skip: Collection[str] = (), symbols: Iterable[str] = ()) -> ReconcileReport:
    """Compare the exchange with the journal and settle every pending intent (see module doc).

    Args:
        client: a :class:`~btx_tui.api.client.BtxClient`.
        journal: the account's journal.
        policy: how hard to look.
        skip: client ids whose placement is still in flight in this process: their own
            resolution owns them (querying now could "prove" absent an order about to land).
        symbols: extra markets whose recent orders and trades to read.

    Raises:
        BtxError: the open orders could not be read (nothing was changed; try again later).
    """
    policy = policy or ReconcilePolicy()
    run = _Run(skip=skip)
    await _resolve_amends(client, journal, policy, run)
    open_orders = await client.open_orders()
    for order in open_orders:
        _observe(journal, order, run)
    await _reconcile_lists(client, journal, policy, run)

    unsettled = journal.entries(JournalState.PENDING, JournalState.ACCEPTED)
    recent_absent = journal.entries(JournalState.ABSENT,
                                    changed_since_ms=int((time.time() - policy.absent_recheck_s) * 1000))
    markets = dict.fromkeys([*(e.symbol for e in (*unsettled, *recent_absent)), *symbols])
    for symbol in markets:
        await _scan_history(client, journal, symbol, policy.history_limit, run)

    pending = [e for e in journal.pending() if e.client_order_id not in skip]
    results = await asyncio.gather(*(_query(client, e, policy) for e in pending))
    for entry, (order, absent, queries) in zip(pending, results, strict=True):
        if order is not None:
            _observe(journal, order, run, queries=queries)
            if order.executed_qty:
                await _fetch_fills(client, journal, order, run)
        elif absent:
            journal.mark_absent(entry.client_order_id)
            run.absent.append(entry.client_order_id)
        else:
            run.still_unknown.append(entry.client_order_id)

    open_ids = {o.order_client_id for o in open_orders}
    for entry in journal.entries(JournalState.ACCEPTED):
        if entry.client_order_id not in open_ids and entry.client_order_id not in skip:
            await _settle_closed(client, journal, entry, run)

    if policy.check_balances:
        await _check_locks(client, journal, open_orders, run, policy)
    report = run.report()
    log.info("reconciliation: %s", report.summary())
    return report


async def _fetch_fills(client: BtxClient, journal: SqliteJournal, order: Order, run: _Run) -> None:
    try:
        trades = await client.my_trades(order.symbol, order_id=order.order_id)
    except BtxError:
        return
    run.new_fills += journal.record_fills(trades)


async def _settle_closed(client: BtxClient, journal: SqliteJournal, entry: JournalEntry, run: _Run) -> None:
    """An order the journal has open is not among the open orders: learn how it ended."""
    try:
        order = await client.get_order(entry.symbol, orig_client_order_id=entry.client_order_id)
    except UnknownOrder:
        run.mismatches.append(f"{entry.client_order_id} is open in the journal but unknown to the exchange")
        return
    except BtxError:
        return  # try again next time
    _observe(journal, order, run)
    if order.executed_qty:
        await _fetch_fills(client, journal, order, run)


# -- everyday observations: what the dashboard's polls and cancels tell the journal -------------
#
# The journal has one writer, the service layer: the dashboard's open-orders and history polls
# and its cancels go through these, so the UI never writes the journal itself.


def record_observed(journal: SqliteJournal | None, orders: Iterable[Order],
                    trades: Iterable[MyTrade] = ()) -> None:
    """Bring the journal's known orders (and their fills) up to date; a failed write is logged."""
    if journal is None:
        return
    import sqlite3

    try:
        for order in orders:
            journal.record_order(order)
        journal.record_fills(trades)
    except sqlite3.Error as exc:
        log.error("order journal update failed: %s", exc)


async def observed_open_orders(client: BtxClient, journal: SqliteJournal | None) -> tuple[Order, ...]:
    """Every open order of the account, recorded in the journal."""
    orders = await client.open_orders()
    record_observed(journal, orders)
    return orders


async def observed_history(client: BtxClient, journal: SqliteJournal | None, symbol: str,
                           limit: int = 100) -> tuple[tuple[Order, ...], tuple[MyTrade, ...]]:
    """Recent orders and own trades of ``symbol``, recorded in the journal."""
    orders = await client.all_orders(symbol, limit=limit)
    trades = await client.my_trades(symbol, limit=limit)
    record_observed(journal, orders, trades)
    return orders, trades


async def cancel_recorded(client: BtxClient, journal: SqliteJournal | None, symbol: str, order_id: int) -> Order:
    """Cancel one order and record the exchange's answer."""
    order = await client.cancel_order(symbol, order_id=order_id)
    record_observed(journal, (order,))
    return order


async def cancel_all_recorded(client: BtxClient, journal: SqliteJournal | None, symbol: str) -> tuple[Order, ...]:
    """Cancel every open order of ``symbol`` and record each answer."""
    reports = await client.cancel_open_orders(symbol)
    record_observed(journal, reports)
    return reports
