"""The profile tables as profiles/store.py declares them agree with what the migrations create."""

from __future__ import annotations

from sqlalchemy import inspect

from generec_desktop.corpus import Workspace
from generec_desktop.profiles import store


def test_store_tables_match_the_migrated_database(tmp_path):
    with Workspace.create(tmp_path / "W") as ws:
        insp = inspect(ws.engine)
        for table in store.metadata.sorted_tables:
            cols = {c["name"]: c for c in insp.get_columns(table.name)}
            assert set(cols) == {c.name for c in table.columns}, table.name
            for c in table.columns:
                assert cols[c.name]["nullable"] == c.nullable or c.primary_key, (table.name, c.name)
                assert isinstance(cols[c.name]["type"], c.type._type_affinity), (table.name, c.name)
            pk = insp.get_pk_constraint(table.name)["constrained_columns"]
            assert sorted(pk) == sorted(c.name for c in table.primary_key.columns), table.name
            uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table.name)}
            declared = {tuple(col.name for col in u.columns) for u in table.constraints
                        if type(u).__name__ == "UniqueConstraint"}
            assert uniques == declared, (table.name, uniques, declared)


def test_example_audience_tables_are_declared_and_agree_on_keys(tmp_path):
    """m004's tables are among the declared ones (so the test above covers them) and their foreign keys
    between themselves and indexes agree too (items is the corpus's table: named by the migration only)."""
    declared = {t.name for t in store.metadata.sorted_tables}
    assert {"audiences", "audience_examples", "audience_example_vectors"} <= declared
    with Workspace.create(tmp_path / "W") as ws:
        insp = inspect(ws.engine)
        for table in (store.audience_examples, store.audience_example_vectors):
            migrated = {(tuple(fk["constrained_columns"]), fk["referred_table"], fk["options"].get("ondelete"))
                        for fk in insp.get_foreign_keys(table.name)}
            ours = {((fk.parent.name,), fk.column.table.name, fk.ondelete) for fk in table.foreign_keys}
            assert ours <= migrated, (table.name, ours, migrated)
            assert all(t != "items" for _, t, _ in ours)
        indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("audience_examples")}
        assert ("audience_id",) in indexed
        assert any(c.index for c in store.audience_examples.columns if c.name == "audience_id")
