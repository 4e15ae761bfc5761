"""Import user–item interactions from CSV or Parquet, all or nothing; check a file first, writing nothing.

Files are read by :mod:`~generec_desktop.profiles.interaction_files` (CSV/TSV in any common delimiter
and encoding, UTF-8 BOM included, or Parquet). Columns are chosen by a
:class:`~generec_desktop.profiles.interaction_files.ColumnMapping`; without one the original format
applies: ``user_id``, ``item_id`` and optional ``timestamp`` and ``weight`` (names matched
case-insensitively; other columns are ignored and named in the report's warnings).

* user: the platform's user id (any text); unknown users are created.
* item: matched by the mapping's ``item_match``: ``id`` (the workspace's item number), ``external``
  (the item's ``external_id``), ``filename`` (``items.original_name``, the name of the file the video
  was imported from; a path's folders are ignored, case is ignored when that is unambiguous, and the
  extension may be left out) or ``auto`` (external id, else workspace id: the original format).
* timestamp: epoch seconds or ISO 8601 (naive means UTC); empty means unknown.
* weight: a finite number, default 1; weight <= 0 is stored but is not a "like".

:func:`validate_interactions` reads the file and the workspace and returns every bad row with its
line number (CSV, the header is line 1) or row number (Parquet, first row 1) and what an import would
do; it never writes. :func:`import_interactions` runs the same checks and imports *nothing* when any
row is bad. Documented skips (counted, not errors): a row repeating an earlier row's (user, item,
timestamp) in the same file, a row already in the workspace (so re-importing a file is a no-op), and
rows whose cells are all empty. User ids in a column that is otherwise integer must be integers too
(``"12x"`` among numbers is a typo, not a new user). Files over ``max_rows`` rows are refused first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report
from generec_desktop.profiles.errors import InteractionFileError
from generec_desktop.profiles.interaction_files import (
    ITEM_MATCH_NAMES,
    ColumnMapping,
    InteractionTable,
    guess_mapping,
    read_table,
    standard_mapping,
)

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from generec_desktop.corpus import Workspace

__all__ = [
    "ColumnMapping",
    "InteractionCheck",
    "InteractionImportReport",
    "InteractionPreview",
    "ItemResolver",
    "import_interactions",
    "preview_interactions",
    "validate_interactions",
]

REQUIRED = ("user_id", "item_id")
OPTIONAL = ("timestamp", "weight")
DEFAULT_MAX_ROWS = 5_000_000
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


@dataclass(frozen=True)
class InteractionCheck:
    """What :func:`validate_interactions` found; nothing was written.

    ``errors`` lists the first ``max_errors`` bad rows as ``(number, message)`` (``unit`` says whether
    the number is a CSV line or a Parquet row); ``bad_rows`` counts them all. The other counts say
    what an import would do: ``to_import`` new interactions, ``new_users`` users created.
    """

    path: Path
    mapping: ColumnMapping
    file_format: str
    unit: str
    rows: int
    bad_rows: int
    errors: list[tuple[int, str]]
    to_import: int = 0
    new_users: int = 0
    known_users: int = 0
    items: int = 0
    duplicates: int = 0
    existing: int = 0
    blank_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.bad_rows == 0

    def summary(self) -> str:
        """One sentence for people."""
        if not self.ok:
            return (f"{self.bad_rows:,} of {self.rows:,} rows have a problem; nothing can be imported until they "
                    "are fixed.")
        skips = []
        if self.duplicates:
            skips.append(f"{self.duplicates:,} repeated rows")
        if self.existing:
            skips.append(f"{self.existing:,} already imported")
        skipped = f" (skipping {' and '.join(skips)})" if skips else ""
        users = self.new_users + self.known_users
        return (f"All {self.rows:,} rows are good: {self.to_import:,} interactions of {users:,} users"
                f" ({self.new_users:,} new) with {self.items:,} items would be imported{skipped}.")


@dataclass(frozen=True)
class InteractionPreview:
    """The first rows of a file as text, how it was read, and a guessed mapping (``None``: no guess)."""

    path: Path
    columns: list[str]
    rows: list[list[str]]
    numbers: list[int]
    unit: str
    file_format: str
    description: str
    total_rows: int | None
    mapping: ColumnMapping | None
    notes: list[str] = field(default_factory=list)


# Items ------------------------------------------------------------------------------------------------

def _is_int(text: str) -> bool:
    t = text[1:] if text[:1] in "+-" else text
    return t.isdigit()


def _base_name(value: str) -> str:
    return re.split(r"[\\/]", value)[-1].strip()


class ItemResolver:
    """The workspace's items by corpus id, external id and original file name (read once)."""

    def __init__(self, ws: Workspace) -> None:
        from sqlalchemy import select

        from generec_desktop.corpus.schema import Item

        with _reading(ws) as s:
            rows = s.execute(select(Item.id, Item.external_id, Item.original_name, Item.kind)).all()
        self.ids = {int(r.id) for r in rows}
        self.by_external = {str(r.external_id): int(r.id) for r in rows if r.external_id is not None}
        self._human = {int(r.id) for r in rows if r.kind == "human"}
        self._by_name: dict[str, list[int]] = {}
        self._by_folded: dict[str, list[int]] = {}
        self._by_stem: dict[str, list[int]] = {}
        for r in rows:
            if r.original_name:
                name = str(r.original_name)
                self._by_name.setdefault(name, []).append(int(r.id))
                self._by_folded.setdefault(name.casefold(), []).append(int(r.id))
                self._by_stem.setdefault(Path(name).stem.casefold(), []).append(int(r.id))

    def _one(self, ids: list[int]) -> int | list[int]:
        """The one item, preferring the imported original (human) over versions exported from it."""
        if len(ids) == 1:
            return ids[0]
        human = [i for i in ids if i in self._human]
        return human[0] if len(human) == 1 else sorted(ids)

    def by_filename(self, value: str) -> int | list[int] | None:
        """An item id, a list of the ids a name fits ambiguously, or ``None``."""
        name = _base_name(value)
        for table, key in ((self._by_name, name), (self._by_folded, name.casefold()),
                           (self._by_stem, name.casefold()), (self._by_stem, Path(name).stem.casefold())):
            if key in table:
                return self._one(table[key])
        return None

    def resolve_one(self, value: str, how: str) -> tuple[int, str | None]:
        """``(item id, None)`` or ``(0, why not)`` for one value of the item column."""
        if how in ("external", "auto") and value in self.by_external:
            return self.by_external[value], None
        if how in ("id", "auto") and _is_int(value) and int(value) in self.ids:
            return int(value), None
        if how == "filename":
            found = self.by_filename(value)
            if isinstance(found, int):
                return found, None
            if isinstance(found, list):
                listed = ", ".join(f"#{i}" for i in found[:5])
                return 0, (f"item {value!r} is ambiguous: several imported files had this name ({listed}); "
                           "match items by corpus id or external id instead")
            return 0, f"unknown item {value!r} (no video in the workspace was imported from a file of this name)"
        if how == "id":
            if not _is_int(value):
                return 0, f"item {value!r} is not a corpus id (a whole number such as 12)"
            return 0, f"unknown item {value!r} (no item has this corpus id)"
        if how == "external":
            return 0, f"unknown item {value!r} (no item has this external id)"
        return 0, f"unknown item {value!r} (no item has this external id or workspace id)"

    def resolve(self, values: np.ndarray, how: str) -> tuple[np.ndarray, dict[int, str]]:
        """Item ids for an array of item texts (0 where unknown) and the reason for each unknown position."""
        unique, inverse = np.unique(values.astype(str), return_inverse=True)
        ids = np.zeros(unique.size, dtype=np.int64)
        reasons: dict[int, str] = {}
        for k, v in enumerate(unique):
            ids[k], why = self.resolve_one(str(v), how)
            if why is not None:
                reasons[k] = why
        resolved = ids[inverse]
        out: dict[int, str] = {}
        if reasons:
            for pos in np.flatnonzero(resolved == 0):
                out[int(pos)] = reasons[int(inverse[pos])]
        return resolved, out

    def best_match(self, values: list[str]) -> tuple[str | None, int]:
        """The match method that finds the most of ``values`` (ties: external, id, file name; ``auto`` only
        when external ids and corpus ids together find more than either) and its count."""
        vals = [v.strip() for v in values if v.strip()]
        best: tuple[str | None, int] = (None, 0)
        for how in ("external", "id", "filename", "auto"):
            n = sum(1 for v in vals if self.resolve_one(v, how)[0])
            if n > best[1]:
                best = (how, n)
        return best


@contextmanager
def _reading(ws: Workspace) -> Iterator[Session]:
    """A read-only session (never takes the write lock) where the workspace offers one."""
    opener = getattr(ws, "read_session", None) or ws.session
    with opener() as s:
        yield s


# Preview ------------------------------------------------------------------------------------------------

def preview_interactions(path: Path | str, n: int = 20, *, ws: Workspace | None = None) -> InteractionPreview:
    """The file's columns and first ``n`` rows, how it was read, and a guessed :class:`ColumnMapping`.

    With ``ws`` the item column's match method is the one that finds the most of these rows' items.
    Raises :class:`InteractionFileError` for a file that cannot be read.
    """
    table = read_table(path, nrows=max(1, n))
    cols = table.columns
    rows = table.frame.head(n).to_numpy(dtype=str).tolist() if len(cols) else []
    notes: list[str] = []
    if table.blank_rows:
        notes.append(f"{table.blank_rows} blank row(s) among the first rows are left out")
    mapping = guess_mapping(cols, rows)
    if mapping is None:
        notes.append("the file has fewer than two columns: it needs a user and an item column")
    elif ws is not None and rows:
        resolver = ItemResolver(ws)
        item_vals = [r[cols.index(mapping.item)] for r in rows]
        how, found = resolver.best_match(item_vals)
        if how is not None:
            mapping = ColumnMapping(mapping.user, mapping.item, how, mapping.weight, mapping.timestamp)
            notes.append(f"{found} of the first {len(item_vals)} items match the workspace by "
                         f"{ITEM_MATCH_NAMES[how]}")
        else:
            # another column may hold the items the workspace knows
            for col in cols:
                if col in (mapping.user, mapping.weight, mapping.timestamp):
                    continue
                how, found = resolver.best_match([r[cols.index(col)] for r in rows])
                if how is not None:
                    mapping = ColumnMapping(mapping.user, col, how, mapping.weight, mapping.timestamp)
                    notes.append(f"column {col!r}: {found} of the first {len(rows)} items match the workspace "
                                 f"by {ITEM_MATCH_NAMES[how]}")
                    break
            else:
                if mapping.item_match == "auto":
                    mapping = ColumnMapping(mapping.user, mapping.item, "external", mapping.weight,
                                            mapping.timestamp)
                notes.append("none of the first rows' items match an item of this workspace")
    total = table.total_rows if table.format == "parquet" else None
    return InteractionPreview(Path(path), cols, rows, table.numbers[:n].tolist(), table.unit, table.format,
                              table.describe(), total, mapping, notes)


# Checks ----------------------------------------------------------------------------------------------

@dataclass
class _Checked:
    """A file read and checked against the workspace; the arrays cover every (non-blank) row."""

    table: InteractionTable
    mapping: ColumnMapping
    users: np.ndarray
    item_ids: np.ndarray
    weights: np.ndarray
    ts_key: np.ndarray
    problems: dict[int, list[str]]
    extra: list[str]

    @property
    def n(self) -> int:
        return len(self.table.frame)

    def errors(self, limit: int) -> list[tuple[int, str]]:
        return [(int(self.table.numbers[p]), "; ".join(self.problems[p])) for p in sorted(self.problems)[:limit]]

    def warnings(self) -> list[str]:
        out = [f"ignored column(s): {', '.join(self.extra)}"] if self.extra else []
        if self.table.blank_rows:
            out.append(f"left out {self.table.blank_rows:,} blank row(s)")
        return out


def _parse_timestamps(values: pd.Series) -> tuple[np.ndarray, list[int]]:
    """Parse epoch seconds or ISO 8601 (vectorised); returns (epoch seconds, NaN = none; bad positions)."""
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


def _check(ws: Workspace, path: Path | str, mapping: ColumnMapping | None, max_rows: int,
           progress: Progress | None, cancel: CancelToken | None) -> _Checked:
    import pandas as pd

    path = Path(path)
    steps = Steps(progress, {"read": 3, "check": 1})
    table = read_table(path, max_rows=max_rows, progress=steps["read"], cancel=cancel)
    frame = table.frame
    if mapping is None:
        mapping = standard_mapping(table.columns, path.name)
    else:
        mapping = mapping.resolved(table.columns, path.name)
    if len(frame) == 0:
        raise InteractionFileError(f"{path.name} has a header but no rows; there is nothing to import.")
    check_cancel(cancel)
    used = set(mapping.columns().values())
    extra = [c for c in table.columns if c not in used]

    users = frame[mapping.user].astype(str).str.strip()
    items = frame[mapping.item].astype(str).str.strip()
    n = len(frame)
    problems: dict[int, list[str]] = {}

    def bad(pos: int | np.integer[Any], message: str) -> None:
        problems.setdefault(int(pos), []).append(message)

    for role, col in (("user", users), ("item", items)):
        column = mapping.user if role == "user" else mapping.item
        # "user_id is empty" where the column's name says what it is, else "user (column 'viewer') is empty"
        label = column if role in column.casefold() else f"{role} (column {column!r})"
        for pos in np.flatnonzero((col == "").to_numpy()):
            bad(pos, f"{label} is empty")
        # NUL and other control characters: invisible, truncated by C tools, make two ids look alike
        for pos in np.flatnonzero(col.str.contains(r"[\x00-\x1f\x7f]", regex=True).to_numpy()):
            bad(pos, f"{label} {col.iloc[pos]!r} contains a control character")
        if role == "user":
            is_int = col.map(_is_int).to_numpy()
            nonempty = (col != "").to_numpy()
            if nonempty.any() and is_int[nonempty].mean() >= 0.5:  # a numeric id column: odd ones are typos
                for pos in np.flatnonzero(nonempty & ~is_int):
                    bad(pos, f"{label} {col.iloc[pos]!r} is not an integer like the other ids")

    if mapping.weight is not None:
        raw_w = frame[mapping.weight].astype(str).str.strip()
        weights_s = pd.to_numeric(raw_w, errors="coerce").astype(float)
        for pos in np.flatnonzero(((raw_w != "") & ~np.isfinite(weights_s)).to_numpy()):
            bad(pos, f"weight {raw_w.iloc[pos]!r} is not a finite number")
        weights = weights_s.where(raw_w != "", 1.0).to_numpy(dtype=float)
    else:
        weights = np.ones(n)
    if mapping.timestamp is not None:
        ts_raw = frame[mapping.timestamp].astype(str).str.strip()
        ts_key, bad_ts = _parse_timestamps(ts_raw)
        for tpos in bad_ts:
            bad(tpos, f"timestamp {ts_raw.iloc[tpos]!r} is neither epoch seconds (1970–2100) nor an ISO 8601 date")
    else:
        ts_key = np.full(n, np.nan)
    report(steps["check"], 0.3, "Checking items")
    check_cancel(cancel)

    item_ids, unknown = ItemResolver(ws).resolve(items.to_numpy(dtype=str), mapping.item_match)
    nonempty_items = (items != "").to_numpy()
    for upos, why in unknown.items():
        if nonempty_items[upos]:
            bad(upos, why)
    report(steps["check"], 1.0, "Checked")
    return _Checked(table, mapping, users.to_numpy(dtype=str), item_ids, weights, ts_key, problems, extra)


@dataclass
class _Plan:
    keep: np.ndarray               # positions of rows that are not repeats within the file
    duplicates: list[int]
    new_user_ext: list[str]
    known_users: dict[str, int]
    existing: np.ndarray           # positions (among all rows) already stored


def _plan(s: Session, c: _Checked, cancel: CancelToken | None) -> _Plan:
    """What an import of a checked file would do, read in session ``s`` (which it does not write)."""
    import pandas as pd
    from sqlalchemy import select

    from generec_desktop.corpus.schema import Interaction, User

    # times compared to the microsecond (what the database keeps); -1: no time
    t_key = np.where(np.isnan(c.ts_key), -1.0, np.round(c.ts_key, 6))
    dup_mask = pd.DataFrame({"u": c.users, "i": c.item_ids, "t": t_key}).duplicated().to_numpy()
    keep = np.flatnonzero(~dup_mask)
    in_file = set(np.unique(c.users[keep]).tolist())
    known: dict[str, int] = {}
    if len(in_file) > 5000:  # one scan beats thousands of IN (...) queries
        known = {e: int(u) for e, u in s.execute(select(User.external_id, User.id)).all() if e in in_file}
    else:
        names = sorted(in_file)
        for i in range(0, len(names), 500):
            known.update({e: int(u) for e, u in s.execute(select(User.external_id, User.id)
                                                          .where(User.external_id.in_(names[i:i + 500]))).all()})
    check_cancel(cancel)
    # Interactions already stored for these users: skip exact repeats (idempotent re-import).
    touched = sorted(set(known.values()))
    stored: list[tuple[int, int, float]] = []
    for i in range(0, len(touched), 500):
        for uid, iid, ts in s.execute(select(Interaction.user_id, Interaction.item_id, Interaction.timestamp)
                                      .where(Interaction.user_id.in_(touched[i:i + 500]))):
            stored.append((uid, iid, -1.0 if ts is None else round(_epoch(ts), 6)))
    existing = np.zeros(0, dtype=np.int64)
    if stored:
        rows = pd.DataFrame({"u": pd.Series(c.users[keep]).map(known).fillna(-1).to_numpy(dtype=np.int64),
                             "i": c.item_ids[keep], "t": t_key[keep]})
        old = pd.DataFrame(stored, columns=["u", "i", "t"]).drop_duplicates()
        found = rows.merge(old, how="left", on=["u", "i", "t"], indicator=True)["_merge"].to_numpy() == "both"
        existing = keep[found]
    return _Plan(keep, np.flatnonzero(dup_mask).tolist(), sorted(in_file - set(known)), known, existing)


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)).timestamp()


def validate_interactions(
    ws: Workspace,
    path: Path | str,
    mapping: ColumnMapping | None = None,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_errors: int = 200,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> InteractionCheck:
    """Check ``path`` against the workspace as an import would, writing nothing.

    Row problems (empty user, unknown item, bad weight or timestamp…) come back in the result with
    their line/row numbers; a file that cannot be read at all (missing, empty, not CSV/Parquet, a
    mapped column absent, over ``max_rows``) raises :class:`InteractionFileError`.
    """
    start = time.perf_counter()
    steps = Steps(progress, {"check": 4, "plan": 1})
    c = _check(ws, path, mapping, max_rows, steps["check"], cancel)
    common = dict(path=Path(path), mapping=c.mapping, file_format=c.table.describe(), unit=c.table.unit, rows=c.n,
                  bad_rows=len(c.problems), errors=c.errors(max_errors), blank_rows=c.table.blank_rows,
                  warnings=c.warnings())
    if c.problems:
        return InteractionCheck(**common, seconds=round(time.perf_counter() - start, 3))  # type: ignore[arg-type]
    with _reading(ws) as s:
        plan = _plan(s, c, cancel)
    report(steps["plan"], 1.0, "Checked")
    return InteractionCheck(
        **common,  # type: ignore[arg-type]
        to_import=len(plan.keep) - len(plan.existing), new_users=len(plan.new_user_ext),
        known_users=len(plan.known_users), items=int(np.unique(c.item_ids).size), duplicates=len(plan.duplicates),
        existing=len(plan.existing), seconds=round(time.perf_counter() - start, 3),
    )


def import_interactions(
    ws: Workspace,
    path: Path | str,
    *,
    mapping: ColumnMapping | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> InteractionImportReport:
    """Validate ``path`` completely, then add its users and interactions in one transaction.

    Raises :class:`InteractionFileError` (with ``row_errors``) and writes nothing when the file is
    empty, lacks a column, or any row is bad; ``Cancelled`` leaves the workspace unchanged too.
    """
    from sqlalchemy import insert, select

    from generec_desktop.corpus.schema import Interaction, User

    start = time.perf_counter()
    path = Path(path)
    steps = Steps(progress, {"check": 5, "write": 3})
    c = _check(ws, path, mapping, max_rows, steps["check"], cancel)
    n = c.n
    if c.problems:
        rows = sorted(c.problems)
        listed = c.errors(_MAX_LISTED)
        shown = "; ".join(f"{c.table.unit} {r}: {m}" for r, m in listed[:5])
        more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
        raise InteractionFileError(
            f"{path.name}: {len(rows)} of {n:,} rows are invalid, so nothing was imported — {shown}{more}; "
            "fix them and import again.",
            listed,
        )
    check_cancel(cancel)

    now = datetime.now(UTC)
    imported = 0
    with ws.session() as s:
        plan = _plan(s, c, cancel)
        known = dict(plan.known_users)
        if plan.new_user_ext:
            for i in range(0, len(plan.new_user_ext), 5000):
                s.execute(insert(User), [{"external_id": e, "name": None, "created_at": now}
                                         for e in plan.new_user_ext[i:i + 5000]])
            s.flush()
            for i in range(0, len(plan.new_user_ext), 500):
                known.update({e: int(u) for e, u in s.execute(
                    select(User.external_id, User.id).where(User.external_id.in_(plan.new_user_ext[i:i + 500])))})
        check_cancel(cancel)
        new_rows = np.setdiff1d(plan.keep, plan.existing, assume_unique=True)
        users, item_ids = c.users[new_rows].tolist(), c.item_ids[new_rows].tolist()
        weights, stamps = c.weights[new_rows].tolist(), c.ts_key[new_rows].tolist()
        batch: list[dict[str, Any]] = []
        for k in range(new_rows.size):
            t = stamps[k]
            batch.append({"user_id": known[users[k]], "item_id": item_ids[k],
                          "timestamp": None if t != t else datetime.fromtimestamp(t, UTC),  # t != t: NaN
                          "weight": weights[k]})
            if len(batch) >= 20_000:
                check_cancel(cancel)  # raising here rolls the whole transaction back
                s.execute(insert(Interaction), batch)
                imported += len(batch)
                batch = []
                report(steps["write"], k / max(1, new_rows.size), f"Wrote {imported:,} interactions")
        if batch:
            s.execute(insert(Interaction), batch)
            imported += len(batch)
        check_cancel(cancel)
    report(steps["write"], 1.0, f"Imported {imported:,} interactions")
    skipped = sorted(int(p) for p in [*plan.duplicates, *plan.existing.tolist()])
    return InteractionImportReport(
        path=path,
        rows_read=n,
        imported=imported,
        new_users=len(plan.new_user_ext),
        skipped_duplicates=len(plan.duplicates),
        skipped_existing=len(plan.existing),
        skipped_rows=[int(c.table.numbers[p]) for p in skipped[:_MAX_LISTED]],
        warnings=c.warnings(),
        seconds=round(time.perf_counter() - start, 3),
    )
