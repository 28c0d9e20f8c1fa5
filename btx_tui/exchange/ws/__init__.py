"""The paper exchange's WebSocket surface: market streams, the WebSocket API, user data.

Beside ``http/``, apart from the state: it listens to the engine's events
(``state/events.py``) and calls the parts and the REST endpoint table, nothing else.
"""
