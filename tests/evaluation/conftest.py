"""The small demo workspace (tests/smalldemo.py: the same session folder, so it is built once) and the MCVD one."""

from __future__ import annotations

import os

from creator.mcvd_testws import mcvd_ws, one_torch_thread  # noqa: F401  (fixtures of test_mcvd_eval.py)
from smalldemo import small_demo  # noqa: F401  (fixture)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
