"""``x``: the selected market's fills and order history written as CSV, from the dashboard.

The same rows as ``btx-tui export`` (``api/export.py``: exact decimals, a header, ISO 8601
times with the offset of the configured zone), fetched afresh from the exchange — every page,
not only what the panes happen to hold. Each file is written under a temporary name and
renamed, so an interrupted export never leaves half a CSV. In a browser (``btx-tui serve``)
the files would land on the server, out of the trader's reach, so there both go to the browser
as one download, a zip (Textual's ``deliver_binary``, which textual-serve turns into a browser
download; browsers block a second download a page starts on its own). The worker answers with a typed past-tense message (:class:`ExportWritten` /
:class:`ExportFailed`); the app tells the trader.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from textual.app import App
from textual.message import Message

from btx_tui.api.export import write_fills_csv, write_orders_csv
from btx_tui.api.history import fetch_fills, fetch_orders

log = logging.getLogger(__name__)


class ExportWritten(Message):
    """An export finished: ``files`` (path, rows) in the order written; ``download``: the zip
    holding them that was sent to the browser (the paths are then names inside it)."""

    def __init__(self, files: tuple[tuple[Path, int], ...], *, download: str | None = None) -> None:
        super().__init__()
        self.files = files
        self.download = download


class ExportFailed(Message):
    """An export could not be done; ``reason`` says why in the trader's words."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def write_atomically(path: Path, write: Callable[[Any], int]) -> int:
    """Run ``write`` on a temporary file next to ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            rows = write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rows


class Exporter:
    """Writes ``<symbol>-fills-<stamp>.csv`` and ``<symbol>-orders-<stamp>.csv`` into ``out_dir``
    (in a browser: downloads of those names)."""

    def __init__(self, app: App[Any], client: Callable[[], Any], out_dir: Path, zone: tzinfo | None) -> None:
        self.app = app
        self._client = client
        self.out_dir = out_dir
        self.zone = zone

    def start(self, symbol: str) -> None:
        self.app.run_worker(self._export(symbol), name="export", group="export", exclusive=True,
                            exit_on_error=False)

    async def _export(self, symbol: str) -> None:
        client = self._client()
        if client is None:
            self.app.post_message(ExportFailed("not connected yet"))
            return
        zone = self.zone or datetime.now(UTC).astimezone().tzinfo or UTC
        stamp = datetime.now(zone).strftime("%Y%m%d-%H%M%S")
        try:
            fills = await fetch_fills(client, [symbol])
            orders = await fetch_orders(client, [symbol])
            files = []
            csvs: dict[str, str] = {}
            for what, rows, write in (("fills", fills, write_fills_csv), ("orders", orders, write_orders_csv)):
                name = f"{symbol}-{what}-{stamp}.csv"
                if self.app.is_web:
                    text = io.StringIO(newline="")
                    files.append((Path(name), write(rows, text, zone)))
                    csvs[name] = text.getvalue()
                else:
                    path = self.out_dir / name
                    count = write_atomically(path, lambda f, rows=rows, write=write: write(rows, f, zone))
                    files.append((path, count))
            download = None
            if csvs:
                download = f"{symbol}-export-{stamp}.zip"
                self.app.deliver_binary(_zipped(csvs), save_filename=download, mime_type="application/zip")
        except OSError as exc:
            self.app.post_message(ExportFailed(f"cannot write to {self.out_dir}: {exc.strerror or exc}"))
        except Exception as exc:  # noqa: BLE001 - the exchange refused or is away: say so
            log.warning("export of %s failed: %s", symbol, exc)
            self.app.post_message(ExportFailed(str(exc)))
        else:
            self.app.post_message(ExportWritten(tuple(files), download=download))


def _zipped(files: dict[str, str]) -> io.BytesIO:
    """The files (name -> text) in one zip, rewound for reading."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    buffer.seek(0)
    return buffer
