"""The tiny MCVD workspace (built once per process, see mcvd_testws.py) and one torch thread."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="package")
def mcvd_ws(tmp_path_factory):
    from creator.mcvd_testws import mcvd_workspace

    return mcvd_workspace(tmp_path_factory.mktemp("mcvd_ws"))


@pytest.fixture(scope="package", autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread on the shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
