"""The media torture corpus (tests/mediacorpus.py): every reader either gives a correct result or one
clear line, never a traceback, a hang or a half-written file (issue 15).

Default suite: probe, sampling and a whole-file cut of each small case (a few seconds in all).
``-m slow``: import into a workspace, personalise and style each case, then reopen the workspace.
Cases needing a missing codec, the ffmpeg CLI or Debian's opencv-doc files are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import mediacorpus as mc
import mediagen
import numpy as np
import pytest

from generec_desktop.jobs import GenerecError
from generec_desktop.media import MediaError, cut, probe, sample_frames

#: seconds any one reader may take on a (small) corpus file before it counts as a hang
HANG_S = 60


@contextlib.contextmanager
def deadline(seconds: int = HANG_S) -> Iterator[None]:
    """Fail (TimeoutError) instead of hanging, on the main thread's alarm clock."""
    def fire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("torture")


def _made(case: mc.Case, root: Path) -> Path:
    try:
        return mc.build(case, root)
    except mc.Missing as exc:
        print(f"skipped {case.name}: {exc}")
        pytest.skip(str(exc))


def _expected_frames(case: mc.Case, path: Path) -> int | None:
    return case.frames if case.frames is not None else mc.ffprobe_frames(path)


def _one_line(exc: BaseException, path: Path) -> None:
    message = str(exc)
    assert "\n" not in message and message.endswith(".") and (path.name or str(path)) in message, message


def _no_partials(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".part" in p.name], "a half-written file was left behind"


#: cases a reader does not handle yet (a strict xfail each, with the reason)
_TODO: dict[str, str] = {}


def _params(cases: list[mc.Case]) -> list[object]:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xfail(reason=_TODO[c.name], strict=True)]
                         if c.name in _TODO else []) for c in cases]


FAST = [c for c in mc.CASES if not c.slow]


@pytest.mark.parametrize("case", _params(FAST))
def test_corpus_probe_sample_cut(case: mc.Case, corpus_dir: Path, tmp_path: Path) -> None:
    path = _made(case, corpus_dir)
    out = tmp_path / "out.mp4"
    with deadline():
        if not case.usable:
            for read in (lambda: probe(path), lambda: sample_frames(path, rate=4.0),
                         lambda: cut(path, 0.0, 1e6, out)):
                with pytest.raises(MediaError) as err:
                    read()
                _one_line(err.value, path)
            assert not out.exists()
            _no_partials(tmp_path)
            return
        info = probe(path)
        expected = _expected_frames(case, path)
        if expected is not None:
            assert abs(info.frame_count - expected) <= 1, (info.frame_count, expected)
        if case.size is not None:
            assert (info.width, info.height) == case.size
        for word in case.warns:  # the damage is reported, not hidden
            assert any(word in w for w in info.warnings), (word, info.warnings)
        if not case.warns:
            assert not any("truncated" in w for w in info.warnings), info.warnings
        frames = sample_frames(path, rate=4.0, max_side=64)
        assert frames, "no frame sampled from a usable file"
        stamps = [f.timestamp for f in frames]
        assert stamps == sorted(stamps) and len(set(f.index for f in frames)) == len(frames)
        assert all(f.image.dtype == np.uint8 and f.image.ndim == 3 for f in frames)
        result = cut(path, 0.0, 1e6, out)
        assert (result.width, result.height) == (info.width, info.height)  # display size kept, odd too
        # every frame that decodes is kept (at most a few lost where a file is damaged or cut short)
        lost = info.frame_count - result.frame_count
        assert 0 <= lost <= (3 if info.warnings or "corrupt" in case.name else 0), (result.frame_count,
                                                                                  info.frame_count)
        if lost:  # damage found only while decoding is still reported, on the result
            assert any(w.startswith("source damaged: ") for w in result.warnings), result.warnings
        if not info.warnings and not lost:
            assert abs(result.duration - info.duration) <= 1.01 / max(info.fps, 1.0)
        if info.warnings:
            assert result.metadata.get("generec_source_damage"), "the output does not say its source was damaged"
    _no_partials(tmp_path)


def _expected_picture(case: mc.Case, path: Path, k: int) -> np.ndarray:
    """Frame ``k`` as a player shows it, made from its coded picture (mediagen's barcode ``k``)."""
    import cv2

    with av.open(str(path)) as f:
        s = f.streams.video[0]
        coded, sar = mediagen.barcode_image(k, s.width, s.height), s.sample_aspect_ratio or Fraction(1)
    if case.shows == mc.SAR:
        w, h = (round(s.width * sar), s.height) if sar > 1 else (s.width, round(s.height / sar))
        return cv2.resize(coded, (w, h), interpolation=cv2.INTER_CUBIC)
    assert isinstance(case.shows, tuple)
    return mc.shown(coded, case.shows)


def _close(got: np.ndarray, want: np.ndarray) -> float:
    """Mean absolute difference (inf when the shapes differ)."""
    return float(np.abs(got.astype(np.int16) - want).mean()) if got.shape == want.shape else float("inf")


GEOMETRY = [c for c in mc.CASES if c.shows is not None]


@pytest.mark.parametrize("case", _params(GEOMETRY))
def test_corpus_display_geometry(case: mc.Case, corpus_dir: Path, tmp_path: Path) -> None:
    """Frames, the editor's samples and outputs come out as players show the file: the sample aspect
    ratio stretched to square pixels, the display matrix's turn and mirror applied (as ffmpeg does)."""
    from generec_desktop.media import frame_times, sample_reference_frames, transform_video

    path = _made(case, corpus_dir)
    info = probe(path)
    want = _expected_picture(case, path, 1)  # barcode 1: one white block top left, nothing symmetric
    assert (info.width, info.height) == (want.shape[1], want.shape[0])
    raw = mediagen.barcode_image(1, info.coded_width, info.coded_height)
    if raw.shape == want.shape:  # the reference tells a wrong geometry from the right one
        assert _close(raw, want) > 20
    t1 = float(frame_times(path)[1])
    got = sample_frames(path, timestamps=[t1])[0].image
    assert _close(got, want) < 6, _close(got, want)
    shown_by_ffmpeg = mc.ffmpeg_frame(path, 1, tmp_path)
    if shown_by_ffmpeg is not None:  # what the ffmpeg CLI (autorotate) shows
        assert _close(got, shown_by_ffmpeg) < 3, _close(got, shown_by_ffmpeg)
    # the editor's own decoder path (reference frames only): its first frame after the keyframe
    editor = next(f for f in sample_reference_frames(path, 25.0) if f.index > 0)
    assert _close(editor.image, _expected_picture(case, path, editor.index)) < 6
    with deadline():
        for out, luma in ((tmp_path / "rgb.mp4", False), (tmp_path / "luma.mp4", True)):
            result = transform_video(path, out, lambda image, t: image, luma=luma)
            assert (result.width, result.height, result.rotation, result.mirrored,
                    result.sample_aspect_ratio) == (info.width, info.height, 0, False, (1, 1))
            first = sample_frames(out, timestamps=[t1])[0].image
            assert _close(first, want) < 8, (luma, _close(first, want))
    _no_partials(tmp_path)


def test_corpus_is_big_enough() -> None:
    assert len(mc.CASES) >= 40 and len({c.name for c in mc.CASES}) == len(mc.CASES)


@pytest.mark.slow
@pytest.mark.parametrize("case", _params(mc.CASES))
def test_corpus_import_personalize_style(case: mc.Case, corpus_dir: Path, tmp_path: Path) -> None:
    """Import, personalise and style each case (or one clear line), then the workspace still opens."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.editor.personalize.pipeline import personalize
    from generec_desktop.editor.styles.stylize import list_styles, run_style_video
    from generec_desktop.encoders import get_encoder

    path = _made(case, corpus_dir)
    root = tmp_path / "ws"
    with deadline(300):
        with Workspace.create(root) as ws:
            if not case.usable:
                with pytest.raises(GenerecError) as err:
                    ws.import_media([path])
                _one_line(err.value, path)
                assert ws.items() == []
            else:
                item = ws.import_media([path]).items[0]
                info = probe(ws.media_path(item))
                dim = get_encoder("builtin").dim
                vector = np.random.default_rng(0).standard_normal(dim).astype(np.float32)
                res = personalize(ws, item.id, [("a", vector)], generate=False, min_clip=0.1)
                assert res is not None
                styled = tmp_path / "styled.mp4"
                if min(info.width, info.height) < 8:  # too small to style: one clear line is the answer
                    with pytest.raises(GenerecError, match="too small") as err:
                        run_style_video(ws.media_path(item), styled, list_styles()[0].name)
                    assert "\n" not in str(err.value)
                else:
                    result = run_style_video(ws.media_path(item), styled, list_styles()[0].name)
                    got = probe(styled)
                    assert (got.width, got.height) == (info.width, info.height)
                    # frames lost to damage that only decoding finds must be reported (by the result)
                    said = bool(info.warnings or (result.media is not None and result.media.warnings))
                    assert info.frame_count - got.frame_count <= (3 if said else 0)
        with Workspace.open(root) as ws:
            assert ws.check_integrity().ok
    _no_partials(tmp_path)
