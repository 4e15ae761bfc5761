"""Getting open_clip checkpoints from the Hugging Face hub, only when a user asks for one.

``plan_download(name)`` asks the hub (``HfApi.model_info`` with file metadata) which files the
repository holds at its current commit, their sizes and checksums, and its licence; nothing is
written. ``download_model(plan, accept_licence=True)`` then fetches the files into
``<data home>/models/open_clip/<name>/`` (where :mod:`.discovery` finds them), with:

- **resume**: bytes land in ``.partial-<name>/<file>.part`` and stay there after a cancel, a crash or
  a dropped connection; the next call continues with an HTTP ``Range`` request (huggingface_hub's
  ``http_get(resume_size=)``). Why not ``hf_hub_download``: since huggingface_hub 1.x it downloads to
  a process-unique temporary file that it deletes on any failure (its PR 4228), so an interrupted
  download always starts again from zero; only its retries *within* one call resume.
- **checksums**: every file is hashed after download and compared with what the hub reports (the LFS
  sha256 of weights, also its ``X-Linked-Etag``; the git blob id of small files); a mismatch removes
  the partial file and installs nothing.
- **disk space** checked before the first byte (what is left to fetch, plus a margin).
- **licence**: shown by the caller from the plan; ``accept_licence`` must be true.
- **cancel** between chunks (the job contract), keeping what was fetched for the next resume.

Offline stays the default: the CLI and the window set ``HF_HUB_OFFLINE=1`` for the whole process,
and huggingface_hub refuses every request then. A download the user asked for lifts that switch for
its own requests only (:func:`hub_online`, a counted, process-wide flag restored afterwards). The
endpoint is the argument, else ``$HF_ENDPOINT``, else huggingface.co; tests use a local server.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generec_desktop.config import data_home
from generec_desktop.encoders.base import EncoderError
from generec_desktop.encoders.catalog import HubModel, catalogue_entry
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

__all__ = [
    "MANIFEST",
    "DownloadPlan",
    "DownloadResult",
    "HubFile",
    "download_model",
    "get_model",
    "hub_endpoint",
    "hub_online",
    "installed_models",
    "partial_bytes",
    "plan_download",
    "user_models_dir",
]

DEFAULT_ENDPOINT = "https://huggingface.co"
MANIFEST = "generec-download.json"
CONFIG_FILE = "open_clip_config.json"
#: weights in the order open_clip prefers them inside a hub folder (factory._find_checkpoint_in_dir)
WEIGHTS_PREFERENCE = (
    "open_clip_model.safetensors", "open_clip_pytorch_model.safetensors", "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth", "model.safetensors", "pytorch_model.bin",
)
#: what the text tower's tokenizer may need (SigLIP/MobileCLIP2 use Hugging Face tokenizers from the folder)
TOKENIZER_FILES = frozenset({
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
    "spiece.model", "sentencepiece.bpe.model", "vocab.txt", "added_tokens.json",
})
LICENCE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "LICENCE.txt")
_LICENCE_TEXT_MAX = 64_000
#: kept free beyond the download itself: the rest of the machine needs some space too
DISK_MARGIN = 64 * 1024 * 1024


def user_models_dir() -> Path:
    """Where downloaded models live: ``<data home>/models`` (searched by :mod:`.discovery`)."""
    return data_home() / "models"


def hub_endpoint(endpoint: str | None = None) -> str:
    """The hub to talk to: ``endpoint``, else ``$HF_ENDPOINT``, else huggingface.co (no trailing slash)."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


# -- offline switch ------------------------------------------------------------------------------
_ONLINE_LOCK = threading.Lock()
_online_users = 0
_saved_offline = False
_saved_chunk = 10 * 1024 * 1024
#: bytes per read while downloading (huggingface_hub's ``DOWNLOAD_CHUNK_SIZE`` during our downloads)
CHUNK_SIZE = 1024 * 1024


@contextlib.contextmanager
def hub_online() -> Iterator[None]:
    """huggingface_hub's offline switch lifted while a user-requested download runs (restored after).

    huggingface_hub reads ``HF_HUB_OFFLINE`` once, into ``constants.HF_HUB_OFFLINE``, and its HTTP
    hook checks that flag on every request; there is no per-request override, so the flag itself
    is flipped (counted, for overlapping downloads in one process). Other hub requests of the same
    process during that time are allowed too: it is the user's explicit download window.
    """
    global _online_users, _saved_offline, _saved_chunk
    from huggingface_hub import constants

    with _ONLINE_LOCK:
        if _online_users == 0:
            _saved_offline = bool(constants.HF_HUB_OFFLINE)
            _saved_chunk = int(constants.DOWNLOAD_CHUNK_SIZE)
            constants.HF_HUB_OFFLINE = False
            # its 10 MiB read size is also the step of progress and of our cancel check: 1 MiB keeps both prompt
            constants.DOWNLOAD_CHUNK_SIZE = CHUNK_SIZE
        _online_users += 1
    try:
        yield
    finally:
        with _ONLINE_LOCK:
            _online_users -= 1
            if _online_users == 0:
                constants.HF_HUB_OFFLINE = _saved_offline
                constants.DOWNLOAD_CHUNK_SIZE = _saved_chunk


# -- plans -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HubFile:
    """One file of a hub repository with the checksum the hub reports for it."""

    filename: str
    size: int
    sha256: str | None = None  # LFS files (weights): sha256 of the content
    git_sha1: str | None = None  # files kept in git (configs): the git blob id

    @property
    def part_name(self) -> str:
        return self.filename.replace("/", "__") + ".part"


@dataclass(frozen=True)
class DownloadPlan:
    """What a download would fetch, from where, under which licence; nothing written yet."""

    model: HubModel
    endpoint: str
    commit: str
    files: tuple[HubFile, ...]
    licence: str  # the hub's licence id, e.g. "mit"; "" when its model card names none
    licence_name: str
    licence_link: str
    licence_text: str  # the repository's LICENSE file, when it has one (truncated)
    destination: Path  # the model folder to be created
    resumable_bytes: int = 0  # bytes of an earlier, interrupted download that will be kept
    installed: bool = False  # this exact commit is already there

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def encoder(self) -> str:
        """The encoder name to select once downloaded."""
        return f"open_clip:{self.model.name}"

    @property
    def page(self) -> str:
        """The repository's page on the hub (where its card and licence are)."""
        return f"{self.endpoint}/{self.model.repo_id}"

    def licence_summary(self) -> str:
        """One line: the licence id/name and where to read it."""
        what = self.licence_name or self.licence or "no licence stated on the model card"
        link = self.licence_link or (f"{self.page}/blob/{self.commit[:12]}/{self._licence_file()}"
                                     if self._licence_file() else self.page)
        return f"{what} ({link})"

    def _licence_file(self) -> str | None:
        names = {f.filename for f in self.files}
        return next((n for n in LICENCE_FILES if n in names), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "repo_id": self.model.repo_id, "endpoint": self.endpoint, "commit": self.commit,
            "licence": self.licence, "licence_name": self.licence_name, "licence_link": self.licence_link,
            "licence_summary": self.licence_summary(), "has_licence_text": bool(self.licence_text),
            "destination": str(self.destination), "total_bytes": self.total_bytes,
            "resumable_bytes": self.resumable_bytes, "installed": self.installed, "encoder": self.encoder,
            "files": [{"filename": f.filename, "size": f.size, "sha256": f.sha256, "git_sha1": f.git_sha1}
                      for f in self.files],
        }


@dataclass(frozen=True)
class DownloadResult:
    """A model that is now on disk and how it got there."""

    name: str
    encoder: str  # "open_clip:<name>"
    folder: Path
    weights: Path
    commit: str
    total_bytes: int
    downloaded_bytes: int  # fetched by this call
    resumed_bytes: int  # kept from an interrupted download
    sha256: dict[str, str] = field(default_factory=dict)  # file -> sha256 of what was installed
    already_installed: bool = False


def _hub_error(exc: BaseException, endpoint: str, what: str) -> EncoderError:
    """A one-line, actionable message for a hub failure (no network, unknown repository, server error)."""
    from huggingface_hub import errors

    try:
        import httpx2 as httpx  # what huggingface_hub >= 1.x speaks
    except ImportError:  # pragma: no cover - older huggingface_hub
        import httpx  # type: ignore[no-redef]

    if isinstance(exc, errors.GatedRepoError):
        return EncoderError(f"{what} is gated on {endpoint}: accept its terms on the hub page and log in "
                            "(`hf auth login`), then try again.")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return EncoderError(f"The hub at {endpoint} has no public model repository for {what}; check the name "
                            "(`generec models catalog`).")
    if isinstance(exc, errors.RevisionNotFoundError):
        return EncoderError(f"The hub at {endpoint} has no such revision of {what}; use the default (main).")
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return EncoderError(f"A file of {what} is missing on {endpoint}; the repository changed, try again.")
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", "an error")
        return EncoderError(f"The hub at {endpoint} answered {status} for {what}; try again later.")
    reason = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        reason = "timed out"
    elif isinstance(exc, httpx.ConnectError | ConnectionError):
        reason = "connection refused or no network"
    return EncoderError(f"Cannot reach the model hub at {endpoint} ({reason}): check the network connection "
                        "or the hub address (--endpoint / HF_ENDPOINT); nothing was downloaded.")


_NETWORK_ERRORS: tuple[type[BaseException], ...] | None = None


def _network_errors() -> tuple[type[BaseException], ...]:
    global _NETWORK_ERRORS
    if _NETWORK_ERRORS is None:
        from huggingface_hub import errors

        try:
            import httpx2 as httpx
        except ImportError:  # pragma: no cover
            import httpx  # type: ignore[no-redef]
        _NETWORK_ERRORS = (errors.HfHubHTTPError, httpx.HTTPError, ConnectionError, TimeoutError)
    return _NETWORK_ERRORS


def _licence_of(info: Any) -> tuple[str, str, str]:
    card = getattr(info, "card_data", None)
    lic = getattr(card, "license", None) if card is not None else None
    if isinstance(lic, list):
        lic = ", ".join(str(x) for x in lic)
    if not lic:
        lic = next((t.split(":", 1)[1] for t in (getattr(info, "tags", None) or []) if t.startswith("license:")), "")
    name = getattr(card, "license_name", None) or "" if card is not None else ""
    link = getattr(card, "license_link", None) or "" if card is not None else ""
    return str(lic or ""), str(name), str(link)


def _select_files(siblings: list[Any], what: str) -> list[HubFile]:
    by_name = {s.rfilename: s for s in siblings}
    if CONFIG_FILE not in by_name:
        raise EncoderError(f"{what} is not an open_clip checkpoint (it has no {CONFIG_FILE}); choose an "
                           "open_clip repository.")
    weights = next((n for n in WEIGHTS_PREFERENCE if n in by_name), None)
    if weights is None:
        raise EncoderError(f"{what} has no open_clip weights file ({', '.join(WEIGHTS_PREFERENCE[:3])}, ...).")
    names = [CONFIG_FILE, weights, *sorted(n for n in by_name if n in TOKENIZER_FILES),
             *[n for n in LICENCE_FILES if n in by_name]]
    out = []
    for n in names:
        s = by_name[n]
        lfs = getattr(s, "lfs", None)
        size = int(lfs.size if lfs is not None else (s.size or 0))
        out.append(HubFile(n, size, sha256=(lfs.sha256 if lfs is not None else None),
                           git_sha1=(None if lfs is not None else getattr(s, "blob_id", None))))
    return out


def _staging(dest: Path) -> Path:
    return dest.parent / f".partial-{dest.name}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _resumable(staging: Path, commit: str, files: list[HubFile]) -> int:
    state = _read_json(staging / "state.json")
    if state.get("commit") != commit:
        return 0
    total = 0
    for f in files:
        part = staging / f.part_name
        if part.is_file() and state.get("files", {}).get(f.filename) == (f.sha256 or f.git_sha1):
            total += min(part.stat().st_size, f.size)
    return total


def _fetch_licence_text(endpoint: str, repo_id: str, commit: str, files: list[HubFile]) -> str:
    lic = next((f for f in files if f.filename in LICENCE_FILES), None)
    if lic is None or lic.size > 4 * _LICENCE_TEXT_MAX:
        return ""
    from huggingface_hub import get_session, hf_hub_url
    from huggingface_hub.utils._headers import build_hf_headers

    url = hf_hub_url(repo_id, lic.filename, revision=commit, endpoint=endpoint)
    try:
        r = get_session().get(url, headers=build_hf_headers(), timeout=10, follow_redirects=True)
        r.raise_for_status()
    except _network_errors():
        return ""  # the licence id and link are still shown; the text is a courtesy
    return r.content.decode("utf-8", "replace")[:_LICENCE_TEXT_MAX]


def plan_download(name: str, *, endpoint: str | None = None, dest_root: Path | None = None,
                  timeout: float = 15.0) -> DownloadPlan:
    """Ask the hub what downloading ``name`` (a catalogue name or ``hf-hub:<org>/<repo>``) would fetch.

    One metadata request (and the repository's LICENSE file, if any, to show it); writes nothing.
    Raises :class:`EncoderError` with one line for an unknown name, no network or a non-open_clip repo.
    """
    model = catalogue_entry(name)
    ep = hub_endpoint(endpoint)
    what = f"{model.repo_id}"
    from huggingface_hub import HfApi

    with hub_online():
        try:
            info = HfApi(endpoint=ep).model_info(model.repo_id, revision=model.revision, files_metadata=True,
                                                 timeout=timeout)
        except _network_errors() as exc:
            raise _hub_error(exc, ep, what) from None
        commit = str(info.sha or "")
        if not commit:
            raise EncoderError(f"The hub at {ep} did not say which commit of {what} it serves; it does not look "
                               "like a Hugging Face hub.")
        files = _select_files(list(info.siblings or []), what)
        licence, licence_name, licence_link = _licence_of(info)
        licence_text = _fetch_licence_text(ep, model.repo_id, commit, files)
    dest = (dest_root or user_models_dir()) / "open_clip" / model.name
    manifest = _read_json(dest / MANIFEST)
    installed = (manifest.get("commit") == commit and manifest.get("repo_id") == model.repo_id
                 and all((dest / f.filename).is_file() for f in files))
    return DownloadPlan(model, ep, commit, tuple(files), licence, licence_name, licence_link, licence_text, dest,
                        resumable_bytes=_resumable(_staging(dest), commit, files), installed=installed)


# -- download ----------------------------------------------------------------------------------------
def _git_blob_sha1(path: Path, size: int) -> str:
    h = hashlib.sha1(f"blob {size}\0".encode())  # git's object id of a file: sha1 of header + content
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_disk(staging: Path, need: int) -> None:
    probe = staging
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need + DISK_MARGIN:
        raise EncoderError(
            f"Not enough free disk space for this download: it needs {need / 1e6:,.0f} MB (+{DISK_MARGIN // 2**20} MB "
            f"margin) in {probe} and {free / 1e6:,.0f} MB are free; free some space or set GENEREC_HOME elsewhere."
        )


class _Counter:
    """Bytes fetched so far across the files of one download, reported as progress, polled for cancel."""

    def __init__(self, total: int, done: int, label: str, progress: Progress | None,
                 cancel: CancelToken | None) -> None:
        self.total, self.done, self.label = max(total, 1), done, label
        self.progress, self.cancel = progress, cancel
        self.fetched = 0
        self._last = 0.0

    def add(self, n: int) -> None:
        self.done += n
        self.fetched += n
        check_cancel(self.cancel)  # raised inside huggingface_hub's chunk loop: the chunk is not written
        now = time.monotonic()
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            report(self.progress, min(self.done / self.total, 0.999),
                   f"{self.label}: {self.done / 1e6:,.1f} of {self.total / 1e6:,.1f} MB")

    def bar_class(self) -> type:
        """A tqdm stand-in for ``http_get(tqdm_class=)``: huggingface_hub calls ``update(n)`` per chunk."""
        counter = self

        class _Bar:
            def __init__(self, **_: Any) -> None:
                pass

            def __enter__(self) -> _Bar:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def update(self, n: float = 1) -> None:
                counter.add(int(n))

            def close(self) -> None:
                pass

        return _Bar


def _unlink_own(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fetch(plan: DownloadPlan, f: HubFile, part: Path, counter: _Counter) -> None:
    """Fetch ``f`` into ``part``, continuing from its current length (HTTP Range)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils._headers import build_hf_headers

    url = hf_hub_url(plan.model.repo_id, f.filename, revision=plan.commit, endpoint=plan.endpoint)
    meta = get_hf_file_metadata(url, timeout=15, endpoint=plan.endpoint)
    etag = (meta.etag or "").lower()
    expected = f.sha256 or f.git_sha1 or ""
    if expected and etag and etag != expected:
        raise EncoderError(f"The hub reports two different checksums for {f.filename} of {plan.model.repo_id} "
                           f"({etag[:12]}… and {expected[:12]}…); it is changing, try again later.")
    if meta.size is not None and int(meta.size) != f.size:
        raise EncoderError(f"The hub reports two different sizes for {f.filename} ({meta.size} and {f.size}); "
                           "try again later.")
    have = part.stat().st_size if part.is_file() else 0
    if have > f.size:
        _unlink_own(part)  # longer than the file: not a prefix of it; our own partial file
        have = 0
    with open(part, "r+b" if have else "wb") as fh:
        fh.seek(have)
        http_get(meta.location or url, fh, resume_size=have, headers=build_hf_headers(), expected_size=f.size,
                 displayed_filename=f.filename, tqdm_class=counter.bar_class())
        fh.flush()
        os.fsync(fh.fileno())


def _verify(f: HubFile, part: Path, repo_id: str) -> str:
    """The file's sha256, after checking it against the hub's checksum (the file is removed on mismatch)."""
    from generec_desktop.safefiles import file_sha256

    size = part.stat().st_size
    sha256 = file_sha256(part)
    ok = size == f.size
    if ok and f.sha256:
        ok = sha256 == f.sha256.lower()
    elif ok and f.git_sha1:
        ok = _git_blob_sha1(part, size) == f.git_sha1.lower()
    elif ok:
        ok = False  # nothing to check it against: never install an unverified file
    if not ok:
        _unlink_own(part)
        want = f.sha256 or f.git_sha1 or "none given"
        raise EncoderError(
            f"{f.filename} of {repo_id} arrived damaged ({size:,} bytes, sha256 {sha256[:12]}…; the hub says "
            f"{f.size:,} bytes, {want[:12]}…); it was removed and nothing was installed; run the download again."
        )
    return sha256


def _install(plan: DownloadPlan, staging: Path, hashes: dict[str, str]) -> None:
    """Move the verified files into the model folder as one rename (a half-installed folder never shows)."""
    from generec_desktop.safefiles import atomic_write_json, fsync_dir

    dest = plan.destination
    ready = staging / "ready"
    ready.mkdir(exist_ok=True)
    for f in plan.files:
        target = ready / f.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / f.part_name, target)
    atomic_write_json(ready / MANIFEST, {
        "format": "generec-model-download", "version": 1, "name": plan.name, "repo_id": plan.model.repo_id,
        "endpoint": plan.endpoint, "commit": plan.commit, "licence": plan.licence,
        "licence_name": plan.licence_name, "licence_link": plan.licence_link,
        "licence_accepted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {f.filename: {"size": f.size, "sha256": hashes[f.filename]} for f in plan.files},
    })
    previous = staging / "previous"
    if dest.exists():
        if not (dest / MANIFEST).is_file():
            raise EncoderError(f"{dest} exists and was not downloaded by GeneRec; move it away or download under "
                               "another name (hf-hub:<org>/<repo>).")
        os.replace(dest, previous)
    os.replace(ready, dest)
    fsync_dir(dest.parent)
    if previous.exists():  # the app's own earlier download of this model, replaced
        old = _read_json(previous / MANIFEST)
        for name in old.get("files", {}):
            _unlink_own(previous / name)
        _unlink_own(previous / MANIFEST)
        with contextlib.suppress(OSError):
            previous.rmdir()


def _write_state(staging: Path, plan: DownloadPlan) -> None:
    from generec_desktop.safefiles import atomic_write_json

    state = _read_json(staging / "state.json")
    if state.get("commit") != plan.commit:  # a newer commit: the old partial files are not prefixes of it
        for f in state.get("files", {}):
            _unlink_own(staging / (str(f).replace("/", "__") + ".part"))
    atomic_write_json(staging / "state.json", {
        "commit": plan.commit, "repo_id": plan.model.repo_id,
        "files": {f.filename: f.sha256 or f.git_sha1 for f in plan.files},
    })


def _clear_staging(staging: Path, plan: DownloadPlan) -> None:
    for f in plan.files:
        _unlink_own(staging / f.part_name)
    _unlink_own(staging / "state.json")
    for d in (staging / "ready", staging):
        with contextlib.suppress(OSError):
            d.rmdir()


def download_model(plan: DownloadPlan, *, accept_licence: bool, progress: Progress | None = None,
                   cancel: CancelToken | None = None) -> DownloadResult:
    """Fetch, verify and install the files of ``plan`` (see the module docstring).

    ``accept_licence`` must be true: the caller has shown ``plan.licence_summary()`` (and
    ``plan.licence_text``) and the user agreed. Raises :class:`EncoderError` (one line) for no network,
    too little disk space or a damaged file; ``Cancelled`` when cancelled, keeping the partial files so
    the next call resumes.
    """
    if not accept_licence:
        raise EncoderError(f"{plan.name} is licensed under {plan.licence_summary()}; accept the licence to download "
                           "it (--yes on the command line).")
    dest = plan.destination
    weights = next(f.filename for f in plan.files if f.filename in WEIGHTS_PREFERENCE)
    if plan.installed:
        report(progress, 1.0, f"{plan.name} is already downloaded")
        manifest = _read_json(dest / MANIFEST)
        return DownloadResult(plan.name, plan.encoder, dest, dest / weights, plan.commit, plan.total_bytes, 0, 0,
                              {k: str(v.get("sha256")) for k, v in manifest.get("files", {}).items()},
                              already_installed=True)
    staging = _staging(dest)
    _check_disk(staging, plan.total_bytes - plan.resumable_bytes)  # before anything is written
    staging.mkdir(parents=True, exist_ok=True)
    _write_state(staging, plan)
    resumed = sum(min((staging / f.part_name).stat().st_size, f.size)
                  for f in plan.files if (staging / f.part_name).is_file())
    label = f"Downloading {plan.name}" + (f" (resuming at {resumed / 1e6:,.1f} MB)" if resumed else "")
    counter = _Counter(plan.total_bytes, resumed, label, progress, cancel)
    report(progress, resumed / max(plan.total_bytes, 1), label)
    hashes: dict[str, str] = {}
    with hub_online():
        for f in plan.files:
            check_cancel(cancel)
            part = staging / f.part_name
            try:
                _fetch(plan, f, part, counter)
            except _network_errors() as exc:
                raise _hub_error(exc, plan.endpoint, plan.model.repo_id) from None
            except OSError as exc:
                if "Consistency check failed" in str(exc):  # the server sent fewer bytes than it announced
                    raise EncoderError(f"The download of {f.filename} stopped early; run it again to resume.") \
                        from None
                raise
            hashes[f.filename] = _verify(f, part, plan.model.repo_id)
    check_cancel(cancel)
    report(progress, 0.999, f"Installing {plan.name}")
    _install(plan, staging, hashes)
    _clear_staging(staging, plan)
    report(progress, 1.0, f"{plan.name} downloaded and verified")
    return DownloadResult(plan.name, plan.encoder, dest, dest / weights, plan.commit, plan.total_bytes,
                          counter.fetched, resumed, hashes)


def get_model(name: str, *, accept_licence: bool, endpoint: str | None = None, dest_root: Path | None = None,
              confirm: Callable[[DownloadPlan], bool] | None = None, progress: Progress | None = None,
              cancel: CancelToken | None = None) -> DownloadResult:
    """:func:`plan_download` then :func:`download_model`; ``confirm(plan)`` (if given) may still refuse."""
    plan = plan_download(name, endpoint=endpoint, dest_root=dest_root)
    if confirm is not None and not plan.installed:
        accept_licence = confirm(plan)
    return download_model(plan, accept_licence=accept_licence, progress=progress, cancel=cancel)


def partial_bytes(name: str, dest_root: Path | None = None) -> int:
    """Bytes kept from an interrupted download of model ``name`` (0 when none)."""
    staging = _staging((dest_root or user_models_dir()) / "open_clip" / name)
    if not (staging / "state.json").is_file():
        return 0
    return sum(p.stat().st_size for p in staging.glob("*.part") if p.is_file())


def installed_models(dest_root: Path | None = None) -> list[dict[str, Any]]:
    """The manifests of the models downloaded into ``dest_root`` (default: the user's models folder)."""
    root = (dest_root or user_models_dir()) / "open_clip"
    out = []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            m = _read_json(d / MANIFEST) if d.is_dir() and not d.name.startswith(".") else {}
            if m:
                out.append({**m, "folder": str(d)})
    return out
