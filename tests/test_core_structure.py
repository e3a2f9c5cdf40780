"""The library's shape: what may import what, read from the source (no module is run)."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "core"


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_core_never_imports_streamlit_or_the_app():
    for path in CORE.rglob("*.py"):
        bad = {m for m in _imports(path) if m.split(".")[0] in ("streamlit", "app", "pages")}
        assert not bad, f"{path.relative_to(CORE.parent)} imports {sorted(bad)}"


def test_algorithms_neither_train_nor_evaluate():
    for path in (CORE / "algorithms").rglob("*.py"):
        bad = {m for m in _imports(path) if m.startswith(("core.training", "core.evaluation", "core.cli"))}
        assert not bad, f"{path.relative_to(CORE.parent)} imports {sorted(bad)}"


def test_core_has_at_most_twelve_top_level_modules_and_no_file_over_300_lines():
    assert len([p for p in CORE.glob("*.py") if not p.name.startswith("__")]) <= 12
    for path in CORE.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 300, f"{path.relative_to(CORE.parent)} is over 300 lines"
