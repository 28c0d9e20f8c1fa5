"""Request weights of the BTX v3 contract (section 3) that depend on parameters.

Both sides of the wire charge by these rules: the service layer to keep its budget, the
paper exchange to enforce its limits. The rules live here, in a module that belongs to
neither, so the client still imports nothing of the exchange and the two cannot drift.
"""

from __future__ import annotations


def depth_weight(limit: int) -> int:
    """``GET /api/v3/depth``: 5 (limit ≤ 100), 25 (≤ 500), 50 (≤ 1000), 250 (more)."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def ticker_24hr_weight(symbols: int | None) -> int:
    """``GET /api/v3/ticker/24hr`` for ``symbols`` markets (None: all of them)."""
    if symbols is None:
        return 80
    if symbols <= 20:
        return 2
    if symbols <= 100:
        return 40
    return 80
