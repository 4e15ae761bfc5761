"""A brand-new workspace whose only audiences are built from examples: personalisation (with generated
thumbnails learnt from the example pictures) works, by id and by name (the MCVD revision toward such an
audience is tested in tests/mcvd/test_example_conditions.py)."""

from __future__ import annotations

import pytest
from examplemedia import example_audiences_workspace


@pytest.fixture
def fresh(tmp_path):
    with example_audiences_workspace(tmp_path) as ws:
        yield ws


def test_personalize_for_example_audiences_by_name(fresh):
    from generec_desktop.editor.personalize.pipeline import personalize

    res = personalize(fresh, 1, ["Space fans", "examples:2"], clips=True)
    assert [a.audience_id for a in res.audiences] == ["examples:1", "examples:2"]
    assert [a.label for a in res.audiences] == ["Space fans", "Cat people"]
    t_space, t_cat = (a.thumbnail.timestamp for a in res.audiences)
    assert t_space < 1.0 and t_cat >= 2.0  # each picks the shot that looks like its examples
    for a in res.audiences:  # the palette of the generated thumbnail comes from the example pictures
        assert a.generated is not None and a.generated.image is not None
        assert a.clip is not None and a.clip.end > a.clip.start
