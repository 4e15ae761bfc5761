"""Importing interactions: all or nothing, row-level messages, documented skips."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from generec_desktop.corpus.schema import Interaction, User
from generec_desktop.jobs import Cancelled, CancelToken
from generec_desktop.profiles import InteractionFileError, import_interactions


def _counts(ws):
    with ws.session() as s:
        return s.scalar(select(func.count()).select_from(Interaction)), s.scalar(select(func.count()).select_from(User))


def test_import_then_reimport_is_a_noop(planted_ws, tmp_path):
    ws = planted_ws.ws
    rep = import_interactions(ws, tmp_path / "interactions.csv")
    n_rows = len((tmp_path / "interactions.csv").read_text().splitlines()) - 1
    assert rep.imported == n_rows and rep.new_users == 30
    assert _counts(ws) == (n_rows, 30)
    again = import_interactions(ws, tmp_path / "interactions.csv")
    assert again.imported == 0 and again.skipped_existing == n_rows
    assert _counts(ws) == (n_rows, 30)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "is empty"),
        ("user_id,item_id\n", "no rows"),
        ("user,item\n1,v00\n", r"lacks the column\(s\) user_id, item_id"),
        ("user_id,item_id\n1,v00\n2,v99\n", r"line 3: unknown item 'v99'"),
        ("user_id,item_id\n1,v00\n2,v01\nx7,v02\n", r"line 4: user_id 'x7' is not an integer"),
        ("user_id,item_id\n1,v00\n,v01\n", r"line 3: user_id is empty"),
        ("user_id,item_id,weight\n1,v00,abc\n", r"weight 'abc' is not a finite number"),
        ("user_id,item_id,weight\n1,v00,inf\n", r"weight 'inf' is not a finite number"),
        ("user_id,item_id,timestamp\n1,v00,yesterday\n", r"timestamp 'yesterday'"),
        ("user_id,item_id,timestamp\n1,v00,1700000000000\n", r"epoch seconds"),
        ("user_id,item_id\nann,v00\nb\x00b,v01\n", r"line 3: user_id 'b\\x00b' contains a control character"),
    ],
)
def test_bad_files_import_nothing(planted_ws, tmp_path, content, match):
    ws = planted_ws.ws
    f = tmp_path / "bad.csv"
    f.write_text(content)
    before = _counts(ws)
    with pytest.raises(InteractionFileError, match=match):
        import_interactions(ws, f)
    assert _counts(ws) == before  # nothing half-imported (no users either)


def test_one_bad_row_among_many_lists_rows_and_imports_nothing(planted_ws, tmp_path):
    ws = planted_ws.ws
    lines = ["user_id,item_id"] + [f"{u},v{u % 12:02d}" for u in range(5000)] + ["5001,nope", "5002,v99"]
    (tmp_path / "big.csv").write_text("\n".join(lines))
    with pytest.raises(InteractionFileError) as exc:
        import_interactions(ws, tmp_path / "big.csv")
    assert [r for r, _ in exc.value.row_errors] == [5002, 5003]
    assert "2 of 5,002 rows are invalid" in str(exc.value)
    assert _counts(ws) == (0, 0)


def test_duplicates_are_skipped_and_counted(planted_ws, tmp_path):
    f = tmp_path / "dups.csv"
    f.write_text("user_id,item_id,timestamp\n1,v00,2024-01-01T10:00:00Z\n1,v00,2024-01-01T10:00:00Z\n"
                 "1,v00,2024-01-02T10:00:00\n2,1,\n2,1,\n")  # item 1 by workspace id
    rep = import_interactions(planted_ws.ws, f)
    assert (rep.imported, rep.skipped_duplicates, rep.skipped_rows) == (3, 2, [3, 6])


def test_row_limit_and_extra_columns(planted_ws, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("user_id,item_id,comment\n" + "".join(f"{u},v01,hi\n" for u in range(30)))
    with pytest.raises(InteractionFileError, match="more than 10 rows"):
        import_interactions(planted_ws.ws, f, max_rows=10)
    rep = import_interactions(planted_ws.ws, f)
    assert rep.imported == 30 and rep.warnings == ["ignored column(s): comment"]


def test_not_a_csv_and_wrong_suffix(planted_ws, tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"\xff\xfe\x00\x01garbage\x00\xff")
    with pytest.raises(InteractionFileError):
        import_interactions(planted_ws.ws, f)
    with pytest.raises(InteractionFileError, match=r"csv or \.parquet"):
        import_interactions(planted_ws.ws, f.rename(tmp_path / "x.json"))


def test_cancel_leaves_nothing(planted_ws, tmp_path):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        import_interactions(planted_ws.ws, tmp_path / "interactions.csv", cancel=token)
    assert _counts(planted_ws.ws) == (0, 0)


def test_parquet(planted_ws, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow", reason="Parquet needs the optional extra 'parquet' (pyarrow)")
    pd.DataFrame({"user_id": [1, 2], "item_id": ["v00", "v05"], "weight": [1.0, 2.0]}).to_parquet(
        tmp_path / "i.parquet")
    rep = import_interactions(planted_ws.ws, tmp_path / "i.parquet")
    assert rep.imported == 2
