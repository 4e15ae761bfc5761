"""The small demo workspace (defined in tests/smalldemo.py, shared with tests/cli, evaluation and versions)."""

from __future__ import annotations

from smalldemo import small_demo  # noqa: F401  (fixture)
