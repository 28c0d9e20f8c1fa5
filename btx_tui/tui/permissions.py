"""Which key permission each trading action needs, and the words that say why it is refused.

One table read by the app (``check_action`` disables the bindings, the footer greys them),
the trading actions (a refused key press says why) and the help screen (it says why too).
"""

from __future__ import annotations

__all__ = ["NEEDS", "PERMISSION_REASON", "refusal"]

PERMISSION_REASON = {
    "TRADE": "this API key has no TRADE permission",
    "WITHDRAW": "this API key has no WITHDRAW permission",
}
"""Key permission → why an action needing it is disabled."""

NEEDS = {"buy": "TRADE", "sell": "TRADE", "oco": "TRADE", "amend_order": "TRADE", "cancel_order": "TRADE",
         "cancel_all": "TRADE", "withdraw": "WITHDRAW"}
"""Action (and binding id) → the key permission it needs."""

WHAT = {"buy": "Buying", "sell": "Selling", "oco": "Placing an OCO", "amend_order": "Amending", "cancel_order": "Cancelling", "cancel_all": "Cancelling",
        "withdraw": "Withdrawing"}


def refusal(action: str, permissions: frozenset[str], markets_known: bool) -> str | None:
    """Why ``action`` may not run now (None: it may).

    Until the markets and the key's permissions are known, nothing that trades may run.
    """
    need = NEEDS.get(action)
    if need is None:
        return None
    what = WHAT[action]
    if not markets_known:
        return f"{what} is not available yet: still connecting to the exchange."
    if need not in permissions:
        return f"{what} is disabled: {PERMISSION_REASON[need]}."
    return None
