"""Rate limits obeyed: the real dashboard at twice the default polling rate, ten weight windows.

Time is compressed (the exchange counts weight in 1-second windows, 100 weight each — the
contract's 6,000 a minute, scaled — and says so in ``exchangeInfo`` and the used-weight
header), so ten seconds stand for ten minutes. Seeded 429s with ``Retry-After: 1`` (the
shortest the header can say) hit random endpoints meanwhile, 5 % of requests (about one in
twenty of the ~60 requests, so several arrive). The scenario and its figures live in ``bench/soak.py``, which also runs
the uncompressed ten minutes; docs/reliability.md has both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import soak

FEEDS = 8
"""Polling feeds of the dashboard: at most this many requests can be in flight at once."""


@pytest.mark.long
@pytest.mark.timeout(180)
async def test_ten_window_soak_at_double_polling_earns_no_ban_and_waits_out_every_429(tmp_path: Path) -> None:
    figs = await soak.run_soak(tmp_path / "paper", seconds=10, window_s=1, fault_p=0.05, retry_after_s=1, seed=11)
    detail = f"{figs.summary()} samples={figs.violation_samples}"
    assert figs.windows >= 10, detail
    # The polling really was heavy: the budget ran close to the limit, never over it.
    assert figs.peak_window_weight > 0.6 * figs.weight_limit, detail
    assert figs.server_over_limit == 0, detail
    assert figs.server_bans == 0 and figs.client_saw_418 == 0, detail
    # 429s did arrive, and after each one nothing was sent until Retry-After had passed.
    assert figs.faults_429 >= 1 and figs.client_saw_429 >= figs.faults_429, detail
    assert figs.violations == 0, detail
    # What still reached the exchange inside a Retry-After window was already in flight.
    assert figs.server_strikes <= FEEDS * figs.faults_429, detail


def test_violations_are_requests_started_inside_a_retry_after_window() -> None:
    """The detector itself: a request started 1 s into a 2 s Retry-After counts, one after it does not."""
    log = [soak.Sent("/api/v3/depth", 0.0, 0.010, 429, 2.0),
           soak.Sent("/api/v3/account", 0.005, 0.012, 200),  # in flight when the 429 came: allowed
           soak.Sent("/api/v3/klines", 1.0, 1.01, 200),        # inside the window: a violation
           soak.Sent("/api/v3/depth", 2.02, 2.03, 200)]        # after it: fine
    found = soak.violations(log)
    assert len(found) == 1 and found[0].startswith("/api/v3/klines started 0.990 s after a 429")
