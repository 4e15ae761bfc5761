"""Workspace-level jobs: profiles (incremental), audiences, recommender save/load, schema, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fakeencoder import MeanColour
from sqlalchemy import inspect

from generec_desktop.profiles import (
    ModelNotFoundError,
    NoInteractionsError,
    build_profiles,
    import_interactions,
    load_profiles,
    load_recommender,
    train_recommender,
)
from generec_desktop.profiles.store import metadata


def test_migration_matches_store_tables(planted_ws):
    insp = inspect(planted_ws.ws.engine)
    for table in metadata.sorted_tables:
        cols = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(cols) == {c.name for c in table.columns}, table.name
        for col in table.columns:
            assert cols[col.name]["nullable"] == col.nullable, f"{table.name}.{col.name}"


def test_nothing_to_build_from(planted_ws):
    with pytest.raises(NoInteractionsError):
        build_profiles(planted_ws.ws)
    with pytest.raises(ModelNotFoundError):
        load_profiles(planted_ws.ws)


def test_profiles_segments_incremental_and_audiences(planted_ws, tmp_path):
    from sklearn.metrics import adjusted_rand_score

    ws = planted_ws.ws
    import_interactions(ws, tmp_path / "interactions.csv")
    ps = build_profiles(ws, n_segments=3)
    assert ps.recomputed_users == 30 and ps.reused_users == 0
    assert np.allclose(np.linalg.norm(ps.user_hist, axis=1), 1.0, atol=1e-5)
    ext = {u.id: u.external_id for u in ws.users()}
    truth = [planted_ws.user_group[planted_ws.user_ext.index(ext[int(u)])] for u in ps.user_ids]
    assert adjusted_rand_score(truth, ps.user_segment) > 0.6
    colours = {s.label.split(" · ")[0] for s in ps.segments}  # "red" ("video" is in every title)
    assert colours == {"red", "green", "blue"}

    loaded = load_profiles(ws)
    np.testing.assert_allclose(loaded.user_hist, ps.user_hist)
    ids = [a.id for a in loaded.audiences()]
    assert ids[:3] == ["segment:0", "segment:1", "segment:2"] and f"user:{int(ps.user_ids[0])}" in ids
    seg = loaded.audience("segment:1")
    assert seg.size == ps.segments[1].size and seg.vector.shape == (ps.user_hist.shape[1],)

    # Incremental: a new like for one user recomputes that user only.
    again = build_profiles(ws, n_segments=3)
    assert (again.recomputed_users, again.reused_users) == (0, 30)
    (tmp_path / "more.csv").write_text("user_id,item_id\n1000,v11\n")
    import_interactions(ws, tmp_path / "more.csv")
    third = build_profiles(ws, n_segments=3)
    assert (third.recomputed_users, third.reused_users) == (1, 29)
    k = list(third.user_ids).index(next(u for u, e in ext.items() if e == "1000"))
    assert not np.allclose(third.user_hist[k], ps.user_hist[k])


def test_train_recommender_on_workspace(planted_ws, tmp_path):
    ws = planted_ws.ws
    import_interactions(ws, tmp_path / "interactions.csv")
    model = train_recommender(ws, dim=16, epochs=5)
    assert model.user_embeddings.shape == (30, 16)
    again = load_recommender(ws)
    np.testing.assert_allclose(again.user_embeddings, model.user_embeddings)
    u = again.user_index(ws.users()[0].id)
    i = again.item_index(planted_ws.item_ids[0])
    feats = again.item_features[[i, i]]
    assert again.score([u, u], [i, i], feats).shape == (2,)
    assert list((ws.root / "models").glob("recommender-*.safetensors"))


def test_cli_roundtrip(planted_ws, tmp_path, capsys):
    from generec_desktop.cli import main

    w = str(planted_ws.ws.root)
    assert main(["profiles", "import", w, str(tmp_path / "interactions.csv"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_users"] == 30
    assert main(["profiles", "build", w, "--segments", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["segments"]) == 3
    assert main(["profiles", "list", w, "--users", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["audiences"]) == 33
    assert main(["train", "recommender", w, "--epochs", "2", "--dim", "8", "--threads", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["n_users"] == 30
    (tmp_path / "bad.csv").write_text("user_id,item_id\n1,nope\n")
    assert main(["profiles", "import", w, str(tmp_path / "bad.csv")]) == 2
    assert "unknown item 'nope'" in capsys.readouterr().err


def test_a_rebuild_keeps_the_workspace_encoder(planted_ws, tmp_path, monkeypatch):
    """Build profiles with no encoder named (the window's button, `generec profiles build W`) stays in the
    space the audiences already live in instead of falling back to the built-in encoder."""
    from generec_desktop.profiles import store
    from generec_desktop.profiles.service import workspace_encoder

    ws = planted_ws.ws
    import_interactions(ws, tmp_path / "interactions.csv")
    assert workspace_encoder(ws) == "builtin"
    fake = MeanColour()
    real = store.get_encoder
    monkeypatch.setattr(store, "get_encoder", lambda name, ws=None: fake if name == fake.id else real(name, ws))
    assert build_profiles(ws, encoder=fake.id).encoder_id == fake.id
    assert workspace_encoder(ws) == fake.id
    assert build_profiles(ws).encoder_id == fake.id
    assert workspace_encoder(ws, "builtin") == "builtin"
    assert build_profiles(ws, encoder="builtin").encoder_id.startswith("builtin")
