"""The installation's secret watermark key: made once, private, shared by export/import (issue 13, finding 7)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from generec_desktop.cli import main
from generec_desktop.fidelity import watermark_key as wk


def test_key_is_made_once_private_and_256_bits(tmp_path: Path) -> None:
    path = wk.key_path()
    assert not path.exists()
    key = wk.installation_key()
    assert path.exists() and len(key) >= 64 and int(key, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert wk.installation_key() == key  # never overwritten
    assert not list(path.parent.glob(".*.tmp"))  # no temp file left behind


def test_env_var_names_the_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(wk.KEY_ENV, str(tmp_path / "team" / "wm.key"))
    key = wk.installation_key()
    assert (tmp_path / "team" / "wm.key").read_text().split()[-1] == key


def test_installations_get_different_keys(tmp_path_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    a = wk.installation_key()
    monkeypatch.setenv("GENEREC_HOME", str(tmp_path_factory.mktemp("other")))
    assert wk.installation_key() != a


def test_cli_export_import_between_installations(tmp_path: Path, tmp_path_factory, monkeypatch, capsys) -> None:
    key = wk.installation_key()
    shared = tmp_path / "team.key"
    assert main(["watermark", "key", "export", str(shared)]) == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600
    assert main(["watermark", "key", "export", str(shared)]) == 2  # never overwrites a file
    assert "already exists" in capsys.readouterr().err
    # a teammate with no key yet: installed
    monkeypatch.setenv("GENEREC_HOME", str(tmp_path_factory.mktemp("mate")))
    assert main(["watermark", "key", "import", str(shared), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is True
    assert wk.installation_key() == key
    assert main(["watermark", "key", "import", str(shared)]) == 0  # the same again: nothing changes
    assert "nothing changed" in capsys.readouterr().out
    # a teammate who already has a different key: refused without --replace, then replaced with a backup
    monkeypatch.setenv("GENEREC_HOME", str(tmp_path_factory.mktemp("mate2")))
    own = wk.installation_key()
    assert main(["watermark", "key", "import", str(shared)]) == 2
    err = capsys.readouterr().err
    assert "--replace" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert wk.installation_key() == own
    assert main(["watermark", "key", "import", str(shared), "--replace", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert wk.installation_key() == key
    assert Path(out["backup"]).read_text().split()[-1] == own
    assert stat.S_IMODE(wk.key_path().stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["", "not a key\n", "abcd\n", "0" * 63 + "\n", "a" * 64 + "\n" + "b" * 64 + "\n"])
def test_cli_import_rejects_bad_key_files(tmp_path: Path, capsys, content: str) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text(content)
    assert main(["watermark", "key", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a watermark key" in err and len(err.strip().splitlines()) == 1
    assert not wk.key_path().exists()


def test_cli_import_missing_and_binary_files(tmp_path: Path, capsys) -> None:
    assert main(["watermark", "key", "import", str(tmp_path / "nope.key")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bin.key").write_bytes(b"\xff\xfe\x00\x01")
    assert main(["watermark", "key", "import", str(tmp_path / "bin.key")]) == 2
    assert "not a watermark key" in capsys.readouterr().err


def test_cli_detect_uses_the_installation_key_and_flags_legacy_marks(tmp_path: Path, capsys) -> None:
    import cv2
    from PIL import Image
    from skimage import data

    from generec_desktop.fidelity import watermark as wm

    # coffee at 256 px reads under any key (pilot z ≥ 7 over 12 random keys); astronaut at 256 px does not
    img = cv2.resize(data.coffee(), (256, 171), interpolation=cv2.INTER_AREA)
    src = tmp_path / "a.png"
    Image.fromarray(img).save(src)
    mine, old = tmp_path / "mine.png", tmp_path / "old.png"
    assert main(["watermark", "embed", str(src), "--payload", "5ec0ffee", "--out", str(mine)]) == 0
    Image.fromarray(wm.embed_image(img, 0x5EC0FFEE, key=wm.LEGACY_KEY)).save(old)
    capsys.readouterr()
    assert main(["watermark", "detect", str(mine)]) == 0
    line = capsys.readouterr().out
    assert "payload 5ec0ffee" in line and "not proof" not in line
    assert main(["watermark", "detect", str(old)]) == 0
    assert "old public key, so not proof of origin" in capsys.readouterr().out
    # another installation's key file reads as no mark
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    assert main(["watermark", "detect", str(mine), "--key-file", str(other), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"] is False
