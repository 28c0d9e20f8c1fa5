"""``python -m btx_tui`` — the same as the ``btx-tui`` command."""

from btx_tui.cli import main

if __name__ == "__main__":
    main()
