"""Quality gates on a real photo and degraded copies of it."""

from __future__ import annotations

import numpy as np


def _astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


def test_gates_reject_blurred_black_white_and_exposure_but_keep_the_photo():
    import cv2

    from generec_desktop.editor.personalize.quality import QualityGates, measure_quality

    img = _astronaut()
    blurred = cv2.GaussianBlur(img, (0, 0), 6)
    black = (img * 0.05).astype(np.uint8)
    white = np.clip(img.astype(np.int32) + 240, 0, 255).astype(np.uint8)
    over = np.clip(img.astype(np.int32) // 4 + 200, 0, 255).astype(np.uint8)
    dark = (img * 0.22).astype(np.uint8)
    flat = np.full_like(img, 128)
    # unrelated pictures, not frames of one video: the absolute gates alone (no neighbours to compare with)
    q = measure_quality([img, blurred, black, white, dark, flat, over], QualityGates(relative_blur=0.0))
    assert q.failed == ("", "blurred", "black", "white", "under-exposed", "flat", "over-exposed")
    assert q.passed.tolist() == [True] + [False] * 6
    assert q.sharpness[0] > 4 * q.sharpness[1]


def test_face_gate_uses_opencv_haar_cascade():
    from generec_desktop.editor.personalize.quality import QualityGates, detect_faces, measure_quality

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


def test_gates_judge_relative_to_the_video_a_gradient_shot_and_a_white_slide_pass():
    """Frames of one video: a defocus that comes and goes is blurred; a whole shot of a smooth gradient
    (soft everywhere) is not, nor a white slide with sharp text; a blown-out white frame still fails."""
    import cv2

    from generec_desktop.editor.personalize.quality import QualityGates, measure_quality

    img = _astronaut()
    h, w = img.shape[:2]
    ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
    gradient = np.broadcast_to(ramp * np.linspace(0.4, 1.0, h, dtype=np.float32)[:, None, None],
                               (h, w, 3)).astype(np.uint8).copy()
    slide = np.full_like(img, 250)
    for y in range(60, h - 60, 40):  # lines of "text"
        cv2.putText(slide, "GeneRec slide text line", (20, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (10, 10, 10), 2)
    blown = np.full_like(img, 252)
    defocus = cv2.GaussianBlur(img, (0, 0), 6)
    frames = [img] * 4 + [defocus] + [img] * 4 + [gradient] * 8 + [slide] * 4 + [blown]
    q = measure_quality(frames)
    assert q.failed[4] == "blurred"
    assert q.failed[9:17] == ("",) * 8, q.failed[9:17]
    assert q.failed[17:21] == ("",) * 4, q.failed[17:21]
    assert q.failed[21] in ("white", "over-exposed", "flat")
    old = measure_quality(frames, QualityGates(relative_blur=0.0, bright_detail=None))
    assert old.failed[9] == "blurred" and old.failed[17] in ("white", "over-exposed")  # what the old gates did


def test_a_dark_picture_with_detail_is_not_a_black_frame():
    import skimage.data

    from generec_desktop.editor.personalize.quality import measure_quality

    stars = skimage.data.hubble_deep_field()  # mostly black sky, sharp galaxies
    black = (_astronaut() * 0.05).astype(np.uint8)
    q = measure_quality([stars, black])
    assert q.dark_share[0] > 0.85
    assert q.failed == ("", "black")
