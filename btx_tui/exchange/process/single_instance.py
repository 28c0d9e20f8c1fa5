"""One paper exchange per data directory, and children that die with their parent.

Two exchange processes on one SQLite database would each keep their own in-memory books
and overwrite each other's rows; the lock file makes the second one refuse to start, and
``server.json`` tells it (and the dashboard) where the running one listens.

A dashboard starts its paper exchange with a pipe on stdin and ``--exit-with-parent``:
when the dashboard dies — even by ``kill -9`` — the pipe closes, the exchange reads EOF
and shuts down cleanly instead of running on as an orphan.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

LOCK_FILE = "exchange.lock"
SERVER_FILE = "server.json"


class DataDirBusy(RuntimeError):
    """Another paper exchange holds the data directory."""

    def __init__(self, data_dir: Path, url: str | None) -> None:
        where = f" at {url}" if url else ""
        super().__init__(f"another paper exchange is already running on {data_dir}{where}")
        self.url = url


def acquire_lock(data_dir: Path) -> IO[str]:
    """Lock ``data_dir`` for this process (released when the process exits, however it exits)."""
    import fcntl

    handle = open(data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the process lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise DataDirBusy(data_dir, running_url(data_dir)) from None
    return handle


def running_url(data_dir: Path) -> str | None:
    """The URL the exchange holding ``data_dir`` announced, if any."""
    try:
        return json.loads((data_dir / SERVER_FILE).read_text())["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def announce(data_dir: Path, url: str) -> None:
    (data_dir / SERVER_FILE).write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n")


def withdraw_announcement(data_dir: Path) -> None:
    with contextlib.suppress(OSError):
        (data_dir / SERVER_FILE).unlink()


def exit_when_stdin_closes(on_eof: Callable[[], None]) -> threading.Thread:
    """Call ``on_eof`` (from a daemon thread) once stdin reaches end of file."""

    def watch() -> None:
        # os.read on the raw descriptor, not sys.stdin: a daemon thread blocked inside a
        # buffered reader's lock aborts the interpreter at shutdown.
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        on_eof()

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
