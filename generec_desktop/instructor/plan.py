"""Instruction + feedback -> a plan (paper §3.1; §3.4 tasks 1 and 2).

The instructor decides which operation serves the instruction, for which audiences, with which
parameters, and the paper's two decisions: whether to start the AI generator at all, and whether
the generated item is recommended directly or ranked with human items. Every decision carries a
one-line explanation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generec_desktop.instructor import content, lexicon, semantic, text
from generec_desktop.jobs import GenerecError
from generec_desktop.profiles.audience_id import AudienceId

__all__ = [
    "DIRECT_AFTER_NEGATIVES",
    "AudienceRef",
    "Feedback",
    "InstructorError",
    "Plan",
    "audience_display",
    "make_plan",
    "prepare",
]

#: This many consecutive negative signals on human items make the generator start and the
#: generated item go straight to the audience (paper §3.1: "rejected human-generated items many times").
DIRECT_AFTER_NEGATIVES = 3
#: Default strengths: a style at full strength (the editor's default), a revision half-way (SDEdit noise).
STYLE_STRENGTH = 1.0
REVISE_STRENGTH = 0.5
#: Below this best cosine (and with no keyword) the instruction is "unclear".
MIN_SIMILARITY = 0.30
#: How much one keyword vote adds to a cosine similarity (at most three votes count).
KEYWORD_WEIGHT = 0.08
_GENERATING = ("thumbnail", "clip", "style", "revise", "create")
_PRIORITY = {op: i for i, op in enumerate(("keep", "thumbnail", "clip", "style", "revise", "create", "unsupported"))}
_KEEP_RE = re.compile(
    r"\b(?:leave (?:it|the video|this|everything)|as-is|(?:don't|do not|dont) (?:change|touch|edit) (?:anything|it)|"
    r"do nothing|no (?:changes|edits|editing)|keep (?:it|the original|the video) (?:as-is|unchanged|the same)|"
    r"keep the original|(?:don't|do not|dont) (?:generate|create|make) anything|no ai)\b")
_FACE_RE = re.compile(r"\b(?:keep|protect|preserve|spare) (?:the |their )?faces?\b|\bfaces? (?:natural|recogni[sz]able|"
                      r"untouched|intact|unchanged|real)\b|\bface-aware\b|\bprivacy\b|\bblur (?:the )?faces?\b")
_GENERATE_THUMB_RE = re.compile(r"\b(?:generate|draw|paint|design|ai|create|render)\b")


class InstructorError(GenerecError):
    """Bad input to the instructor (an audience or feedback entry it cannot read)."""


@dataclass(frozen=True)
class AudienceRef:
    """An audience the instruction may name: ``id`` ("segment:3", "examples:2", "user:42") and a readable
    ``label`` (a segment's description, an example audience's name). "segment N" in a text means the
    audience a person sees as Segment N, i.e. the id ``segment:N-1``."""

    id: str
    label: str = ""


@dataclass(frozen=True)
class Feedback:
    """One feedback event of the audience, oldest first: on a ``human`` or AI (``ai_edited``/``ai_created``) item."""

    item_kind: str = "human"
    signal: str = "negative"  # positive | negative | neutral
    item_id: int | None = None


@dataclass
class Plan:
    """What the instructor decided; JSON-serialisable through :meth:`to_dict`."""

    operation: str                    # thumbnail | clip | style | revise | create | nothing
    audiences: list[str]              # audience ids, or ["all"] when none is known
    params: dict[str, Any]
    start_generator: bool
    delivery: str | None              # "direct" | "rank" | None (nothing generated)
    explanations: list[str]
    confidence: float
    matched_by: str                   # "minilm" | "keywords"
    instruction: str = ""
    corrections: dict[str, str] = field(default_factory=dict)
    audience_names: dict[str, str] = field(default_factory=dict)  # id -> what a person reads ("Segment 2")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def summary(self) -> str:
        """A few human lines: the decision, then every explanation."""
        shown = [self.audience_names.get(a) or audience_display(a) for a in self.audiences]
        head = (f"{self.operation} for {', '.join(shown)}"
                + (f" {json.dumps(self.params)}" if self.params else "")
                + f"; generator {'on' if self.start_generator else 'off'}"
                + (f", delivery {self.delivery}" if self.delivery else "")
                + f" (confidence {self.confidence:.2f}, {self.matched_by})")
        return "\n".join([head, *(f"  - {e}" for e in self.explanations)])


# ------------------------------------------------------------------------------------------------ inputs

def _coerce_audience(a: Any) -> AudienceRef:
    if isinstance(a, AudienceRef):
        return a
    if isinstance(a, str):
        ident, _, label = a.partition("=")
        return AudienceRef(ident.strip(), label.strip())
    if isinstance(a, Mapping) and "id" in a:
        return AudienceRef(str(a["id"]), str(a.get("label", "")))
    if hasattr(a, "id"):  # e.g. generec_desktop.profiles.Audience
        return AudienceRef(str(a.id), str(getattr(a, "label", "")))
    raise InstructorError(f"Cannot read the audience {a!r}; give an id like 'segment:3' or 'user:42'.")


def _coerce_feedback(f: Any) -> Feedback:
    if isinstance(f, Feedback):
        fb = f
    elif isinstance(f, Mapping):
        try:
            fb = Feedback(str(f.get("item_kind", "human")), str(f["signal"]), f.get("item_id"))
        except KeyError as exc:
            raise InstructorError(f"The feedback entry {dict(f)!r} has no 'signal'; give positive or negative.") \
                from exc
    else:
        raise InstructorError(f"Cannot read the feedback entry {f!r}; give a dict with item_kind and signal.")
    if fb.signal not in ("positive", "negative", "neutral"):
        raise InstructorError(f"Unknown feedback signal {fb.signal!r}; use positive, negative or neutral.")
    return fb


def _negative_streak(feedback: Sequence[Feedback], *, human: bool) -> int:
    """Consecutive negative signals at the end of the feedback on human (or AI) items."""
    n = 0
    for fb in reversed(feedback):
        if (fb.item_kind == "human") != human or fb.signal == "neutral":
            continue
        if fb.signal != "negative":
            break
        n += 1
    return n


def style_catalogue() -> list[tuple[str, str]]:
    """(name, description) of every style; from the editor when it imports, else the planned names."""
    try:
        from generec_desktop.editor.styles.stylize import list_styles

        return [(s.name, f"{s.title}. {s.description}") for s in list_styles()]
    except Exception:  # the editor failing to import must not stop the instructor
        return [(name, name) for name in lexicon.FALLBACK_STYLES]


def _synonyms(style: str) -> tuple[str, ...]:
    return (*lexicon.STYLE_SYNONYMS.get(style, ()), style, style.replace("-", "_"))


# ------------------------------------------------------------------------------------------------ matching

def _keyword_votes(parsed: text.Parsed, styles: Sequence[str]) -> dict[str, list[str]]:
    """Keyword hits per class in the non-negated text (style synonyms vote for "style")."""
    words = parsed.words()
    votes: dict[str, list[str]] = {c: [w for w in words if w in kws] for c, kws in lexicon.KEYWORDS.items()}
    votes["style"] += [s for st in styles if st != "personal" for s in _synonyms(st)
                       if s not in votes["style"] and text.contains(parsed.positive, s)]
    if text.duration_seconds(parsed.positive) is not None and not votes["clip"]:
        votes["clip"].append("a duration")  # "a 12 sec preview": a length in seconds/minutes asks for a clip
    return votes


def _excluded_ops(parsed: text.Parsed) -> dict[str, str]:
    """Operations a negation rules out ("don't make a clip") -> the negated span."""
    out: dict[str, str] = {}
    for span in parsed.excluded:
        for op in _GENERATING:
            if any(w in lexicon.KEYWORDS[op] for w in span.split()) and op != "create":
                out[op] = span
    return out


def _query_text(parsed: text.Parsed) -> str:
    """What the model reads: the instruction without its negated spans (sentence embeddings do not
    understand negation, so "don't make a clip, change the thumbnail" is read as "change the thumbnail")."""
    return parsed.positive.replace("_", " ") or parsed.text.replace("_", " ")


def _model_query(parsed: text.Parsed) -> np.ndarray:
    return semantic.embed_queries([_query_text(parsed)])[0]


def prepare(instructions: Sequence[str], *, audiences: Sequence[Any] = ()) -> None:
    """Load the model and embed ``instructions`` in one batch ahead of :func:`make_plan` calls.

    Optional; it only makes a series of plans faster. Does nothing when the model is unavailable.
    """
    known = [_coerce_audience(a) for a in audiences]
    extra = [w for n, _ in style_catalogue() for w in re.findall(r"[a-z]+", n)]
    extra += [w for r in known for w in re.findall(r"[a-z]+", r.label.lower())]
    queries = [_query_text(text.parse(i, extra_vocabulary=extra)) for i in instructions if i.strip()]
    with contextlib.suppress(semantic.ModelUnavailable):
        semantic.embed_queries(queries)


def _model_scores(query: np.ndarray) -> dict[str, tuple[float, str]]:
    phrases = [p for ps in lexicon.PROTOTYPES.values() for p in ps]
    labels = [c for c, ps in lexicon.PROTOTYPES.items() for _ in ps]
    return semantic.best_matches(query, phrases, labels)


def _style_phrases(catalogue: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    phrases: list[str] = []
    labels: list[str] = []
    for name, description in catalogue:
        for p in (*_synonyms(name), *lexicon.STYLE_PROTOTYPES.get(name, ()), description):
            phrases.append(p.replace("_", " "))
            labels.append(name)
    return phrases, labels


def _choose_style(parsed: text.Parsed, catalogue: Sequence[tuple[str, str]], query: np.ndarray | None,
                  expl: list[str]) -> tuple[str, bool]:
    """The style the instruction asks for and whether it was softened ("not too cartoonish")."""
    names = [n for n, _ in catalogue]
    banned = {n for n in names if any(text.contains(span, s) for span in parsed.excluded for s in _synonyms(n))}
    hits = {n: sum(text.contains(parsed.positive, s) for s in _synonyms(n)) for n in names if n not in banned}
    sims: dict[str, float] = {}
    if query is not None:
        phrases, labels = _style_phrases(catalogue)
        sims = {n: v for n, (v, _) in semantic.best_matches(query, phrases, labels).items() if n not in banned}
    scores = {n: hits.get(n, 0) * 0.2 + sims.get(n, 0.0) for n in names if n not in banned}
    if banned:
        expl.append(f"Not {', '.join(sorted(banned))}: the instruction rules {'them' if len(banned) > 1 else 'it'} "
                    "out.")
    named = {n: s for n, s in scores.items() if hits.get(n, 0) > 0 and n != "personal"}
    if named:
        style = max(named, key=lambda n: (scores[n], -names.index(n)))
        why = "named" if not sims else f"named, cosine {sims.get(style, 0.0):.2f}"
    elif hits.get("personal", 0) or not scores:
        style, why = "personal", "the audience's own taste was asked for"
    else:
        style = max(scores, key=lambda n: scores[n])
        if sims and sims[style] >= 0.45 and style != "personal":
            why = f"closest in meaning, cosine {sims[style]:.2f}"
        else:
            style, why = "personal", "no style named, so the grade learnt from the audience's liked thumbnails"
    softened = any(text.contains(span, s) for span in parsed.softened for s in _synonyms(style))
    expl.append(f"Style '{style}' ({why}).")
    return style, softened


def audience_display(audience_id: str, label: str = "") -> str:
    """How a plan names an audience to a person: "Segment 2 (travel)" for ``segment:1`` (numbered from 1,
    as the window labels it), an example audience's or user's label, else the id itself."""
    aid = AudienceId.parse(audience_id)
    if aid is not None and aid.kind == "segment":
        head = f"Segment {aid.number + 1}"
        return f"{head} ({label})" if label and label != head else head
    if audience_id == "all":
        return "every audience"
    return label or str(audience_id)


def _audiences(parsed: text.Parsed, known: Sequence[AudienceRef], defaults: Sequence[str],
               expl: list[str]) -> list[str]:
    t = parsed.text
    found: list[str] = []
    for m in re.finditer(r"\buser\s*(?:#|no\.?|number)?\s*(\d+)", t):
        found.append(f"user:{m.group(1)}")
    for m in re.finditer(r"\bsegment\s*(?:#|no\.?|number)?\s*(\d+)", t):
        # people read segments numbered from 1 ("Segment 2" is the id segment:1), so the text means that one
        n = int(m.group(1))
        if n < 1:
            expl.append(f"There is no segment {n}: segments are numbered from 1.")
            continue
        found.append(f"segment:{n - 1}")
    vocab = {w for kws in lexicon.KEYWORDS.values() for w in kws} | {
        w for syn in lexicon.STYLE_SYNONYMS.values() for s in syn for w in s.split()}
    words = [w for w in parsed.words(positive_only=False) if w not in vocab]
    for ref in known:
        if ref.id not in found and ref.label and text.label_matches(words, ref.label) > 0:
            found.append(ref.id)
    everyone = any(text.contains(t, c) for c in lexicon.EVERYONE_CUES)
    all_ids = [r.id for r in known] or ["all"]
    labels = {r.id: r.label for r in known}

    def names(ids: Sequence[str]) -> str:
        return ", ".join(audience_display(a, labels.get(a, "")) for a in ids)

    if everyone and not found:
        expl.append("For every audience (the instruction says so).")
        return all_ids
    if found:
        found = list(dict.fromkeys(found))
        expl.append(f"For {names(found)} (named in the instruction).")
        return found
    if defaults:
        expl.append(f"For {names(defaults)} (no audience named; the selected profile).")
        return list(defaults)
    expl.append("For every audience (none named).")
    return all_ids


# ------------------------------------------------------------------------------------------------ planning

def _show_explanation(show: str, encoder: Any) -> str:
    if encoder is None:
        return f"Show '{show}': the frames are matched to it through the encoder's text tower, when it has one."
    from generec_desktop.encoders.text import has_text_tower

    if has_text_tower(encoder):
        return (f"Show '{show}': frames are scored toward its text embedding ({encoder.id}'s text tower), "
                f"{content.CONTENT_WEIGHT:g} of the way from the audience's taste.")
    return (f"Cannot look for '{show}' in the frames: the encoder {encoder.id} has no text tower (download one: "
            "`generec models get ViT-B-32`); the audience's taste alone decides.")


def make_plan(
    instruction: str,
    *,
    audiences: Sequence[AudienceRef | str | Mapping[str, Any]] = (),
    feedback: Sequence[Feedback | Mapping[str, Any]] = (),
    use_model: bool = True,
    default_audiences: Sequence[str] = (),
    encoder: Any = None,
) -> Plan:
    """Turn a free-text instruction and the audience's recent feedback into a :class:`Plan`.

    ``audiences`` are the audiences the instruction may name (id + label, e.g. a workspace's segments);
    ``default_audiences`` are targeted when it names none. ``feedback`` is oldest first. With
    ``use_model=False`` (or ``GENEREC_INSTRUCTOR_NO_MODEL=1``, or the model package absent) keyword
    matching is used instead of MiniLM. ``encoder`` (the workspace's, optional) decides whether what a
    thumbnail should show ("make the thumbnail show food": ``params["show"]``) can be looked for in the
    frames: only an encoder with a text tower can (:func:`.content.steer_targets`).
    """
    if not isinstance(instruction, str):
        raise InstructorError("The instruction must be text.")
    known = [_coerce_audience(a) for a in audiences]
    events = [_coerce_feedback(f) for f in feedback]
    catalogue = style_catalogue()
    style_names = [n for n, _ in catalogue]
    extra_vocab = [w for n in style_names for w in re.findall(r"[a-z]+", n)]
    extra_vocab += [w for r in known for w in re.findall(r"[a-z]+", r.label.lower())]
    parsed = text.parse(instruction, extra_vocabulary=extra_vocab)
    expl: list[str] = []
    if parsed.corrections:
        expl.append("Read " + ", ".join(f"'{a}' as '{b}'" for a, b in parsed.corrections.items()) + ".")

    # -- which class: keep / unsupported / an operation
    votes = _keyword_votes(parsed, style_names)
    banned = _excluded_ops(parsed)
    for op, span in banned.items():
        expl.append(f"Not {op}: 'no/don't {span}' rules it out.")
    query: np.ndarray | None = None
    sims: dict[str, tuple[float, str]] = {}
    matched_by = "keywords"
    if use_model and parsed.text.strip():
        try:
            query = _model_query(parsed)
            sims = _model_scores(query)
            matched_by = "minilm"
        except semantic.ModelUnavailable as exc:
            expl.append(f"Keyword matching: {exc}")
    classes = [c for c in lexicon.PROTOTYPES if c not in banned]
    if sims:
        scores = {c: sims[c][0] + KEYWORD_WEIGHT * min(3, len(votes[c])) for c in classes}
    else:
        scores = {c: float(len(votes[c])) for c in classes}
    ranked = sorted(classes, key=lambda c: (-scores[c], _PRIORITY[c]))
    best, second = ranked[0], ranked[1]
    if sims:
        confidence = max(0.0, min(1.0, 0.5 + 2.5 * (scores[best] - scores[second])))
        unclear = sims[best][0] < MIN_SIMILARITY and not votes[best]
    else:
        confidence = min(0.9, 0.4 + 0.15 * (scores[best] - scores[second])) if scores[best] > 0 else 0.0
        unclear = scores[best] == 0
    if _KEEP_RE.search(parsed.text):
        best, confidence, unclear = "keep", 0.9, False
    streak = _negative_streak(events, human=True)
    ai_streak = _negative_streak(events, human=False)

    operation = best
    reason = ""
    if not parsed.text.strip() or unclear or best == "keep":
        if best == "keep" and not unclear:
            operation, reason = "nothing", "The instruction asks to leave the item as it is."
        elif streak >= DIRECT_AFTER_NEGATIVES:
            operation = "revise"
            reason = (f"No clear request, but the audience rejected the last {streak} human items: revise this "
                      "item toward their taste.")
            confidence = max(confidence, 0.6)
        else:
            operation = "nothing"
            reason = ("No operation recognised in the instruction and no run of rejected human items, so "
                      "nothing is generated; ask for a thumbnail, clip, style, revision or new video.")
    elif best == "unsupported":
        operation = "nothing"
        hit = next((lexicon.UNSUPPORTED_KIND[w] for w in votes["unsupported"] if w in lexicon.UNSUPPORTED_KIND),
                   None)
        if hit is None and sims:
            hit = lexicon.PROTOTYPE_KIND.get(sims["unsupported"][1])
        reason = "Cannot do that: " + lexicon.UNSUPPORTED_REASONS.get(hit or "analytics",
                                                                     lexicon.UNSUPPORTED_REASONS["analytics"])
    if operation != "nothing" and not reason:
        why = f"keywords {', '.join(dict.fromkeys(votes[operation]))}" if votes[operation] else ""
        if sims:
            why = (f"closest to '{sims[operation][1]}' (cosine {sims[operation][0]:.2f})"
                   + (f" and {why}" if why else ""))
        reason = f"Operation {operation}: {why}."
    expl.insert(0, reason)

    # -- audiences and parameters
    targets = _audiences(parsed, known, default_audiences, expl)
    params: dict[str, Any] = {}
    faces_excluded = any(w in ("face", "faces") for w in parsed.excluded_words())
    face_aware = faces_excluded or _FACE_RE.search(parsed.text) is not None
    t = parsed.positive
    if operation == "style":
        style, softened = _choose_style(parsed, catalogue, query, expl)
        soft_strength = softened or any(w in ("strong", "strongly", "much", "intense") for w in
                                        parsed.softened_words())
        value, words = text.strength(t, soft_strength)
        params["style"] = style
        params["strength"] = STYLE_STRENGTH if value is None else round(value, 3)
        if softened:
            calmer = lexicon.CALMER_STYLE.get(style)
            expl.append(f"Strength {params['strength']}: '{style}' was toned down by 'not too/less'"
                        + (f" (for a calmer look try '{calmer}')." if calmer else "."))
        elif value is None:
            expl.append(f"Strength {STYLE_STRENGTH} (the default; none given).")
        else:
            expl.append(f"Strength {params['strength']} (from '{words}').")
        rng = text.time_range(t)
        if rng:
            params["start"], params["end"] = rng
            expl.append(f"Only {rng[0]:g}–{'end' if rng[1] is None else f'{rng[1]:g}'} s is styled.")
        params["face_aware"] = face_aware
        if face_aware:
            expl.append("Face-aware: faces stay less stylised (asked to spare faces).")
    elif operation == "thumbnail":
        params["mode"] = "generate" if _GENERATE_THUMB_RE.search(t) else "select"
        params["avoid_faces"] = faces_excluded
        expl.append("Generate a new thumbnail image." if params["mode"] == "generate"
                    else "Select the frame the audience is most likely to click (paper Eq. 1).")
        show = content.content_phrase(t)
        if show:
            params["show"] = show
            expl.append(_show_explanation(show, encoder))
        if faces_excluded:
            expl.append("Avoid frames with faces (privacy: 'no faces').")
    elif operation == "clip":
        rng = text.time_range(t)
        length = text.duration_seconds(t)
        if rng:
            params["start"], params["end"] = rng
            expl.append(f"Clip the range {rng[0]:g}–{'end' if rng[1] is None else f'{rng[1]:g}'} s.")
        elif length is not None:
            params["length_s"] = length
            expl.append(f"Clip length {length:g} s (from the instruction).")
        else:
            params["length_s"] = None
            expl.append("Clip length: the editor's default (none given).")
        params["avoid_faces"] = faces_excluded
        if faces_excluded:
            expl.append("Avoid windows with faces (privacy: 'no faces').")
    elif operation == "revise":
        value, words = text.strength(t, any(w in ("strong", "much") for w in parsed.softened_words()))
        if (value is not None and words in lexicon.SOFT_WORDS) or words == "softened":
            value = 0.3
        elif value is not None and words in lexicon.STRONG_WORDS:
            value = 0.8
        params["strength"] = REVISE_STRENGTH if value is None else round(value, 3)
        expl.append(f"Revision strength {params['strength']} " + ("(the default)." if value is None else
                                                                  f"(from '{words}')."))
        params["face_aware"] = face_aware
    elif operation == "create":
        length = text.duration_seconds(t)
        if length is not None:
            params["length_s"] = length
            expl.append(f"Length {length:g} s.")
    else:
        params["reason"] = reason

    # -- the paper's two decisions
    start = operation != "nothing"
    delivery: str | None = None
    if not start:
        expl.append("Generator not started." + (f" (The audience rejected the last {streak} human items, but the "
                                                "instruction comes first.)" if streak >= DIRECT_AFTER_NEGATIVES
                                                else ""))
    else:
        because = "the instruction asks for it" if best not in ("keep",) and not unclear else "of the feedback"
        if streak >= DIRECT_AFTER_NEGATIVES and because != "of the feedback":
            because += f", and the audience rejected the last {streak} human items"
        expl.append(f"Start the AI generator: {because}.")
        rank_negated = any("rank" in span for span in parsed.excluded)
        direct_asked = any(text.contains(t, c) for c in lexicon.DIRECT_CUES) or rank_negated
        rank_asked = any(text.contains(t, c) for c in lexicon.RANK_CUES)
        if direct_asked:
            delivery = "direct"
            expl.append("Recommend it directly: the instruction asks to show it to the audience without ranking.")
        elif rank_asked:
            delivery = "rank"
            expl.append("Rank it with the human items: the instruction asks for it.")
        elif streak >= DIRECT_AFTER_NEGATIVES:
            delivery = "direct"
            expl.append(f"Recommend it directly: {streak} negative signals in a row on human items "
                        f"(≥ {DIRECT_AFTER_NEGATIVES}).")
        elif ai_streak >= DIRECT_AFTER_NEGATIVES:
            delivery = "rank"
            expl.append(f"Rank it with the human items: the audience rejected the last {ai_streak} AI items.")
        else:
            delivery = "rank"
            expl.append("Rank it with the human items (no explicit request and no run of rejections).")
    labels = {r.id: r.label for r in known}
    return Plan(operation, targets, params, start, delivery, expl, round(float(confidence), 3), matched_by,
                instruction, dict(parsed.corrections),
                {a: audience_display(a, labels.get(a, "")) for a in targets})
