"""Shared fixtures: a real paper exchange on a loopback port.

The exchange runs as a child process started exactly as a trader would start it
(``python -m btx_tui exchange``), so service-layer and UI tests talk to the real
server over a real socket.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user's config, data and log directories."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(var, str(home / sub))
    for var in ("BTX_CONFIG", "BTX_BASE_URL", "BTX_API_KEY", "BTX_API_SECRET", "BTX_ADMIN_TOKEN",
                "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


def _start(tmp: Path) -> PaperExchange:
    return start_paper_exchange(tmp / "paper", market=False, seed=1)


@pytest.fixture(scope="session")
def paper_exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    """One quiet paper exchange (no synthetic market) shared by the whole session."""
    ex = _start(tmp_path_factory.mktemp("session-exchange"))
    try:
        yield ex
    finally:
        ex.stop()


@pytest.fixture
def fresh_exchange(tmp_path: Path) -> Iterator[PaperExchange]:
    """A paper exchange of the test's own, with a fresh database."""
    ex = _start(tmp_path)
    try:
        yield ex
    finally:
        ex.stop()


@pytest.fixture
def canary() -> str:
    """A unique secret-looking string that must never appear in any output."""
    return "CANARY" + os.urandom(12).hex().upper()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the tests marked ``long`` first.

    xdist hands tests out in collection order; a 20-second test handed out last keeps one
    worker busy after the other has run out of work. Started first, the long ones run side by
    side with the many short ones and the workers finish together.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: order kept otherwise
