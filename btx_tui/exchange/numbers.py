"""Wire formatting of Decimals.

The contract sends every price, quantity and amount as a JSON string without exponent;
the paper exchange pads to at least 8 decimals (``"0.00100000"``) and keeps more when the
value needs them (BTT prices such as ``"0.0000006123"``).  Money never passes through
float here.
"""

from __future__ import annotations

from decimal import Context, Decimal

__all__ = ["fmt", "parse_decimal", "ZERO", "EIGHT"]

ZERO = Decimal(0)
EIGHT = Decimal("0.00000001")
# Wide enough for any amount the exchange can hold (max qty 1e11 * 1e-10 ticks ...), so
# quantize never raises nor rounds.
_CTX = Context(prec=60)


def fmt(value: Decimal) -> str:
    """``value`` as a plain decimal string with at least 8 decimals and no exponent."""
    if not value:
        return "0.00000000"
    value = value.normalize(_CTX)
    if value.as_tuple().exponent > -8:  # type: ignore[operator]
        value = value.quantize(EIGHT, context=_CTX)
    return format(value, "f")


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal string that already matched the contract's regex."""
    return Decimal(text)
