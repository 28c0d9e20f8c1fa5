"""``btx-tui serve``: the same dashboard in a web page, through ``textual-serve``.

Each browser tab that opens the page gets its own dashboard process (``python -m btx_tui``,
with this command's ``--config``) driving the page over a WebSocket; in paper mode those
processes share the one bundled exchange (``start_paper_exchange(attach=True)``).

Who may drive it - the page can place orders with the configured key:

* Loopback by default (``--host 127.0.0.1``): only this machine can connect.
* Bound to any other address, a random token is required (``secrets.token_urlsafe``,
  printed once in the URL ``http://HOST:PORT/?token=...``).  textual-serve has no
  authentication of its own, so :class:`GuardedServer` adds an aiohttp middleware to the
  app textual-serve builds: ``/`` and ``/ws`` (and downloads) answer 403 unless the request
  carries the token - in the query, or in the HttpOnly ``SameSite=Strict`` cookie the
  first page load sets (the page's own WebSocket then sends it).  Compared in constant time.
* On every address, the WebSocket's ``Origin`` must be this server's own (else 403): a web
  page from elsewhere open in the same browser cannot drive the dashboard on localhost
  (cross-site WebSocket hijacking).  The static assets (JS, CSS, fonts) stay public.
"""

from __future__ import annotations

import hmac
import secrets
import shlex
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from btx_tui.start_dashboard import is_loopback

__all__ = ["COOKIE", "GuardedServer", "dashboard_command", "run_serve"]

COOKIE = "btx_serve_token"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def dashboard_command(config: str | None) -> str:
    """The shell command textual-serve runs per browser tab: this interpreter's dashboard."""
    parts = [sys.executable, "-m", "btx_tui"]
    if config:
        parts += ["--config", str(Path(config).expanduser().resolve())]
    return " ".join(shlex.quote(p) for p in parts)


class GuardedServer(Server):
    """textual-serve's Server with a token (when given) and a same-origin WebSocket check."""

    def __init__(self, command: str, *, host: str, port: int, token: str | None,
                 public_url: str | None = None, title: str = "btx-tui") -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=public_url)
        self.token = token

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        if request.path == "/ws" and not self._same_origin(request):
            raise web.HTTPForbidden(text="cross-origin WebSocket refused")
        if self.token is None:
            return await handler(request)
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise web.HTTPForbidden(text="this btx-tui page needs the token printed by `btx-tui serve`")
        response = await handler(request)
        if request.path == "/" and "token" in request.query and isinstance(response, web.Response):
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")
        return response

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:  # not a browser (browsers always send Origin on a WebSocket)
            return True
        return urlsplit(origin).netloc.lower() == request.host.lower()


def run_serve(host: str, port: int, config: str | None, public_url: str | None = None) -> int:
    """Serve the dashboard until Ctrl-C; print the URL to open (with the token off loopback)."""
    token = None if is_loopback(host) else secrets.token_urlsafe(24)
    shown = host
    if host in ("0.0.0.0", "::", ""):
        shown = socket.gethostname()
    url = public_url or f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    server = GuardedServer(dashboard_command(config), host=host, port=port, token=token, public_url=url)
    print(f"btx-tui: serving the dashboard on {url}/" + (f"?token={token}" if token else ""), flush=True)
    if token:
        print("btx-tui: reachable from other machines: anyone with this URL can trade with your key.",
              file=sys.stderr, flush=True)
    server.serve()
    return 0
