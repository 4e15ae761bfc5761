"""Integrity and repair (corpus/integrity.py): the check finds tampering, orphans and temporary files;
recovery quarantines stray temporary names and keeps live ones."""

from __future__ import annotations

import os
import time

from generec_desktop.corpus.integrity import ORPHAN_GRACE_S


def test_integrity_check_finds_tampering_orphans_and_temp_files(ws, bunny, bikes):
    a, b = ws.import_media([bunny, bikes]).items
    assert ws.check_integrity().ok
    path = ws.media_path(a)
    os.chmod(path, 0o644)
    with open(path, "r+b") as fh:  # flip one byte in the middle
        fh.seek(path.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    ws.cover_path(b).unlink()
    (ws.versions_dir / "stray.mp4").write_bytes(b"x")
    (ws.media_dir / ".tmp-999999999-dead.mp4").write_bytes(b"x")
    rep = ws.check_integrity()
    assert not rep.ok
    assert rep.hash_mismatches == [a.stored_path]
    assert rep.missing_covers == [b.cover_path]
    assert rep.orphan_files == ["versions/stray.mp4"]
    assert rep.temp_files == ["media/.tmp-999999999-dead.mp4"]
    assert rep.missing_files == [] and rep.database_errors == []
    assert "hash mismatches (1)" in rep.summary()
    assert ws.check_integrity(verify_hashes=False).hash_mismatches == []
    ws.media_path(b).unlink()
    assert ws.check_integrity().missing_files == [b.stored_path]


def test_stray_temp_names_are_quarantined_live_ones_kept(ws):
    stray = ws.versions_dir / ".tmp-999999999-abc.mp4"  # a temp name in no journal: not provably ours
    live = ws.temp_file(".mp4")  # journaled by this process
    stray.write_bytes(b"x")
    live.write_bytes(b"y")
    old = time.time() - ORPHAN_GRACE_S - 10
    os.utime(stray, (old, old))
    rep = ws.recover()
    assert rep.removed == [] and rep.quarantined == ["versions/.tmp-999999999-abc.mp4"]
    assert live.exists() and (ws.root / rep.quarantine_folder / "versions" / stray.name).read_bytes() == b"x"
