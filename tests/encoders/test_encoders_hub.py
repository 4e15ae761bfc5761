"""Downloading an open_clip checkpoint through huggingface_hub from a local hub stand-in (tests/hubserver.py).

The server is real HTTP on 127.0.0.1 serving a tiny randomly initialised open_clip CLIP; huggingface_hub's own
model_info / HEAD / ranged GET calls talk to it. HF_HUB_OFFLINE=1 stays set for the process: only the download
the test asks for goes out, to the server named explicitly.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from hubserver import HubServer, HubState, repo_from_folder
from tinyclip import write_tiny_hf_folder

from generec_desktop.encoders import EncoderError, get_encoder, list_weights
from generec_desktop.encoders.catalog import CATALOGUE, catalogue_entry
from generec_desktop.encoders.hub import download_model, get_model, installed_models, plan_download
from generec_desktop.jobs import Cancelled, CancelToken

REPO = "test-org/tiny-clip"
NAME = f"hf-hub:{REPO}"
WEIGHTS = "open_clip_model.safetensors"


@pytest.fixture
def hub(tmp_path: Path):
    write_tiny_hf_folder(tmp_path / "upstream")
    state = HubState(repos={REPO: repo_from_folder(tmp_path / "upstream")}, chunk_size=16 * 1024)
    with HubServer(state) as server:
        yield server


def _offline_flag() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def test_download_verifies_installs_and_the_encoder_loads_it(hub: HubServer, isolated: dict[str, Path]) -> None:
    assert _offline_flag()  # the process is offline; only the asked-for download goes out
    plan = plan_download(NAME, endpoint=hub.endpoint)
    assert plan.licence == "mit" and "MIT License" in plan.licence_text
    assert [f.filename for f in plan.files][:2] == ["open_clip_config.json", WEIGHTS]
    assert "LICENSE" in {f.filename for f in plan.files}
    weights = next(f for f in plan.files if f.filename == WEIGHTS)
    assert weights.sha256 and weights.size == len(hub.state.repos[REPO].files[WEIGHTS])
    assert plan.destination == isolated["home"] / "models" / "open_clip" / "tiny-clip"
    assert not plan.destination.exists()  # planning writes nothing

    seen: list[float] = []
    result = download_model(plan, accept_licence=True, progress=lambda f, m="": seen.append(f))
    assert _offline_flag()  # restored
    assert result.encoder == "open_clip:tiny-clip" and result.folder == plan.destination
    for f in plan.files:
        data = (result.folder / f.filename).read_bytes()
        assert data == hub.state.repos[REPO].files[f.filename]
    assert result.sha256[WEIGHTS] == weights.sha256
    assert result.downloaded_bytes == plan.total_bytes and result.resumed_bytes == 0
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 3
    assert not (result.folder.parent / ".partial-tiny-clip").exists()
    assert [m["name"] for m in installed_models()] == ["tiny-clip"]

    cand = next(c for c in list_weights() if c.name == "tiny-clip")
    assert cand.source == "user" and cand.path == result.weights
    enc = get_encoder("open_clip:tiny-clip")
    x = enc.encode_images([np.full((40, 50, 3), 120, np.uint8)])
    assert x.shape == (1, 32)
    t = enc.encode_text(["a dog"])
    assert t is not None and t.shape == (1, 32)

    again = plan_download(NAME, endpoint=hub.endpoint)
    assert again.installed
    n_gets = len(hub.gets(WEIGHTS))
    assert download_model(again, accept_licence=True).already_installed
    assert len(hub.gets(WEIGHTS)) == n_gets  # nothing fetched twice


def test_licence_must_be_accepted(hub: HubServer) -> None:
    plan = plan_download(NAME, endpoint=hub.endpoint)
    with pytest.raises(EncoderError, match="accept the licence"):
        download_model(plan, accept_licence=False)
    with pytest.raises(EncoderError, match="accept the licence"):
        get_model(NAME, endpoint=hub.endpoint, accept_licence=True, confirm=lambda p: False)
    assert not plan.destination.exists() and not hub.gets(WEIGHTS)


def test_cancelled_download_resumes_with_a_range_request(hub: HubServer) -> None:
    hub.state.chunk_delay = 0.002
    plan = plan_download(NAME, endpoint=hub.endpoint)
    token = CancelToken()

    def progress(fraction: float, message: str = "") -> None:
        if fraction > 0.4:
            token.cancel()

    with pytest.raises(Cancelled):
        download_model(plan, accept_licence=True, progress=progress, cancel=token)
    part = plan.destination.parent / ".partial-tiny-clip" / (WEIGHTS + ".part")
    kept = part.stat().st_size
    total = len(hub.state.repos[REPO].files[WEIGHTS])
    assert 0 < kept < total and not plan.destination.exists()

    hub.state.chunk_delay = 0.0
    again = plan_download(NAME, endpoint=hub.endpoint)
    assert again.resumable_bytes >= kept
    result = download_model(again, accept_licence=True)
    assert hub.gets(WEIGHTS)[-1] == f"bytes={kept}-"
    assert result.resumed_bytes >= kept and result.downloaded_bytes == plan.total_bytes - result.resumed_bytes
    assert (result.folder / WEIGHTS).read_bytes() == hub.state.repos[REPO].files[WEIGHTS]
    assert not part.exists()


def test_dropped_connection_resumes_within_the_call(hub: HubServer) -> None:
    from generec_desktop.encoders.hub import CHUNK_SIZE

    assert len(hub.state.repos[REPO].files[WEIGHTS]) > 3 * CHUNK_SIZE + 1000
    hub.state.drop_after[WEIGHTS] = 3 * CHUNK_SIZE + 1000  # three reads reach the file, the fourth fails
    result = get_model(NAME, endpoint=hub.endpoint, accept_licence=True)
    assert hub.gets(WEIGHTS) == [None, f"bytes={3 * CHUNK_SIZE}-"]
    assert (result.folder / WEIGHTS).read_bytes() == hub.state.repos[REPO].files[WEIGHTS]


def test_corrupted_file_is_rejected_and_nothing_installed(hub: HubServer) -> None:
    hub.state.corrupt.add(WEIGHTS)
    plan = plan_download(NAME, endpoint=hub.endpoint)
    with pytest.raises(EncoderError, match="arrived damaged") as err:
        download_model(plan, accept_licence=True)
    assert "\n" not in str(err.value)
    assert not plan.destination.exists()
    assert not (plan.destination.parent / ".partial-tiny-clip" / (WEIGHTS + ".part")).exists()
    assert [c for c in list_weights() if c.name == "tiny-clip"] == []
    hub.state.corrupt.clear()  # a good copy later installs
    assert download_model(plan_download(NAME, endpoint=hub.endpoint), accept_licence=True).folder.is_dir()


def test_no_network_gives_one_clear_line() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EncoderError, match="Cannot reach the model hub") as err:
        plan_download(NAME, endpoint=f"http://127.0.0.1:{port}")
    assert "\n" not in str(err.value) and "nothing was downloaded" in str(err.value)


def test_too_little_disk_space_is_refused_before_writing(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 1000, 1000))
    plan = plan_download(NAME, endpoint=hub.endpoint)
    with pytest.raises(EncoderError, match="Not enough free disk space"):
        download_model(plan, accept_licence=True)
    assert not plan.destination.parent.exists() and not hub.gets(WEIGHTS)


def test_unknown_repository_and_non_open_clip_repository(hub: HubServer, tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="no public model repository"):
        plan_download("hf-hub:test-org/missing", endpoint=hub.endpoint)
    from hubserver import Repo

    hub.state.repos["test-org/not-clip"] = Repo({"model.onnx": b"x", "README.md": b"# hi"})
    with pytest.raises(EncoderError, match="not an open_clip checkpoint"):
        plan_download("hf-hub:test-org/not-clip", endpoint=hub.endpoint)


def test_catalogue_names_repositories_open_clip_itself_lists() -> None:
    import open_clip

    hubs = {(open_clip.get_pretrained_cfg(m, t) or {}).get("hf_hub", "").rstrip("/")
            for m in open_clip.list_models() for t in open_clip.list_pretrained_tags_by_model(m)}
    for entry in CATALOGUE:
        assert entry.repo_id in hubs, entry
        assert entry.name in open_clip.list_models()
    assert catalogue_entry("vit-b-32").repo_id == "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
    assert catalogue_entry("hf-hub:a/b@v1").revision == "v1"
    with pytest.raises(EncoderError, match="Unknown model"):
        catalogue_entry("ViT-Q-99")
