"""Quality gates on a real photo and degraded copies of it."""

from __future__ import annotations

import numpy as np


def _astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


def test_gates_reject_blurred_black_white_and_exposure_but_keep_the_photo():
    import cv2

    from generec_desktop.editor.quality import measure_quality

    img = _astronaut()
    blurred = cv2.GaussianBlur(img, (0, 0), 6)
    black = (img * 0.05).astype(np.uint8)
    white = np.clip(img.astype(np.int32) + 240, 0, 255).astype(np.uint8)
    over = np.clip(img.astype(np.int32) // 4 + 200, 0, 255).astype(np.uint8)
    dark = (img * 0.22).astype(np.uint8)
    flat = np.full_like(img, 128)
    q = measure_quality([img, blurred, black, white, dark, flat, over])
    assert q.failed == ("", "blurred", "black", "white", "under-exposed", "flat", "over-exposed")
    assert q.passed.tolist() == [True] + [False] * 6
    assert q.sharpness[0] > 4 * q.sharpness[1]


def test_face_gate_uses_opencv_haar_cascade():
    from generec_desktop.editor.quality import QualityGates, detect_faces, measure_quality

    img = _astronaut()
    boxes = detect_faces(img)
    assert len(boxes) >= 1
    x, y, w, h = boxes[0]
    assert 150 < x + w / 2 < 300 and 50 < y + h / 2 < 200  # Eileen Collins' face in the photo
    import skimage.data

    coffee = skimage.data.coffee()
    q = measure_quality([img, coffee], QualityGates(require_face=True))
    assert q.faces is not None and q.faces[0] >= 1
    assert q.failed[1] == "no face" and q.failed[0] == ""
