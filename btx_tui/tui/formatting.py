"""Display formatting of Decimals: exact, aligned, never scientific notation.

Prices show exactly the decimals of the tick size (after grouping), quantities those of
the step size, so every number on screen is a value the exchange would accept.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def decimals_of(step: Decimal) -> int:
    """How many decimals a value on ``step``'s grid needs: 0.0010 → 3, 10 → 0."""
    step = step.normalize()
    exponent = step.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def fmt_fixed(value: Decimal, decimals: int, *, sep: bool = True) -> str:
    quant = Decimal(1).scaleb(-decimals)
    rounded = value.quantize(quant, rounding=ROUND_HALF_EVEN)
    return f"{rounded:,.{decimals}f}" if sep else f"{rounded:.{decimals}f}"


def fmt_price(value: Decimal, step: Decimal) -> str:
    return fmt_fixed(value, decimals_of(step))


UNKNOWN = "—"
"""Shown where a price is not known yet: never a zero that could be read as a price."""


def fmt_known_price(value: Decimal | None, step: Decimal) -> str:
    """``value`` on ``step``'s grid, or a dash when unknown (None, or the zero an exchange
    reports for a market that has not traded yet)."""
    return UNKNOWN if not value else fmt_price(value, step)


def fmt_amount(value: Decimal, step: Decimal) -> str:
    return fmt_fixed(value, decimals_of(step))


def fmt_exact(value: Decimal) -> str:
    """``value`` exactly, grouped, without trailing zeros: 20000.00000000 → 20,000; 0.000010 → 0.00001.

    For amounts with no grid of their own to round to (a fee in whatever asset it was paid).
    """
    text = f"{value.normalize():,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_compact(value: Decimal) -> str:
    """Volumes and balances in little space: 1.23K, 45.6M, 7.89B; small values as is."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K")):
        if value >= limit:
            return f"{sign}{value / limit:,.2f}{suffix}"
    return f"{sign}{value:,.2f}" if value >= 1 else f"{sign}{value.normalize():f}"


def fmt_signed_pct(value: Decimal) -> str:
    return f"{value:+.2f}%"


def fmt_balance(value: Decimal) -> str:
    """A balance: exact up to 8 decimals, trailing zeros dropped but at least 2 kept."""
    text = fmt_fixed(value, 8)
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac.ljust(2, '0')}"


def fit(exact: str, value: Decimal, width: int) -> str:
    """``exact`` if it fits ``width`` with a space to spare, else the compact form (17.10B)."""
    return exact if len(exact) < width else fmt_compact(value)
