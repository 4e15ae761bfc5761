"""The six checks on real media: scikit-image's astronaut (a real face) and Big Buck Bunny."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generec_desktop.fidelity.checks import (
    PLATFORM,
    CheckContext,
    authorship,
    detect_faces,
    forbids_derivatives,
    run_checks,
)
from generec_desktop.fidelity.report import FidelityReport


def _face_box(img: np.ndarray) -> tuple[int, int, int, int]:
    faces = detect_faces(img)
    # the astronaut's face is around x 175-270, y 65-160 (512x512 photo)
    hits = [b for b in faces if 150 < b[0] + b[2] / 2 < 300 and 60 < b[1] + b[3] / 2 < 180]
    assert hits, f"the astronaut's face was not found: {faces}"
    return hits[0]


def test_astronaut_face_found_and_unchanged_copy_passes(astronaut_png: Path) -> None:
    ctx = CheckContext(original=astronaut_png, uploader="ann", source_owner="ann", source_licence="CC-BY-4.0")
    rep = run_checks(astronaut_png, ctx)
    assert rep.check("privacy").status == "warn"
    assert any(e.kind == "face" and e.box is not None for e in rep.check("privacy").evidence)
    assert rep.check("authenticity").status == "pass"
    assert rep.check("bias").status == "pass"
    assert rep.check("legal").status == "pass"
    assert rep.check("safety").status in ("not_checked", "pass")
    ident = rep.check("identifiability")  # not watermarked yet: the export adds it, which is no warning
    assert ident.status == "pass" and "watermark" in ident.added_at_export and "Added at export" in ident.summary
    assert not rep.failed
    assert FidelityReport.from_dict(rep.to_dict()).to_dict() == rep.to_dict()


def test_darkened_face_is_a_systematic_skin_tone_shift(astronaut_png: Path, tmp_path: Path) -> None:
    img = np.asarray(Image.open(astronaut_png).convert("RGB")).copy()
    x, y, w, h = _face_box(img)
    img[y:y + h, x:x + w] = (img[y:y + h, x:x + w] * 0.6).astype(np.uint8)
    out = tmp_path / "dark.png"
    Image.fromarray(img).save(out)
    rep = run_checks(out, CheckContext(original=astronaut_png))
    bias = rep.check("bias")
    assert bias.status == "fail", bias
    assert bias.metrics["ita_shift_median"] < -15
    assert "bias" in rep.failed


def test_face_swap_like_edit_fails_authenticity(astronaut_png: Path, tmp_path: Path) -> None:
    import cv2

    img = np.asarray(Image.open(astronaut_png).convert("RGB")).copy()
    x, y, w, h = _face_box(img)
    img[y:y + h, x:x + w] = cv2.GaussianBlur(img[y:y + h, x:x + w], (0, 0), 8)  # the face replaced
    out = tmp_path / "face.png"
    Image.fromarray(img).save(out)
    rep = run_checks(out, CheckContext(original=astronaut_png))
    auth = rep.check("authenticity")
    assert auth.status == "fail", auth
    assert any(e.kind == "face_changed" for e in auth.evidence)
    assert auth.metrics["ssim_mean"] > 0.8  # the rest of the picture is the same: only the face drove it


def test_bunny_has_no_faces_and_nd_licence_of_someone_else_fails(bunny: Path) -> None:
    ctx = CheckContext(original=bunny, uploader="ann", source_owner="blender", source_licence="CC BY-ND 4.0")
    rep = run_checks(bunny, ctx, frames=6)
    assert rep.check("privacy").status == "pass"
    assert rep.check("authenticity").metrics["ssim_mean"] > 0.99
    assert rep.check("legal").status == "fail"
    assert rep.failed == ["legal"]
    timestamps = [e.timestamp for e in rep.check("privacy").evidence]
    assert timestamps == []


def test_authorship_rule_and_licences() -> None:
    assert authorship("ai_edited", "ann") == ("ann", "ann")
    assert authorship("ai_created", "ann") == (PLATFORM, PLATFORM)
    assert forbids_derivatives("CC BY-NC-ND 4.0") and forbids_derivatives("All rights reserved")
    assert not forbids_derivatives("CC-BY-SA-4.0") and not forbids_derivatives(None)


def test_safety_uses_nudenet_when_installed(astronaut_png: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    calls = []

    class FakeDetector:
        def detect(self, bgr: np.ndarray) -> list[dict]:
            calls.append(bgr.shape)
            return [{"class": "FEMALE_BREAST_EXPOSED", "score": 0.9, "box": [1, 2, 3, 4]}]

    monkeypatch.setitem(sys.modules, "nudenet", types.SimpleNamespace(NudeDetector=FakeDetector))
    rep = run_checks(astronaut_png, CheckContext(original=astronaut_png))
    assert calls and rep.check("safety").status == "fail"
    assert rep.check("safety").evidence[0].box == (1, 2, 3, 4)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    from generec_desktop.jobs import GenerecError

    with pytest.raises(GenerecError, match="does not exist"):
        run_checks(tmp_path / "nope.mp4")


def _with_plate(rgb: np.ndarray) -> np.ndarray:
    import cv2

    img = cv2.resize(rgb, (640, 480)).copy()
    x, y = 200, 150
    cv2.rectangle(img, (x, y), (x + 260, y + 56), (245, 245, 245), -1)
    cv2.rectangle(img, (x, y), (x + 260, y + 56), (20, 20, 20), 3)
    cv2.putText(img, "A123BC 77", (x + 10, y + 42), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (15, 15, 15), 3)
    return img


def test_licence_plate_found_on_a_photo_and_not_on_clean_media(tmp_path: Path, bunny: Path) -> None:
    import skimage.data

    from generec_desktop.fidelity.checks import detect_plates

    rocket = skimage.data.rocket()
    assert detect_plates(_with_plate(rocket)), "a plate pasted on a real photo should be found"
    assert detect_plates(rocket) == []
    path = tmp_path / "plate.png"
    Image.fromarray(_with_plate(rocket)).save(path)
    privacy = run_checks(path).check("privacy")
    assert privacy.status == "warn" and privacy.metrics["plates"] >= 1
    assert any(e.kind == "licence_plate" for e in privacy.evidence)
    assert run_checks(bunny).check("privacy").metrics["plates"] == 0
