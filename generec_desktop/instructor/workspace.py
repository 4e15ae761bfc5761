"""Reading the instructor's inputs from a workspace: its audiences and an audience's recent feedback.

The workspace is used through its public methods only (duck-typed), so this module imports
neither the corpus nor the profiles package at import time.
"""

from __future__ import annotations

from typing import Any

from generec_desktop.instructor.plan import AudienceRef, Feedback
from generec_desktop.profiles.audience_id import AudienceId

#: How many of the most recent interactions count as "recent feedback".
RECENT = 20


def workspace_audiences(ws: Any) -> tuple[list[AudienceRef], str]:
    """The workspace's audience segments and audiences from examples (id + label) and a note when there are
    none. A segment's label is its description; the text reaches it as "Segment N" too (numbered from 1)."""
    try:
        from generec_desktop.profiles.service import load_profiles

        profiles = load_profiles(ws)
    except Exception as exc:  # no profiles built yet, or the profiles package is unavailable
        return [], f"No audience profiles ({exc}); audiences are read as 'segment N' / 'user N' only."
    return [AudienceRef(a.id, a.label) for a in profiles.audiences(users=False)], ""


def workspace_feedback(ws: Any, audience_id: str, *, recent: int = RECENT) -> list[Feedback]:
    """The ``recent`` latest interactions of user audience ``"user:N"`` as feedback, oldest first.

    A positive weight is a positive signal, a negative weight a negative one (a skip, a dislike),
    zero neutral; the item's kind (human / ai_edited / ai_created) comes from the corpus.
    Segments have no single feedback stream, so they get none.
    """
    aid = AudienceId.parse(audience_id)
    if aid is None or aid.kind != "user":
        return []
    rows = ws.interactions(user_id=aid.number)
    rows.sort(key=lambda r: (r.timestamp.timestamp() if r.timestamp else float("-inf"), r.id))
    out: list[Feedback] = []
    kinds: dict[int, str] = {}
    for r in rows[-recent:]:
        if r.item_id not in kinds:
            kinds[r.item_id] = ws.item(r.item_id).kind
        signal = "positive" if r.weight > 0 else "negative" if r.weight < 0 else "neutral"
        out.append(Feedback(kinds[r.item_id], signal, r.item_id))
    return out
