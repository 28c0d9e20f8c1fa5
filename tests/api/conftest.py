"""Helpers for the service-layer tests against the real paper exchange.

``FaultTransport`` wraps the REAL transport (the client's own aiohttp one by default)
and injects faults *around* real requests ("forward to the server, then reset the
connection"), so the exchange really executes what it receives and the test can prove what
exists afterwards.
"""

from __future__ import annotations

import contextlib

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from btx_tui.api import BtxClient, ResolvePolicy, RetryPolicy
from btx_tui.api.http import default_transport

#: Fast retries so the suite stays short (never asserted on).
FAST_RETRY = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05)
FAST_RESOLVE = ResolvePolicy(absent_after=3, max_queries=6, base_delay_s=0.01, max_delay_s=0.05, settle_s=0.0)

# Fault modes
PASS, RESET_AFTER, STATUS_503_AFTER, STATUS_503_BEFORE, GARBAGE_AFTER, CONNECT_FAIL = (
    "pass", "reset-after", "503-after", "503-before", "garbage-after", "connect-fail")


@dataclass
class FaultTransport(httpx.AsyncBaseTransport):
    """Forward to the real transport; ``plan(request)`` picks a fault for each request."""

    plan: Callable[[httpx.Request], str] = lambda request: PASS
    inner: httpx.AsyncBaseTransport = field(default_factory=default_transport)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p in self.seen if (m, p) == (method, path))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, request.url.path))
        mode = self.plan(request)
        if mode == CONNECT_FAIL:
            raise httpx.ConnectError("connection refused", request=request)
        if mode == STATUS_503_BEFORE:
            return httpx.Response(503, content=b"<html><body>503 Service Unavailable</body></html>",
                                  headers={"Content-Type": "text/html"})
        response = await self.inner.handle_async_request(request)
        await response.aread()
        await response.aclose()
        if mode == RESET_AFTER:
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if mode == STATUS_503_AFTER:
            return httpx.Response(503, json={"code": -1000, "msg": "An unknown error occurred"})
        if mode == GARBAGE_AFTER:
            return httpx.Response(200, content=b'{"symbol":"BTCUSDT","orderId":', headers=response.headers)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def once(method: str, path: str, mode: str) -> Callable[[httpx.Request], str]:
    """A plan that faults only the first matching request."""
    fired = [False]

    def plan(request: httpx.Request) -> str:
        if not fired[0] and request.method == method and request.url.path == path:
            fired[0] = True
            return mode
        return PASS

    return plan


@pytest.fixture
def make_client(paper_exchange):
    """``async with make_client("full", transport=…) as client`` against the session exchange."""

    @asynccontextmanager
    async def factory(key: str | None = "full", *, secret: str | None = None, exchange=None,
                      **kwargs) -> AsyncIterator[BtxClient]:
        ex = exchange or paper_exchange
        api_key = api_secret = None
        if key is not None:
            api_key, real_secret = ex.key(key)
            api_secret = SecretStr(secret if secret is not None else real_secret)
        kwargs.setdefault("retry", FAST_RETRY)
        async with BtxClient(ex.base_url, api_key, api_secret, **kwargs) as client:
            yield client

    return factory


@dataclass
class ForwardProxy:
    """A real HTTP forward proxy (proxy.py, from PyPI) on a free loopback port.

    ``log()`` is what its :mod:`.proxy_recorder` plugin wrote: one ``METHOD host:port/path``
    line per request it forwarded.
    """

    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, needle: str, timeout_s: float = 10.0) -> str:
        """The access log once it names ``needle`` (the proxy writes it after answering)."""
        deadline = time.monotonic() + timeout_s
        while needle not in (text := self.log()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return text


@pytest.fixture
def forward_proxy(tmp_path: Path) -> Iterator[ForwardProxy]:
    """proxy.py started for this test; its access log says which requests went through it."""
    with run_forward_proxy(tmp_path) as proxy:
        yield proxy


@contextlib.contextmanager
def run_forward_proxy(tmp_path: Path, *extra_args: str) -> Iterator[ForwardProxy]:
    """proxy.py with ``extra_args`` (e.g. ``--basic-auth user:pass``) on a free loopback port."""
    port_file, log_path = tmp_path / "proxy.port", tmp_path / "forwarded.log"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "BTX_TEST_PROXY_RECORD": str(log_path),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0",
         "--port-file", str(port_file), "--num-acceptors", "1", "--num-workers", "1",
         "--plugins", "tests.api.proxy_recorder.RecordRequests",
         "--log-level", "WARNING", "--log-file", str(tmp_path / "proxy.log"), *extra_args],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("proxy.py did not start (see proxy.log in the test's tmp dir)")
            time.sleep(0.05)
        yield ForwardProxy(f"http://127.0.0.1:{int(port_file.read_text())}", log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
