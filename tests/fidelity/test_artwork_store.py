"""fidelity/artwork.py: store, replace, remove, put back (undo), verify, recovery and rebuild, on a workspace of
PyAV-generated media (not the demo) and real photos."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mediagen

from generec_desktop.corpus import Workspace
from generec_desktop.fidelity import artwork as art
from generec_desktop.fidelity import still_mark as sm
from generec_desktop.jobs import Cancelled, CancelToken, GenerecError

KEY = "artwork-store-test-" + "1" * 45


def _photo(name: str) -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(getattr(data, name)()[..., :3])


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace.create(tmp_path / "W") as w:
        w.import_media(mediagen.make_video(tmp_path / "v.mp4", width=640, height=360, n_frames=12))
        yield w


def _files(ws: Workspace) -> list[str]:
    d = ws.root / "artwork"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_a_512_px_photo_stores_marked_at_full_size_with_sidecar_and_row(ws):
    item = ws.items()[0]
    img = _photo("astronaut")  # 512×512: the size that failed with the video mark
    res = art.store(ws, item.id, "segment:0", img, score=0.42, source_time=1.5, generator="personalize",
                    params={"kind": "selected"}, key=KEY)
    row = res.row
    assert res.previous is None and (row.width, row.height, row.format) == (512, 512, "JPEG")
    assert row.path == f"artwork/{row.sha256}.jpg" and row.audience_label == "Segment 1"
    assert (row.score, row.source_time, row.params) == (0.42, 1.5, {"kind": "selected"})
    path = ws.root / row.path
    from PIL import Image

    stored = np.asarray(Image.open(path).convert("RGB"))
    assert stored.shape == img.shape and not np.array_equal(stored, img)
    assert sm.detect_still(sm.attack(stored), key=KEY).payload == int(row.watermark_payload, 16)
    side = json.loads((ws.root / (row.path + art.SIDECAR_SUFFIX)).read_text())
    assert side["item"]["sha256"] == item.sha256 and side["row"]["audience_id"] == "segment:0"
    assert art.verify(ws, row, key=KEY).ok
    assert not art.verify(ws, row, key="someone-else").watermark  # another installation's key reads nothing
    assert art.list_artwork(ws, item.id) == [row] and art.artwork_for(ws, item.id, "segment:1") is None
    # recovery at open keeps both files (they are referenced)
    assert not ws.recover().quarantined and len(_files(ws)) == 2


def test_replace_remove_and_put_back_keep_every_file_and_undo_exactly(ws):
    item = ws.items()[0]
    first = art.store(ws, item.id, "segment:0", _photo("astronaut"), key=KEY).row
    shared = art.store(ws, item.id, "examples:1", _photo("astronaut"), key=KEY).row
    second = art.store(ws, item.id, "segment:0", _photo("coffee"), key=KEY)
    assert second.previous == first and second.row.path != first.path
    # the same photo for another audience carries another payload, so it is its own file and stays
    assert first.path != shared.path and (ws.root / shared.path).is_file()
    trash = ws.cache_dir / art.TRASH_DIR  # the replaced file is retired there (never deleted)
    assert not (ws.root / first.path).exists() and (trash / Path(first.path).name).is_file()
    # undo of the replace: the first back, the coffee retired
    art.put_back(ws, item.id, "segment:0", second.previous)
    now = art.artwork_for(ws, item.id, "segment:0")
    assert now is not None and now.path == first.path and art.verify(ws, now, key=KEY).ok
    assert not (ws.root / second.row.path).exists()
    # redo, then remove, then undo of the remove
    art.put_back(ws, item.id, "segment:0", second.row)
    removed = art.remove(ws, item.id, "segment:0")
    assert removed.path == second.row.path and art.artwork_for(ws, item.id, "segment:0") is None
    with pytest.raises(art.ArtworkError, match="has no artwork"):
        art.remove(ws, item.id, "segment:0")
    art.put_back(ws, item.id, "segment:0", removed)
    assert art.artwork_for(ws, item.id, "segment:0").sha256 == second.row.sha256
    # undo of the very first store: none again
    art.put_back(ws, item.id, "segment:0", None)
    assert art.artwork_for(ws, item.id, "segment:0") is None
    assert not ws.recover().quarantined  # trash is in cache/, the rest referenced


def test_refusals_write_nothing(ws, tmp_path):
    item = ws.items()[0]
    with pytest.raises(art.ArtworkError, match="480×270"):
        art.store(ws, item.id, "segment:0", _photo("astronaut")[:200, :300].copy(), key=KEY)
    with pytest.raises(art.ArtworkError, match="could not be read back"):  # flat: nothing to carry the mark
        art.store(ws, item.id, "segment:0", np.full((360, 640, 3), 255, np.uint8), key=KEY)
    with pytest.raises(art.ArtworkError, match="RGB picture"):
        art.store(ws, item.id, "segment:0", np.zeros((360, 640), np.uint8), key=KEY)
    with pytest.raises(art.ArtworkError, match="JPEG or WebP"):
        art.store(ws, item.id, "segment:0", _photo("astronaut"), format="TIFF", key=KEY)
    with pytest.raises(GenerecError, match="no item 99"):
        art.store(ws, 99, "segment:0", _photo("astronaut"), key=KEY)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        art.store(ws, item.id, "segment:0", _photo("astronaut"), key=KEY, cancel=token)
    assert _files(ws) == [] and art.list_artwork(ws) == []


def test_webp_and_a_changed_file_is_reported(ws):
    item = ws.items()[0]
    row = art.store(ws, item.id, "segment:0", _photo("coffee"), format="WEBP", key=KEY).row
    assert row.path.endswith(".webp") and row.format == "WEBP" and art.verify(ws, row, key=KEY).ok
    p = ws.root / row.path
    p.write_bytes(p.read_bytes() + b"x")
    chk = art.verify(ws, row, key=KEY)
    assert not chk.ok and not chk.hash_ok and "changed" in chk.problem
    p.unlink()
    assert not art.verify(ws, row, key=KEY).present


def test_rebuild_restores_the_rows_from_the_sidecars(ws):
    from generec_desktop.corpus.rebuild import rebuild_catalogue

    item = ws.items()[0]
    a = art.store(ws, item.id, "segment:0", _photo("astronaut"), score=0.5, source_time=0.25, key=KEY).row
    b = art.store(ws, item.id, "examples:1", _photo("coffee"), generator="personalize:generated", key=KEY).row
    root = ws.root
    ws.close()
    res = rebuild_catalogue(root, force=True)
    assert res.artwork == 2 and "2 artwork" in res.summary()
    with Workspace.open(root) as again:
        rows = {r.audience_id: r for r in art.list_artwork(again)}
        assert rows["segment:0"].path == a.path and rows["segment:0"].source_time == 0.25
        assert rows["examples:1"].generator == "personalize:generated" and rows["examples:1"].sha256 == b.sha256
        assert art.verify(again, rows["segment:0"], key=KEY).ok
        assert not again.recover().quarantined


def test_an_unreferenced_file_in_artwork_is_quarantined_never_deleted(ws):
    import os
    import time

    stray = ws.root / "artwork" / "not-ours.jpg"
    stray.parent.mkdir()
    stray.write_bytes(b"hand-placed")
    old = time.time() - 3600
    os.utime(stray, (old, old))
    rep = ws.recover()
    assert rep.quarantined == ["artwork/not-ours.jpg"] and not stray.exists()
    assert (ws.root / rep.quarantine_folder / "artwork" / "not-ours.jpg").read_bytes() == b"hand-placed"


def test_artwork_carries_signed_content_credentials_with_the_video_as_ingredient(ws, tmp_path):
    """Issue 18: every image that leaves the app is signed; the stored artwork's C2PA manifest validates (the
    local CA as trust anchor), names the audience and the item's video as its ingredient, and breaks when the
    pixels are changed."""
    from generec_desktop.fidelity.credentials import read_credentials

    item = ws.items()[0]
    gen = art.store(ws, item.id, "segment:1", _photo("astronaut"), score=0.3, source_time=0.5,
                    generator="personalize:generated", params={"kind": "generated"}, key=KEY).row
    path = ws.root / gen.path
    cred = read_credentials(path)
    assert cred.state == "trusted", (cred.state, cred.failures, cred.error)
    assert cred.audience and cred.audience.get("id") == "segment:1"
    assert cred.ingredients and any(i.get("title") for i in cred.ingredients)
    assert "compositeWithTrainedAlgorithmicMedia" in cred.digital_source_types
    side = json.loads((ws.root / (gen.path + art.SIDECAR_SUFFIX)).read_text())
    assert side["credentials"]["c2pa"] is True and side["credentials"]["bytes_added"] > 0
    assert art.verify(ws, gen, key=KEY).ok  # the row's hash is of the signed file
    # changed picture bytes: the credentials no longer match
    import shutil

    spliced = tmp_path / "spliced.jpg"
    shutil.copyfile(path, spliced)
    raw = bytearray(spliced.read_bytes())
    raw[-200:-100] = bytes(100)  # inside the entropy-coded picture data, after the manifest
    spliced.write_bytes(bytes(raw))
    assert read_credentials(spliced).tampered
