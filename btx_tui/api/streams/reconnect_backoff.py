"""Jittered exponential backoff between stream reconnects.

Why a module of its own: a reconnect storm (every dashboard reconnecting in lock step after an
exchange restart) is what jitter prevents, and the delay rule is shared by both stream
connections. It is one small function so that the project-wide backoff helper (being added as
``btx_tui/backoff.py``) can replace it by changing one import.
"""

from __future__ import annotations

import random

__all__ = ["reconnect_delay"]


def reconnect_delay(attempt: int, *, base_s: float = 0.2, cap_s: float = 15.0,
                    rng: random.Random | None = None) -> float:
    """Seconds to wait before reconnect ``attempt`` (1-based): "full jitter" on ``base·2^(n-1)``.

    Uniform in ``[0, min(cap, base·2^(attempt-1))]``, never below 10 % of that bound so a
    refused connection is not retried in a busy loop.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    bound = min(cap_s, base_s * (2 ** min(attempt - 1, 30)))
    return (rng or random).uniform(bound * 0.1, bound)
