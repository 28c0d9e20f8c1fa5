"""The log file never holds a secret or a signature."""

from __future__ import annotations

import logging
from pathlib import Path

from btx_tui.logging_setup import REDACTED, RedactingFilter, setup_logging


def test_log_file_redacts_secret_key_and_signature(tmp_path: Path, canary: str) -> None:
    log_file = tmp_path / "logs" / "btx-tui.log"
    handler = setup_logging("DEBUG", log_file, secrets=[canary, canary + "KEY"])
    try:
        log = logging.getLogger("btx_tui.test")
        log.info("secret is %s", canary)
        log.debug("GET /api/v3/account?timestamp=1&signature=%s", "ab12cd34" * 8)
        log.warning("headers {'X-MBX-APIKEY': '%sKEY'}", canary)
        try:
            raise RuntimeError(f"boom with {canary}")
        except RuntimeError:
            log.exception("failed")
        handler.flush()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    text = log_file.read_text()
    assert canary not in text
    assert "ab12cd34" not in text
    assert text.count(REDACTED) >= 4
    assert "RuntimeError: boom with" in text  # the traceback itself is kept, scrubbed
    assert oct(log_file.stat().st_mode & 0o777) == oct(0o600)


def test_filter_ignores_too_short_strings() -> None:
    f = RedactingFilter(["ab"])
    assert f.redact("abc") == "abc"
    assert f.redact("signature=DEADBEEF&x=1") == f"signature={REDACTED}&x=1"
