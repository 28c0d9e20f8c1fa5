"""Closing the streams always ends them, even when the cancel lands as a message arrives.

On Python 3.11, ``asyncio.wait_for(ws.recv(), t)`` returns the received message and drops a
cancel that reaches the task in the same loop step as the message (fixed only in 3.12). The
market streams' read loop used it, so ``aclose()`` of a busy connection could wait forever
(seen as a test hung for 300 s under load). The race cannot be produced on demand with a real
exchange, so here a stand-in socket delivers the cancel in exactly that step.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from btx_tui.api.client import BtxClient
from btx_tui.api.streams import market_streams
from btx_tui.api.streams.market_streams import MarketStreams


class _BusySocket:
    """A connection with a message always ready; on the third, the stream task is cancelled
    in the very step that completes ``recv()``."""

    def __init__(self) -> None:
        self.received = 0
        self.task: asyncio.Task[None] | None = None

    async def recv(self) -> str:
        await asyncio.sleep(0)
        self.received += 1
        if self.received == 3:
            assert self.task is not None
            asyncio.get_running_loop().call_soon(self.task.cancel)
        return json.dumps({"result": None, "id": None})

    async def send(self, message: str) -> None:
        await asyncio.sleep(0)

    async def close(self) -> None:
        return None


async def test_a_cancel_arriving_with_a_message_still_ends_the_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    socket = _BusySocket()

    async def connect(url: str) -> _BusySocket:
        return socket

    monkeypatch.setattr(market_streams, "open_socket", connect)
    async with BtxClient("http://127.0.0.1:9") as client:
        streams = MarketStreams(client, lambda update: None)
        await streams.start()
        socket.task = streams._task
        assert socket.task is not None
        async with asyncio.timeout(10):  # a lost cancel never ends: fail instead of hanging the suite
            done, _ = await asyncio.wait({socket.task}, timeout=5)
        assert socket.task in done and socket.task.cancelled()
        assert socket.received < 10  # it stopped at the cancel, not after reading on
        await streams.aclose()
