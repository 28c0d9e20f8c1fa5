"""Logging to a rotating file, with secrets redacted before anything is written.

The redaction is a :class:`logging.Filter` on the handler, so it applies to every
record whatever logger emitted it (ours, httpx's, uvicorn's): the message, its
arguments and any formatted traceback are scrubbed of the API key, the secret, and
every ``signature=`` value.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from pathlib import Path

REDACTED = "**********"
_SIGNATURE = re.compile(r"(signature=)[0-9A-Za-z%]+", re.IGNORECASE)
_APIKEY_HEADER = re.compile(r"(x-mbx-apikey['\"]?\s*[:=,]\s*['\"]?)[A-Za-z0-9]+", re.IGNORECASE)

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Replaces known secrets and any signature value in a record's text.

    The record's message is rendered once (``getMessage``), scrubbed, and stored back
    with no arguments, so a formatter cannot reintroduce a secret from ``args``.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        """Also redact ``secret`` from now on (ignores short strings that would mangle logs)."""
        if secret and len(secret) >= 6:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _SIGNATURE.sub(r"\1" + REDACTED, text)
        return _APIKEY_HEADER.sub(r"\1" + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_redactor = RedactingFilter()


def redactor() -> RedactingFilter:
    """The process-wide filter; register secrets on it as soon as they are known."""
    return _redactor


def setup_logging(level: str, log_file: Path, secrets: Iterable[str] = ()) -> logging.Handler:
    """Send the root logger to a rotating file (1 MiB × 5), redacted.

    Returns the handler so callers (tests) can remove it again.
    """
    for secret in secrets:
        _redactor.add_secret(secret)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=1 << 20, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(_redactor)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    try:
        log_file.chmod(0o600)
    except OSError:
        pass
    return handler
