"""Architecture rules: Qt only in generec_desktop/app, lazy heavy imports at start-up, tests mirror the package."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PKG = TESTS.parent / "generec_desktop"


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


def test_test_folders_mirror_the_package():
    """Each test folder tests its own package (issue 14): tests/X/ exists only where generec_desktop/X/ does, and
    the tests of ``generec`` commands (``test_*_cli.py``, code in generec_desktop/cli/) are in tests/cli/."""
    offenders = []
    for path in sorted(TESTS.rglob("test_*.py")):
        folder = path.parent.relative_to(TESTS)
        if folder.parts and not (PKG / folder).is_dir():
            offenders.append(f"tests/{folder.as_posix()}/ has no package generec_desktop/{folder.as_posix()}/")
        if path.stem.endswith("_cli") and folder != Path("cli"):
            rel = path.relative_to(TESTS).as_posix()
            offenders.append(f"tests/{rel} tests generec_desktop/cli/: move it to tests/cli/")
    assert not offenders, "\n".join(dict.fromkeys(offenders))
