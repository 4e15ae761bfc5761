"""Style tab: presets gallery, an instruction box (plan + explanation shown before anything runs), before/after."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from generec_desktop.app.commands import AddVersionCommand
from generec_desktop.app.compare import ResultBar, announce
from generec_desktop.app.widgets import FeatureTab, ImageCard, add_action, pixmap_from

GALLERY_SIDE = 160  # the small frame the gallery previews are rendered from
BEFORE_AFTER_SIDE = 640


class StyleTab(FeatureTab):
    """Pick a style (or describe one), see it on a frame of the current video, then style the video."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.frame: Any = None  # the current item's middle frame (RGB), for previews
        self.frame_time = 0.0
        self._previews_for: int | None = None  # an item whose previews wait for the tab to be shown
        window.tabs.currentChanged.connect(self._tab_changed)
        self.plan: Any = None
        self._styles: list[Any] = []

        self.gallery = QListWidget()
        self.gallery.setObjectName("styleGallery")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(GALLERY_SIDE, GALLERY_SIDE * 9 // 16))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setSpacing(6)
        self.gallery.setWordWrap(True)
        self.gallery.setFixedHeight(GALLERY_SIDE * 9 // 16 + 58)
        self.gallery.setFlow(QListView.Flow.LeftToRight)
        self.gallery.setWrapping(False)
        self.gallery.currentItemChanged.connect(lambda *_: self._style_picked())

        self.instruction = QLineEdit()
        self.instruction.setPlaceholderText("Describe the edit, e.g. “make it look like a cartoon for teens, subtle”")
        self.instruction.returnPressed.connect(self.make_plan)
        self.plan_button = QPushButton("Plan")
        self.plan_button.setToolTip("Let the instructor read the instruction; nothing runs until you apply")
        self.plan_button.clicked.connect(self.make_plan)
        self.plan_label = QLabel("")
        self.plan_label.setObjectName("planLabel")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextFormat(Qt.TextFormat.RichText)
        self.plan_label.setStyleSheet("background:#f5f5f5; padding:6px; border-radius:4px;")
        self.plan_label.hide()

        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 100)
        self.strength.setValue(int(float(window.settings.value("style/strength", 100))))
        self.strength_label = QLabel()
        self.strength.valueChanged.connect(self._strength_changed)
        self.strength.sliderReleased.connect(self.update_after)
        self.face_aware = QCheckBox("Keep faces natural")
        self.face_aware.setToolTip("Detected faces keep most of their original look (identity and expressions)")
        self.face_aware.toggled.connect(lambda _: self.update_after())
        self.apply_button = QPushButton("Apply style to video")
        self.apply_button.setToolTip("Style the whole video into a pending version (Ctrl+Shift+S)")
        self.apply_button.clicked.connect(self.apply_style)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: self.cancel("style-video"))

        self.before = ImageCard("Before", min_height=220)
        self.after = ImageCard("After", min_height=220)
        ba = QHBoxLayout()
        ba.addWidget(self.before, 1)
        ba.addWidget(self.after, 1)

        inst_row = QHBoxLayout()
        inst_row.addWidget(QLabel("Instruction"))
        inst_row.addWidget(self.instruction, 1)
        inst_row.addWidget(self.plan_button)
        ctl = QHBoxLayout()
        ctl.addWidget(QLabel("Strength"))
        ctl.addWidget(self.strength, 1)
        ctl.addWidget(self.strength_label)
        ctl.addWidget(self.face_aware)
        ctl.addWidget(self.apply_button)
        ctl.addWidget(self.cancel_button)
        self.result_bar = ResultBar(window)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.result_bar)
        layout.addWidget(QLabel("<b>Presets</b> — previews on a frame of the selected video"))
        layout.addWidget(self.gallery)
        layout.addLayout(inst_row)
        layout.addWidget(self.plan_label)
        layout.addLayout(ctl)
        layout.addLayout(ba, 1)
        self._strength_changed(self.strength.value())
        self._fill_gallery()
        add_action(window, "&Actions", "Apply &Style to Video", self.apply_style, "Ctrl+Shift+S",
                   "Style the selected video into a pending version")
        self.refresh()

    # gallery ---------------------------------------------------------------------------------------
    def _fill_gallery(self) -> None:
        from generec_desktop.editor.styles.stylize import list_styles

        self._styles = list_styles()
        last = str(self.window_.settings.value("style/last", "toon"))
        for info in self._styles:
            entry = QListWidgetItem(info.title)
            entry.setData(Qt.ItemDataRole.UserRole, info.name)
            tip = info.description
            if info.needs_references:
                tip += "\nLearns its colours from the liked thumbnails of the first selected audience."
            entry.setToolTip(tip)
            entry.setSizeHint(QSize(GALLERY_SIDE + 12, GALLERY_SIDE * 9 // 16 + 40))
            self.gallery.addItem(entry)
            if info.name == last:
                self.gallery.setCurrentItem(entry)

    def reference_audience(self) -> str | None:
        """The audience whose liked thumbnails the personal grade learns from: the plan's, else the first selected."""
        if self.plan is not None and self.plan.audiences and self.plan.audiences[0] != "all":
            return str(self.plan.audiences[0])
        selected = self.window_.selected_audiences()
        return selected[0] if selected else None

    def reference_images(self, audience_id: str | None, limit: int = 12) -> list[Any]:
        """Covers of the items the audience liked (a segment's characteristic items, a user's likes, an
        example audience's examples)."""
        ws, profiles = self.ws, self.window_.profiles
        if ws is None or profiles is None or not audience_id:
            return []
        from generec_desktop.editor.personalize.pipeline import _liked_items, _reference_paths

        try:
            aud = profiles.audience(audience_id)
            item_ids = _liked_items(ws, aud, profiles)[:limit]
            files = _reference_paths(ws, aud)  # an example audience's own pictures
        except Exception:  # an unknown audience id: no references
            return []
        import cv2

        images = []
        for cover in [*(ws.cover_path(item_id) for item_id in item_ids), *files][:limit]:
            img = cv2.imread(str(cover)) if cover is not None else None
            if img is not None:
                images.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        return images

    def _needs_references(self, style: str | None) -> bool:
        return any(s.name == style and s.needs_references for s in getattr(self, "_styles", []))

    def current_style(self) -> str | None:
        entry = self.gallery.currentItem()
        return None if entry is None else entry.data(Qt.ItemDataRole.UserRole)

    def select_style(self, name: str) -> None:
        for i in range(self.gallery.count()):
            if self.gallery.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.gallery.setCurrentRow(i)
                return

    def _style_picked(self) -> None:
        name = self.current_style()
        if name:
            self.window_.settings.setValue("style/last", name)
        self.update_after()
        self.refresh()

    def _strength_changed(self, value: int) -> None:
        self.strength_label.setText(f"{value} %")
        self.window_.settings.setValue("style/strength", value)

    # state -----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        w = self.window_
        running = "style-video" in self.running
        if w.workspace is None:
            self.notice.set_text("Open a workspace first (Ctrl+O, or Ctrl+Shift+D for the demo).")
        elif w.current_item_id is None:
            self.notice.set_text("Select a video in the library to preview styles on it.")
        elif running:
            self.notice.set_text("Styling the video… the result appears as a pending version in Checks and Export.")
        else:
            self.notice.set_text("")
        ok = w.current_item_id is not None and self.current_style() is not None
        self.apply_button.setEnabled(ok and not running)
        self.cancel_button.setEnabled(running)
        self.plan_button.setEnabled("plan" not in self.running)

    def on_audiences(self, ids: list[str]) -> None:
        self.refresh()
        if self._needs_references(self.current_style()):
            self.update_after()  # the personal grade follows the selected audience

    def on_item(self, item_id: int) -> None:
        self.frame = None
        self.before.set_image(None, placeholder="Loading a frame…")
        self.after.set_image(None)
        # the previews (a decode and ten styles, OpenCV loaded for them) wait until the tab is shown: at start-up
        # they were the job most often running in the window's longest stall, for a tab nobody had opened yet
        self._previews_for = item_id
        if self.window_.tabs.currentWidget() is self:
            self._load_previews()

    def _tab_changed(self, _index: int) -> None:
        if self._previews_for is not None and self.window_.tabs.currentWidget() is self:
            self._load_previews()

    def _load_previews(self) -> None:
        item_id, self._previews_for = self._previews_for, None
        if item_id is None or item_id != self.window_.current_item_id or self.ws is None:
            return
        ws = self.ws
        path = ws.media_path(self.window_.item_record(item_id))

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop import media
            from generec_desktop.editor.styles.stylize import list_styles, stylize_image

            info = media.probe(path)
            t = info.duration * 0.4
            frame = media.sample_frames(path, timestamps=[t], max_side=BEFORE_AFTER_SIDE)[0]
            small = media.sample_frames(path, timestamps=[t], max_side=GALLERY_SIDE)[0].image
            thumbs = {}
            styles = [s for s in list_styles() if not s.needs_references]
            for k, s in enumerate(styles):
                progress(k / len(styles), f"Preview {s.title}")
                try:
                    thumbs[s.name] = stylize_image(small, s.name)
                except Exception:  # a broken user network must not hide the other previews
                    thumbs[s.name] = None
            return item_id, frame.timestamp, frame.image, thumbs

        self.submit(f"style-previews:{item_id}", "Style previews", job, self._previews_ready)

    def _previews_ready(self, result: Any) -> None:
        item_id, t, frame, thumbs = result
        if item_id != self.window_.current_item_id:
            return
        self.frame, self.frame_time = frame, t
        self.before.set_image(frame, f"original frame at {t:.2f} s")
        for i in range(self.gallery.count()):
            entry = self.gallery.item(i)
            img = thumbs.get(entry.data(Qt.ItemDataRole.UserRole))
            if img is not None:
                entry.setIcon(QIcon(pixmap_from(img)))
        self.update_after()

    def update_after(self) -> None:
        """Render the current style on the preview frame, in the background (latest request wins)."""
        style, frame = self.current_style(), self.frame
        if style is None or frame is None:
            return
        strength, faces = self.strength.value() / 100.0, self.face_aware.isChecked()
        audience = self.reference_audience() if self._needs_references(style) else None
        key = (style, strength, faces, audience)
        self._after_key = key
        if self._needs_references(style) and audience is None:
            self.after.set_image(None, placeholder="Select an audience: the personal grade learns from its likes.")
            return
        refs = self.reference_images(audience) if audience else None

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.editor.styles.stylize import stylize_image

            return key, stylize_image(frame, style, strength=strength, face_aware=faces, reference_images=refs)

        def done(result: Any) -> None:
            got_key, img = result
            if got_key == self._after_key:
                self.after.set_image(img, f"{got_key[0]} at {int(got_key[1] * 100)} %"
                                          + (", faces kept" if got_key[2] else "")
                                          + (f", learnt from {got_key[3]}" if got_key[3] else ""))

        self.window_.jobs.submit("Style preview", job, on_done=done,
                                 on_error=lambda m: self.after.set_image(None, placeholder=f"Cannot preview: {m}"))

    # instruction -----------------------------------------------------------------------------------
    def make_plan(self) -> Any:
        """Ask the instructor for a plan; show its decision and explanations before anything runs."""
        text = self.instruction.text().strip()
        if not text:
            self.window_.statusBar().showMessage("Type an instruction first", 4000)
            return None
        w = self.window_
        auds = []
        if w.profiles is not None:
            auds = [{"id": a.id, "label": a.label} for a in w.profiles.audiences(users=False)]
        default = w.selected_audiences()

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.instructor import make_plan

            return make_plan(text, audiences=auds, default_audiences=default)

        return self.submit("plan", "Plan the instruction", job, self._show_plan, "Cannot understand the instruction")

    def _show_plan(self, plan: Any) -> None:
        import html

        self.plan = plan
        params = plan.params or {}
        head = f"<b>Plan:</b> {html.escape(plan.operation)}"
        if plan.audiences:
            head += " for " + ", ".join(html.escape(self.audience_label(a)) for a in plan.audiences)
        if params:
            head += " — " + ", ".join(f"{html.escape(str(k))}={html.escape(str(v))}" for k, v in params.items())
        head += f" <i>(confidence {plan.confidence:.2f}, {html.escape(plan.matched_by)})</i>"
        lines = "".join(f"<li>{html.escape(e)}</li>" for e in plan.explanations)
        extra = ""
        if plan.operation == "style" and params.get("style"):
            self.select_style(str(params["style"]))
            if params.get("strength") is not None:
                self.strength.setValue(round(float(params["strength"]) * 100))
            self.face_aware.setChecked(bool(params.get("face_aware", self.face_aware.isChecked())))
            self.update_after()
            extra = "<br>The preset, strength and face option above now follow the plan; check the preview, then " \
                    "<b>Apply style to video</b>."
        elif plan.operation != "style":
            extra = f"<br>This is a <b>{html.escape(plan.operation)}</b> request: use the matching tab."
        self.plan_label.setText(f"{head}<ul style='margin:2px'>{lines}</ul>{extra}")
        self.plan_label.show()

    # apply -----------------------------------------------------------------------------------------
    def apply_style(self) -> Any:
        """Style the whole current video into a pending version (background, cancellable, undoable)."""
        style, ws, item_id = self.current_style(), self.ws, self.window_.current_item_id
        if style is None or ws is None or item_id is None:
            self.window_.statusBar().showMessage("Select a video and a style first", 4000)
            return None
        strength, faces = self.strength.value() / 100.0, self.face_aware.isChecked()
        plan = self.plan.to_dict() if self.plan is not None else None
        target = (self.plan.audiences[0] if self.plan is not None and self.plan.audiences
                  and self.plan.audiences[0] != "all" else None)
        refs = None
        if self._needs_references(style):
            audience = self.reference_audience()
            refs = self.reference_images(audience)
            if not refs:
                self.window_.show_error("Select an audience",
                                        "The personal grade learns its colours from an audience's liked thumbnails: "
                                        "select an audience with likes (Audiences panel), then apply again.")
                return None
            target = target or audience

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.versions import style_version

            return style_version(ws, item_id, style, strength=strength, face_aware=faces, reference_images=refs,
                                 target_profile=target, instruction=plan, progress=progress, cancel=cancel)

        def done(pv: Any) -> None:
            self.window_.undo_stack.push(AddVersionCommand(self.versions, pv, f"Apply {style} style"))
            announce(self, pv)

        return self.submit("style-video", f"Style #{item_id} ({style})", job, done, "Styling failed")
