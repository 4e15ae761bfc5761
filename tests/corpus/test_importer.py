"""The importer (corpus/importer.py) on real videos: content addressing, no-op re-import, covers, bad input,
atomicity, a racing import."""

from __future__ import annotations

import hashlib
import shutil
import stat

import numpy as np
import pytest
from PIL import Image

from generec_desktop.corpus import CorpusError, Workspace
from generec_desktop.jobs import Cancelled, CancelToken
from generec_desktop.media import MediaError, probe


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(ws) -> list[str]:
    """Every file under media/, covers/, versions/ and the root's temp files (relative)."""
    out = [p.relative_to(ws.root).as_posix() for d in (ws.media_dir, ws.covers_dir, ws.versions_dir)
           for p in d.rglob("*") if p.is_file()]
    return sorted(out + [p.name for p in ws.root.glob(".tmp-*")])


def test_import_bunny_content_addressed_with_cover(ws, bunny):
    before = (_sha(bunny), bunny.stat().st_mtime_ns)
    progress: list[float] = []
    result = ws.import_media([bunny], owner="alice", licence="CC-BY-3.0", progress=lambda f, m: progress.append(f))
    (item,) = result.added
    sha = before[0]
    assert item.sha256 == sha and item.kind == "human" and item.owner == item.author == "alice"
    assert item.stored_path == f"media/{sha[:2]}/{sha}.mp4"
    stored = ws.media_path(item)
    assert _sha(stored) == sha and stored.stat().st_size == item.file_size == bunny.stat().st_size
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only
    info = probe(bunny)
    assert (item.width, item.height, item.frame_count, item.has_audio) == (
        info.width, info.height, info.frame_count, info.has_audio)
    assert item.duration == pytest.approx(info.duration)
    with Image.open(ws.cover_path(item)) as im:
        assert im.format == "JPEG" and max(im.size) <= 640
        cover = np.asarray(im.convert("L"), dtype=float)
    assert 20 <= cover.mean() <= 235 and cover.std() > 8  # neither black nor blown out
    assert (_sha(bunny), bunny.stat().st_mtime_ns) == before  # the input is untouched
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert _files(ws) == sorted([item.stored_path, item.cover_path])
    assert ws.item(item.id) == item and ws.items("human") == [item] and ws.items("ai_edited") == []


def test_reimport_is_a_noop(ws, bunny, tmp_path):
    first = ws.import_media(bunny).items[0]
    renamed = tmp_path / "copy of bunny.MP4"
    shutil.copyfile(bunny, renamed)
    again = ws.import_media([bunny, renamed])
    assert [f.new for f in again.files] == [False, False]
    assert [i.id for i in again.items] == [first.id, first.id]
    assert len(ws.items()) == 1
    assert _files(ws) == sorted([first.stored_path, first.cover_path])


def test_two_videos_and_reopen(ws, bunny, bikes):
    result = ws.import_media([bunny, bikes], title=None)
    assert len(result.added) == 2 and result.items[1].title == "bikes"
    ws.close()
    with Workspace.open(ws.root) as w2:
        assert [i.sha256 for i in w2.items()] == [_sha(bunny), _sha(bikes)]
        assert w2.check_integrity().ok


@pytest.mark.parametrize("make", ["text", "truncated", "empty", "missing", "folder"])
def test_bad_input_writes_nothing(ws, bunny, tmp_path, make):
    bad = tmp_path / f"bad-{make}.mp4"
    if make == "text":
        bad.write_text("this is not a video\n" * 100)
    elif make == "truncated":
        bad.write_bytes(bunny.read_bytes()[:2000])
    elif make == "empty":
        bad.write_bytes(b"")
    elif make == "folder":
        bad.mkdir()
    error = CorpusError if make in ("missing", "folder") else MediaError
    with pytest.raises(error) as info:
        ws.import_media([bunny, bad])  # the good file first: the batch is validated before writing
    assert bad.name in str(info.value) and "\n" not in str(info.value)
    assert ws.items() == [] and _files(ws) == []


def test_cancel_leaves_nothing(ws, bunny):
    token = CancelToken()

    def progress(fraction, message):
        if fraction > 0.1:
            token.cancel()

    with pytest.raises(Cancelled):
        ws.import_media(bunny, progress=progress, cancel=token)
    assert ws.items() == [] and _files(ws) == []


@pytest.mark.parametrize("where", ["cover", "after_rename"])
def test_failure_mid_import_leaves_no_row_and_no_file(ws, bunny, monkeypatch, where):
    from generec_desktop.corpus import files, importer

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    if where == "cover":
        monkeypatch.setattr(importer, "choose_cover", boom)
    else:
        monkeypatch.setattr(files, "fsync_dir", boom)
    with pytest.raises(OSError, match="simulated"):
        ws.import_media(bunny)
    assert ws.items() == [] and _files(ws) == []
    monkeypatch.undo()
    assert len(ws.import_media(bunny).added) == 1  # and a retry works


def test_racing_import_of_the_same_bytes_keeps_one_row_and_its_files(ws, bunny, monkeypatch):
    first = ws.import_media(bunny).items[0]
    from generec_desktop.corpus import importer

    real = importer.find_original
    calls = []

    def not_yet_visible(s, sha):  # the other process's row appears only after our lookup
        calls.append(sha)
        return None if len(calls) == 1 else real(s, sha)

    monkeypatch.setattr(importer, "find_original", not_yet_visible)
    again = ws.import_media(bunny)
    assert again.files[0].new is False and again.items[0].id == first.id and len(calls) == 2
    assert len(ws.items()) == 1
    rep = ws.check_integrity()
    assert rep.ok, rep.summary()


def test_cover_rule_prefers_sharp_well_exposed_frames():
    from generec_desktop.corpus.cover import pick_cover_frame

    rng = np.random.default_rng(0)
    black = np.zeros((64, 64, 3), np.uint8)
    white = np.full((64, 64, 3), 255, np.uint8)
    sharp = rng.integers(40, 200, (64, 64, 3), dtype=np.uint8)
    blurry = np.repeat(np.repeat(sharp[::8, ::8], 8, axis=0), 8, axis=1)
    assert pick_cover_frame([black, blurry, white, sharp]) == 3
    assert pick_cover_frame([black, blurry, white]) == 1
    grey = np.full((64, 64, 3), 120, np.uint8)  # flat: fails the spread gate, but nearest mid-grey
    assert pick_cover_frame([black, white, grey]) == 2


def test_attached_picture_becomes_the_cover(ws, bikes, tmp_path):
    import mediagen

    poster = np.zeros((120, 160, 3), np.uint8)
    poster[:, :80] = (255, 0, 0)
    poster[:, 80:] = (0, 0, 255)
    src = mediagen.make_with_cover(bikes, tmp_path / "with-cover.mp4", poster)
    item = ws.import_media(src).items[0]
    with Image.open(ws.cover_path(item)) as im:
        cover = np.asarray(im.convert("RGB"), dtype=int)
    assert cover.shape == poster.shape
    assert np.abs(cover - poster).mean() < 10  # the poster, not a frame of the video


def test_audio_only_file_is_refused(ws, tmp_path):
    import mediagen

    with pytest.raises(MediaError):
        ws.import_media(mediagen.make_audio_only(tmp_path / "song.m4a"))
    assert ws.items() == [] and _files(ws) == []


def test_database_elsewhere_by_url(tmp_path, bikes):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    with Workspace.create(tmp_path / "w", db_url=url) as w:
        w.import_media(bikes)
    assert (tmp_path / "elsewhere.sqlite").is_file() and not (tmp_path / "w" / "generec.sqlite").exists()
    with Workspace.open(tmp_path / "w", db_url=url) as w:
        assert len(w.items()) == 1 and w.check_integrity().ok
