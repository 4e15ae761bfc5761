"""``generec workspace rebuild`` keeps the audiences built from examples (names, examples, stored vectors),
with item examples mapped onto the rebuilt items by content hash."""

from __future__ import annotations

import numpy as np
from examplemedia import write_photos, write_scenes_video

from generec_desktop.corpus import Workspace


def test_rebuild_keeps_example_audiences(tmp_path):
    from generec_desktop.corpus.rebuild import rebuild_catalogue
    from generec_desktop.profiles import examples as ex
    from generec_desktop.profiles import load_profiles

    root = tmp_path / "W"
    pics = write_photos(tmp_path / "p", ("astronaut", "coffee"))
    with Workspace.create(root) as ws:
        ws.import_media([write_scenes_video(tmp_path / "b.mp4", ("rocket", "chelsea")),
                         write_scenes_video(tmp_path / "a.mp4", ("astronaut", "coffee"))])
        second = ws.items()[1]
        ex.add_audience(ws, "Space fans", [pics[0], second.id])
        ex.add_audience(ws, "Coffee", [pics[1]])
        before = {a.id: a.vector for a in load_profiles(ws).audiences()}
    pics[0].unlink()  # an example file gone: its stored vector must still count after the rebuild
    result = rebuild_catalogue(root, force=True)
    assert result.audiences == 2 and "2 audience(s) from examples" in result.summary()
    with Workspace.open(root) as ws:
        auds = ex.list_audiences(ws)
        assert [a.name for a in auds] == ["Space fans", "Coffee"]
        item_ex = next(e for e in auds[0].examples if e.kind == "item")
        assert ws.item(item_ex.item_id).sha256 == second.sha256
        after = load_profiles(ws)
        for a in after.audiences():
            np.testing.assert_allclose(a.vector, before[a.id], atol=1e-6)
        assert after.notes == []


def test_garbled_audience_rows_are_left_out(tmp_path, monkeypatch):
    from generec_desktop.corpus import rebuild

    root = tmp_path / "W"
    with Workspace.create(root) as ws:
        ws.import_media([write_scenes_video(tmp_path / "a.mp4", ("astronaut",))])
        items = ws.items()
    good = np.ones(4, "<f4").tobytes()
    salvaged = {
        "items": [{"id": 7, "sha256": items[0].sha256, "title": "kept"}], "users": [], "interactions": [],
        "audiences": [{"id": 1, "name": "Fine", "created_at": "2026-01-01 10:00:00", "updated_at": "garbage"},
                      {"id": 2, "name": b"\xff", "created_at": None}, {"id": 3, "name": "fine"},
                      {"id": 4, "name": "No vectors"}],
        "audience_examples": [{"id": 10, "audience_id": 1, "kind": "item", "item_id": 7, "added_at": "x"},
                              {"id": 11, "audience_id": 1, "kind": "weird", "path": "/a.png"},
                              {"id": 12, "audience_id": 4, "kind": "image", "path": "/b.png"}],
        "audience_example_vectors": [{"example_id": 10, "encoder_id": "e1", "dim": 4, "vector": good},
                                     {"example_id": 11, "encoder_id": "e1", "dim": 4, "vector": good},
                                     {"example_id": 12, "encoder_id": "e1", "dim": 5, "vector": good}],
    }
    monkeypatch.setattr(rebuild, "_salvage", lambda db: salvaged)
    result = rebuild.rebuild_catalogue(root, force=True)
    assert result.audiences == 1 and any("No vectors" in s for s in result.skipped)
    from generec_desktop.profiles.examples import list_audiences

    with Workspace.open(root) as ws:
        (aud,) = list_audiences(ws)
        assert aud.name == "Fine" and [(e.kind, e.item_id) for e in aud.examples] == [("item", ws.items()[0].id)]
        assert aud.examples[0].encoders == ("e1",) and ws.check_integrity().ok
