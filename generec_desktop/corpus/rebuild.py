"""``generec workspace rebuild``: a new catalogue from the files, when the database is lost or damaged.

The files are the truth: every original in ``media/<sha[:2]>/<sha>.<ext>`` (its name is its sha256,
checked) becomes a ``human`` item, every file in ``versions/`` an ``ai_edited`` or ``ai_created`` item
described by its provenance (the sidecar in ``provenance/``, else the manifest embedded in the file's
tags). Whatever can still be read from the old database (titles, owners, licences, users,
interactions, audiences built from examples with their stored vectors) is salvaged row by row and mapped
onto the new items by content hash; artwork rows come back from their sidecars in ``artwork/``
(``<sha256>.jpg.artwork.json``), mapped the same way. The old database is
moved to ``backups/``, never deleted, and the new one is built beside it and renamed into place only
when complete, so a failed rebuild changes nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generec_desktop.corpus.errors import WorkspaceError
from generec_desktop.jobs import CancelToken, Progress, check_cancel, report
from generec_desktop.safefiles import TEMP_PREFIX, file_sha256, temp_path

__all__ = ["RebuildResult", "rebuild_catalogue"]

_SHA_NAME = re.compile(r"([0-9a-f]{64})(\.[A-Za-z0-9]+)?")
_MANIFEST_FORMAT = "generec-provenance/1"  # fidelity.provenance.MANIFEST_FORMAT (corpus may not import fidelity)
_MANIFEST_TAG = "generec_provenance"
_SIDECAR_SUFFIX = ".provenance.json"


@dataclass
class RebuildResult:
    """What :func:`rebuild_catalogue` made and salvaged, and what it could not use (with why)."""

    originals: int = 0
    versions: int = 0
    users: int = 0
    interactions: int = 0
    audiences: int = 0  # audiences built from examples (profiles.examples) kept with their examples
    artwork: int = 0  # artwork rows restored from their sidecars in artwork/
    salvaged_items: int = 0
    old_database: str | None = None
    salvaged_from: str | None = None
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few human lines."""
        lines = [f"Rebuilt the catalogue: {self.originals} original(s), {self.versions} version(s), "
                 f"{self.users} user(s), {self.interactions} interaction(s), "
                 f"{self.audiences} audience(s) from examples, {self.artwork} artwork image(s) "
                 f"({self.salvaged_items} item(s) kept their titles from the old database)."]
        if self.salvaged_from:
            lines.append(f"Titles, users and interactions came from the backup {self.salvaged_from}.")
        if self.old_database:
            lines.append(f"The old database was kept as {self.old_database}.")
        if self.skipped:
            lines.append(f"Not used ({len(self.skipped)}): " + "; ".join(self.skipped[:5])
                         + (" ..." if len(self.skipped) > 5 else ""))
        lines.append("Audience profiles and the recommender are derived data: run `generec profiles build` "
                     "and `generec train recommender` again.")
        return "\n".join(lines)


def _salvage(db: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows of items, users, interactions that can still be read from a (damaged) database."""
    out: dict[str, list[dict[str, Any]]] = {"items": [], "users": [], "interactions": [], "audiences": [],
                                            "audience_examples": [], "audience_example_vectors": []}
    if not db.is_file() or db.stat().st_size == 0:
        return out
    try:
        conn = sqlite3.connect(f"file:{db.as_posix()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return out
    conn.row_factory = sqlite3.Row
    conn.text_factory = lambda b: b.decode("utf-8", "replace")  # garbled text must not stop the salvage
    try:
        for table in out:
            try:
                cur = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
                while True:
                    try:
                        row = cur.fetchone()
                    except (sqlite3.Error, ValueError):
                        break  # a damaged page: keep what was read before it
                    if row is None:
                        break
                    out[table].append(dict(row))
            except (sqlite3.Error, ValueError):
                continue
    finally:
        conn.close()
    return out


def _fully_readable(db: Path) -> bool:
    """The full check the open's quick one leaves out: ``PRAGMA integrity_check`` (indexes against their
    tables) and a read of every row of the core tables. A damaged page that ``quick_check`` misses makes
    commands fail later, and then the rebuild must not call the catalogue healthy."""
    try:
        conn = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return False
    try:
        if [r[0] for r in conn.execute("PRAGMA integrity_check")] != ["ok"]:
            return False
        for table in ("items", "users", "interactions", "lineage"):
            for _row in conn.execute(f"SELECT * FROM {table}"):
                pass
        return True
    except (sqlite3.Error, ValueError):
        return False
    finally:
        conn.close()


def _manifest_of(root: Path, path: Path) -> dict[str, Any] | None:
    side = root / "provenance" / (path.name + _SIDECAR_SUFFIX)
    for source in ("sidecar", "tag"):
        try:
            if source == "sidecar":
                if not side.is_file() or side.is_symlink():
                    continue
                data = json.loads(side.read_text(encoding="utf-8"))
            else:
                from generec_desktop.media import probe

                raw = probe(path).metadata.get(_MANIFEST_TAG)
                data = json.loads(raw) if raw else None
        except Exception:  # an unreadable manifest is just absent
            continue
        if isinstance(data, dict) and data.get("format") == _MANIFEST_FORMAT:
            return data
    return None


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    out = []
    for dirpath, _dirs, names in os.walk(folder, followlinks=False):
        for n in names:
            p = Path(dirpath) / n
            if not p.is_symlink() and p.is_file() and not n.startswith(TEMP_PREFIX):
                out.append(p)
    return sorted(out)


def rebuild_catalogue(root: str | os.PathLike[str], *, force: bool = False, progress: Progress | None = None,
                      cancel: CancelToken | None = None) -> RebuildResult:
    """Re-create ``root``'s catalogue from its files (see the module docstring); a job (progress + cancel)."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from generec_desktop.corpus import migrations, recovery
    from generec_desktop.corpus.cover import choose_cover, write_jpeg
    from generec_desktop.corpus.database import DB_NAME, make_engine
    from generec_desktop.corpus.schema import Interaction, Item, Lineage, User
    from generec_desktop.media import MediaError, probe

    root = Path(root).resolve()
    if not (root / "workspace.json").is_file():
        raise WorkspaceError(f"{root} is not a GeneRec workspace (no workspace.json); nothing was done.")
    try:
        server = json.loads((root / "workspace.json").read_text(encoding="utf-8")).get("database")
    except (OSError, ValueError, AttributeError):
        server = None
    if server:
        raise WorkspaceError(f"The catalogue of {root} is on a PostgreSQL server ({server}); rebuilding re-creates "
                             "only the workspace's own SQLite file. Restore the server's database with pg_restore "
                             "from your pg_dump; nothing was done.")
    db = root / DB_NAME
    healthy = False
    try:
        recovery.guard_database(root, db)
        healthy = db.is_file() and db.stat().st_size > 0 and _fully_readable(db)
    except WorkspaceError:
        healthy = False
    if healthy and not force:
        raise WorkspaceError(f"The catalogue of {root} is healthy; rebuilding it would lose nothing but the "
                             "derived profiles, and nothing was done (give --force to rebuild anyway).")
    result = RebuildResult()
    old = _salvage(db)
    if not old["items"]:  # nothing readable: the newest backup still knows titles, users and likes
        for backup in sorted((root / recovery.BACKUP_DIR).glob("*.sqlite"), reverse=True):
            old = _salvage(backup)
            if old["items"]:
                result.salvaged_from = f"{recovery.BACKUP_DIR}/{backup.name}"
                break
    by_sha = {str(r.get("sha256")): r for r in old["items"] if r.get("sha256")}
    originals = [p for p in _files(root / "media") if _SHA_NAME.fullmatch(p.name)]
    versions = [p for p in _files(root / "versions") if _SHA_NAME.fullmatch(p.name)]
    for p in _files(root / "media"):
        if not _SHA_NAME.fullmatch(p.name):
            result.skipped.append(f"{p.relative_to(root).as_posix()} (not a name GeneRec gives; import it)")
    staged = temp_path(root, ".sqlite")
    new_db: Path | None = staged
    engine = make_engine(f"sqlite:///{staged}")
    now = datetime.now(UTC)
    made_covers: list[Path] = []
    try:
        migrations.migrate(engine)
        total = max(1, len(originals) + len(versions))
        done = 0
        sha_to_id: dict[str, int] = {}
        seen_ext: set[str] = set()
        with Session(engine) as s, s.begin():
            for path in originals + versions:
                check_cancel(cancel)
                done += 1
                rel = path.relative_to(root).as_posix()
                report(progress, 0.9 * done / total, f"Reading {path.name}")
                sha = _SHA_NAME.fullmatch(path.name).group(1)  # type: ignore[union-attr]
                if file_sha256(path) != sha:
                    result.skipped.append(f"{rel} (its content no longer matches its name: changed by hand)")
                    continue
                try:
                    info = probe(path)
                except MediaError as exc:
                    result.skipped.append(f"{rel} ({exc})")
                    continue
                is_version = path.parent.name == "versions"
                manifest = _manifest_of(root, path) if is_version else None
                salvaged = _clean(by_sha.get(sha, {}))
                cover_rel = _cover_for(root, sha)
                if cover_rel is None:
                    cover_rel = f"covers/{sha}.jpg"
                    write_jpeg(choose_cover(path, info.duration, info.has_cover), root / cover_rel)
                    made_covers.append(root / cover_rel)
                kind, parent_id, params, target, generator, payload = "human", None, None, None, None, None
                if is_version:
                    kind = str((manifest or {}).get("kind") or salvaged.get("kind") or "ai_created")
                    if kind not in ("ai_edited", "ai_created"):
                        kind = "ai_created"
                    source = (manifest or {}).get("source") or {}
                    parent_id = sha_to_id.get(str(source.get("sha256"))) if isinstance(source, dict) else None
                    if kind == "ai_edited" and parent_id is None:
                        kind = "ai_created"  # its original is gone: keep the version, say so
                        result.skipped.append(f"{rel}: its original is not in media/, kept as ai_created")
                    if manifest is not None:
                        ops = manifest.get("operations") or [{}]
                        params = {"operation": ops[0].get("operation"), "params": ops[0].get("params"),
                                  "models": manifest.get("models"), "provenance": manifest}
                        params["provenance"] = {k: v for k, v in manifest.items() if k != "output"}
                        target = manifest.get("target_audience")
                        generator = ops[0].get("generator")
                        payload = (manifest.get("watermark") or {}).get("payload")
                    result.versions += 1
                else:
                    result.originals += 1
                if salvaged:
                    result.salvaged_items += 1
                row = Item(
                    kind=kind, parent_id=parent_id, sha256=sha, stored_path=rel,
                    original_name=salvaged.get("original_name") or (None if is_version else path.name),
                    title=salvaged.get("title") or (manifest or {}).get("title") or path.stem[:12],
                    duration=info.duration, width=info.width, height=info.height, fps=info.fps,
                    frame_count=info.frame_count, file_size=path.stat().st_size, has_audio=info.has_audio,
                    cover_path=cover_rel, owner=salvaged.get("owner") or (manifest or {}).get("owner"),
                    author=salvaged.get("author") or (manifest or {}).get("author"),
                    licence=salvaged.get("licence"), target_profile=target or salvaged.get("target_profile"),
                    generator=generator or salvaged.get("generator"), params_json=params,
                    watermark_payload=payload or salvaged.get("watermark_payload"), created_at=now,
                    media_warnings_json=list(info.warnings) or None,
                    external_id=_unique(seen_ext, salvaged.get("external_id") or (
                        f"generec-version:{manifest['version_id']}" if manifest and manifest.get("version_id")
                        else None)),
                )
                s.add(row)
                s.flush()
                sha_to_id[sha] = row.id
                if parent_id is not None:
                    s.add(Lineage(child_id=row.id, parent_id=parent_id, operation=str((params and params.get(
                        "operation")) or "export"), params_json=params, created_at=now))
            # users and interactions, mapped by content hash
            old_item_sha = {r.get("id"): str(r.get("sha256")) for r in old["items"]}
            user_ids: dict[Any, int] = {}
            seen_users: set[str] = set()
            for u in old["users"]:
                ext = _text(u.get("external_id"))
                if not ext or ext in seen_users:  # a damaged page can repeat or garble rows: keep the first
                    continue
                seen_users.add(ext)
                user = User(external_id=ext, name=_text(u.get("name")), created_at=now)
                s.add(user)
                s.flush()
                user_ids[u.get("id")] = user.id
                result.users += 1
            rows = []
            for r in old["interactions"]:
                uid = user_ids.get(r.get("user_id"))
                iid = sha_to_id.get(old_item_sha.get(r.get("item_id"), ""))
                if uid is None or iid is None:
                    continue
                ts = r.get("timestamp")
                try:
                    ts = datetime.fromisoformat(str(ts)) if ts else None
                except ValueError:
                    ts = None
                try:
                    weight = float(r.get("weight") or 1)
                except (TypeError, ValueError):
                    weight = 1.0
                if not math.isfinite(weight):
                    weight = 1.0
                rows.append({"user_id": uid, "item_id": iid, "timestamp": ts, "weight": weight})
            for i in range(0, len(rows), 5000):
                s.execute(insert(Interaction), rows[i:i + 5000])
            result.interactions = len(rows)
            result.audiences = _restore_example_audiences(s, old, old_item_sha, sha_to_id, result.skipped)
            result.artwork = _restore_artwork(s, root, sha_to_id, result.skipped)
        engine.dispose()
        report(progress, 0.95, "Switching to the new catalogue")
        # the old database (and its log) to backups/, never deleted; then the new one into place
        backups = root / recovery.BACKUP_DIR
        stem = f"generec-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-before-rebuild.sqlite"
        for suffix in ("", "-wal", "-shm"):
            src = root / f"{DB_NAME}{suffix}"
            if src.exists():
                backups.mkdir(exist_ok=True)
                os.replace(src, backups / f"{stem}{suffix}")
                if not suffix:
                    result.old_database = f"{recovery.BACKUP_DIR}/{stem}"
        os.replace(staged, db)
        new_db = None
    finally:
        engine.dispose()
        if new_db is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{new_db}{suffix}").unlink(missing_ok=True)
            for c in made_covers:
                c.unlink(missing_ok=True)
    report(progress, 1.0, "Rebuilt")
    return result


def _restore_example_audiences(s: Any, old: dict[str, list[dict[str, Any]]], old_item_sha: dict[Any, str],
                               sha_to_id: dict[str, int], skipped: list[str]) -> int:
    """Audiences built from examples (migration m004's tables), with their examples and stored vectors,
    mapped onto the new items by content hash; returns how many were kept.

    Plain SQL on purpose: the corpus is below the profiles package that owns these tables, so it may not
    import its declarations. Rows a damaged page garbled (no name, unknown kind, a vector of the wrong
    length) are left out; an example whose item is gone keeps its vector (it still counts).
    """
    from sqlalchemy import text

    def when(value: Any) -> str:  # as SQLAlchemy's DateTime stores it on SQLite
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            moment = datetime.now(UTC).replace(tzinfo=None)
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    vectors: dict[Any, list[dict[str, Any]]] = {}
    for v in old.get("audience_example_vectors", []):
        blob, dim, enc = v.get("vector"), v.get("dim"), _text(v.get("encoder_id"))
        if isinstance(blob, bytes) and isinstance(dim, int) and dim > 0 and len(blob) == 4 * dim and enc:
            vectors.setdefault(v.get("example_id"), []).append({"encoder_id": enc, "dim": dim, "vector": blob})
    examples: dict[Any, list[dict[str, Any]]] = {}
    for e in old.get("audience_examples", []):
        examples.setdefault(e.get("audience_id"), []).append(e)
    kept, names = 0, set()
    for a in old.get("audiences", []):
        name = _text(a.get("name"))
        if not name or name.casefold() in names:
            continue
        rows = []
        for e in examples.get(a.get("id"), []):
            kind = _text(e.get("kind"), 16)
            vecs = vectors.get(e.get("id"), [])
            if kind not in ("item", "image", "video", "text") or not vecs:
                continue
            item_id = sha_to_id.get(old_item_sha.get(e.get("item_id"), "")) if e.get("item_id") is not None \
                else None
            sha = _text(e.get("sha256"), 64)
            if kind == "item" and item_id is None and sha:
                item_id = sha_to_id.get(sha)
            rows.append((kind, item_id, _text(e.get("path"), 1024), sha, when(e.get("added_at")), vecs,
                         _text(e.get("description"), 1024) if kind == "text" else None))
        if not rows:
            skipped.append(f"the audience {name!r} (none of its examples could be read back)")
            continue
        names.add(name.casefold())
        aid = s.execute(text("INSERT INTO audiences (name, created_at, updated_at) VALUES (:n, :c, :u)"),
                        {"n": name, "c": when(a.get("created_at")), "u": when(a.get("updated_at"))}).lastrowid
        for kind, item_id, path, sha, added, vecs, words in rows:
            eid = s.execute(text("INSERT INTO audience_examples (audience_id, kind, item_id, path, sha256, added_at, "
                                 "description) VALUES (:a, :k, :i, :p, :s, :t, :d)"),
                            {"a": aid, "k": kind, "i": item_id, "p": path, "s": sha, "t": added,
                             "d": words}).lastrowid
            for v in vecs:
                s.execute(text("INSERT INTO audience_example_vectors (example_id, encoder_id, dim, vector) "
                               "VALUES (:e, :n, :d, :v)"), {"e": eid, "n": v["encoder_id"], "d": v["dim"],
                                                            "v": v["vector"]})
        kept += 1
    return kept


def _restore_artwork(s: Any, root: Path, sha_to_id: dict[str, int], skipped: list[str]) -> int:
    """Artwork rows (migration m005) from the sidecars beside their files in ``artwork/``, mapped onto the
    new items by the item's content hash; returns how many were restored.

    Plain SQL on purpose: the table is declared in ``fidelity/artwork.py``, above the corpus. A file whose
    content no longer matches its name, a sidecar that does not parse, or an item that is gone is left
    out (the file stays where it is) and named in ``skipped``; one (item, audience) pair keeps its newest.
    """
    from sqlalchemy import text

    from generec_desktop.corpus.recovery import ARTWORK_SIDECAR_SUFFIX

    newest: dict[tuple[int, str], dict[str, Any]] = {}
    for path in _files(root / "artwork"):
        m = _SHA_NAME.fullmatch(path.name)
        if m is None or path.name.endswith(ARTWORK_SIDECAR_SUFFIX):
            continue
        rel = path.relative_to(root).as_posix()
        side = path.with_name(path.name + ARTWORK_SIDECAR_SUFFIX)
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
            row, item = data["row"], data["item"]
            aid, fmt, gen = _text(row["audience_id"], 64), _text(row["format"], 8), _text(row["generator"], 64)
            width, height = int(row["width"]), int(row["height"])
            if not (aid and fmt and gen):
                raise ValueError("fields missing")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            skipped.append(f"{rel} (its sidecar cannot be read: {exc})")
            continue
        if file_sha256(path) != m.group(1):
            skipped.append(f"{rel} (its content no longer matches its name: changed by hand)")
            continue
        item_id = sha_to_id.get(str(item.get("sha256") if isinstance(item, dict) else ""))
        if item_id is None:
            skipped.append(f"{rel} (the artwork's video is not in media/ or versions/)")
            continue

        def num(key: str, row: dict[str, Any] = row) -> float | None:
            try:
                v = float(row.get(key))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return None
            return v if math.isfinite(v) else None

        created = _text(row.get("created_at"), 64) or datetime.now(UTC).isoformat()
        values = {"i": item_id, "a": aid, "l": _text(row.get("audience_label")), "p": rel, "s": m.group(1),
                  "w": width, "h": height, "f": fmt, "sc": num("score"), "t": num("source_time"), "g": gen,
                  "pj": json.dumps(row.get("params")) if isinstance(row.get("params"), dict) else None,
                  "pv": json.dumps({k: v for k, v in data.items() if k != "row"}),
                  "wm": _text(row.get("watermark_payload"), 64), "c": created}
        key = (item_id, aid)
        if key not in newest or str(newest[key]["c"]) < created:
            newest[key] = values
    for values in newest.values():
        try:
            moment = datetime.fromisoformat(str(values["c"]))
        except ValueError:
            moment = datetime.now(UTC)
        values["c"] = moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        s.execute(text("INSERT INTO artwork (item_id, audience_id, audience_label, path, sha256, width, height, "
                       "format, score, source_time, generator, params_json, provenance_json, watermark_payload, "
                       "created_at) VALUES (:i, :a, :l, :p, :s, :w, :h, :f, :sc, :t, :g, :pj, :pv, :wm, :c)"),
                  values)
    return len(newest)


def _text(value: Any, limit: int = 256) -> str | None:
    """A salvaged value as clean text (None for bytes, control characters or the empty string)."""
    if value is None or isinstance(value, bytes | bytearray):
        return None
    text = str(value)
    if not text or len(text) > limit or any(ord(c) < 32 or ord(c) == 127 for c in text):
        return None
    return text


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """The text fields of a salvaged item row that are still plain text (a damaged page garbles some)."""
    keys = ("kind", "original_name", "title", "owner", "author", "licence", "target_profile", "generator",
            "watermark_payload", "external_id")
    return {k: v for k in keys if (v := _text(row.get(k), 512)) is not None}


def _unique(seen: set[str], value: str | None) -> str | None:
    """``value`` the first time it is seen, else None (external ids are unique)."""
    if value is None or value in seen:
        return None
    seen.add(value)
    return value


def _cover_for(root: Path, sha: str) -> str | None:
    covers = root / "covers"
    plain = covers / f"{sha}.jpg"
    if plain.is_file() and not plain.is_symlink():
        return f"covers/{sha}.jpg"
    for p in sorted(covers.glob(f"{sha}-*.jpg")) if covers.is_dir() else []:
        if p.is_file() and not p.is_symlink():
            return f"covers/{p.name}"
    return None
