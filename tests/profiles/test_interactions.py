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
    with pytest.raises(InteractionFileError, match=r"\.csv, \.tsv or \.parquet"):
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


# --- mappings, item matching, the validator ---------------------------------------------------------------

def _named_items(ws):
    """Items as an import of files leaves them (original_name), plus a version and two files of one name."""
    from generec_desktop.corpus.schema import Item

    names = [("human", "Holiday.MP4"), ("human", "dog.mov"), ("ai_edited", "dog.mov"), ("human", "same.mp4"),
             ("human", "same.mp4")]
    with ws.session() as s:
        rows = [Item(kind=kind, sha256=f"{100 + k:064x}", stored_path=f"media/none/{100 + k}.mp4", original_name=n,
                     title=n) for k, (kind, n) in enumerate(names)]
        s.add_all(rows)
        s.flush()
        return [r.id for r in rows]


def _db_bytes(ws):
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in ws.root.glob("generec.sqlite*") if not p.name.endswith("-shm")}


def test_validate_lists_every_bad_line_and_writes_nothing(planted_ws, tmp_path):
    from generec_desktop.profiles import ColumnMapping, validate_interactions

    ws = planted_ws.ws
    f = tmp_path / "viewers.csv"
    f.write_text("viewer;video;stars;when\n"
                 "ann;v00;5;2024-01-01\n"
                 ";v01;4;2024-01-01\n"          # line 3: empty user
                 "bob;v99;4;2024-01-01\n"       # line 4: unknown item
                 "\n"                           # line 5: blank, left out
                 "cid;v02;lots;2024-01-01\n"    # line 6: bad weight
                 "dan;v03;1;last tuesday\n"     # line 7: bad timestamp
                 "eve;v98;x;2024-01-01\n")      # line 8: two problems
    before = (_counts(ws), _db_bytes(ws))
    m = ColumnMapping(user="viewer", item="video", item_match="external", weight="stars", timestamp="when")
    check = validate_interactions(ws, f, m)
    assert not check.ok and check.bad_rows == 5 and check.rows == 6 and check.blank_rows == 1
    assert [n for n, _ in check.errors] == [3, 4, 6, 7, 8]
    msgs = dict(check.errors)
    assert "user (column 'viewer') is empty" in msgs[3]
    assert "unknown item 'v99' (no item has this external id)" in msgs[4]
    assert "weight 'lots' is not a finite number" in msgs[6]
    assert "timestamp 'last tuesday'" in msgs[7]
    assert "weight 'x'" in msgs[8] and "unknown item 'v98'" in msgs[8]
    assert (_counts(ws), _db_bytes(ws)) == before  # the check wrote nothing at all
    with pytest.raises(InteractionFileError) as exc:
        import_interactions(ws, f, mapping=m)
    assert [n for n, _ in exc.value.row_errors] == [3, 4, 6, 7, 8]
    assert _counts(ws) == before[0]


def test_validate_a_good_file_says_what_an_import_would_do(planted_ws, tmp_path):
    from generec_desktop.profiles import ColumnMapping, validate_interactions

    ws = planted_ws.ws
    import_interactions(ws, tmp_path / "interactions.csv")
    before = (_counts(ws), _db_bytes(ws))
    f = tmp_path / "more.tsv"
    f.write_text("who\twhat\n1000\tv00\n1000\tv00\n2000\tv01\n2001\t3\n")
    check = validate_interactions(ws, f, ColumnMapping("who", "what"))
    assert check.ok and check.errors == [] and "tab-separated" in check.file_format
    already = sum(1 for ln in (tmp_path / "interactions.csv").read_text().splitlines()
                  if ln.startswith("1000,v00,"))
    assert (check.duplicates, check.new_users, check.known_users) == (1, 2, 1)
    assert check.existing == 0 and check.to_import == 3  # v00 of 1000 had a timestamp; this one has none
    assert already == 1
    assert (_counts(ws), _db_bytes(ws)) == before
    rep = import_interactions(ws, f, mapping=ColumnMapping("who", "what"))
    assert rep.imported == check.to_import and rep.new_users == check.new_users
    again = validate_interactions(ws, f, ColumnMapping("who", "what"))
    assert again.ok and again.to_import == 0 and again.existing == 3


def test_items_by_corpus_id_external_id_or_file_name(planted_ws, tmp_path):
    from generec_desktop.profiles import ColumnMapping, validate_interactions

    ws = planted_ws.ws
    holiday, dog_orig, _dog_version, same1, same2 = _named_items(ws)
    f = tmp_path / "f.csv"
    f.write_text(f"user,item\n1,holiday.mp4\n2,C:\\\\Users\\\\me\\\\Videos\\\\dog.mov\n3,dog\n4,same.mp4\n5,cat.mp4\n"
                 f"6,{holiday}\n")
    check = validate_interactions(ws, f, ColumnMapping("user", "item", item_match="filename"))
    msgs = dict(check.errors)
    assert sorted(msgs) == [5, 6, 7]
    assert "ambiguous" in msgs[5] and f"#{same1}" in msgs[5] and f"#{same2}" in msgs[5]
    assert "no video in the workspace was imported from a file of this name" in msgs[6]
    by_id = validate_interactions(ws, f, ColumnMapping("user", "item", item_match="id"))
    assert sorted(dict(by_id.errors)) == [2, 3, 4, 5, 6]
    assert "is not a corpus id" in dict(by_id.errors)[2]

    good = tmp_path / "good.csv"
    good.write_text("user,item\n1,holiday.mp4\n2,/home/me/dog.mov\n3,DOG\n")
    rep = import_interactions(ws, good, mapping=ColumnMapping("user", "item", item_match="filename"))
    assert rep.imported == 3
    from generec_desktop.corpus.schema import Interaction

    with ws.session() as s:
        items = sorted(s.scalars(select(Interaction.item_id)).all())
    assert items == sorted([holiday, dog_orig, dog_orig])  # the original, not the version exported from it


def test_preview_guesses_the_mapping_and_the_item_match(planted_ws, tmp_path):
    from generec_desktop.profiles import ColumnMapping, preview_interactions

    ws = planted_ws.ws
    holiday = _named_items(ws)[0]
    f = tmp_path / "p.csv"
    f.write_bytes("\ufeffViewer;Clip;Watched at\nann;Holiday.MP4;2024-05-01\nbob;holiday.mp4;2024-05-02\n"
                  .encode())
    pv = preview_interactions(f, ws=ws)
    assert pv.columns == ["Viewer", "Clip", "Watched at"] and pv.numbers == [2, 3]
    assert pv.rows[0] == ["ann", "Holiday.MP4", "2024-05-01"]
    assert pv.mapping == ColumnMapping("Viewer", "Clip", "filename", None, "Watched at")
    assert "UTF-8 with BOM" in pv.description and "semicolon" in pv.description
    g = tmp_path / "g.csv"
    g.write_text(f"a,b\nx,v03\ny,{holiday}\nz,v05\n")
    pv = preview_interactions(g, n=2, ws=ws)
    # one external id and one corpus id: only "external id, else corpus id" finds both
    assert len(pv.rows) == 2 and pv.mapping is not None and pv.mapping.item_match == "auto"
    assert any("2 of the first 2 items match the workspace by external id, else corpus id" in n for n in pv.notes)
    h = tmp_path / "h.csv"
    h.write_text("a,b\nx,v03\ny,v04\n")
    pv = preview_interactions(h, ws=ws)
    assert pv.mapping is not None and pv.mapping.item_match == "external"


def test_reimport_with_sub_second_times_is_a_noop(planted_ws, tmp_path):
    f = tmp_path / "ms.csv"
    f.write_text("user_id,item_id,timestamp\n1,v00,2024-01-01T10:00:00.123456Z\n1,v00,1700000000.5\n2,v01,\n")
    assert import_interactions(planted_ws.ws, f).imported == 3
    again = import_interactions(planted_ws.ws, f)
    assert (again.imported, again.skipped_existing, again.skipped_rows) == (0, 3, [2, 3, 4])
