"""'make the thumbnail show food': the phrase, the plan, and the text tower steering the audience vector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tinyclip import write_tiny_hf_folder

from generec_desktop.instructor import content, make_plan


@pytest.mark.parametrize(("text", "phrase"), [
    ("make the thumbnail show food", "food"),
    ("pick a cover with people laughing for the teens", "people laughing"),
    ("a thumbnail showing the dog and make it pop", "dog"),
    ("thumbnail of the beach at sunset", "beach at sunset"),
    ("make a thumbnail for segment 2", None),
    ("change the thumbnail", None),
])
def test_content_phrase(text: str, phrase: str | None) -> None:
    assert content.content_phrase(text) == phrase


@pytest.fixture
def clip(tmp_path: Path):  # type: ignore[no-untyped-def]
    from generec_desktop.encoders import get_encoder

    write_tiny_hf_folder(tmp_path / "tiny")
    return get_encoder("open_clip:tiny", weights=tmp_path / "tiny", backend="torch")


def test_plan_uses_the_text_tower_when_there_is_one(clip) -> None:  # type: ignore[no-untyped-def]
    from generec_desktop.encoders import get_encoder

    plan = make_plan("Make the thumbnail show food", use_model=False, encoder=clip)
    assert plan.operation == "thumbnail" and plan.params["show"] == "food"
    assert any("text tower" in e and clip.id in e for e in plan.explanations)
    plain = make_plan("Make the thumbnail show food", use_model=False, encoder=get_encoder("builtin"))
    assert plain.params["show"] == "food"
    assert any("has no text tower" in e for e in plain.explanations)
    assert "show" not in make_plan("make a 10 second clip with music", use_model=False).params


def test_steer_targets_moves_each_audience_toward_the_phrase(clip) -> None:  # type: ignore[no-untyped-def]
    from generec_desktop.editor.personalize.pipeline import Target
    from generec_desktop.encoders import get_encoder
    from generec_desktop.encoders.text import text_vector

    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(3, clip.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    targets = [Target(f"segment:{k}", vecs[k], f"seg {k}") for k in range(3)]
    food = text_vector(clip, "food")
    steered = content.steer_targets(targets, "food", clip)
    for before, after in zip(targets, steered, strict=True):
        assert after.id == before.id and "showing food" in after.label
        assert float(after.vector @ food) > float(before.vector @ food)
        assert abs(float(np.linalg.norm(after.vector)) - 1.0) < 1e-5
        np.testing.assert_allclose(after.vector, content.steer(before.vector, food), atol=1e-6)
    # frames: the one closest to "food" wins once the audience is steered, where it lost before
    frames = np.stack([vecs[0], food])
    assert int(np.argmax(frames @ targets[0].vector)) == 0
    assert int(np.argmax(frames @ content.steer_targets(targets, "food", clip, weight=0.9)[0].vector)) == 1
    unchanged = content.steer_targets(targets, "food", get_encoder("builtin"))
    assert all(a is b for a, b in zip(unchanged, targets, strict=True))


def test_generec_plan_with_an_encoder_reads_the_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from generec_desktop.cli import main
    from generec_desktop.corpus import Workspace

    Workspace.create(tmp_path / "ws").close()
    write_tiny_hf_folder(tmp_path / "ws" / "models" / "open_clip" / "tiny")
    assert main(["plan", str(tmp_path / "ws"), "make the thumbnail show food", "--no-model",
                 "--encoder", "open_clip:tiny", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["params"]["show"] == "food" and any("text tower" in e for e in plan["explanations"])
