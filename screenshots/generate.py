"""Regenerate the SVG screenshots in this folder from the real app.

Starts the bundled paper exchange (live synthetic market, fixed seed) in a temporary data
dir, runs the real dashboard headless at 120×36 against it, lets the market trade for a
while so every pane has data, then saves each main screen (the dashboard also at 80×24
and 200×60, where panes give way or grow). No secret appears in them: the
paper exchange's demo keys are never drawn.

Run from the repo root::

    .venv/bin/python screenshots/generate.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from btx_tui.api.models_trading import OrderSide, OrderType, TimeInForce  # noqa: E402
from btx_tui.api.orders import OrderRequest  # noqa: E402
from btx_tui.config import Settings  # noqa: E402
from btx_tui.exchange.process.launcher import start_paper_exchange  # noqa: E402
from btx_tui.tui.app import BtxApp  # noqa: E402
from btx_tui.tui.connection_health import Connection  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (120, 36)
WARMUP_S = 25.0


async def wait_until(pilot, cond, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("screen never got its data")
        await pilot.pause(0.1)


async def shoot(tmp: Path) -> list[Path]:
    exchange = start_paper_exchange(tmp / "paper", market=True, seed=42)
    saved: list[Path] = []
    try:
        api_key, secret = exchange.key("full")
        settings = Settings.model_validate({"ui": {"chart_interval": "1s", "symbol": "BTCUSDT"}})
        app = BtxApp(settings, Connection(exchange.base_url, api_key, SecretStr(secret), paper=True))
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.state.account is not None and app.state.depth is not None)
            assert app.client is not None
            book = app.state.depth
            assert book is not None
            below = (book.bids[0].price * Decimal("0.99")).quantize(Decimal("0.01"))
            app.trading.submit_order(OrderRequest(symbol="BTCUSDT", side=OrderSide.BUY, type=OrderType.LIMIT,
                                          time_in_force=TimeInForce.GTC, quantity=Decimal("0.01"), price=below))
            app.trading.submit_order(OrderRequest(symbol="BTCUSDT", side=OrderSide.BUY, type=OrderType.MARKET,
                                          quantity=Decimal("0.005")))
            # the widest numbers the tables show: BTT's tiny price and a 20,000,000 quantity
            app.trading.submit_order(OrderRequest(symbol="BTTUSDT", side=OrderSide.BUY, type=OrderType.LIMIT,
                                          time_in_force=TimeInForce.GTC, quantity=Decimal("20000000"),
                                          price=Decimal("0.0000006")))
            await pilot.pause(WARMUP_S)
            try:
                await wait_until(pilot, lambda: app.dashboard.tape.trades and app.state.open_orders)
            except TimeoutError:
                raise TimeoutError(f"no data; notifications: {[n.message for n in app._notifications]}") from None

            def save(name: str) -> None:
                saved.append(Path(app.save_screenshot(f"{name}.svg", str(OUT))))

            save("dashboard")
            for width, height in ((80, 24), (200, 60)):
                await pilot.resize_terminal(width, height)
                await pilot.pause(1.5)
                save(f"dashboard-{width}x{height}")
            await pilot.resize_terminal(*SIZE)
            await pilot.pause(1.5)
            await pilot.press("question_mark")
            await pilot.pause(0.5)
            save("help")
            await pilot.press("escape")
            await pilot.press("b")
            await pilot.pause(0.5)
            await pilot.press(*"0.00001")
            await pilot.pause(0.5)
            save("order-form-error")
            for _ in range(7):
                await pilot.press("backspace")
            await pilot.press(*"0.002")
            await pilot.pause(0.5)
            save("order-form")
            await pilot.press("enter")
            await pilot.pause(0.5)
            save("order-confirm")
            await pilot.press("escape", "escape")
            await pilot.pause(0.3)
            await pilot.press("escape")
            await pilot.press("w")
            await pilot.pause(1.5)
            save("withdraw")
            await pilot.press("escape")
            await pilot.pause(0.3)
            exchange.stop()
            await wait_until(pilot, lambda: app.status_info().connection == "down")
            await pilot.pause(1.5)
            save("disconnected")
    finally:
        exchange.stop()
    return saved


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for path in asyncio.run(shoot(Path(tmp))):
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
