"""A small workspace with items whose covers carry a planted group colour (no video decoding needed).

The ``planted_ws`` fixture is shared by conftests: tests/profiles (the profile pipeline) and tests/cli
(``generec profiles import``) import it, so there is one definition of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

GROUPS = ("red", "green", "blue")
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 40), "blue": (30, 40, 220)}


@dataclass
class Planted:
    ws: object
    item_ids: list[int]
    item_group: list[int]
    item_ext: list[str]
    user_ext: list[str]
    user_group: list[int]


def _cover(path: Path, colour: tuple[int, int, int], rng: np.random.Generator) -> None:
    from PIL import Image

    img = np.clip(np.array(colour)[None, None, :] + rng.normal(0, 25, (64, 64, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path, quality=90)


@pytest.fixture
def planted_ws(tmp_path: Path):
    """12 items (4 per colour group), 30 users each liking mostly items of their group; CSV written, not imported."""
    from generec_desktop.corpus import Workspace
    from generec_desktop.corpus.schema import Item

    rng = np.random.default_rng(0)
    with Workspace.create(tmp_path / "ws") as ws:
        item_group = [g for g in range(3) for _ in range(4)]
        ext = [f"v{k:02d}" for k in range(12)]
        with ws.session() as s:
            rows = []
            for k, g in enumerate(item_group):
                sha = f"{k:064x}"
                cover = ws.covers_dir / f"{sha}.jpg"
                _cover(cover, COLOURS[GROUPS[g]], rng)
                rows.append(Item(kind="human", sha256=sha, stored_path=f"media/none/{sha}.mp4",
                                 title=f"{GROUPS[g]} video {k}", cover_path=f"covers/{sha}.jpg", external_id=ext[k]))
            s.add_all(rows)
            s.flush()
            ids = [r.id for r in rows]
        user_group = [u % 3 for u in range(30)]
        lines = ["user_id,item_id,timestamp,weight"]
        for u, g in enumerate(user_group):
            mine = [k for k in range(12) if item_group[k] == g]
            liked = [*list(rng.choice(mine, 3, replace=False)), int(rng.integers(0, 12))]
            for j, k in enumerate(dict.fromkeys(liked)):
                lines.append(f"{1000 + u},{ext[k]},{1_700_000_000 + 60 * j},1")
        (tmp_path / "interactions.csv").write_text("\n".join(lines) + "\n")
        yield Planted(ws, ids, item_group, ext, [str(1000 + u) for u in range(30)], user_group)
