"""The libraries' read before the jobs load them (app/preload.py): what it reads, and that imports wait for it."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from generec_desktop.app import preload


def test_library_files_are_pyav_extension_modules_and_the_libraries_bundled_beside_them() -> None:
    import av

    files = preload.library_files(["av"])
    root = Path(av.__file__).parent
    assert files and all(f.is_file() for f in files)
    assert any(f.parent == root and f.name.startswith("_core.") for f in files)  # the module `import av` loads
    libs = [f for f in files if f.parent.name.endswith(".libs")]
    if (root.parent / "av.libs").is_dir():  # a wheel: its FFmpeg libraries are read too
        assert any("avcodec" in f.name for f in libs)
    assert preload.library_files(["no_such_package_here"]) == []


def test_read_into_cache_reads_every_byte_and_skips_what_it_cannot_open(tmp_path: Path) -> None:
    a, b = tmp_path / "a.so", tmp_path / "b.so"
    a.write_bytes(b"x" * 3_000_001)
    b.write_bytes(b"")
    before = {p: p.read_bytes() for p in (a, b)}
    assert preload.read_into_cache([a, tmp_path / "missing.so", b]) == 3_000_001
    assert {p: p.read_bytes() for p in (a, b)} == before  # read only


def _held_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: int) -> threading.Event:
    """A package ``name`` (``VALUE = value``) on sys.path, and a preload read that lasts until the event is set."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text(f"VALUE = {value}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    release = threading.Event()
    monkeypatch.setattr(preload, "library_files", lambda names: [])
    monkeypatch.setattr(preload, "read_into_cache", lambda files: release.wait(10) and 0)
    monkeypatch.setattr(preload, "_reader", None)
    monkeypatch.delitem(sys.modules, name, raising=False)
    return release


def test_an_import_of_a_preloaded_package_waits_for_the_read_and_the_finder_then_leaves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = _held_read(tmp_path, monkeypatch, "preload_probe_pkg", 7)
    reader = preload.start(["preload_probe_pkg"])
    assert reader is not None and reader in sys.meta_path
    imported: list[float] = []

    def importer() -> None:
        import preload_probe_pkg

        assert preload_probe_pkg.VALUE == 7
        imported.append(time.monotonic())

    thread = threading.Thread(target=importer)
    thread.start()
    time.sleep(0.3)
    assert not imported  # still waiting for the read
    released = time.monotonic()
    release.set()
    thread.join(5)
    assert imported and imported[0] >= released
    assert reader.done.wait(5)
    reader.thread.join(5)
    assert reader not in sys.meta_path  # gone once the read ended: later imports pay nothing
    assert preload.start(["preload_probe_pkg"]) is None  # once per process


def test_preload_is_off_with_its_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preload, "_reader", None)
    monkeypatch.setenv("GENEREC_PRELOAD", "0")
    assert preload.start(["preload_probe_other"]) is None
    assert preload._reader is None  # no read started


def test_the_gui_thread_never_waits_for_the_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = _held_read(tmp_path, monkeypatch, "preload_probe_main", 8)
    reader = preload.start(["preload_probe_main"])
    assert reader is not None
    try:
        assert threading.current_thread() is threading.main_thread()
        t0 = time.monotonic()
        import preload_probe_main

        assert preload_probe_main.VALUE == 8 and time.monotonic() - t0 < 1.0
    finally:
        release.set()
        reader.thread.join(5)
