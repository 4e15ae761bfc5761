"""Reading interaction files: CSV/TSV in any common encoding and delimiter, or Parquet; column mappings.

A file is read into an :class:`InteractionTable`: every cell as text, plus the number a person sees for
each row (``line`` of a CSV file, the header being line 1, or ``row`` of a Parquet file, the first row
being 1). Rows whose cells are all empty (blank lines, Excel's trailing ``,,,`` lines) are left out
but keep the numbering of the rows after them true.

Encodings: a byte-order mark decides (UTF-8, UTF-16); without one the file is UTF-8 when it decodes
as UTF-8, else Windows-1252 (what Excel writes on Western systems), else Latin-1. Delimiters: comma,
semicolon, tab or pipe, whichever splits the first lines into the same number (> 1) of fields.

A :class:`ColumnMapping` names the file's columns for user, item (and how an item is matched to the
workspace: ``id``, ``external``, ``filename`` or ``auto``), weight and timestamp.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, check_cancel, report
from generec_desktop.profiles.errors import InteractionFileError

if TYPE_CHECKING:
    import pandas as pd

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: how an item column is matched to the workspace's items
ITEM_MATCHES = ("id", "external", "filename", "auto")
ITEM_MATCH_NAMES = {"id": "corpus id", "external": "external id", "filename": "file name",
                    "auto": "external id, else corpus id"}
_CHUNK_ROWS = 200_000
_SCAN_BYTES = 1 << 20
_SNIFF_CHARS = 64 * 1024
_SNIFF_LINES = 50


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the file holds what. Names are the file's header names (case is ignored when
    no column has the exact name); ``weight``/``timestamp`` ``None``: not in the file (weight 1, time
    unknown). ``item_match``: ``"id"`` (the workspace's item number), ``"external"`` (the platform's
    id stored as the item's external id), ``"filename"`` (the name of the file the item was imported
    from) or ``"auto"`` (external id, else corpus id: the original file format)."""

    user: str
    item: str
    item_match: str = "auto"
    weight: str | None = None
    timestamp: str | None = None

    def __post_init__(self) -> None:
        if self.item_match not in ITEM_MATCHES:
            raise InteractionFileError(
                f"Unknown item match {self.item_match!r}; use one of {', '.join(ITEM_MATCHES)}."
            )

    def columns(self) -> dict[str, str]:
        """``{role: column}`` for the roles that have a column (user, item, weight, timestamp)."""
        roles = {"user": self.user, "item": self.item, "weight": self.weight, "timestamp": self.timestamp}
        return {k: v for k, v in roles.items() if v is not None}

    def resolved(self, columns: list[str], file_name: str) -> ColumnMapping:
        """This mapping with each name replaced by the file's own spelling; raises when one is missing
        or one column is given two roles."""
        def find(name: str, role: str) -> str:
            if name in columns:
                return name
            folded = [c for c in columns if c.strip().casefold() == name.strip().casefold()]
            if len(folded) == 1:
                return folded[0]
            found = ", ".join(repr(c) for c in columns) or "none"
            raise InteractionFileError(
                f"{file_name} has no column {name!r} for the {role} (its columns: {found}); choose one of them."
            )

        roles = {r: find(c, r) for r, c in self.columns().items()}
        seen: dict[str, str] = {}
        for role, col in roles.items():
            if col in seen:
                raise InteractionFileError(
                    f"The column {col!r} is chosen for both the {seen[col]} and the {role}; give each its own column."
                )
            seen[col] = role
        return replace(self, user=roles["user"], item=roles["item"], weight=roles.get("weight"),
                       timestamp=roles.get("timestamp"))


def standard_mapping(columns: list[str], file_name: str, *, user: str | None = None, item: str | None = None,
                     item_match: str | None = None, weight: str | None = None,
                     timestamp: str | None = None) -> ColumnMapping:
    """The original file format's mapping (``user_id``, ``item_id``, optional ``weight``, ``timestamp``,
    names matched case-insensitively), with any role given here naming its own column instead."""
    by_lower = {c.strip().lower(): c for c in columns}
    missing = [std for std, given in (("user_id", user), ("item_id", item)) if given is None and std not in by_lower]
    if missing:
        found = ", ".join(repr(c) for c in columns) or "none"
        raise InteractionFileError(
            f"{file_name} lacks the column(s) {', '.join(missing)} (found: {found}); the header must name "
            "user_id, item_id and optionally timestamp and weight, or choose the columns (--user-col and "
            "--item-col, or File ▸ Import Interactions… in the window)."
        )
    return ColumnMapping(
        user=user if user is not None else by_lower["user_id"],
        item=item if item is not None else by_lower["item_id"],
        item_match=item_match or "auto",
        weight=weight if weight is not None else by_lower.get("weight"),
        timestamp=timestamp if timestamp is not None else by_lower.get("timestamp"),
    ).resolved(list(columns), file_name)


@dataclass
class InteractionTable:
    """A file's cells as text (``frame``, one column per header name) and each row's number for people."""

    path: Path
    frame: pd.DataFrame
    numbers: np.ndarray          # int64, the line (CSV) or row (Parquet) number of each row of ``frame``
    unit: str                    # "line" | "row"
    format: str                  # "csv" | "parquet"
    encoding: str | None = None  # CSV only
    delimiter: str | None = None
    blank_rows: int = 0          # all-empty rows left out
    total_rows: int | None = None  # of the whole file when known (Parquet metadata; a CSV read to its end)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def describe(self) -> str:
        """``"CSV, semicolon-separated, UTF-8 with BOM"`` / ``"Parquet"``."""
        if self.format == "parquet":
            return "Parquet"
        enc = {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252",
               "latin-1": "Latin-1"}.get(self.encoding or "", self.encoding or "")
        return f"CSV, {DELIMITER_NAMES.get(self.delimiter or ',', repr(self.delimiter))}-separated, {enc}"


def detect_encoding(path: Path, cancel: CancelToken | None = None) -> str:
    """The file's text encoding (see the module docstring); raises when it is not a text file."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(b"PK\x03\x04"):
            raise InteractionFileError(f"{path.name} is a zip archive (an Excel workbook?), not CSV text; save or "
                                       "export it as CSV (or Parquet).")
        if head.startswith(codecs.BOM_UTF8):
            candidates = ["utf-8-sig"]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ["utf-16"]
        else:
            candidates = ["utf-8", "cp1252", "latin-1"]
        for enc in candidates:
            fh.seek(0)
            decoder = codecs.getincrementaldecoder(enc)(errors="strict")
            chars = nuls = 0
            try:
                while chunk := fh.read(_SCAN_BYTES):
                    check_cancel(cancel)
                    text = decoder.decode(chunk)
                    chars += len(text)
                    nuls += text.count("\x00")
                decoder.decode(b"", final=True)
                # A stray NUL in a cell is that row's problem (reported with its line); many are a binary file.
                if nuls > max(8, chars // 1000):
                    raise InteractionFileError(
                        f"{path.name} is not a text file (it holds many NUL bytes); export it as CSV or Parquet."
                    )
            except UnicodeDecodeError:
                continue
            return enc
    raise InteractionFileError(f"{path.name} is not readable text in UTF-8, UTF-16 or Windows-1252; save it as "
                               "UTF-8 CSV.")


def detect_delimiter(text: str, suffix: str = ".csv") -> str:
    """Comma, semicolon, tab or pipe: the one that splits the first lines into a constant number of fields.

    Hand-written rather than ``csv.Sniffer``: the sniffer guesses from character frequencies and, even
    restricted to these delimiters, fails outright on a one-column file and is swayed by the ``:`` and
    ``-`` of timestamps; counting fields per line with the csv module (quotes respected) is predictable.
    """
    lines = [ln for ln in text.splitlines()[:_SNIFF_LINES] if ln.strip()]
    if len(text) >= _SNIFF_CHARS and len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside the last line
    best: tuple[int, float, int, int] | None = None
    choice = "\t" if suffix == ".tsv" else ","
    for rank, delim in enumerate(DELIMITERS):
        counts = [len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        consistent = counts.count(mode) / len(counts)
        preferred = 1 if (suffix == ".tsv" and delim == "\t") else 0
        score = (int(mode > 1), consistent, preferred, -rank)
        if mode > 1 and (best is None or score > best):
            best, choice = score, delim
    return choice


def _parquet(path: Path, max_rows: int, nrows: int | None, cancel: CancelToken | None) -> InteractionTable:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InteractionFileError(
            "Reading Parquet needs pyarrow; install it (pip install 'generec-desktop[parquet]') or use CSV."
        ) from exc
    try:
        pf = pq.ParquetFile(path)
        total = int(pf.metadata.num_rows)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InteractionFileError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    if nrows is None and total > max_rows:
        raise InteractionFileError(
            f"{path.name} has {total:,} rows, more than the limit of {max_rows:,}; split it into smaller files."
        )
    check_cancel(cancel)
    try:
        if nrows is None:
            table = pf.read()
        else:
            import pyarrow as pa

            batches = []
            wanted = nrows
            for batch in pf.iter_batches(batch_size=max(1, min(nrows, 65536))):
                if wanted <= 0:
                    break
                batches.append(batch.slice(0, wanted))
                wanted -= batch.num_rows
            table = pa.Table.from_batches(batches, schema=pf.schema_arrow) if batches else \
                pf.schema_arrow.empty_table()
    except Exception as exc:
        raise InteractionFileError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    frame = table.to_pandas()
    frame.columns = [str(c) for c in frame.columns]
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    return _drop_blank(InteractionTable(path, frame, np.arange(1, len(frame) + 1, dtype=np.int64), "row",
                                        "parquet", total_rows=total))


def _drop_blank(table: InteractionTable) -> InteractionTable:
    if len(table.frame) and len(table.frame.columns):
        blank = (table.frame == "").all(axis=1).to_numpy()
        if blank.any():
            table.frame = table.frame[~blank].reset_index(drop=True)
            table.numbers = table.numbers[~blank]
            table.blank_rows = int(blank.sum())
    return table


def read_table(path: Path | str, *, max_rows: int = 5_000_000, nrows: int | None = None,
               progress: Progress | None = None, cancel: CancelToken | None = None) -> InteractionTable:
    """Read an interactions file (all of it, or its first ``nrows`` rows) as text cells.

    Raises :class:`InteractionFileError` for a missing, empty, unreadable or over-long file (more
    than ``max_rows`` rows), before anything else happens.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InteractionFileError(f"{path} does not exist or is not a file; choose an interactions file.")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        table = _parquet(path, max_rows, nrows, cancel)
        report(progress, 1.0, f"Read {len(table.frame):,} rows")
        return table
    if suffix not in CSV_SUFFIXES:
        raise InteractionFileError(f"{path.name}: interactions must be a .csv, .tsv or .parquet file.")
    if path.stat().st_size == 0:
        raise InteractionFileError(f"{path.name} is empty; it needs a header row and at least one row.")
    encoding = detect_encoding(path, cancel)
    with path.open("r", encoding=encoding, newline="") as fh:
        delimiter = detect_delimiter(fh.read(_SNIFF_CHARS), suffix)
    chunks = []
    rows = 0
    total_bytes = max(1, path.stat().st_size)
    try:
        with path.open("rb") as fh:
            reader = pd.read_csv(
                fh, dtype=str, keep_default_na=False, chunksize=_CHUNK_ROWS if nrows is None else None,
                nrows=nrows, sep=delimiter, encoding=encoding, skipinitialspace=True, skip_blank_lines=False,
                engine="c",
            )
            for chunk in ([reader] if nrows is not None else reader):
                check_cancel(cancel)
                rows += len(chunk)
                if nrows is None and rows > max_rows:
                    raise InteractionFileError(
                        f"{path.name} has more than {max_rows:,} rows, the limit; split it into smaller files."
                    )
                chunks.append(chunk)
                report(progress, fh.tell() / total_bytes, f"Read {rows:,} rows")
    except pd.errors.EmptyDataError as exc:
        raise InteractionFileError(f"{path.name} is empty; it needs a header row and at least one row.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InteractionFileError(f"{path.name} is not a readable CSV file ({_short(exc)}).") from exc
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    frame.columns = [str(c).strip() for c in frame.columns]
    # The header is line 1; with blank lines kept as rows, row k is line k + 2 (a quoted field that
    # spans lines would shift this: interaction files have none).
    numbers = np.arange(2, len(frame) + 2, dtype=np.int64)
    table = InteractionTable(path, frame, numbers, "line", "csv", encoding=encoding, delimiter=delimiter,
                             total_rows=None if nrows is not None else len(frame))
    table = _drop_blank(table)
    if table.total_rows is not None:
        table.total_rows = len(table.frame)
    return table


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[-1] if text else type(exc).__name__
    return msg.removeprefix("Error tokenizing data. C error: ")


# Guessing a mapping ---------------------------------------------------------------------------------------

_NAMES = {
    "user": ("userid", "user", "uid", "viewerid", "viewer", "memberid", "member", "customerid", "customer",
             "accountid", "account", "username", "visitorid", "visitor", "subscriberid", "profileid", "person"),
    "item": ("itemid", "item", "videoid", "video", "mediaid", "media", "contentid", "content", "postid", "post",
             "clipid", "clip", "assetid", "asset", "movieid", "movie", "filename", "file", "externalid"),
    "weight": ("weight", "rating", "score", "value", "count", "plays", "playcount", "views", "likes", "clicks",
               "watchtime", "watchseconds", "duration", "strength"),
    "timestamp": ("timestamp", "time", "ts", "datetime", "date", "createdat", "watchedat", "viewedat", "likedat",
                  "eventtime", "when", "at", "watched", "viewed", "liked", "played", "seen"),
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def _name_score(role: str, column: str) -> int:
    """How well a header name fits a role: 3 exact synonym, 2 starts/ends with one, 0 none."""
    n = _norm(column)
    names = _NAMES[role]
    if n in names:
        return 30 - names.index(n) // 4
    for syn in names:
        if len(syn) >= 4 and (n.startswith(syn) or n.endswith(syn)):
            return 10
    return 0


def _mostly(values: list[str], test: Any) -> bool:
    """At least 80 % of the non-empty values pass ``test`` (a typo in the first rows is the validator's to
    report, not a reason to leave the column out of the mapping)."""
    vals = [v.strip() for v in values if v.strip()]
    return bool(vals) and sum(1 for v in vals if test(v)) >= 0.8 * len(vals)


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _looks_numeric(values: list[str]) -> bool:
    return _mostly(values, _is_number)


def _looks_time(values: list[str]) -> bool:
    return _mostly(values, lambda v: bool(re.match(r"^\d{4}-\d{2}-\d{2}([ T].*)?$", v))
                   or (v.isdigit() and 9 <= len(v) <= 10))


def guess_mapping(columns: list[str], rows: list[list[str]]) -> ColumnMapping | None:
    """A likely mapping from header names (``viewer``, ``video_id``, ``rating``, ``watched_at``…) and, where
    names say nothing, from the values (the first text columns are user and item); ``None`` with fewer
    than two columns. ``item_match`` is guessed from the name (``file``: file name) and values."""
    if len(columns) < 2:
        return None
    values = {c: [r[k] if k < len(r) else "" for r in rows] for k, c in enumerate(columns)}
    taken: set[str] = set()

    def pick(role: str, accept: Any = None) -> str | None:
        scored = sorted(((_name_score(role, c), -k, c) for k, c in enumerate(columns) if c not in taken),
                        reverse=True)
        for score, _, col in scored:
            if score > 0 and (accept is None or accept(values[col])):
                taken.add(col)
                return col
        return None

    user = pick("user")
    item = pick("item")
    timestamp = pick("timestamp", _looks_time)
    weight = pick("weight", _looks_numeric)
    rest = [c for c in columns if c not in taken]
    if user is None and rest:
        user = rest.pop(0)
        taken.add(user)
    if item is None and rest:
        item = rest.pop(0)
        taken.add(item)
    if user is None or item is None:
        return None
    n = _norm(item)
    item_vals = [v for v in values[item] if v.strip()]
    looks_like_files = bool(item_vals) and all(re.search(r"\.[A-Za-z0-9]{2,4}$", v.strip()) for v in item_vals)
    match = "filename" if ("file" in n or "path" in n or looks_like_files) else "auto"
    return ColumnMapping(user=user, item=item, item_match=match, weight=weight, timestamp=timestamp)
