"""The audience id type (issue 14, Deliver 5): one parser for "segment:0" / "examples:1" / "user:12"."""

from __future__ import annotations

import pytest

from generec_desktop.profiles.audience_id import AudienceId


@pytest.mark.parametrize(("text", "kind", "number"), [
    ("segment:0", "segment", 0), ("examples:1", "examples", 1), ("user:12", "user", 12),
    (" user:12 ", "user", 12), ("Examples: 3", "examples", 3), ("SEGMENT:4", "segment", 4),
])
def test_an_id_parses_to_its_kind_and_number_and_prints_back_canonical(text: str, kind: str, number: int) -> None:
    aid = AudienceId.parse(text)
    assert aid is not None and (aid.kind, aid.number) == (kind, number)
    assert str(aid) == f"{kind}:{number}"
    assert AudienceId.parse(str(aid)) == aid and AudienceId.parse(aid) is aid


@pytest.mark.parametrize("text", [None, "", "all", "Segment 2", "Cyclists", "segment:", "segment:-1",
                                  "segment:1.5", "group:3", "user:12:1", "user:١٢", ":3"])
def test_a_name_or_anything_else_is_not_an_id(text: str | None) -> None:
    assert AudienceId.parse(text) is None


def test_every_former_parser_now_agrees_with_it() -> None:
    """The helpers that each parsed the text themselves give what the one parser gives."""
    from generec_desktop.instructor.plan import audience_display
    from generec_desktop.profiles.examples import parse_audience_id
    from generec_desktop.profiles.service import audience_title

    assert parse_audience_id("examples:7") == 7 and parse_audience_id("user:7") is None
    assert audience_title("segment:1") == "Segment 2" and audience_title("examples:4") == "audience 4"
    assert audience_title("user:9") == "user 9" and audience_title("Cyclists") == "Cyclists"
    assert audience_display("segment:0", "travel") == "Segment 1 (travel)"
    assert audience_display("segment:x") == "segment:x"
