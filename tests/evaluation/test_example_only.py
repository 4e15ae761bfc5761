"""The paper's tables need users with likes: on a workspace with only audiences from examples each
evaluation says so in one sentence instead of crashing."""

from __future__ import annotations

import pytest
from examplemedia import write_photos, write_scenes_video

from generec_desktop.corpus import Workspace
from generec_desktop.jobs import GenerecError
from generec_desktop.profiles import examples as ex


@pytest.fixture
def fresh(tmp_path):
    with Workspace.create(tmp_path / "W") as ws:
        ws.import_media([write_scenes_video(tmp_path / "a.mp4", ("astronaut", "rocket"))])
        ex.add_audience(ws, "Space fans", write_photos(tmp_path / "space", ("astronaut",)))
        yield ws


def test_editor_evaluation_asks_for_interactions(fresh):
    from generec_desktop.evaluation.editor_eval import evaluate_editor

    with pytest.raises(GenerecError, match="no positive interactions"):
        evaluate_editor(fresh, runs=1, ground_truth=False, generated=False)


def test_mcvd_evaluation_asks_for_profiled_users(fresh):
    from generec_desktop.evaluation.mcvd_eval import evaluate_mcvd

    with pytest.raises(GenerecError, match="No profiled user to evaluate"):
        evaluate_mcvd(fresh, n_users=1, ks=(1,))
