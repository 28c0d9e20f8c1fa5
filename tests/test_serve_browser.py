"""`btx-tui serve` in a real headless Chromium: the dashboard renders and an order placed from
the page reaches the paper exchange; the token and same-origin guards refuse strangers.

The browser is Debian's ``chromium``, driven over the Chrome DevTools protocol with aiohttp's
WebSocket client (already a dependency).  The terminal is drawn on a canvas, so "renders" is
checked on what the page received over its WebSocket (the dashboard's screen output, which
xterm.js draws) plus a screenshot that must not be blank.  Outside CI the browser test skips
when chromium is absent; in CI (``CI=true``, ``.ci/run`` installs chromium) it always runs.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from btx_tui import paths
from btx_tui.api.client import BtxClient
from btx_tui.exchange.process.launcher import PaperExchange, start_paper_exchange

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(tmp: Path, host: str, port: int) -> tuple[subprocess.Popen[str], str]:
    config = tmp / "config.toml"
    config.write_text('[ui]\nsymbol = "BTCUSDT"\nwatchlist = ["BTCUSDT", "ETHUSDT", "BTTUSDT"]\n')
    proc = subprocess.Popen([sys.executable, "-m", "btx_tui", "serve", "--host", host, "--port", str(port),
                             "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "serving the dashboard on" in line, line + (proc.stderr.read() if proc.poll() is not None else "")
    url = line.split(" on ", 1)[1].strip()
    deadline = time.monotonic() + 20
    while True:  # listening?
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture
def paper(tmp_path: Path) -> Iterator[PaperExchange]:
    """The paper exchange the served dashboards attach to (the one paper mode uses)."""
    ex = start_paper_exchange(paths.paper_data_dir(), seed=42)
    try:
        yield ex
    finally:
        ex.stop()


def test_off_loopback_the_page_needs_the_token_and_strangers_get_403(tmp_path: Path) -> None:
    port = free_port()
    proc, url = start_serve(tmp_path, "0.0.0.0", port)
    try:
        token = re.search(r"\?token=([\w-]+)$", url)
        assert token and len(token.group(1)) >= 32, url
        base = f"http://127.0.0.1:{port}"

        async def probe() -> list[int]:
            async with aiohttp.ClientSession() as s:
                codes = []
                for path in ("/", "/?token=wrong", "/ws", f"/?token={token.group(1)}"):
                    async with s.get(base + path) as r:
                        codes.append(r.status)
                        if r.status == 200:
                            assert "data-session-websocket-url" in await r.text()
                            assert r.cookies["btx_serve_token"]["httponly"]
                async with s.get(base + "/static/js/textual.js") as r:
                    codes.append(r.status)  # the assets are public
                return codes

        assert asyncio.run(probe()) == [403, 403, 403, 200, 200]
    finally:
        stop(proc)


def test_on_loopback_no_token_but_a_foreign_origin_cannot_open_the_websocket(tmp_path: Path) -> None:
    port = free_port()
    proc, url = start_serve(tmp_path, "127.0.0.1", port)
    try:
        assert url == f"http://127.0.0.1:{port}/"

        async def probe() -> tuple[int, int]:
            async with aiohttp.ClientSession() as s:
                async with s.get(url) as r:
                    page = r.status
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await s.ws_connect(f"ws://127.0.0.1:{port}/ws", origin="http://evil.example")
                return page, refused.value.status

        assert asyncio.run(probe()) == (200, 403)
    finally:
        stop(proc)


class Cdp:
    """The few Chrome DevTools protocol calls this test needs, over one page WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.received = bytearray()  # what the page's own WebSocket received (the dashboard's output)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                resp = data["params"]["response"]
                payload = resp["payloadData"]
                self.received += base64.b64decode(payload) if resp["opcode"] == 2 else payload.encode()

    async def call(self, method: str, **params: object) -> dict:
        n = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[n] = fut
        await self.ws.send_json({"id": n, "method": method, "params": params})
        reply = await asyncio.wait_for(fut, 30)
        assert "error" not in reply, reply
        return reply.get("result", {})

    async def key(self, key: str, text: str | None = None, code: int = 0) -> None:
        for kind in ("keyDown", "keyUp"):
            params: dict = {"type": kind, "key": key, "windowsVirtualKeyCode": code or ord(key.upper()[0])}
            if kind == "keyDown" and text is not None:
                params["text"] = text
            await self.call("Input.dispatchKeyEvent", **params)

    async def type(self, text: str) -> None:
        for ch in text:
            await self.key(ch, ch, 190 if ch == "." else ord(ch.upper()))  # 190: VK_OEM_PERIOD

    def text(self) -> str:
        return self.received.decode("utf-8", "replace")


async def wait_until(cond, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.mark.skipif(CHROMIUM is None and not IN_CI,
                    reason="chromium is not installed (Debian: apt-get install chromium); CI installs it")
def test_the_dashboard_renders_in_chromium_and_takes_an_order(tmp_path: Path, paper: PaperExchange) -> None:
    assert CHROMIUM is not None, "CI must install chromium (.ci/run)"
    port = free_port()
    proc, url = start_serve(tmp_path, "127.0.0.1", port)
    browser = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--remote-debugging-port=0", f"--user-data-dir={tmp_path / 'chromium'}",
                                "--window-size=1600,1000", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert browser.stderr is not None
        devtools = None
        for _ in range(200):
            line = browser.stderr.readline()
            if m := re.search(r"DevTools listening on (ws://\S+)", line):
                devtools = m.group(1)
                break
        assert devtools, "chromium did not start its DevTools endpoint"
        http = "http://" + devtools.split("/")[2]
        shot = asyncio.run(_drive(http, url, paper, tmp_path / "downloads"))
        assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000  # a drawn dashboard, not a blank page
        (tmp_path / "browser.png").write_bytes(shot)
        if os.environ.get("BTX_UPDATE_SCREENSHOTS"):
            (REPO / "screenshots" / "browser.png").write_bytes(shot)
    finally:
        stop(browser)
        stop(proc)


async def _drive(http: str, url: str, paper: PaperExchange, downloads: Path) -> bytes:
    async with aiohttp.ClientSession() as s:
        async with s.get(http + "/json/list") as r:
            page = next(t for t in await r.json() if t["type"] == "page")
        async with s.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = Cdp(ws)
            await cdp.call("Network.enable")
            await cdp.call("Page.enable")
            downloads.mkdir()
            await cdp.call("Page.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
            await cdp.call("Page.navigate", url=url)
            # The dashboard's watchlist, with real (backfilled) prices, reached the page.
            await wait_until(lambda: all(s in cdp.text() for s in ("BTCUSDT", "ETHUSDT", "BTTUSDT"))
                             and "95,0" in cdp.text(), "the watchlist in the page")
            await asyncio.sleep(2)  # let the panes fill in before the screenshot
            shot = base64.b64decode((await cdp.call("Page.captureScreenshot", format="png"))["data"])
            await cdp.call("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
            seen = len(cdp.received)
            await cdp.type("b")  # the order form, price prefilled, quantity focused
            await wait_until(lambda: "Review" in cdp.received[seen:].decode("utf-8", "replace"), "the order form")
            await cdp.type("0.00100")
            await cdp.key("Enter", "\r", 13)  # review
            await wait_until(lambda: "order?" in cdp.received[seen:].decode("utf-8", "replace"), "the confirmation")
            await asyncio.sleep(0.6)  # the confirmation ignores keys for a moment (no accidental Enter)
            await cdp.type("y")
            key, secret = paper.key("full")
            async with BtxClient(paper.base_url, key, SecretStr(secret), trust_env=False) as client:
                orders: tuple = ()
                deadline = time.monotonic() + 30
                while not orders and time.monotonic() < deadline:
                    orders = tuple(o for o in await client.all_orders("BTCUSDT") if o.orig_qty == Decimal("0.001"))
                    await asyncio.sleep(0.3)
            assert len(orders) == 1 and orders[0].side == "BUY", orders
            # `x` exports the market's orders and fills: in a browser, one zip download holding both.
            await cdp.type("x")
            await wait_until(lambda: any(downloads.glob("BTCUSDT-export-*.zip")), "the export's download")
            with zipfile.ZipFile(next(downloads.glob("BTCUSDT-export-*.zip"))) as archive:
                names = sorted(archive.namelist())
                assert [n.split("-")[1] for n in names] == ["fills", "orders"], names
                header, *rows = archive.read(names[1]).decode().splitlines()
            assert header.startswith("time,update_time,symbol,order_id,"), header
            assert any(f",BTCUSDT,{orders[0].order_id}," in row and ",BUY," in row for row in rows), rows
            cdp.reader.cancel()
            return shot
