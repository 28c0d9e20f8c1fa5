"""A market-stream connection (``/ws``, ``/ws/<name>``, ``/stream?streams=``): control messages.

Live control messages, answered on the same socket (the standard's WebSocket Streams):
``SUBSCRIBE`` / ``UNSUBSCRIBE`` (-> ``{"result":null,"id"}``), ``LIST_SUBSCRIPTIONS``,
``SET_PROPERTY ["combined", bool]``, ``GET_PROPERTY ["combined"]``.  A bad message gets
``{"error":{"code","msg"},"id"}`` and the connection stays open; codes as the standard:
0 unknown property, 1 invalid value type, 2 invalid request, 3 invalid JSON.

A connection opened on a listenKey (``/ws/<listenKey>``) also carries that account's events,
raw, until the key expires (``listenKeyExpired``, then close) or is deleted.
"""

from __future__ import annotations

import json
from typing import Any

from btx_tui.exchange.ws.connection import Connection, combined_frame
from btx_tui.exchange.ws.hub import MarketHub
from btx_tui.exchange.ws.streams import parse_stream

__all__ = ["MarketSocket"]


class _ControlError(Exception):
    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class MarketSocket:
    """The subscriptions of one market-stream connection (a hub :class:`~.hub.Sink`)."""

    def __init__(self, conn: Connection, hub: MarketHub, combined: bool) -> None:
        self.conn = conn
        self._hub = hub
        self.combined = combined
        self.names: dict[str, None] = {}
        self.listen_key: str | None = None

    # ---- Sink ---------------------------------------------------------------------------
    def deliver(self, stream: str, data: str) -> None:
        if self.combined:
            self.conn.push(combined_frame(stream, data))
        else:
            self.conn.push(data)

    def inject_close(self) -> None:
        self.conn.close(1011, "Injected fault")

    def inject_stall(self) -> None:
        self.conn.paused = True

    # ---- subscriptions ------------------------------------------------------------------
    def subscribe(self, names: list[str], *, strict: bool = True) -> None:
        """Add streams; unknown names are refused (``strict``) or skipped (the URL path)."""
        streams = []
        for name in names:
            stream = parse_stream(name)
            if stream is None:
                if strict:
                    raise _ControlError(2, f"Invalid request: unknown stream name '{name[:60]}'")
                continue
            streams.append(stream)
        new = [s for s in streams if s.name not in self.names]
        if len(self.names) + len(new) > self.conn.settings.max_streams:
            raise _ControlError(2, f"Invalid request: at most {self.conn.settings.max_streams} "
                                   "streams per connection")
        for stream in new:
            self.names[stream.name] = None
            self._hub.subscribe(stream, self)

    def unsubscribe(self, names: list[str]) -> None:
        for name in names:
            if name in self.names:
                del self.names[name]
                self._hub.unsubscribe(name, self)

    def close(self) -> None:
        self.unsubscribe(list(self.names))
        if self._hub.faults is not None:
            self._hub.faults.forget(self)

    # ---- control messages ---------------------------------------------------------------
    def handle_text(self, text: str) -> None:
        request_id: Any = None
        try:
            try:
                message = json.loads(text)
            except ValueError:
                raise _ControlError(3, "Invalid JSON: the message is not valid JSON") from None
            if not isinstance(message, dict):
                raise _ControlError(2, "Invalid request: expected a JSON object")
            request_id = message.get("id")
            if isinstance(request_id, bool) or not isinstance(request_id, (int, str, type(None))):
                request_id = None
                raise _ControlError(1, "Invalid value type: 'id' must be an integer or a string")
            unknown = set(message) - {"method", "params", "id"}
            if unknown:
                raise _ControlError(0, f"Unknown property: {sorted(unknown)[0][:40]}")
            result = self._control(message.get("method"), message.get("params"))
            self.conn.send_json({"result": result, "id": request_id})
        except _ControlError as error:
            self.conn.send_json({"error": {"code": error.code, "msg": error.msg}, "id": request_id})

    def _control(self, method: Any, params: Any) -> Any:
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                raise _ControlError(1, "Invalid value type: 'params' must be a list of stream names")
            if method == "SUBSCRIBE":
                self.subscribe(params)
            else:
                self.unsubscribe(params)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            return list(self.names)
        if method == "SET_PROPERTY":
            if not (isinstance(params, list) and len(params) == 2 and params[0] == "combined"):
                raise _ControlError(0, "Unknown property: only 'combined' can be set")
            if not isinstance(params[1], bool):
                raise _ControlError(1, "Invalid value type: 'combined' must be true or false")
            self.combined = params[1]
            return None
        if method == "GET_PROPERTY":
            if params != ["combined"]:
                raise _ControlError(0, "Unknown property: only 'combined' can be read")
            return self.combined
        raise _ControlError(2, f"Invalid request: unknown method '{str(method)[:40]}'")
