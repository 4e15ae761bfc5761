"""A declared SQLAlchemy Core table agrees with the table the migrations made (columns, nullability, type
affinity, primary key, unique constraints): one check shared by the packages that declare tables."""

from __future__ import annotations

from typing import Any


def assert_table_matches(insp: Any, table: Any) -> None:
    """Fail with the table (and column) name when ``table`` differs from what ``insp`` sees in the database."""
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
