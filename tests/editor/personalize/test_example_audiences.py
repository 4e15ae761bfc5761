"""A brand-new workspace whose only audiences are built from examples: personalisation (with generated
thumbnails learnt from the example pictures) works, by id and by name (the MCVD revision toward such an
audience is tested in tests/mcvd/test_example_conditions.py)."""

from __future__ import annotations

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
    from generec_desktop.editor.personalize.pipeline import personalize

    res = personalize(fresh, 1, ["Space fans", "examples:2"], clips=True)
    assert [a.audience_id for a in res.audiences] == ["examples:1", "examples:2"]
    assert [a.label for a in res.audiences] == ["Space fans", "Cat people"]
    t_space, t_cat = (a.thumbnail.timestamp for a in res.audiences)
    assert t_space < 1.0 and t_cat >= 2.0  # each picks the shot that looks like its examples
    for a in res.audiences:  # the palette of the generated thumbnail comes from the example pictures
        assert a.generated is not None and a.generated.image is not None
        assert a.clip is not None and a.clip.end > a.clip.start
