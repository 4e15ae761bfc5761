"""The library's caption and tooltip say when an item's file needed repairs (issue 15's damage report)."""

from __future__ import annotations

from types import SimpleNamespace

from generec_desktop.app.library import item_caption, item_tooltip


def _item(warnings: tuple[str, ...]) -> SimpleNamespace:
    return SimpleNamespace(id=3, title="clip", kind="human", duration=2.0, sha256="ab" * 32, warnings=warnings)


def test_a_repaired_file_shows_a_badge_and_what_was_repaired():
    damaged = _item(("2 corrupt packets skipped", "truncated at t = 1.90 s"))
    caption = item_caption(damaged)
    assert caption.startswith("⚠ clip") and "repaired" in caption
    tip = item_tooltip(damaged)
    assert "2 corrupt packets skipped" in tip and "truncated at t = 1.90 s" in tip


def test_a_healthy_file_has_no_badge():
    healthy = _item(())
    assert "repaired" not in item_caption(healthy) and "damaged" not in item_tooltip(healthy)


def test_artwork_count_and_strip(tmp_path):
    healthy = _item(())
    assert "artwork" not in item_caption(healthy) and "<img" not in item_tooltip(healthy, [])
    caption = item_caption(healthy, 2)
    assert caption.splitlines()[1].startswith("artwork ×2 · original")
    tip = item_tooltip(healthy, [("Cats & dogs", tmp_path / "a.jpg"), ("Segment 1", tmp_path / "b.jpg")])
    assert tip.count("<img") == 2 and "Cats &amp; dogs" in tip and "Artwork for 2 audience(s)" in tip
    assert (tmp_path / "a.jpg").as_uri() in tip
