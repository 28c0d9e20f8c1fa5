"""The paper exchange as an operating-system process: the only modules that start or guard one.

``server`` is the child (``btx-tui exchange``: state, surfaces, bots, uvicorn), ``single_instance``
keeps it to one per data dir and ends it with its parent, and ``launcher`` is the parent's side
(the dashboard, ``export``, the tests and the benches start or attach to the child through it).
"""
