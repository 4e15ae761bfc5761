"""Fixtures the CLI tests share with their packages' test folders (one definition each, in tests/)."""

from __future__ import annotations

from plantedws import planted_ws  # noqa: F401  (fixture: test_import_cli.py)
from smalldemo import small_demo  # noqa: F401  (fixture: test_personalize_cli.py)
