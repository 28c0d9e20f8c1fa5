"""What must be on screen at a terminal size: shared by the layout Pilot tests and the snapshots.

Small terminals drop panes in a fixed priority (chart and trades tape first; on a narrow
screen the balances move under the watchlist); whatever is displayed must be wholly on screen and overlap nothing.
"""

from __future__ import annotations

from textual.widget import Widget

from btx_tui.tui.app import BtxApp

PANES = ("#status", "#watchlist", "#book", "#chart", "#trades", "#balances", "#account-tabs")


def displayed(widget: Widget) -> bool:
    """Displayed and given room on screen (a hidden ancestor hides it too)."""
    node: object = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return widget.region.area > 0


def shown_panes(app: BtxApp) -> set[str]:
    """Which panes of the dashboard the trader can see now; asserts they are whole and apart."""
    screen = app.dashboard
    shown = {pane for pane in PANES if displayed(screen.query_one(pane))}
    regions = {pane: screen.query_one(pane).region for pane in shown}
    for pane, region in regions.items():
        assert screen.region.contains_region(region), (pane, region, screen.region)
        for other, other_region in regions.items():
            if other != pane:
                assert not region.overlaps(other_region), (pane, region, other, other_region)
    return shown


EXPECTED = {
    (80, 24): {"#status", "#watchlist", "#balances", "#book", "#account-tabs"},
    (120, 36): set(PANES),
    (200, 60): set(PANES),
}
"""Panes on screen at each size the tests and snapshots use."""
