"""Layers: the service layer and the paper exchange never import the UI, nor each other.

Checked on the real import graph (a fresh interpreter imports every module of the layer
and lists what got loaded), not by reading source text.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import btx_tui

FORBIDDEN = {
    "btx_tui.api": ("textual", "btx_tui.tui", "btx_tui.exchange"),
    "btx_tui.exchange": ("textual", "btx_tui.tui", "btx_tui.api"),
    # The exchange's state knows nothing of its HTTP surface, its process or its bots.
    "btx_tui.exchange.state": ("textual", "btx_tui.tui", "btx_tui.api", "btx_tui.exchange.http",
                               "btx_tui.exchange.ws", "websockets",
                               "btx_tui.exchange.server", "btx_tui.exchange.synthetic_market"),
    # The WebSocket surface talks to the parts and the REST endpoint table, never the process
    # or the bots; the HTTP surface never needs it (it is installed on the app from outside).
    "btx_tui.exchange.ws": ("textual", "btx_tui.tui", "btx_tui.api", "btx_tui.exchange.server",
                            "btx_tui.exchange.synthetic_market"),
    "btx_tui.exchange.http": ("btx_tui.exchange.ws", "btx_tui.exchange.server",
                              "btx_tui.exchange.synthetic_market"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_it_must_not(layer: str) -> None:
    package = __import__(layer, fromlist=["_"])
    modules = [m.name for m in pkgutil.walk_packages(package.__path__, f"{layer}.")]
    assert len(modules) > 5, modules
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=str(btx_tui.__path__[0] + "/..")).stdout.split()
    bad = sorted(m for m in loaded for prefix in FORBIDDEN[layer] if m == prefix or m.startswith(prefix + "."))
    assert bad == [], f"{layer} pulls in {bad}"
