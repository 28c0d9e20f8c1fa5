"""Chaos test: seeded order operations against a paper exchange that loses answers on purpose.

Why: the promise "never lose an order" only means something against a server that drops
connections after placing, answers 5xx/HTML/truncated JSON for requests it executed, hides
fresh orders and answers after the client gave up.  The driver lives in ``bench/chaos.py``
(the long run prints figures); here a short seeded run goes in CI and a >= 2,000-operation
run is marked ``slow``.  See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import chaos


def _assert_never_lost(figs: object, ops: int) -> None:
    """The invariants of the issue, each with the run's figures in the failure message."""
    f = figs  # type: ignore[assignment]
    detail = f"{f.summary()} problems={f.problems[:5]} unhandled={f.unhandled_samples[:2]}"
    assert f.ops == ops, detail
    assert f.restarts >= 2, detail
    # The run really was chaotic: faults fired and answers were lost on placements.
    assert f.requests_faulted > 0 and len(f.faults_by_kind) >= 5, detail
    assert f.unknown_seen > 0, detail
    # Every operation ended in a typed outcome or a typed BtxError.
    assert f.unhandled == 0, detail
    # No intent placed twice, nothing on the exchange the journal does not know.
    assert f.exchange_orders > 0, detail
    assert f.duplicates == 0, detail
    assert f.orphans == 0, detail
    # No order was reported "not placed" that the exchange in fact has.
    assert f.wrong_absent == 0, detail
    # After the faults stop and one reconciliation, nothing is left unknown and the journal
    # agrees with the exchange order by order, open order by open order, fill by fill.
    assert f.still_unknown_at_end == 0, detail
    assert f.state_mismatches == 0, detail
    assert f.open_orders_equal, detail
    assert f.exchange_trades > 0 and f.fills_equal, detail
    # Stop orders, OCO lists and amends were in the mix, and lists obey the same rules:
    # no list placed twice, none on the exchange the journal does not know, same states.
    assert f.list_placements > 0 and f.exchange_lists > 0 and f.amends > 0, detail
    assert f.list_duplicates == 0 and f.list_orphans == 0, detail
    assert f.list_state_mismatches == 0, detail
    assert f.problems == [], detail


@pytest.mark.long
def test_chaos_short(tmp_path: Path) -> None:
    """400 seeded operations, ~5 % of requests faulted, a client restart every 150.

    Without the waiting the long run spends: the exchange allows 1,000 orders per 10 s
    (``--order-limit``) instead of 50, so ~170 orders need no pacing; the client's recvWindow
    is 3 s (5 s by default), so an unknown outcome counts as absent 4 s after its request
    instead of 6 s, still 2.5 s past the longest late execution of the run (the 1.5 s
    ``delay`` fault); and those queries come at most 0.5 s apart once the request is old
    enough. What proves absence (three "does not exist" in a row, after the settle time) is
    the client's rule, unchanged.
    """
    cfg = chaos.ChaosConfig(ops=400, seed=7, restart_every=150, order_limit=1000, recv_window_ms=3000,
                            resolve_max_delay_s=0.5)
    figs = asyncio.run(chaos.run_chaos(cfg, tmp_path))
    _assert_never_lost(figs, 400)


@pytest.mark.slow
def test_chaos_long(tmp_path: Path) -> None:
    """The issue's run: 2,000 operations, a restart every 250 (run with ``-m slow``)."""
    cfg = chaos.ChaosConfig(ops=2000, seed=7, restart_every=250)
    figs = asyncio.run(chaos.run_chaos(cfg, tmp_path))
    _assert_never_lost(figs, 2000)
