"""The architecture holds: import-linter's contracts are kept, and no module is in an import circle.

The layers (the UI above the service layer; the service layer and the paper exchange side by
side, independent; the shared contract below both; Textual only in the UI; the exchange's
state apart from its HTTP surface) are import-linter contracts in ``pyproject.toml``: this
test runs them, so a broken layer fails the suite with import-linter's report of the chain.

Import circles are found on grimp's graph of the package (the one import-linter builds),
imports under ``TYPE_CHECKING`` included: a class cut across files, or a widget reaching back
into the app, shows up as a circle even when it only imports for typing. It is the rule of
``shared/hooks/import_circles.py``: an import of a module's own enclosing package (its
``__init__`` re-exports, facing outward) is not an edge. One case per top-level subpackage,
so a circle names the part of the house it is in.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import btx_tui

ROOT = Path(btx_tui.__file__).resolve().parent.parent
TOP_LEVEL = "btx_tui (its top-level modules)"


def test_import_linter_contracts_are_kept() -> None:
    # A process of its own: lint-imports configures logging with dictConfig, which would
    # disable every logger this test process has already created (later tests log nothing).
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = result.stdout + result.stderr
    assert "kept" in report and "broken" in report, report  # it ran and printed its summary
    assert result.returncode == 0, report


def test_every_declared_dependency_is_imported_and_every_import_declared() -> None:
    """deptry's check ([tool.deptry] in pyproject.toml): no dependency declared for nothing
    (v1 declared starlette and sortedcontainers and never imported them), none used undeclared."""
    deptry = Path(sys.executable).with_name("deptry")
    result = subprocess.run([str(deptry), "btx_tui"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = result.stdout + result.stderr
    assert "No dependency issues found" in report, report
    assert result.returncode == 0, report


def _import_graph(package: str = "btx_tui") -> dict[str, set[str]]:
    graph = grimp.build_graph(package, cache_dir=None)  # TYPE_CHECKING imports included
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        edges[module] = {
            imported for imported in graph.find_modules_directly_imported_by(module)
            if not module.startswith(imported + ".")  # its own package's __init__: not a circle
        }
    return edges


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    return circles


def _part_of(module: str) -> str:
    """The case a module belongs to: its top-level subpackage, or the top-level modules."""
    parts = module.split(".")
    if len(parts) > 1 and f"{parts[0]}.{parts[1]}" in SUBPACKAGES:
        return f"{parts[0]}.{parts[1]}"
    return TOP_LEVEL


SUBPACKAGES = sorted(f"btx_tui.{m.name}" for m in pkgutil.iter_modules(btx_tui.__path__) if m.ispkg)


def test_the_circle_finder_sees_a_circle_made_by_a_typing_only_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("from circled.a import A\n")
    (package / "a.py").write_text("from circled.b import B\n\nclass A: ...\n")
    (package / "b.py").write_text(  # its package's __init__ (re-exports, facing outward): no edge
        "import circled\nfrom typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n    from circled.a import A\n\nclass B: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _circles(_import_graph("circled")) == [["circled.a", "circled.b"]]


@pytest.mark.parametrize("part", [*SUBPACKAGES, TOP_LEVEL])
def test_no_import_circle(part: str) -> None:
    circles = [c for c in _circles(_import_graph()) if any(_part_of(m) == part for m in c)]
    assert circles == [], "import circles (typing-only imports included):\n" + "\n".join(
        "circle: " + ", ".join(c) for c in circles)
