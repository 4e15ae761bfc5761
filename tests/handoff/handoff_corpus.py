"""The hand-off tests' corpus: human items, exported AI versions of them, users, likes, audiences, artwork."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

COLOURS = ((220, 30, 30), (30, 200, 40), (30, 40, 220))


@dataclass
class Corpus:
    ws: object
    human: list[int]  # item ids, group k % 3
    ai: list[int]  # one ai_edited version per human item, same group
    user_group: dict[str, int]  # external id -> group


def _cover(path: Path, colour: tuple[int, int, int], rng: np.random.Generator) -> None:
    from PIL import Image

    img = np.clip(np.array(colour)[None, None, :] + rng.normal(0, 25, (48, 48, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path, quality=90)


def fill(ws, *, n_human: int = 12, n_users: int = 30, seed: int = 0) -> Corpus:
    """Rows straight into the tables (no video decoding): covers carry a group colour; each user likes
    mostly items of their group, human and AI alike; a few audiences from examples; one artwork row."""
    from generec_desktop.corpus.schema import Interaction, Item, Lineage, User
    from generec_desktop.fidelity import artwork as t
    from generec_desktop.profiles import store

    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    with ws.session() as s:
        human, ai = [], []
        for k in range(n_human):
            sha = f"{k:064x}"
            _cover(ws.covers_dir / f"{sha}.jpg", COLOURS[k % 3], rng)
            row = Item(kind="human", sha256=sha, stored_path=f"media/none/{sha}.mp4", title=f"clip\t{k} of\nmine",
                       cover_path=f"covers/{sha}.jpg", external_id=f"yt-{k}", duration=10.0 + k, owner="ann")
            s.add(row)
            s.flush()
            human.append(row.id)
        for k, parent in enumerate(human):
            sha = f"{1000 + k:064x}"
            _cover(ws.covers_dir / f"{sha}.jpg", COLOURS[k % 3], rng)
            row = Item(kind="ai_edited", parent_id=parent, sha256=sha, stored_path=f"versions/{sha}.mp4",
                       title=f"clip {k} (style)", cover_path=f"covers/{sha}.jpg", generator="style:warm",
                       target_profile=f"segment:{k % 3}", params_json={"gain": 1.5}, fidelity_json={"ok": True},
                       watermark_payload=f"{k:08x}", duration=10.0 + k)
            s.add(row)
            s.flush()
            s.add(Lineage(child_id=row.id, parent_id=parent, operation="style", params_json={"style": "warm"}))
            ai.append(row.id)
        users = {}
        for u in range(n_users):
            row = User(external_id=f"viewer-{u}", name=f"Viewer {u}")
            s.add(row)
            s.flush()
            users[f"viewer-{u}"] = (row.id, u % 3)
        for _ext, (uid, g) in users.items():
            mine = [k for k in range(n_human) if k % 3 == g]
            liked = [*rng.choice(mine, 3, replace=False), int(rng.integers(0, n_human))]
            for j, k in enumerate(dict.fromkeys(int(x) for x in liked)):
                s.add(Interaction(user_id=uid, item_id=human[k], weight=1.0,
                                  timestamp=datetime.fromtimestamp(1_700_000_000 + 60 * j, UTC)))
            for k in rng.choice(mine, 2, replace=False):
                s.add(Interaction(user_id=uid, item_id=ai[int(k)], weight=2.0, timestamp=None))
        a = s.execute(store.audiences.insert().values(name="Cyclists", created_at=now.replace(tzinfo=None),
                                                  updated_at=now.replace(tzinfo=None))).inserted_primary_key[0]
        s.execute(store.audience_examples.insert().values(audience_id=a, kind="item", item_id=human[0],
                                                      added_at=now.replace(tzinfo=None)))
        s.execute(t.artwork.insert().values(item_id=human[0], audience_id="segment:0", audience_label="Segment 1",
                                            path="artwork/x.jpg", sha256="ab" * 32, width=1080, height=1920,
                                            format="jpeg", score=0.8, source_time=1.5, generator="choose",
                                            params_json={"k": 1}, created_at=now.replace(tzinfo=None)))
    return Corpus(ws, human, ai, {ext: g for ext, (_, g) in users.items()})
