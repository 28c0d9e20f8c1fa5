"""A proxy.py plugin for the proxy tests: appends every request it forwards to a file.

proxy.py's own access log names only the first request of a keep-alive connection; this
hook runs for each one (pipelined requests included). The file is ``$BTX_TEST_PROXY_RECORD``.
"""

from __future__ import annotations

import os

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


class RecordRequests(HttpProxyBasePlugin):
    """``METHOD host:port/path?query`` per forwarded request, one a line."""

    def handle_client_request(self, request: HttpParser) -> HttpParser:
        host = (request.host or b"").decode()
        line = f"{(request.method or b'').decode()} {host}:{request.port}{(request.path or b'').decode()}\n"
        with open(os.environ["BTX_TEST_PROXY_RECORD"], "a", encoding="utf-8") as out:
            out.write(line)
        return request
