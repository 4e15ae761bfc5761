"""encode_video: sampling through media, batched encoding, and a cache that is never recomputed."""

from __future__ import annotations

from pathlib import Path

import mediagen
import numpy as np
import pytest

from generec_desktop import media
from generec_desktop.encoders import BuiltinEncoder, EncoderError, embedding_cache_path, encode_video
from generec_desktop.encoders.cache import sampling_key
from generec_desktop.jobs import Cancelled, CancelToken


class CountingEncoder:
    """Wraps an encoder and counts the frames it is asked to encode."""

    def __init__(self) -> None:
        self.inner = BuiltinEncoder()
        self.id, self.dim = self.inner.id, self.inner.dim
        self.frames = 0
        self.batches: list[int] = []

    def encode_images(self, images, *, batch_size: int = 32) -> np.ndarray:
        self.frames += len(images)
        self.batches.append(len(images))
        return self.inner.encode_images(images, batch_size=batch_size)

    def encode_text(self, texts):
        return None


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    return mediagen.make_video(path, width=128, height=96, n_frames=40, fps=10,
                               frames=mediagen.photo_frames(40, 128, 96))


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Records every call of media.sample_frames."""
    calls: list[dict] = []
    real = media.sample_frames

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(media, "sample_frames", spy)
    return calls


SHA = "ab" * 32


def test_second_call_neither_decodes_nor_encodes(tmp_path: Path, video: Path, decodes: list[dict]) -> None:
    enc = CountingEncoder()
    seen: list[float] = []
    first = encode_video(enc, video, sha256=SHA, rate=2.0, cache_dir=tmp_path, batch_size=3,
                         progress=lambda f, m="": seen.append(f))
    assert len(decodes) == 1 and decodes[0]["rate"] == 2.0
    assert enc.frames == 8 and max(enc.batches) <= 3  # 4 s at 2 frames/s, in batches of 3
    assert not first.from_cache and first.encoder_id == enc.id
    np.testing.assert_allclose(first.timestamps, np.arange(8) * 0.5, atol=1e-6)
    assert first.embeddings.shape == (8, enc.dim) and first.embeddings.dtype == np.float32
    assert seen == sorted(seen) and seen[-1] == 1.0
    # the embeddings are those of the frames media delivers
    frames = media.sample_frames(video, rate=2.0, max_side=448)
    np.testing.assert_allclose(first.embeddings, BuiltinEncoder().encode_images([f.image for f in frames]),
                               atol=1e-6)
    decodes.clear()

    video_bytes = video.read_bytes()
    second = encode_video(enc, video, sha256=SHA, rate=2.0, cache_dir=tmp_path)
    assert decodes == [] and enc.frames == 8  # nothing decoded, nothing encoded
    assert second.from_cache
    np.testing.assert_array_equal(second.embeddings, first.embeddings)
    np.testing.assert_array_equal(second.timestamps, first.timestamps)
    assert video.read_bytes() == video_bytes  # the input is never modified

    target = embedding_cache_path(tmp_path, SHA, enc.id, sampling_key(2.0, None))
    assert target == tmp_path / "embeddings" / SHA / "builtin-v1" / "rate2_s448.npz"
    assert target.is_file() and [p.name for p in target.parent.iterdir()] == [target.name]  # no temp left


def test_cache_is_keyed_by_sampling_encoder_and_media(tmp_path: Path, video: Path, decodes: list[dict]) -> None:
    enc = CountingEncoder()
    encode_video(enc, video, sha256=SHA, rate=2.0, cache_dir=tmp_path)
    at = encode_video(enc, video, sha256=SHA, timestamps=[0.0, 1.05, 3.3], cache_dir=tmp_path)
    assert len(decodes) == 2 and len(at.timestamps) == 3
    np.testing.assert_allclose(at.timestamps, [0.0, 1.0, 3.3], atol=1e-6)
    encode_video(enc, video, sha256=SHA, timestamps=[0.0, 1.05, 3.3], cache_dir=tmp_path)
    assert len(decodes) == 2
    encode_video(enc, video, sha256="cd" * 32, rate=2.0, cache_dir=tmp_path)  # other media hash
    assert len(decodes) == 3
    other = CountingEncoder()
    other.id = "test-encoder:v2"
    encode_video(other, video, sha256=SHA, rate=2.0, cache_dir=tmp_path)
    assert len(decodes) == 4 and (tmp_path / "embeddings" / SHA / "test-encoder_v2").is_dir()


def test_a_corrupt_entry_is_recomputed(tmp_path: Path, video: Path, decodes: list[dict]) -> None:
    enc = CountingEncoder()
    first = encode_video(enc, video, sha256=SHA, rate=1.0, cache_dir=tmp_path)
    target = embedding_cache_path(tmp_path, SHA, enc.id, sampling_key(1.0, None))
    target.write_bytes(b"garbage")
    again = encode_video(enc, video, sha256=SHA, rate=1.0, cache_dir=tmp_path)
    assert len(decodes) == 2 and not again.from_cache
    np.testing.assert_allclose(again.embeddings, first.embeddings, atol=1e-6)
    assert encode_video(enc, video, sha256=SHA, rate=1.0, cache_dir=tmp_path).from_cache


def test_cancel_writes_nothing(tmp_path: Path, video: Path) -> None:
    token = CancelToken()
    enc = CountingEncoder()

    def progress(fraction: float, message: str = "") -> None:
        if fraction > 0.7:
            token.cancel()

    with pytest.raises(Cancelled):
        encode_video(enc, video, sha256=SHA, rate=4.0, cache_dir=tmp_path, batch_size=2,
                     progress=progress, cancel=token)
    assert not list(tmp_path.rglob("*.npz")) and not list(tmp_path.rglob(".tmp-*"))


def test_bad_requests(tmp_path: Path, video: Path) -> None:
    enc = BuiltinEncoder()
    with pytest.raises(EncoderError, match="sha256"):
        encode_video(enc, video, sha256="../../etc", rate=1.0, cache_dir=tmp_path)
    with pytest.raises(EncoderError, match="exactly one"):
        encode_video(enc, video, sha256=SHA, cache_dir=tmp_path)
    with pytest.raises(EncoderError, match="positive"):
        encode_video(enc, video, sha256=SHA, rate=0, cache_dir=tmp_path)
    with pytest.raises(media.MediaError):
        encode_video(enc, mediagen.make_zero_bytes(tmp_path / "empty.mp4"), sha256=SHA, rate=1.0,
                     cache_dir=tmp_path)
