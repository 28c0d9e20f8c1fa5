"""Shared fixtures: a real paper exchange on a loopback port.

The exchange runs as a child process started exactly as a trader would start it
(``python -m btx_tui exchange``), so service-layer and UI tests talk to the real
server over a real socket.

Three ways to get one:

* ``fresh_account``: an account of the test's own (demo funding, demo key names, an empty
  book) on an exchange the worker's tests share (``tests/paper_account.py``). The default.
* ``fresh_exchange``: an exchange of the test's own, for tests that stop, kill, restart or
  freeze it, inject faults, change its clock or limits, read its data directory, or assert on
  market-wide state another test's trades would change (tickers, klines, trade ids...).
* ``paper_exchange``: one exchange for the whole session, used through the demo account, with
  the contract's own limits (the tests of the contract read its ``X-MBX-USED-WEIGHT-1M``; the
  accounts' exchange has its limits out of reach instead, see ``tests/paper_account.py``).

Under xdist each worker has its own two session exchanges.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange
from tests.paper_account import SESSION_WEIGHT_LIMIT, SESSION_WEIGHT_WINDOW_S, PaperAccount, new_account


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


@pytest.fixture(scope="session")
def account_exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperExchange]:
    """The exchange ``fresh_account`` makes its accounts on (one per worker, no synthetic
    market, so the only orders in it are the tests' own; weight limits no test shares with
    another, see :data:`SESSION_WEIGHT_WINDOW_S`)."""
    ex = start_paper_exchange(tmp_path_factory.mktemp("account-exchange") / "paper", market=False, seed=1,
                              extra_args=["--weight-limit", str(SESSION_WEIGHT_LIMIT),
                                          "--weight-window", str(SESSION_WEIGHT_WINDOW_S)])
    try:
        yield ex
    finally:
        ex.stop()


@pytest.fixture
def fresh_account(account_exchange: PaperExchange) -> Iterator[PaperAccount]:
    """An account of the test's own on the worker's shared exchange, funded like the demo
    account; every order and order list it left is cancelled afterwards."""
    account = new_account(account_exchange)
    try:
        yield account
    finally:
        account.cancel_everything()


@pytest.fixture
def canary() -> str:
    """A unique secret-looking string that must never appear in any output."""
    return "CANARY" + os.urandom(12).hex().upper()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (addopts) means two workers per core, not one.

    A typical test here spends much of its time waiting: for a feed's next poll, for an
    exchange child to answer, for a withdrawal to complete. With one worker per core a third of
    the CPU sat idle; on the 2-core CI box 4 workers ran the suite in 109 s against 179 s for 2
    (docs/benchmarks.md). Every worker has its own exchanges, ports and data dirs.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 * cores


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start the tests marked ``long`` first.

    xdist hands tests out in collection order; a 20-second test handed out last keeps one
    worker busy after the other has run out of work. Started first, the long ones run side by
    side with the many short ones and the workers finish together.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: order kept otherwise
