"""Architecture rules: Qt only in generec_desktop/app, lazy heavy imports at start-up."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "generec_desktop"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_qt_outside_app():
    offenders = []
    for path in PKG.rglob("*.py"):
        if (PKG / "app") in path.parents:
            continue
        qt = [m for m in _imported_modules(path) if m.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"}]
        if qt:
            offenders.append(f"{path.relative_to(PKG.parent)} imports {qt}")
    assert not offenders, "Qt must only be imported in generec_desktop/app:\n" + "\n".join(offenders)


def test_import_linter_contracts():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("lint-imports (import-linter, dev extra) is not installed in this environment")
    proc = subprocess.run([exe], cwd=PKG.parent, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_startup_does_not_import_heavy_libraries():
    code = (
        "import sys; from generec_desktop.cli import build_parser; build_parser();"
        "heavy = [m for m in ('torch', 'av', 'cv2', 'diffusers', 'open_clip', 'sqlalchemy', 'sklearn', 'PySide6')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"CLI start-up imported heavy modules: {out.stdout.strip()}"
