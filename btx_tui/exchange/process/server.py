"""``btx-tui exchange``: run the paper exchange on uvicorn (httptools + uvloop).

Start-up protocol relied upon by tests and scripts:

1. open the Exchange (creating the demo account and keys on first start);
2. write ``DATA_DIR/demo-keys.json`` (mode 0600);
3. bind the listening socket ourselves, so ``--port 0`` yields a known free port;
4. once uvicorn has started, print exactly
   ``BTX paper exchange listening on http://HOST:PORT`` as the first stdout line, flushed.

Nothing else is written to stdout: uvicorn's logs (no access log) go to stderr at warning
level; ``btx_tui`` loggers are left as the CLI configured them (stderr).  Ctrl-C / SIGTERM trigger uvicorn's graceful shutdown, then the Exchange is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from btx_tui.exchange.process import single_instance
from btx_tui.exchange.http.app import ExchangeApp, create_app
from btx_tui.exchange.http.fault_specs import FaultSpec
from btx_tui.exchange.http.faults import DROP_EXTENSION, FaultInjector
from btx_tui.exchange.http.ratelimit import Limits
from btx_tui.exchange.ws.connection import WsSettings
from btx_tui.exchange.ws.surface import install as install_websockets

log = logging.getLogger("btx_tui.exchange")

_LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                            "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"level": "WARNING"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}


class _Server(uvicorn.Server):
    """uvicorn's server without re-raising the captured signal after shutdown, and without
    its idle waits on the way out.

    Stock uvicorn re-raises SIGINT/SIGTERM once it has shut down, which would kill the
    process (SIGTERM) before the Exchange is closed; here ``run`` returns normally instead.

    Stock uvicorn also notices an exit request only at its next 0.1 s tick, then waits a fixed
    0.1 s for connections to see the close even when there are none: 0.15-0.2 s of every stop
    (the test suite stops an exchange a few hundred times). Here an exit request wakes the
    loop at once, and with no connection and no task left the shutdown skips that wait; with
    any, it is uvicorn's own graceful shutdown unchanged.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    def request_exit(self) -> None:
        """Ask for a graceful stop from any thread (the parent-watch thread uses it)."""
        self.should_exit = True
        self._wake_up()

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        self._wake_up()

    def _wake_up(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed already
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        """uvicorn's tick loop (headers, limits, the exit check every 0.1 s), woken early by
        an exit request."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self._wake.wait()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        # Nobody is connected: uvicorn's shutdown minus its wait for connections to close.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


class JsonHttpToolsProtocol(HttpToolsProtocol):
    """httptools protocol whose "malformed HTTP" answer is the contract's JSON error.

    uvicorn answers requests its parser rejects (e.g. a request line over 64 KiB, broken
    framing) with ``text/plain``; the contract wants JSON bodies for every error.
    It also offers the app a way to drop a connection without answering (fault injection's
    ``execute_then_drop``), which ASGI itself cannot express.
    """

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = {DROP_EXTENSION: self.transport.close}  # type: ignore[typeddict-unknown-key]

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"code": -1000, "msg": "Invalid HTTP request received."}).encode()
        used, header = b"0", b"x-mbx-used-weight-1m"
        app = getattr(self, "app", None)
        client = getattr(self, "client", None)
        if isinstance(app, ExchangeApp):
            header = app.weight_header
            if client:
                used = str(app.limiter.used_weight(client[0], app.clock())).encode()
        self.transport.write(b"".join([
            b"HTTP/1.1 400 Bad Request\r\n",
            b"content-type: application/json\r\n",
            b"content-length: ", str(len(body)).encode(), b"\r\n",
            header, b": ", used, b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]))
        self.transport.close()


def make_config(app: Any, *, tls_cert: Path | None = None, tls_key: Path | None = None) -> uvicorn.Config:
    """The uvicorn configuration of the paper exchange (tests reuse it in-process).

    ``tls_cert``/``tls_key`` (PEM files) make it serve HTTPS, and WSS on the same port:
    uvicorn's ssl options wrap the listening socket, whatever protocol runs on it.
    WebSockets are uvicorn's ``websockets-sansio`` implementation (the ``websockets`` library:
    framing, ping/pong, close handshake); its ping interval and pong timeout come from the
    installed surface's settings (``ws/connection.py``: 20 s and 60 s by default).
    """
    settings = getattr(getattr(app, "websocket", None), "settings", None) or WsSettings()
    return uvicorn.Config(
        app,
        ssl_certfile=os.fspath(tls_cert) if tls_cert else None,
        ssl_keyfile=os.fspath(tls_key) if tls_key else None,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http=JsonHttpToolsProtocol,
        ws="websockets-sansio",  # uvicorn's successor of ws="websockets" (same library, sans-I/O core)
        ws_ping_interval=settings.ping_interval_s,
        ws_ping_timeout=settings.pong_timeout_s,
        ws_max_size=65_536,
        ws_per_message_deflate=False,  # fan-out: compressing each frame per connection costs more than it saves on loopback
        lifespan="on",
        proxy_headers=False,  # X-Forwarded-For must not let a client pick its rate-limit IP
        access_log=False,
        log_config=_LOG_CONFIG,
        log_level="warning",
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=5,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def write_demo_keys(data_dir: Path, keys: list[dict]) -> Path:
    """Write ``demo-keys.json`` readable by its owner alone (0600, also if it existed)."""
    path = data_dir / "demo-keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        json.dump({"keys": keys}, handle, indent=2)
        handle.write("\n")
    return path


def write_admin_token(data_dir: Path, token: str | None) -> Path:
    """``DATA_DIR/admin-token`` (0600): the admin endpoints' token (``/admin/deposit``) for the
    owner of the data directory — the given ``--admin-token``, else a fresh random one."""
    import secrets

    from btx_tui.exchange.state.deposits import ADMIN_TOKEN_FILE

    path = data_dir / ADMIN_TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write((token or secrets.token_urlsafe(32)) + "\n")
    return path


def demo_key_entries(data_dir: Path, exchange: Any) -> list[dict]:
    """The demo keys for ``demo-keys.json``: the HMAC keys and the Ed25519 key with the path
    of its private key file (made on first start, beside ``demo-keys.json``, 0600)."""
    from btx_tui.exchange.key_admin import ensure_demo_ed25519

    ed = ensure_demo_ed25519(data_dir, exchange.accounts)
    entries = exchange.accounts.demo_keys()
    for entry in entries:
        if entry["api_key"] == ed["api_key"]:
            entry["private_key_file"] = ed["private_key_file"]
    return [e for e in entries if "api_secret" in e or "private_key_file" in e]


def bind_socket(host: str, port: int) -> socket.socket:
    """Create the listening socket (port 0 -> a free port the caller can read back)."""
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if host == "localhost":
        family = socket.AF_INET
        host = "127.0.0.1"
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def url_for(host: str, port: int, scheme: str = "http") -> str:
    host = host.strip("[]")
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


async def _serve(server: _Server, sock: socket.socket, url: str, exchange: Any,
                 market: bool, seed: int, data_dir: Path, history: Any = None) -> None:
    serve_task = asyncio.create_task(server.serve(sockets=[sock]))
    market_task: asyncio.Task | None = None
    history_task: asyncio.Task | None = None
    try:
        while not server.started:
            if serve_task.done():
                await serve_task  # start-up failed: propagate
                return
            await asyncio.sleep(0.01)
        single_instance.announce(data_dir, url)
        sys.stdout.write(f"BTX paper exchange listening on {url}\n")
        sys.stdout.flush()
        if market:
            from btx_tui.exchange.synthetic_market import SyntheticMarket

            market_task = asyncio.create_task(SyntheticMarket(exchange, seed).run())
            market_task.add_done_callback(_report_market_end)
        if history is not None:
            history_task = asyncio.create_task(_write_history(history))
            history_task.add_done_callback(_report_market_end)
        await serve_task
    finally:
        if history_task is not None:
            history_task.cancel()
        if market_task is not None:
            market_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await market_task


def _report_market_end(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("synthetic market stopped", exc_info=task.exception())


def _backfill(exchange: Any, seed: int) -> Any:
    """A fresh exchange with a synthetic market gets its seeded history (``backfill.py``): the
    recent hours now, the older days in the background (the returned job, or None)."""
    from btx_tui.exchange.state.backfill import HistoryBackfill

    job = HistoryBackfill(exchange.store, exchange.counters, exchange.symbols, exchange.now_ms(), seed)
    if job.start():
        exchange.market_data.load()
        log.info("backfilled recent market history (seed %d)", job.seed)
    return job if job.remaining else None


async def _write_history(job: Any) -> None:
    """The older days of the backfill, one market-day per turn of the event loop."""
    while job.write_next_chunk():
        await asyncio.sleep(0.01)
    job.checkpoint()
    log.info("market history complete")


def run(host: str, port: int, data_dir: Path, seed: int, market: bool,
        exit_with_parent: bool = False, faults: list[FaultSpec] | None = None,
        fault_seed: int | None = None, admin_token: str | None = None,
        weight_limit: int | None = None, weight_window_s: int | None = None,
        orders_per_10s: int | None = None, tls_cert: Path | None = None, tls_key: Path | None = None) -> int:
    """Serve the paper exchange until Ctrl-C/SIGTERM; return the process exit code.

    ``faults``/``fault_seed``/``admin_token`` enable fault injection (see ``faults.py``);
    without them the exchange never injects anything and has no admin endpoint.
    ``weight_limit``/``weight_window_s`` replace the contract's 6000 weight per minute,
    ``orders_per_10s`` its 50 orders per 10 s (test and bench runs that place many orders).
    ``tls_cert``/``tls_key`` serve HTTPS/WSS instead of HTTP/WS.
    """
    from btx_tui.exchange.state.exchange import Exchange

    data_dir = Path(data_dir)
    if market:
        try:
            import btx_tui.exchange.synthetic_market  # noqa: F401  (fail early, before binding)
        except ImportError as exc:
            print(f"btx-tui exchange: synthetic market unavailable ({exc}); use --no-market",
                  file=sys.stderr)
            return 2
    if not is_loopback(host):
        print(f"WARNING: binding {host}: the paper exchange is reachable from other machines; "
              "its demo keys are not secret.", file=sys.stderr)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = single_instance.acquire_lock(data_dir)
    except single_instance.DataDirBusy as exc:
        print(f"btx-tui exchange: {exc}", file=sys.stderr)
        return 3
    exchange = Exchange.open(data_dir)
    try:
        history = _backfill(exchange, seed) if market else None
        write_demo_keys(data_dir, demo_key_entries(data_dir, exchange))
        write_admin_token(data_dir, admin_token)
        try:
            sock = bind_socket(host, port)
        except OSError as exc:
            print(f"btx-tui exchange: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
            return 1
        actual_port = sock.getsockname()[1]
        injector = None
        if faults or admin_token:
            injector = FaultInjector(faults or (), seed=fault_seed, admin_token=admin_token)
            log.warning("fault injection enabled: %d fault(s), seed %d, admin endpoint %s",
                        len(injector.specs), injector.seed, "on" if injector.admin_enabled else "off")
        contract = Limits()
        limits = Limits(weight_per_minute=weight_limit or contract.weight_per_minute,
                        weight_interval_s=weight_window_s or contract.weight_interval_s,
                        orders_per_10s=orders_per_10s or contract.orders_per_10s)
        if limits != contract:
            log.warning("rate limit: %d weight per %s, %d orders per 10 s", limits.weight_per_minute,
                        limits.weight_window_text(), limits.orders_per_10s)
        app = create_app(exchange, faults=injector, limits=limits)
        install_websockets(app)
        config = make_config(app, tls_cert=tls_cert, tls_key=tls_key)
        server = _Server(config)
        if exit_with_parent:
            single_instance.exit_when_stdin_closes(server.request_exit)
        loop_factory = config.get_loop_factory()
        try:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.run(_serve(server, sock, url_for(host, actual_port, "https" if tls_cert else "http"),
                                  exchange, market, seed, data_dir, history))
        except SystemExit as exc:  # uvicorn exits on a failed lifespan start-up
            return int(exc.code or 1) if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
            single_instance.withdraw_announcement(data_dir)
            if injector is not None:
                log.warning("faults injected: %d %s", sum(injector.injected.values()),
                            dict(sorted(injector.injected.items())))
                log.warning("rate-limit refusals: %s", app.limiter.stats.as_dict())
        return 0
    finally:
        exchange.close()
        lock.close()
