"""Import + profiles + recommender as one job: the result, and what a cancel at each step leaves."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from generec_desktop.corpus.schema import Interaction, User
from generec_desktop.jobs import CancelToken
from generec_desktop.profiles import (
    ImportBuildCancelled,
    InteractionFileError,
    ModelNotFoundError,
    build_profiles,
    import_and_build,
    import_interactions,
    load_profiles,
    load_recommender,
)


def _counts(ws):
    with ws.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction)), s.scalar(select(func.count()).select_from(User))


def _rows(tmp_path):
    return len((tmp_path / "interactions.csv").read_text().splitlines()) - 1


def test_one_job_imports_builds_and_trains(planted_ws, tmp_path):
    ws = planted_ws.ws
    seen = []
    res = import_and_build(ws, tmp_path / "interactions.csv", n_segments=3, dim=8, epochs=2, frames_per_item=0,
                           progress=lambda f, m: seen.append((f, m)))
    assert res.imported.imported == _rows(tmp_path) and res.imported.new_users == 30
    assert len(res.profiles.segments) == 3 and len(res.profiles.user_ids) == 30
    assert len(load_profiles(ws).segments) == 3
    assert load_recommender(ws).user_embeddings.shape == (30, 8)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # one job, one monotone progress
    assert "3 audience segments" in res.summary()


def test_a_bad_file_runs_nothing(planted_ws, tmp_path):
    ws = planted_ws.ws
    (tmp_path / "bad.csv").write_text("user_id,item_id\n1,v00\n2,nope\n")
    with pytest.raises(InteractionFileError, match="line 3"):
        import_and_build(ws, tmp_path / "bad.csv", frames_per_item=0)
    assert _counts(ws) == (0, 0)
    with pytest.raises(ModelNotFoundError):
        load_profiles(ws)


def _cancel_when(token, text):
    def progress(fraction, message):
        if text in message:
            token.cancel()
    return progress


def test_cancel_during_the_import_leaves_nothing(planted_ws, tmp_path):
    ws = planted_ws.ws
    token = CancelToken()
    with pytest.raises(ImportBuildCancelled) as exc:
        import_and_build(ws, tmp_path / "interactions.csv", frames_per_item=0, cancel=token,
                         progress=_cancel_when(token, "Read "))
    assert exc.value.imported is None and exc.value.finished == ()
    assert "nothing was imported" in str(exc.value)
    assert _counts(ws) == (0, 0)


def test_cancel_after_the_import_keeps_it_and_the_old_profiles(planted_ws, tmp_path):
    """The defined state: the import is complete, the profiles and recommender are the earlier ones."""
    ws = planted_ws.ws
    first = tmp_path / "first.csv"
    lines = (tmp_path / "interactions.csv").read_text().splitlines()
    first.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    import_interactions(ws, first)
    old = build_profiles(ws, n_segments=2)
    token = CancelToken()
    with pytest.raises(ImportBuildCancelled) as exc:
        import_and_build(ws, tmp_path / "interactions.csv", n_segments=3, frames_per_item=0, cancel=token,
                         progress=_cancel_when(token, "Imported"))
    assert exc.value.finished == ("import",) and exc.value.imported is not None
    assert "they are kept" in str(exc.value) and "Build profiles" in str(exc.value)
    assert _counts(ws)[0] == _rows(tmp_path)  # every row of the file, none twice
    kept = load_profiles(ws)
    assert len(kept.segments) == 2 and sorted(kept.user_ids.tolist()) == sorted(old.user_ids.tolist())
    with pytest.raises(ModelNotFoundError):
        load_recommender(ws)
    # finishing later is the same as not having cancelled
    res = import_and_build(ws, tmp_path / "interactions.csv", n_segments=3, dim=8, epochs=1, frames_per_item=0)
    assert res.imported.imported == 0 and res.imported.skipped_existing == _rows(tmp_path)
    assert len(load_profiles(ws).user_ids) == 30


def test_cancel_during_training_keeps_the_new_profiles_and_no_half_model(planted_ws, tmp_path):
    ws = planted_ws.ws
    token = CancelToken()
    with pytest.raises(ImportBuildCancelled) as exc:
        import_and_build(ws, tmp_path / "interactions.csv", n_segments=3, dim=8, epochs=50, frames_per_item=0,
                         cancel=token, progress=_cancel_when(token, "audience segments"))
    assert exc.value.finished == ("import", "profiles")
    assert "recommender was not" in str(exc.value)
    assert len(load_profiles(ws).user_ids) == 30
    with pytest.raises(ModelNotFoundError):
        load_recommender(ws)
    assert not any(ws.models_dir.glob("recommender-*"))
