"""Fault injection on market streams: what a client's book-sync and reconnect logic must survive.

The kinds (declared in ``http/fault_specs.py`` with the other faults, endpoint ``WS /ws`` or
``*``, drawn from the same seeded RNG as the HTTP faults, counted in the same ``injected``
table) act per connection on each depth-diff event about to be delivered:

* ``ws_drop_diff`` - the event is not delivered (the client sees a gap in ``U``/``u``);
* ``ws_duplicate_diff`` - delivered twice;
* ``ws_reorder_diff`` - held back and delivered after the next diff event of that stream;
* ``ws_close`` - the connection is closed (code 1011) instead of delivering;
* ``ws_stall`` - the connection silently stops delivering anything, and stays open (the
  server still answers pings: only a client watching for silence notices).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from btx_tui.exchange.http.fault_specs import STREAM_KINDS
from btx_tui.exchange.http.faults import FaultInjector

__all__ = ["StreamFaults"]

_KEY = "WS /ws"


class FaultySink(Protocol):
    def deliver(self, stream: str, data: str) -> None: ...

    def inject_close(self) -> None: ...

    def inject_stall(self) -> None: ...


class StreamFaults:
    """Draws the stream faults of each delivery from the injector's seeded RNG."""

    def __init__(self, injector: FaultInjector) -> None:
        self._injector = injector
        self._held: dict[tuple[FaultySink, str], str] = {}

    def _fires(self, kind: str) -> bool:
        for spec in self._injector.specs:
            if spec.kind == kind and spec.matches(_KEY) and self._injector.rng.random() < spec.probability:
                self._injector.record(kind, _KEY)
                return True
        return False

    def active(self) -> bool:
        return any(spec.kind in STREAM_KINDS for spec in self._injector.specs)

    def publish_diff(self, sinks: Iterable[FaultySink] | None, name: str, data: str) -> None:
        """Deliver one diff event of stream ``name`` to ``sinks``, faults applied."""
        if not sinks:
            return
        if not self.active():
            for sink in tuple(sinks):
                sink.deliver(name, data)
            return
        for sink in tuple(sinks):
            held = self._held.pop((sink, name), None)
            if self._fires("ws_close"):
                sink.inject_close()
                continue
            if self._fires("ws_stall"):
                sink.inject_stall()
                continue
            if self._fires("ws_drop_diff"):
                pass
            elif self._fires("ws_reorder_diff") and held is None:
                self._held[(sink, name)] = data
            else:
                sink.deliver(name, data)
                if self._fires("ws_duplicate_diff"):
                    sink.deliver(name, data)
            if held is not None:
                sink.deliver(name, held)

    def forget(self, sink: FaultySink) -> None:
        for key in [k for k in self._held if k[0] is sink]:
            del self._held[key]
