"""Type-ahead: key presses are routed one at a time, each after the app reacted to the one before.

Why: Textual routes a key to the widget focused *when the key arrives*, but the key's effect
(a binding that opens a screen, a focus change, Enter that pushes a confirmation) happens
later, when that widget and its ancestors have handled it. Keys that arrive in between go to
the old target: ``b`` then ``4567`` sent together all went to the dashboard (where digits
focus panes) instead of the order form ``b`` opens, and a ``y`` right after Enter was typed
into the quantity field instead of answering the confirmation. A trader's terminal sends
keys as fast as they are typed or pasted, so the app itself must hold a key back until the
previous one has settled.

A key arriving while nothing is settling is routed at once (no delay for ordinary typing).
"Settled" means every message queue of the app and of the current screen's widgets was seen
empty after a round of callbacks, or ``SETTLE_MAX_S`` passed (a stuck widget must not eat the
keyboard).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

SETTLE_MAX_S = 1.0
"""Longest a held key waits for the previous one to settle."""


class TypeAhead:
    """Holds key presses that arrive while an earlier one is still being handled."""

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self._held: deque[events.Key] = deque()
        self._released: events.Key | None = None
        self._settling = False
        self._task: asyncio.Task[None] | None = None

    def hold(self, event: events.Key) -> bool:
        """True if ``event`` must wait (the app drops it now; it is posted again later).

        False: the app routes it now; the next keys wait until it has settled.
        """
        if event is self._released:
            self._released = None
            self._start_settling()
            return False
        if self._settling:
            self._held.append(event)
            return True
        self._settling = True
        self._start_settling()
        return False

    def _start_settling(self) -> None:
        self._task = asyncio.create_task(self._settle_then_release())

    async def _settle_then_release(self) -> None:
        try:
            await self._settled()
        finally:
            if self._held and self.app.is_running:
                self._released = self._held.popleft()
                self.app.post_message(self._released)
            else:
                self._held.clear()
                self._settling = False

    def _nodes(self) -> list[MessagePump]:
        try:
            screen = self.app.screen
        except Exception:  # noqa: BLE001 - no screen (shutting down): nothing to wait for
            return [self.app]
        return [self.app, *screen.walk_children(with_self=True)]

    async def _settled(self) -> None:
        """Wait until the app and the current screen have handled what the last key caused.

        A key travels: focused widget → its ancestors → the app (bindings), and may open a
        screen that composes and focuses its first field; each hop is a message in another
        queue, so rounds of callbacks repeat until one finds every queue empty.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_MAX_S
        while loop.time() < deadline:
            nodes = self._nodes()
            pending = [asyncio.Event() for _ in nodes]
            waiting = [event for node, event in zip(nodes, pending, strict=True)
                       if node.is_running and node.call_later(event.set)]
            if waiting:
                try:
                    async with asyncio.timeout(max(deadline - loop.time(), 0.0)):
                        await asyncio.gather(*(e.wait() for e in waiting))
                except TimeoutError:
                    return
            if all(node.message_queue_size == 0 for node in self._nodes() if node.is_running):
                return
