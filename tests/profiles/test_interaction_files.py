"""Reading interaction files: encodings, delimiters, blank rows, Parquet; mappings and their guess."""

from __future__ import annotations

import pytest

from generec_desktop.profiles import InteractionFileError
from generec_desktop.profiles.interaction_files import (
    ColumnMapping,
    detect_delimiter,
    guess_mapping,
    read_table,
    standard_mapping,
)

ROWS = [["ann", "v01", "2.5", "2024-03-01T10:00:00"], ["bob", "v02", "1", "2024-03-02 11:00:00"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_any_common_delimiter_and_encoding(tmp_path, delimiter, encoding):
    f = tmp_path / "x.csv"
    header = ["viewer", "vidéo", "note", "quand"]  # a non-ASCII header tells the encodings apart
    text = "\r\n".join(delimiter.join(r) for r in [header, *ROWS]) + "\r\n"
    f.write_bytes(text.encode(encoding))
    table = read_table(f)
    assert table.columns == header  # no BOM left on the first name, accents decoded
    assert table.delimiter == delimiter
    assert table.frame.to_numpy().tolist() == ROWS
    assert table.numbers.tolist() == [2, 3]
    expected = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "cp1252": "Windows-1252"}
    assert expected[encoding] in table.describe()


def test_quoted_delimiters_and_one_column(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text('user;item;title\n1;v01;"a, b, c"\n2;v02;"d, e"\n')
    assert detect_delimiter(f.read_text()) == ";"
    assert read_table(f).frame["title"].tolist() == ["a, b, c", "d, e"]
    one = tmp_path / "one.csv"
    one.write_text("user\n1\n2\n")
    assert read_table(one).columns == ["user"]
    assert guess_mapping(["user"], [["1"]]) is None


def test_blank_rows_are_left_out_and_line_numbers_stay_true(tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("user_id,item_id\n1,v01\n\n,\n2,v02\n\n")
    table = read_table(f)
    assert table.frame.to_numpy().tolist() == [["1", "v01"], ["2", "v02"]]
    assert table.numbers.tolist() == [2, 5] and table.blank_rows == 3  # lines 3, 4 and 6


def test_unreadable_files_are_one_message(tmp_path):
    xlsx = tmp_path / "book.csv"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(InteractionFileError, match="Excel"):
        read_table(xlsx)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"a,b\n" + bytes(5000))
    with pytest.raises(InteractionFileError, match="not a text file"):
        read_table(binary)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n1,2,3\n")
    with pytest.raises(InteractionFileError, match="line 3"):
        read_table(ragged)


def test_parquet_and_first_rows(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow", reason="Parquet needs the optional extra 'parquet' (pyarrow)")
    f = tmp_path / "i.parquet"
    pd.DataFrame({"uid": [7, 8, 9], "video": ["a", "b", "c"],
                  "at": pd.to_datetime(["2024-01-01", "2024-01-02", None])}).to_parquet(f)
    table = read_table(f)
    assert table.unit == "row" and table.numbers.tolist() == [1, 2, 3] and table.total_rows == 3
    assert table.frame["uid"].tolist() == ["7", "8", "9"] and table.frame["at"].iloc[2] == ""
    head = read_table(f, nrows=2)
    assert len(head.frame) == 2 and head.total_rows == 3


def test_guess_from_names_and_values():
    m = guess_mapping(["watched_at", "Viewer ID", "Video", "rating"],
                      [["2024-01-01", "u1", "v01", "4"], ["2024-01-02", "u2", "v02", "5"]])
    assert m == ColumnMapping(user="Viewer ID", item="Video", item_match="auto", weight="rating",
                              timestamp="watched_at")
    files = guess_mapping(["who", "clip"], [["u1", "Holiday.MP4"], ["u2", "dog.mov"]])
    assert files is not None and (files.user, files.item, files.item_match) == ("who", "clip", "filename")
    # names that say nothing: the first two columns are user and item, no weight, no time
    plain = guess_mapping(["a", "b", "c"], [["x", "y", "z"]])
    assert plain is not None and (plain.user, plain.item, plain.weight, plain.timestamp) == ("a", "b", None, None)
    # a "rating" column holding words is not a weight
    words = guess_mapping(["user", "item", "rating"], [["1", "2", "good"]])
    assert words is not None and words.weight is None
    # …but one typo among the first rows is the validator's to report: the column is still the weight
    typo = guess_mapping(["user", "item", "rating"], [["1", "2", str(k)] for k in range(9)] + [["1", "2", "a lot"]])
    assert typo is not None and typo.weight == "rating"


def test_standard_mapping_and_resolution():
    cols = ["User_ID", "ITEM_ID", "Weight", "comment"]
    m = standard_mapping(cols, "f.csv")
    assert (m.user, m.item, m.weight, m.timestamp, m.item_match) == ("User_ID", "ITEM_ID", "Weight", None, "auto")
    m2 = standard_mapping(["viewer", "item_id"], "f.csv", user="VIEWER", item_match="external")
    assert (m2.user, m2.item, m2.item_match) == ("viewer", "item_id", "external")
    with pytest.raises(InteractionFileError, match="lacks the column"):
        standard_mapping(["viewer", "video"], "f.csv")
    with pytest.raises(InteractionFileError, match="no column 'nope' for the weight"):
        ColumnMapping("viewer", "video", weight="nope").resolved(["viewer", "video"], "f.csv")
    with pytest.raises(InteractionFileError, match="both the user and the item"):
        ColumnMapping("viewer", "viewer").resolved(["viewer", "video"], "f.csv")
    with pytest.raises(InteractionFileError, match="Unknown item match"):
        ColumnMapping("a", "b", item_match="title")
