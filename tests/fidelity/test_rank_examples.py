"""The rank preview covers audiences built from examples, with no recommender and no users at all."""

from __future__ import annotations

from examplemedia import write_photos, write_scenes_video

from generec_desktop.corpus import Workspace
from generec_desktop.profiles import examples as ex


def test_rank_preview_for_example_audiences(tmp_path):
    from generec_desktop.fidelity.ranking import rank_preview

    with Workspace.create(tmp_path / "W") as ws:
        ws.import_media([write_scenes_video(tmp_path / "a.mp4", ("astronaut", "rocket")),
                         write_scenes_video(tmp_path / "b.mp4", ("chelsea", "coffee"))])
        ex.add_audience(ws, "Space fans", write_photos(tmp_path / "space", ("astronaut", "rocket")))
        ex.add_audience(ws, "Cat people", write_photos(tmp_path / "cats", ("chelsea",)))
        space_item, cat_item = ws.items()
        rows = {r.audience: r for r in rank_preview(ws, cat_item)}
        assert set(rows) == {"examples:1", "examples:2"}
        assert rows["examples:2"].label == "Cat people" and rows["examples:2"].method == "profile-cosine"
        assert rows["examples:2"].rank == 1 and rows["examples:1"].rank == 2  # of 3: the two items + it
        assert rows["examples:1"].of == 3
        assert {r.audience: r.rank for r in rank_preview(ws, space_item)} == {"examples:1": 1, "examples:2": 2}
