"""A small Hugging Face hub stand-in on 127.0.0.1 for the download tests (and the screenshot).

It serves the endpoints huggingface_hub really calls to download a model: ``GET /api/models/<repo>/
revision/<rev>?blobs=true`` (``HfApi.model_info(files_metadata=True)``: commit, siblings with sizes,
git blob ids and LFS sha256, the card's licence) and ``HEAD``/``GET /<repo>/resolve/<rev>/<file>``
with ``ETag``, ``X-Repo-Commit``, ``X-Linked-Etag``, ``X-Linked-Size`` and ``Range`` requests (206).
Faults for the tests: ``corrupt`` (serve a flipped byte under the true checksum), ``drop_after`` (close
the connection after N bytes, once), ``chunk_delay`` (slow the body down).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".model")


@dataclass
class Repo:
    files: dict[str, bytes]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    licence: str = "mit"

    def is_lfs(self, name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)

    def etag(self, name: str) -> str:
        data = self.files[name]
        if self.is_lfs(name):
            return hashlib.sha256(data).hexdigest()
        return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


@dataclass
class HubState:
    repos: dict[str, Repo] = field(default_factory=dict)
    corrupt: set[str] = field(default_factory=set)
    drop_after: dict[str, int] = field(default_factory=dict)
    chunk_delay: float = 0.0
    chunk_size: int = 64 * 1024
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send_json(self, code: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found(self, what: str) -> None:
        body = json.dumps({"error": f"{what} not found"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", "RepoNotFound" if what == "repository" else "EntryNotFound")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        st = self.state
        path = unquote(urlsplit(self.path).path)
        st.requests.append((self.command, path, self.headers.get("Range")))
        m = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
        if m:
            repo = st.repos.get(m.group(1))
            if repo is None:
                return self._not_found("repository")
            return self._send_json(200, {
                "id": m.group(1), "modelId": m.group(1), "sha": repo.commit, "private": False,
                "tags": ["open_clip", f"license:{repo.licence}"], "library_name": "open_clip",
                "cardData": {"license": repo.licence, "library_name": "open_clip"},
                "siblings": [
                    {"rfilename": n, "size": len(d),
                     "blobId": hashlib.sha1(f"blob {len(d)}\0".encode() + d).hexdigest(),
                     **({"lfs": {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "pointerSize": 134}}
                        if repo.is_lfs(n) else {})}
                    for n, d in repo.files.items()],
            })
        m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if not m:
            return self._not_found("page")
        repo = st.repos.get(m.group(1))
        if repo is None:
            return self._not_found("repository")
        name = m.group(3)
        if name not in repo.files or m.group(2) not in ("main", repo.commit):
            return self._not_found("entry")
        data = repo.files[name]
        if name in st.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0
        rng = self.headers.get("Range")
        if rng:
            rm = re.fullmatch(r"bytes=(\d+)-", rng.strip())
            start = int(rm.group(1)) if rm else 0
        body = data[start:]
        self.send_response(206 if start else 200)
        etag = repo.etag(name)
        self.send_header("ETag", f'"{etag}"')
        self.send_header("X-Repo-Commit", repo.commit)
        if repo.is_lfs(name):
            self.send_header("X-Linked-Etag", f'"{etag}"')
            self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if self.command == "HEAD":
            return
        drop = st.drop_after.pop(name, None) if self.command == "GET" else None
        sent = 0
        for i in range(0, len(body), st.chunk_size):
            chunk = body[i:i + st.chunk_size]
            if drop is not None and sent + len(chunk) > drop:
                self.wfile.write(chunk[: max(0, drop - sent)])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the connection drops mid-body
                return
            try:
                self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return
            sent += len(chunk)
            if st.chunk_delay:
                time.sleep(st.chunk_delay)


class HubServer:
    """``with HubServer(state) as hub: hub.endpoint`` — a threaded server on a free port of 127.0.0.1."""

    def __init__(self, state: HubState) -> None:
        self.state = state
        handler = type("Handler", (_Handler,), {"state": state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="hub-server", daemon=True)

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def gets(self, name: str) -> list[str | None]:
        """The Range header of every GET of file ``name`` (None: from the start)."""
        return [r for m, p, r in self.state.requests if m == "GET" and p.endswith("/" + name)]


def repo_from_folder(folder: Path) -> Repo:
    """A repository serving the files of ``folder`` (e.g. a tiny open_clip checkpoint) and a LICENSE."""
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    files["LICENSE"] = b"MIT License\n\nCopyright (c) the test authors\n\nPermission is hereby granted...\n"
    return Repo(files)
