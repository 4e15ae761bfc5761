"""The MCVD workspace glue's tests share the creator tests' tiny workspace and run torch on one thread."""

from __future__ import annotations

import pytest
from creator.mcvd_testws import mcvd_ws, one_torch_thread  # noqa: F401  (fixtures, built once per process)


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread(one_torch_thread: object) -> None:  # noqa: F811
    """Every test here runs torch on one thread."""
