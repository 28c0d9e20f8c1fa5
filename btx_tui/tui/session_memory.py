"""What the trader chose last time — theme, chart interval, book grouping, selected market and
watchlist — kept in a small JSON file in the data dir so the next start looks the same.

Why a file of its own and not the config: the config is the trader's, written by hand (and
perhaps kept in version control); the app never rewrites it. This file is the app's, written
atomically (a temporary file renamed over the old one) after every change, so a crash never
leaves half a file. A missing, unreadable or corrupt file is ignored with a log warning: losing
the memory of a layout must never stop the dashboard.

Precedence: a value the trader set explicitly (config file, environment or flag) wins over the
remembered one, which wins over the built-in default. So ``--symbol ETHUSDT`` or
``[ui] theme = "nord"`` always hold at start; changes made in the app are still remembered and
come back once the explicit setting is removed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from btx_tui.config import Settings, UiSettings

log = logging.getLogger(__name__)

FILE_NAME = "session.json"


class Remembered(BaseModel):
    """The remembered choices; None: nothing remembered for it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    theme: str | None = None
    chart_interval: str | None = None
    book_grouping: int | None = None
    """The book's price grouping as a multiple of the tick (1, 10, 100, 1000)."""
    symbol: str | None = None
    watchlist: tuple[str, ...] | None = None


def load(path: Path) -> Remembered:
    """The choices remembered in ``path``; nothing remembered if it is missing or corrupt."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Remembered()
    except OSError as exc:
        log.warning("cannot read the remembered session %s (%s): starting from the config", path, exc.strerror)
        return Remembered()
    try:
        return Remembered.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        log.warning("ignoring the corrupt remembered session %s: %s", path, str(exc).splitlines()[0])
        return Remembered()


def save(path: Path, remembered: Remembered) -> None:
    """Write ``remembered`` to ``path`` atomically; a failure is logged, never raised."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".session-", suffix=".json", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(remembered.model_dump_json(indent=2, exclude_none=True))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("cannot remember the session in %s: %s", path, exc)


def with_remembered(settings: Settings, remembered: Remembered, explicit: Collection[str] = ()) -> Settings:
    """``settings`` with the remembered choices where the trader set nothing explicitly.

    Args:
        explicit: dotted keys (``ui.theme``) the config file, environment or flags set.
    """
    ui: dict[str, Any] = {}
    for key in ("theme", "chart_interval", "symbol", "watchlist"):
        value = getattr(remembered, key)
        if value is not None and f"ui.{key}" not in explicit:
            ui[key] = value
    if not ui:
        return settings
    merged = {**settings.ui.model_dump(), **ui}
    try:
        new_ui = UiSettings.model_validate(merged)
    except ValidationError as exc:
        log.warning("ignoring the remembered session: %s", str(exc).splitlines()[0])
        return settings
    return settings.model_copy(update={"ui": new_ui})
