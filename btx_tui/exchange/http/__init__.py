"""The paper exchange's HTTP surface: routing, parameters, auth, rate limits, faults.

It holds no exchange state of its own: handlers call the composed parts of
:class:`~btx_tui.exchange.state.exchange.Exchange` (``exchange.trading``,
``exchange.market_data``, ...).  A WebSocket surface would sit beside it and subscribe to
``exchange.events``.
"""
