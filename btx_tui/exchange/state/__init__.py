"""The paper exchange's state: composed parts with one job each, wired in ``exchange.py``.

Nothing here knows about HTTP; the HTTP surface (``btx_tui.exchange.http``) and the
synthetic traders (``btx_tui.exchange.synthetic_market``) reach the state only through the
parts an :class:`~btx_tui.exchange.state.exchange.Exchange` holds.
"""
