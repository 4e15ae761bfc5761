"""Import user–item interactions from CSV or Parquet, all or nothing.

File format: columns ``user_id``, ``item_id`` and optional ``timestamp`` and ``weight`` (names are
matched case-insensitively; other columns are ignored and named in the report's warnings).

* ``user_id``: the platform's user id (any text); unknown users are created.
* ``item_id``: an item's ``external_id`` in the workspace, or else its numeric workspace id.
* ``timestamp``: epoch seconds or ISO 8601 (naive means UTC); empty means unknown.
* ``weight``: a finite number, default 1; weight <= 0 is stored but is not a "like".

Validation is complete before anything is written; every bad row is reported with its line number
(CSV, the header is line 1) or row number (Parquet, first row 1) and *nothing* is imported when any
row is bad. Documented skips (counted in the report, not errors): a row repeating an earlier row's
(user, item, timestamp) in the same file, and a row already in the workspace (so re-importing a file
is a no-op). Ids in a column that is otherwise integer must be integers too (``"12x"`` among numbers
is a typo, not a new user). Files over ``max_rows`` rows are refused before anything is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report
from generec_desktop.profiles.errors import InteractionFileError

if TYPE_CHECKING:
    import pandas as pd

    from generec_desktop.corpus import Workspace

REQUIRED = ("user_id", "item_id")
OPTIONAL = ("timestamp", "weight")
DEFAULT_MAX_ROWS = 5_000_000
_CHUNK = 200_000
_MAX_LISTED = 20
# Epoch seconds later than 2100-01-01 are almost surely milliseconds or garbage.
_MAX_EPOCH = 4_102_444_800


@dataclass(frozen=True)
class InteractionImportReport:
    """What :func:`import_interactions` did (it raises instead when any row is bad)."""

    path: Path
    rows_read: int
    imported: int
    new_users: int
    skipped_duplicates: int            # repeats of an earlier row of the same file
    skipped_existing: int              # already in the workspace
    skipped_rows: list[int] = field(default_factory=list)   # first few line/row numbers skipped
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _read_frame(path: Path, max_rows: int, progress: Progress | None,
                cancel: CancelToken | None) -> tuple[pd.DataFrame, int]:
    """All columns as strings; returns (frame, number of the first data row: 2 for CSV, 1 for Parquet)."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise InteractionFileError(
                "Reading Parquet needs pyarrow; install it (pip install 'generec-desktop[parquet]') or use CSV."
            ) from exc
        try:
            meta = pq.ParquetFile(path).metadata
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise InteractionFileError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
        if meta.num_rows > max_rows:
            raise InteractionFileError(
                f"{path.name} has {meta.num_rows:,} rows, more than the limit of {max_rows:,}; split it into "
                "smaller files."
            )
        check_cancel(cancel)
        frame = pq.read_table(path).to_pandas()
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
        report(progress, 1.0, f"Read {len(frame):,} rows")
        return frame, 1

    if suffix not in (".csv", ".tsv", ".txt"):
        raise InteractionFileError(f"{path.name}: interactions must be a .csv or .parquet file.")
    chunks = []
    total_bytes = max(1, path.stat().st_size)
    rows = 0
    try:
        with path.open("rb") as fh:
            reader = pd.read_csv(
                fh, dtype=str, keep_default_na=False, chunksize=_CHUNK, sep=None if suffix == ".txt" else
                ("\t" if suffix == ".tsv" else ","), engine="python" if suffix == ".txt" else "c",
                skipinitialspace=True, encoding="utf-8",
            )
            for chunk in reader:
                check_cancel(cancel)
                rows += len(chunk)
                if rows > max_rows:
                    raise InteractionFileError(
                        f"{path.name} has more than {max_rows:,} rows, the limit; split it into smaller files."
                    )
                chunks.append(chunk)
                report(progress, fh.tell() / total_bytes, f"Read {rows:,} rows")
    except pd.errors.EmptyDataError as exc:
        raise InteractionFileError(f"{path.name} is empty; it needs a header row and at least one row.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InteractionFileError(f"{path.name} is not a readable UTF-8 CSV file ({exc}).") from exc
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return frame, 2


def _columns(frame: pd.DataFrame, name: str) -> tuple[dict[str, str], list[str]]:
    """Map our column names to the file's; raise when a required one is missing."""
    by_lower = {str(c).strip().lower(): c for c in frame.columns}
    missing = [c for c in REQUIRED if c not in by_lower]
    if missing:
        found = ", ".join(repr(str(c)) for c in frame.columns) or "none"
        raise InteractionFileError(
            f"{name} lacks the column(s) {', '.join(missing)} (found: {found}); the header must name "
            "user_id, item_id and optionally timestamp and weight."
        )
    mapping = {c: by_lower[c] for c in (*REQUIRED, *OPTIONAL) if c in by_lower}
    extra = [str(c) for c in frame.columns if str(c).strip().lower() not in (*REQUIRED, *OPTIONAL)]
    return mapping, extra


def _parse_timestamps(values: pd.Series) -> tuple[np.ndarray, list[int]]:
    """Parse epoch seconds or ISO 8601 (vectorised); returns (epoch seconds, NaN = none; bad positions)."""
    import numpy as np
    import pandas as pd

    out = np.full(len(values), np.nan)
    present = (values != "").to_numpy()
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    is_num = present & ~np.isnan(numeric)
    in_range = is_num & (numeric >= 0) & (numeric <= _MAX_EPOCH)
    out[in_range] = numeric[in_range]
    bad = list(np.flatnonzero(is_num & ~in_range))
    iso = np.flatnonzero(present & ~is_num)
    if iso.size:
        parsed = pd.to_datetime(values.iloc[iso], errors="coerce", utc=True, format="ISO8601")
        ok = parsed.notna().to_numpy()
        secs = (parsed[ok] - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        out[iso[ok]] = np.asarray(secs, dtype=float)
        bad += list(iso[~ok])
    return out, sorted(int(b) for b in bad)


def _is_int(text: str) -> bool:
    t = text[1:] if text[:1] in "+-" else text
    return t.isdigit()


def import_interactions(
    ws: Workspace,
    path: Path | str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> InteractionImportReport:
    """Validate ``path`` completely, then add its users and interactions in one transaction.

    Raises :class:`InteractionFileError` (with ``row_errors``) and writes nothing when the file is
    empty, lacks a column, or any row is bad; ``Cancelled`` leaves the workspace unchanged too.
    """
    from sqlalchemy import insert, select

    from generec_desktop.corpus.schema import Interaction, Item, User

    start = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise InteractionFileError(f"{path} does not exist or is not a file; choose an interactions file.")
    steps = Steps(progress, {"read": 3, "validate": 2, "write": 3})
    frame, first_row = _read_frame(path, max_rows, steps["read"], cancel)
    cols, extra = _columns(frame, path.name)
    if len(frame) == 0:
        raise InteractionFileError(f"{path.name} has a header but no rows; there is nothing to import.")
    unit = "line" if first_row == 2 else "row"
    check_cancel(cancel)

    users = frame[cols["user_id"]].astype(str).str.strip()
    items = frame[cols["item_id"]].astype(str).str.strip()
    n = len(frame)
    problems: dict[int, str] = {}

    def bad(pos: int, message: str) -> None:
        problems.setdefault(pos, message)

    for name, col in (("user_id", users), ("item_id", items)):
        empty = np.flatnonzero((col == "").to_numpy())
        for pos in empty:
            bad(int(pos), f"{name} is empty")
        # NUL and other control characters: invisible, truncated by C tools, make two ids look alike
        for pos in np.flatnonzero(col.str.contains(r"[\x00-\x1f\x7f]", regex=True).to_numpy()):
            bad(int(pos), f"{name} {col.iloc[pos]!r} contains a control character")
        is_int = col.map(_is_int).to_numpy()
        nonempty = (col != "").to_numpy()
        if is_int[nonempty].mean() >= 0.5:  # a numeric id column: the odd ones out are typos
            for pos in np.flatnonzero(nonempty & ~is_int):
                bad(int(pos), f"{name} {col.iloc[pos]!r} is not an integer like the other ids")

    if "weight" in cols:
        raw_w = frame[cols["weight"]].astype(str).str.strip()
        weights = pd_to_numeric(raw_w)
        for pos in np.flatnonzero(((raw_w != "") & ~np.isfinite(weights)).to_numpy()):
            bad(int(pos), f"weight {raw_w.iloc[pos]!r} is not a finite number")
        weights = weights.where(raw_w != "", 1.0).to_numpy(dtype=float)
    else:
        weights = np.ones(n)
    if "timestamp" in cols:
        ts_raw = frame[cols["timestamp"]].astype(str).str.strip()
        ts_key, bad_ts = _parse_timestamps(ts_raw)
        for pos in bad_ts:
            bad(pos, f"timestamp {ts_raw.iloc[pos]!r} is neither epoch seconds (1970–2100) nor an ISO 8601 date")
    else:
        ts_key = np.full(n, np.nan)
    report(steps["validate"], 0.3, "Checking items")
    check_cancel(cancel)

    with ws.session() as s:
        by_ext = {e: i for i, e in s.execute(select(Item.id, Item.external_id)).all() if e is not None}
        ids = {str(i) for i in s.scalars(select(Item.id))}
        known_users = {e: i for e, i in s.execute(select(User.external_id, User.id)).all()}
    unique_items, inverse = np.unique(items.to_numpy(dtype=str), return_inverse=True)
    resolved = np.zeros(unique_items.size, dtype=np.int64)  # 0: unknown (SQL ids start at 1)
    for k, ext in enumerate(unique_items):
        if ext in by_ext:
            resolved[k] = by_ext[ext]
        elif _is_int(ext) and str(int(ext)) in ids:
            resolved[k] = int(ext)
    item_ids = resolved[inverse]
    for pos in np.flatnonzero((item_ids == 0) & (items != "").to_numpy()):
        bad(int(pos), f"unknown item {items.iloc[pos]!r} (no item has this external id or workspace id)")

    if problems:
        rows = sorted(problems)
        listed = [(first_row + p, problems[p]) for p in rows[:_MAX_LISTED]]
        shown = "; ".join(f"{unit} {r}: {m}" for r, m in listed[:5])
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
        raise InteractionFileError(
            f"{path.name}: {len(rows)} of {n:,} rows are invalid, so nothing was imported — {shown}{more}; "
            "fix them and import again.",
            listed,
        )
    report(steps["validate"], 1.0, "Validated")

    # Duplicates inside the file (same user, item, timestamp): keep the first.
    user_arr = users.to_numpy(dtype=str)
    dup_mask = pd_frame({"u": user_arr, "i": item_ids, "t": np.nan_to_num(ts_key, nan=-1.0)}).duplicated().to_numpy()
    keep = np.flatnonzero(~dup_mask)
    dup_rows = list(np.flatnonzero(dup_mask))
    stamps = [None if np.isnan(t) else datetime.fromtimestamp(float(t), UTC) for t in ts_key[keep]]

    new_user_ext = sorted(set(np.unique(user_arr[keep]).tolist()) - set(known_users))
    now = datetime.now(UTC)
    existing_rows: list[int] = []
    imported = 0
    with ws.session() as s:
        if new_user_ext:
            for i in range(0, len(new_user_ext), 5000):
                s.execute(insert(User), [{"external_id": e, "name": None, "created_at": now}
                                         for e in new_user_ext[i:i + 5000]])
            s.flush()
            known_users = {e: i for e, i in s.execute(select(User.external_id, User.id)).all()}
        check_cancel(cancel)
        # Interactions already stored for these users: skip exact repeats (idempotent re-import).
        uids = np.array([known_users[e] for e in user_arr[keep]], dtype=np.int64)
        touched = np.unique(uids).tolist()
        stored: set[tuple[int, int, float | None]] = set()
        for i in range(0, len(touched), 500):
            for uid, iid, ts in s.execute(select(Interaction.user_id, Interaction.item_id, Interaction.timestamp)
                                          .where(Interaction.user_id.in_(touched[i:i + 500]))):
                stored.add((uid, iid, ts.timestamp() if ts is not None else None))
        batch: list[dict[str, Any]] = []
        for k, pos in enumerate(keep.tolist()):
            uid = int(uids[k])
            t = None if np.isnan(ts_key[pos]) else float(ts_key[pos])
            if (uid, int(item_ids[pos]), t) in stored:
                existing_rows.append(pos)
                continue
            batch.append({"user_id": uid, "item_id": int(item_ids[pos]), "timestamp": stamps[k],
                          "weight": float(weights[pos])})
            if len(batch) >= 20_000:
                check_cancel(cancel)  # raising here rolls the whole transaction back
                s.execute(insert(Interaction), batch)
                imported += len(batch)
                batch = []
                report(steps["write"], k / len(keep), f"Wrote {imported:,} interactions")
        if batch:
            s.execute(insert(Interaction), batch)
            imported += len(batch)
        check_cancel(cancel)
    report(steps["write"], 1.0, f"Imported {imported:,} interactions")
    warnings = [f"ignored column(s): {', '.join(extra)}"] if extra else []
    skipped = sorted(int(p) for p in dup_rows + existing_rows)
    return InteractionImportReport(
        path=path,
        rows_read=n,
        imported=imported,
        new_users=len(new_user_ext),
        skipped_duplicates=len(dup_rows),
        skipped_existing=len(existing_rows),
        skipped_rows=[first_row + p for p in skipped[:_MAX_LISTED]],
        warnings=warnings,
        seconds=round(time.perf_counter() - start, 3),
    )


def pd_frame(columns: dict[str, Any]) -> Any:
    """``pandas.DataFrame(columns)`` (pandas is imported lazily)."""
    import pandas as pd

    return pd.DataFrame(columns)


def pd_to_numeric(values: Any) -> Any:
    """``pandas.to_numeric`` with bad values as NaN (a tiny wrapper so numpy checks read clearly)."""
    import pandas as pd

    return pd.to_numeric(values, errors="coerce").astype(float)
