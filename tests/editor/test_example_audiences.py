"""A brand-new workspace whose only audiences are built from examples: personalisation (with generated
thumbnails learnt from the example pictures) and an MCVD revision work, by id and by name."""

from __future__ import annotations

import numpy as np
import pytest
from examplemedia import write_photos, write_scenes_video

from generec_desktop.corpus import Workspace
from generec_desktop.profiles import examples as ex


@pytest.fixture
def fresh(tmp_path):
    with Workspace.create(tmp_path / "W") as ws:
        ws.import_media([write_scenes_video(tmp_path / "src" / "three-shots.mp4")])
        ex.add_audience(ws, "Space fans", write_photos(tmp_path / "space", ("astronaut", "rocket")))
        ex.add_audience(ws, "Cat people", write_photos(tmp_path / "cats", ("chelsea",)))
        yield ws


def test_personalize_for_example_audiences_by_name(fresh):
    from generec_desktop.editor.personalize import personalize

    res = personalize(fresh, 1, ["Space fans", "examples:2"], clips=True)
    assert [a.audience_id for a in res.audiences] == ["examples:1", "examples:2"]
    assert [a.label for a in res.audiences] == ["Space fans", "Cat people"]
    t_space, t_cat = (a.thumbnail.timestamp for a in res.audiences)
    assert t_space < 1.0 and t_cat >= 2.0  # each picks the shot that looks like its examples
    for a in res.audiences:  # the palette of the generated thumbnail comes from the example pictures
        assert a.generated is not None and a.generated.image is not None
        assert a.clip is not None and a.clip.end > a.clip.start


def test_mcvd_revision_toward_an_example_audience(fresh, tmp_path):
    import torch

    from generec_desktop.editor.revise import revise_item
    from generec_desktop.mcvd.workspace import condition_source
    from generec_desktop.profiles import load_profiles

    torch.set_num_threads(1)
    src = condition_source(fresh)
    ps = load_profiles(fresh)
    np.testing.assert_allclose(src.audience_vector("examples:2"), ps.vector("examples:2"))
    np.testing.assert_allclose(src.audience_vector("cat PEOPLE"), ps.vector("examples:2"))
    r = revise_item(fresh, 1, audience="Cat people", out_path=tmp_path / "rev.mp4", strength=0.6, steps=2,
                    end=1.0)
    assert r.output.is_file() and r.mean_change > 0.0 and r.width == 160
    from generec_desktop.diffusion import DiffusionError

    with pytest.raises(DiffusionError, match="no recommender embedding"):
        from generec_desktop.mcvd.workspace import ConditionSource

        ConditionSource("user_emb", ps.encoder_id, ps.user_ids, ps.user_hist, ps.user_segment).audience_vector(
            "examples:1")
