"""Thumbnails tab: a column per selected audience — original / random / personalised / generated, with scores."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from generec_desktop.app.commands import ArtworkCommand
from generec_desktop.app.tabs._personal import JOB_KEY, personalize_blocker, start_personalize
from generec_desktop.app.versions import ensure_results
from generec_desktop.app.widgets import PALETTE, FeatureTab, ImageCard, Notice, add_action

ROWS = (("original", "Original cover"), ("random", "Random frame"), ("selected", "Personalised"),
        ("generated", "Generated"))


def _thumb_for(result: Any, row: str) -> Any:
    if row == "selected":
        return result.thumbnail
    if row == "generated":
        return result.generated
    return (result.baselines or {}).get(row)


class ThumbnailsTab(FeatureTab):
    """Shows :func:`generec_desktop.editor.personalize.personalize`'s thumbnails side by side per audience."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.results = ensure_results(window)
        self.results.updated.connect(lambda item_id: self.show_results())
        self.compute_button = QPushButton("Compute thumbnails && clips")
        self.compute_button.setToolTip("Personalise the selected video for the selected audiences (Ctrl+T)")
        self.compute_button.clicked.connect(lambda: start_personalize(self))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.cancel(JOB_KEY))
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.compute_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.summary, 1)

        # what the video's choice was (one scene, scores within the noise, diversified): above the columns
        self.choice_notice = Notice()
        self.choice_notice.setObjectName("choiceNotice")

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setSpacing(6)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addLayout(top)
        layout.addWidget(self.choice_notice)
        layout.addWidget(scroll, 1)
        self.cards: dict[tuple[str, str], ImageCard] = {}
        self.use_buttons: dict[str, QPushButton] = {}
        self.use_generated_buttons: dict[str, QPushButton] = {}
        self.artwork_labels: dict[str, QLabel] = {}
        add_action(window, "&Actions", "Compute &Thumbnails && Clips", lambda: start_personalize(self), "Ctrl+T",
                   "Personalise the selected video for the selected audiences")
        self.refresh()

    def refresh(self) -> None:
        blocker = personalize_blocker(self)
        running = JOB_KEY in self.running
        if running:
            self.notice.set_text("Computing… (sampling frames, encoding, scoring every audience at once)")
        elif blocker:
            self.notice.set_text(blocker)
        elif self.results.get(self.window_.current_item_id) is None:
            self.notice.set_text("Ready: click <b>Compute thumbnails &amp; clips</b> (Ctrl+T).")
        else:
            self.notice.set_text("")
        self.compute_button.setEnabled(not blocker and not running)
        self.cancel_button.setEnabled(running)

    def on_item(self, item_id: int) -> None:
        self.show_results()

    def _clear_grid(self) -> None:
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w is not None:
                w.hide()  # deleted later: until then it would still paint under the new cards
                w.deleteLater()
        self.cards.clear()
        self.use_buttons.clear()
        self.use_generated_buttons.clear()
        self.artwork_labels.clear()

    def show_results(self) -> None:
        """Lay out one column per audience of the current item's last result."""
        self._clear_grid()
        result = self.results.get(self.window_.current_item_id)
        self.refresh()
        if result is None:
            self.summary.setText("")
            self.choice_notice.set_text("")
            return
        self.show_choice(result)
        for r, (_, title) in enumerate(ROWS):
            label = QLabel(f"<b>{title}</b>")
            label.setWordWrap(True)
            self.grid.addWidget(label, r + 1, 0)
        for c, aud in enumerate(result.audiences):
            colour = PALETTE[c % len(PALETTE)]
            head = QLabel(f"<b style='color:{colour}'>■</b> <b>{self.audience_label(aud.audience_id)}</b>")
            head.setWordWrap(True)
            self.grid.addWidget(head, 0, c + 1)
            best = max((t.score for row, _ in ROWS if (t := _thumb_for(aud, row)) is not None), default=None)
            for r, (row, _title) in enumerate(ROWS):
                card = ImageCard("")
                card.title.hide()
                thumb = _thumb_for(aud, row)
                if thumb is None or thumb.image is None:
                    why = {"generated": "no liked covers to learn from",
                           "original": "this video has no cover"}.get(row, "not computed")
                    card.set_image(None, "", placeholder=f"none — {why}")
                else:
                    at = f" at {thumb.timestamp:.2f} s" if thumb.timestamp is not None else ""
                    star = " ★" if best is not None and thumb.score >= best - 1e-9 else ""
                    card.set_image(thumb.image, f"score {thumb.score:.3f}{at}{star}")
                self.cards[(aud.audience_id, row)] = card
                self.grid.addWidget(card, r + 1, c + 1)
            use = QPushButton("Use personalised thumbnail")
            use.setToolTip("Store this frame, at the video's full resolution and watermarked, as the artwork this "
                           "audience sees for the video (replaces its earlier artwork; undoable)")
            use.clicked.connect(lambda _=False, a=aud: self.use_thumbnail(a))
            self.use_buttons[aud.audience_id] = use
            self.grid.addWidget(use, len(ROWS) + 1, c + 1)
            if aud.generated is not None and aud.generated.image is not None:
                gen = QPushButton("Use generated thumbnail")
                how = ("drawn by the local Stable Diffusion model" if aud.generated.method == "diffusion"
                       else "recoloured")
                gen.setToolTip(f"Store the generated ({how}) thumbnail, at full resolution and watermarked, as "
                               "this audience's artwork (undoable)")
                gen.clicked.connect(lambda _=False, a=aud: self.use_thumbnail(a, generated=True))
                self.use_generated_buttons[aud.audience_id] = gen
                self.grid.addWidget(gen, len(ROWS) + 2, c + 1)
            art = QLabel("")
            art.setObjectName("artworkStatus")
            art.setWordWrap(True)
            self.artwork_labels[aud.audience_id] = art
            self.grid.addWidget(art, len(ROWS) + 3, c + 1)
        for c in range(len(result.audiences) + 1):
            self.grid.setColumnStretch(c, 0 if c == 0 else 1)
        self.show_artwork()
        notes = [f"{len(result.audiences)} audience(s)", f"encoder {result.encoder_id}",
                 f"{len(result.sample_times)} frames sampled at {result.rate:g}/s",
                 f"{len(result.cut_times)} shot cut(s)"]
        if result.gates_relaxed:
            notes.append("no frame passed the quality gates, so all were candidates")
        if result.from_cache:
            notes.append("analysis from cache")
        self.summary.setText(" · ".join(notes) + " — ★ best score in the column")

    def show_choice(self, result: Any) -> None:
        """The thumbnail choice's verdict, as a visible notice above the columns (hidden when there is none)."""
        rep = getattr(result, "choice", None)
        if rep is None or not rep.message:
            self.choice_notice.set_text("")
            return
        text = rep.message[0].upper() + rep.message[1:] + "."
        self.choice_notice.set_text(text, "info" if rep.real_choice else "warn")

    def show_artwork(self) -> None:
        """Under each column: the artwork stored for that audience now (one cheap catalogue read)."""
        ws, item_id = self.ws, self.window_.current_item_id
        if ws is None or item_id is None or not self.artwork_labels:
            return
        from generec_desktop.fidelity.artwork import list_artwork

        rows = {r.audience_id: r for r in list_artwork(ws, item_id)}
        for aid, label in self.artwork_labels.items():
            r = rows.get(aid)
            if r is None:
                label.setText("<i>No artwork stored for this audience yet.</i>")
                continue
            what = "generated thumbnail" if r.generator != "personalize" else "personalised frame"
            at = f" at {r.source_time:.2f} s" if r.source_time is not None else ""
            label.setText(f"<b>✓ Artwork stored:</b> {what}{at}, {r.width}×{r.height} {r.format}, "
                          f"watermarked ({r.watermark_payload})")
            label.setToolTip(str(ws.root / r.path))

    def _artwork_changed(self) -> None:
        self.show_artwork()
        self.window_.refresh_library()

    def use_thumbnail(self, aud: Any, *, generated: bool = False) -> Any:
        """Store the audience's thumbnail as the item's artwork for it, in the background; undoable."""
        thumb = aud.generated if generated and aud.generated is not None else aud.thumbnail
        ws, item_id = self.ws, self.window_.current_item_id
        if thumb is None or thumb.image is None or ws is None or item_id is None:
            return None
        label = self.audience_label(aud.audience_id)
        result = self.results.get(item_id)
        encoder_id = getattr(result, "encoder_id", None)

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.versions import use_thumbnail

            return use_thumbnail(ws, item_id, aud.audience_id, thumb, label=label, encoder_id=encoder_id,
                                 progress=progress, cancel=cancel)

        def done(stored: Any) -> None:
            text = ("Use generated thumbnail" if generated else "Use personalised thumbnail") + f" for {label}"
            self.window_.undo_stack.push(ArtworkCommand(self.window_, text, stored.previous, stored.row,
                                                        on_change=self._artwork_changed))
            self._artwork_changed()
            self.window_.statusBar().showMessage(
                f"Artwork of item #{item_id} for {label} stored ({stored.row.width}×{stored.row.height}, "
                f"watermarked){'; it replaces the earlier one' if stored.previous else ''}", 6000)

        return self.submit(f"thumb:{aud.audience_id}", f"Store artwork for {label}", job, done,
                           "Artwork not stored")
