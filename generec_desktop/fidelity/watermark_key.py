"""The installation's secret watermark key (issue 13, finding 7).

A watermark made with a public key proves nothing: anyone could embed a version's payload into any file.
So each installation makes its own key on first use — 32 bytes from :mod:`secrets` (256 bits), kept as
64 hex digits in ``data_home()/watermark.key`` (or the file ``$GENEREC_WATERMARK_KEY_FILE`` names), written
atomically with mode 0600 and never overwritten once it exists. A team that wants one another's exports
to read as theirs shares the key: :func:`export_key` / :func:`import_key` (``generec watermark key
export|import FILE``). Importing a *different* key replaces the existing one only when asked
(``replace=True``) and keeps the old key in a timestamped backup next to it, so nothing already exported
becomes unreadable by accident.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from generec_desktop.jobs import GenerecError

__all__ = [
    "KEY_ENV",
    "KEY_FILE_NAME",
    "KeyImport",
    "WatermarkKeyError",
    "export_key",
    "import_key",
    "installation_key",
    "key_path",
    "read_key_file",
]

KEY_ENV = "GENEREC_WATERMARK_KEY_FILE"
KEY_FILE_NAME = "watermark.key"
KEY_BYTES = 32  # 256 bits
_HEADER = "# generec watermark key (secret: whoever has it can forge or strip this installation's marks)"
_HEX = re.compile(r"^[0-9a-f]{64,}$")


class WatermarkKeyError(GenerecError):
    """The watermark key file is missing, unreadable or malformed, or an import would lose a key."""


@dataclass(frozen=True)
class KeyImport:
    """What :func:`import_key` did: ``changed`` is False when the same key was already installed."""

    path: Path
    changed: bool
    backup: Path | None


def key_path() -> Path:
    """Where the installation key lives: ``$GENEREC_WATERMARK_KEY_FILE`` or ``data_home()/watermark.key``."""
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit).expanduser()
    from generec_desktop.config import data_home

    return data_home() / KEY_FILE_NAME


def _parse(text: str, source: Path) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    key = lines[0].lower() if len(lines) == 1 else ""
    if not _HEX.match(key):
        raise WatermarkKeyError(f"{source} is not a watermark key (expected one line of at least 64 hex digits).")
    return key


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WatermarkKeyError(f"{path} is not a watermark key (not text).") from exc
    except OSError as exc:
        raise WatermarkKeyError(f"Cannot read the watermark key {path}: {exc.strerror or exc}.") from exc
    return _parse(text, path)


def _write_new(path: Path, key: str) -> bool:
    """Write ``key`` to ``path`` atomically with mode 0600 unless ``path`` exists; True when written.

    A private temp file is linked into place: ``os.link`` fails when the target exists, so two processes
    making a key at once agree on one, and a crash never leaves a half-written key.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise WatermarkKeyError(f"Cannot write the watermark key {path}: {exc.strerror or exc}.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"{_HEADER}\n{key}\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            raise WatermarkKeyError(f"Cannot write the watermark key {path}: {exc.strerror or exc}.") from exc
        return True
    finally:
        tmp.unlink(missing_ok=True)


def installation_key() -> str:
    """This installation's secret key (64 hex digits), made on first use; see the module docstring."""
    path = key_path()
    if not path.exists():
        _write_new(path, secrets.token_hex(KEY_BYTES))  # loses the race gracefully: the winner's key is read
    return _read(path)


def export_key(dst: str | Path) -> Path:
    """Write the installation key to a new file ``dst`` (mode 0600) for a teammate to import."""
    dst = Path(dst)
    if dst.exists():
        raise WatermarkKeyError(f"{dst} already exists; choose a new file for the exported key.")
    if not _write_new(dst, installation_key()):
        raise WatermarkKeyError(f"{dst} already exists; choose a new file for the exported key.")
    return dst


def import_key(src: str | Path, *, replace: bool = False) -> KeyImport:
    """Install the key in ``src`` as this installation's key.

    With no key yet it is simply installed. The same key again changes nothing. A different existing key is
    replaced only with ``replace=True``, and then kept as ``watermark.key.bak-<time>`` next to it (marks made
    with it can still be read with ``--key-file`` of that backup).
    """
    src = Path(src)
    if not src.is_file():
        raise WatermarkKeyError(f"{src} does not exist or is not a file.")
    new = _read(src)
    path = key_path()
    if not path.exists() and _write_new(path, new):
        return KeyImport(path, True, None)
    old = _read(path)
    if old == new:
        return KeyImport(path, False, None)
    if not replace:
        raise WatermarkKeyError(f"A different watermark key is already installed at {path}; "
                                "use --replace to replace it (the old key is kept as a backup).")
    backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}")
    try:
        os.link(path, backup)
    except OSError as exc:
        raise WatermarkKeyError(f"Cannot back up the old watermark key to {backup}: {exc.strerror or exc}.") from exc
    staged = path.with_name(f".{path.name}.import.{secrets.token_hex(4)}")
    if not _write_new(staged, new):  # pragma: no cover - random name
        raise WatermarkKeyError(f"Cannot stage the imported key at {staged}.")
    try:
        os.replace(staged, path)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise WatermarkKeyError(f"Cannot install the watermark key at {path}: {exc.strerror or exc}.") from exc
    return KeyImport(path, True, backup)


def read_key_file(path: str | Path) -> str:
    """The key in a key file (for ``--key-file``: read an old backup or a teammate's key without installing it)."""
    path = Path(path)
    if not path.is_file():
        raise WatermarkKeyError(f"{path} does not exist or is not a file.")
    return _read(path)
