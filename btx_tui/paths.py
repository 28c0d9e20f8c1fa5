"""Where btx-tui keeps its files.

Every location comes from platformdirs so the app follows each OS's conventions
(XDG on Linux, ~/Library on macOS, %APPDATA% on Windows). Tests point them elsewhere
through the usual environment (``XDG_CONFIG_HOME`` …) or explicit arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "btx-tui"


def default_config_path() -> Path:
    """The config file used when neither ``--config`` nor ``BTX_CONFIG`` names one."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the config file: ``--config`` beats ``BTX_CONFIG`` beats the default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("BTX_CONFIG")
    if env:
        return Path(env).expanduser()
    return default_config_path()


def data_dir() -> Path:
    """Persistent application data (the paper exchange's database, the order journal)."""
    return platformdirs.user_data_path(APP_NAME)


def paper_data_dir() -> Path:
    """The bundled paper exchange's data directory, so paper balances persist across runs."""
    return data_dir() / "paper"


def log_dir() -> Path:
    """Where the rotating log file lives."""
    return platformdirs.user_log_path(APP_NAME)


def log_file() -> Path:
    return log_dir() / "btx-tui.log"
