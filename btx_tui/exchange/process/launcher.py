"""Start and stop the bundled paper exchange as a child process.

Paper mode runs the exchange in its own process, not in the dashboard's event loop, so
the synthetic market's matching work never competes with the UI for the GIL, and so a
crash of one cannot take the other down. The tests use the same launcher, which keeps
the fixture honest: they drive exactly what a trader runs.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from btx_tui.exchange.process.single_instance import running_url

LISTENING_PREFIX = "BTX paper exchange listening on "


class PaperExchangeError(RuntimeError):
    """The paper exchange did not start; the message includes what it printed."""


@dataclass
class PaperExchange:
    """A running paper exchange child process."""

    proc: subprocess.Popen[bytes] | None
    """None when attached to an exchange another process started (we must not stop it)."""
    base_url: str
    data_dir: Path
    keys: dict[str, dict] = field(default_factory=dict)

    def key(self, name: str = "full") -> tuple[str, str]:
        """``(api_key, api_secret)`` of a demo key: ``full``, ``trade`` or ``read``."""
        entry = self.keys[name]
        return entry["api_key"], entry["api_secret"]

    def private_key_file(self, name: str = "ed25519") -> tuple[str, Path]:
        """``(api_key, private key PEM path)`` of the demo Ed25519 key (``demo-ed25519.pem``)."""
        entry = self.keys[name]
        return entry["api_key"], Path(entry["private_key_file"])

    def stop(self, timeout: float = 10.0) -> None:
        """Ask politely (SIGINT, like Ctrl-C), then insist."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT if os.name == "posix" else signal.CTRL_BREAK_EVENT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        """``kill -9``: no chance to clean up (used by durability tests)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def start_paper_exchange(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 1,
    market: bool = True,
    extra_args: list[str] | None = None,
    timeout: float = 20.0,
    stderr_path: Path | None = None,
    attach: bool = False,
) -> PaperExchange:
    """Start ``btx-tui exchange`` and wait until it listens and has written its demo keys.

    The child stops by itself when this process dies (it watches its stdin pipe). With
    ``attach=True``, an exchange already running on ``data_dir`` (another dashboard's) is
    used instead of failing.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "btx_tui", "exchange",
        "--host", host, "--port", str(port), "--data-dir", str(data_dir), "--seed", str(seed),
    ]
    if not market:
        cmd.append("--no-market")
    cmd += ["--exit-with-parent", *(extra_args or [])]
    err_target = stderr_path or data_dir / "exchange.stderr.log"
    with open(err_target, "ab") as err:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.PIPE,
            start_new_session=True,
        )
    assert proc.stdout is not None
    line = _read_first_line(proc, timeout)
    if not line.startswith(LISTENING_PREFIX) and attach:
        try:
            code = proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        if code == 3 and (url := running_url(data_dir)):
            return _attach(url, data_dir)
    if not line.startswith(LISTENING_PREFIX):
        proc.kill()
        proc.wait(5)
        detail = Path(err_target).read_text(errors="replace")[-2000:]
        raise PaperExchangeError(f"paper exchange failed to start: {line!r}\n{detail}")
    base_url = line[len(LISTENING_PREFIX):].strip()
    keys_file = data_dir / "demo-keys.json"
    keys = {k["name"]: k for k in json.loads(keys_file.read_text())["keys"]}
    return PaperExchange(proc, base_url, data_dir, keys)


def _attach(url: str, data_dir: Path) -> PaperExchange:
    keys = {k["name"]: k for k in json.loads((data_dir / "demo-keys.json").read_text())["keys"]}
    return PaperExchange(None, url, data_dir, keys)


def _read_first_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """Read one stdout line without blocking forever on a child that hangs."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            raise PaperExchangeError("paper exchange did not report its address in time")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        elif proc.poll() is not None:
            break
    return buf.split(b"\n", 1)[0].decode(errors="replace")
