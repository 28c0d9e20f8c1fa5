"""Order-book price levels from the wire: ``[["price","qty"], ...]`` → immutable Decimal pairs.

Why a module of its own: a depth poll carries hundreds of levels, so their parsing is tuned
(named tuples instead of models, a C-level fast path, a bounded memo of wire text) and
has invariants of its own — no float, NaN, sign or exponent ever becomes a price. The
response models in :mod:`btx_tui.api.models` only use :data:`PriceLevels`; it re-exports
:class:`PriceLevel`, :data:`PriceLevels` and :func:`parse_levels`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Annotated, Any, NamedTuple

from pydantic import PlainSerializer, PlainValidator

__all__ = ["PriceLevel", "PriceLevels", "parse_levels"]


class PriceLevel(NamedTuple):
    """One ``["price","qty"]`` pair of the order book.

    A named tuple rather than a pydantic model: a 100-level book has 200 of them and a model
    per level cost ~1.5 µs of validation each (~40 % of a depth call). Levels are validated
    by :class:`Depth` (:func:`parse_levels`), and are just as immutable.
    """

    price: Decimal
    qty: Decimal


#: A plain non-negative decimal (no sign, exponent, NaN, Infinity or whitespace).
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,40}(\.[0-9]{1,40})?").fullmatch
#: ``PriceLevel._make`` without its Python-level frame (C all the way: ~3x cheaper per level).
_new_level = partial(tuple.__new__, PriceLevel)


def _level_number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"price level value {value[:40]!r} is not a decimal number") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, float):
        raise ValueError("price level value is a float; money must be parsed as Decimal")
    else:
        raise ValueError(f"price level value must be a decimal string, not {type(value).__name__}")
    if not number.is_finite() or number < 0:
        raise ValueError("price level value must be a finite, non-negative number")
    return number


def _slow_levels(levels: list[Any] | tuple[Any, ...]) -> tuple[PriceLevel, ...]:
    out = []
    for level in levels:
        if isinstance(level, dict):
            level = (level.get("price"), level.get("qty"))
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise ValueError("price level needs [price, qty]")
        out.append(PriceLevel(_level_number(level[0]), _level_number(level[1])))
    return tuple(out)


def parse_levels(value: Any) -> tuple[PriceLevel, ...]:
    """``[["price","qty"], ...]`` → ``(PriceLevel, ...)``; ``ValueError`` on anything else.

    Fast path for what the exchange sends (lists of two plain decimal strings): one C-level
    pass each to flatten, check the characters and build the Decimals. Everything else
    (ints, Decimals, ``PriceLevel``/dicts, extra elements, signs, exponents) goes through a
    per-level check; floats, NaN, infinities and non-numbers are refused either way.
    """
    if not isinstance(value, list | tuple):
        raise ValueError("price levels must be a list")
    if value and (levels := _known_levels(value)) is not None:
        return levels
    return _slow_levels(value)


_LEVEL_MEMO: dict[tuple[str, str], PriceLevel] = {}
"""Wire text pair → level. A polled book repeats most of its levels from one poll to the
next, so each ``("price", "qty")`` pair is converted once. Levels are immutable tuples of
Decimals, so sharing them is safe; the memo is bounded."""
_LEVEL_MEMO_MAX = 1 << 16
_PAIR_TYPES = frozenset({list, tuple})


def _known_levels(value: list | tuple) -> tuple[PriceLevel, ...] | None:
    """Levels through :data:`_LEVEL_MEMO`, or None to let the careful path decide.

    Hits were checked when first seen, so only new pairs are checked here (two plain
    decimal strings each). Only hashing and dict/set operations touch the hot path:
    comparing Decimals with anything else (even ``None``) runs slow ABC ``isinstance``
    checks, and a regex over the whole body on every poll costs more than the lookups.
    """
    if not set(map(type, value)) <= _PAIR_TYPES:  # e.g. "12" would iterate into ("1", "2")
        return None
    try:
        pairs = list(map(tuple, value))
        unseen = set(pairs).difference(_LEVEL_MEMO)
    except TypeError:  # not iterable, or unhashable parts: the careful path explains it
        return None
    memo = _LEVEL_MEMO
    if unseen:
        if len(memo) > _LEVEL_MEMO_MAX:
            memo.clear()
            unseen = set(pairs)
        for pair in unseen:
            if len(pair) != 2 or not all(type(t) is str and _PLAIN_DECIMAL(t) for t in pair):
                return None
            memo[pair] = _new_level((Decimal(pair[0]), Decimal(pair[1])))
    return tuple(map(memo.__getitem__, pairs))


#: Validated by :func:`parse_levels`; serialised as ``[[price, qty], ...]`` like the wire.
PriceLevels = Annotated[
    tuple[PriceLevel, ...],
    PlainValidator(parse_levels),
    PlainSerializer(lambda levels: [[str(p), str(q)] for p, q in levels], when_used="json"),
]
