"""The planted-colour workspace (defined in tests/plantedws.py, shared with tests/cli)."""

from __future__ import annotations

from plantedws import planted_ws  # noqa: F401  (fixture)
