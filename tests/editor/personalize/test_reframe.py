"""Saliency/face-aware crops to 16:9, 9:16 and 1:1."""

from __future__ import annotations

import numpy as np
import pytest


def test_crop_follows_an_off_centre_object():
    import skimage.data

    from generec_desktop.editor.personalize.reframe import crop_box, salient_centre

    canvas = np.full((360, 640, 3), 90, np.uint8)
    obj = skimage.data.coffee()[::4, ::4]  # a real photo patch on a plain background, right side
    canvas[100:100 + obj.shape[0], 480:480 + min(obj.shape[1], 160)] = obj[:, :160]
    cx, cy = salient_centre(canvas, faces=False)
    assert cx > 0.7
    x, _y, w, h = crop_box(640, 360, "9:16", (cx, cy))
    assert w / h == pytest.approx(9 / 16, abs=0.02) and h == 360
    assert x <= 480 and x + w >= 560  # the object is inside the vertical crop


def test_face_wins_and_aspects_are_exact():
    import skimage.data

    from generec_desktop.editor.personalize.reframe import crop_to, parse_aspect

    img = skimage.data.astronaut()  # 512×512, face upper-middle
    wide = crop_to(img, "16:9")
    assert wide.shape[1] == 512 and abs(wide.shape[1] / wide.shape[0] - 16 / 9) < 0.02
    assert crop_to(img, "1:1").shape[:2] == (512, 512)
    assert parse_aspect("4:3") == pytest.approx(4 / 3)
    from generec_desktop.editor.personalize.errors import EditorError

    with pytest.raises(EditorError):
        parse_aspect("wide")
