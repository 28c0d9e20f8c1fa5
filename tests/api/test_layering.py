"""The service layer must not import Textual (design: data flows one way, UI on top)."""

import subprocess
import sys


def test_api_package_does_not_import_textual() -> None:
    code = ("import sys, btx_tui.api, btx_tui.api.book_views, btx_tui.api.preflight; "
            "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
