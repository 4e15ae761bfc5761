"""The main window: library (left), tabs (centre), jobs area (bottom); every long job in the background."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from generec_desktop import __version__
from generec_desktop.app import gc_guard
from generec_desktop.app.audiences import AudienceEditor, AudiencesPanel
from generec_desktop.app.jobs_panel import JobsPanel
from generec_desktop.app.library import LibraryPanel
from generec_desktop.app.preview import PreviewWidget
from generec_desktop.app.worker import JobManager

log = logging.getLogger(__name__)

# (module under generec_desktop/app/tabs, class, tab title), in tab order; a missing module is skipped.
FEATURE_TABS = (
    ("thumbnails", "ThumbnailsTab", "Thumbnails"),
    ("clips", "ClipsTab", "Clips"),
    ("style", "StyleTab", "Style"),
    ("revise", "ReviseTab", "Revise && Create"),
    ("checks", "ChecksTab", "Checks"),
    ("export", "ExportTab", "Export"),
)

QUIT_WAIT_MS = 800  # how long Quit waits for cancelled jobs to stop (the whole quit stays under 1 s)
RETIRE_RETRY_MS = 250  # how often a workspace the window left waits for its last worker thread before closing
RECENT_MAX = 8  # entries in File ▸ Recent Workspaces

VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.mkv *.webm *.avi);;All files (*)"


def _cover_image(path: Path | None, size: QSize) -> QImage | None:
    """A cover scaled to the library's icon size, read in a worker (QImage, unlike QPixmap, is thread-safe)."""
    if path is None or not Path(path).is_file():
        return None
    image = QImage(str(path))
    if image.isNull():
        return None
    return image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class PageTabs(QTabWidget):
    """The main tabs; each page sits in a scroll area, so no page's content (a row of thumbnail columns,
    a long label) can make the window grow: at the window's size a page too big for it scrolls.
    ``widget(i)``, ``currentWidget()`` and ``indexOf(page)`` speak of the pages themselves."""

    def addTab(self, page: QWidget, title: str) -> int:  # type: ignore[override]
        area = QScrollArea()
        area.setObjectName(f"page:{title}")
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(page)
        return super().addTab(area, title)

    def widget(self, index: int) -> QWidget | None:  # type: ignore[override]
        area = super().widget(index)
        return area.widget() if isinstance(area, QScrollArea) else area

    def currentWidget(self) -> QWidget | None:  # type: ignore[override]
        return self.widget(self.currentIndex())

    def indexOf(self, page: QWidget) -> int:  # type: ignore[override]
        return next((i for i in range(self.count()) if self.widget(i) is page), -1)


class MainWindow(QMainWindow):
    """GeneRec Desktop's window. Core objects (the workspace) are plain Python; Qt stays here.

    Tabs are QWidgets built with the window (``tab_class(window)``) that listen to its signals:
    ``workspace_opened(ws)``, ``item_changed(item_id)``, ``audiences_changed(ids)``,
    ``profiles_changed(profile_set | None)``, ``library_changed()``. They read ``window.workspace``,
    ``window.current_item_id``, ``window.selected_audiences()``, ``window.profiles``, run long work
    through ``window.jobs.submit`` and push edits on ``window.undo_stack``.
    """

    workspace_opened = Signal(object)
    item_changed = Signal(int)
    audiences_changed = Signal(list)
    profiles_changed = Signal(object)
    library_changed = Signal()

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("GeneRec Desktop")
        self.resize(1400, 860)
        self.settings = settings if settings is not None else QSettings()
        self.workspace: Any = None  # generec_desktop.corpus.Workspace
        self.profiles: Any = None  # generec_desktop.profiles.ProfileSet
        self.current_item_id: int | None = None
        self.last_error: str | None = None
        self.undo_stack = QUndoStack(self)
        # Background jobs run Python code that holds the GIL; a 1 ms switch interval (default 5 ms) lets the
        # GUI thread take it back sooner, so painting and input are not held up by a busy worker.
        sys.setswitchinterval(0.001)
        gc_guard.install()  # cycles (and the Qt objects in them) are collected on this thread, never a worker's
        self.jobs = JobManager(self)

        self.library = LibraryPanel()
        self.library.item_selected.connect(self.select_item)
        self.library.files_dropped.connect(self.import_files)
        lib_dock = QDockWidget("Library", self)
        lib_dock.setObjectName("libraryDock")
        lib_dock.setWidget(self.library)
        lib_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, lib_dock)
        self.library.setMinimumWidth(250)

        self.audiences = AudiencesPanel()
        self.audiences.audiences_changed.connect(self.audiences_changed)
        self.audiences.build_requested.connect(self.build_profiles)
        aud_dock = QDockWidget("Audiences", self)
        aud_dock.setObjectName("audiencesDock")
        aud_dock.setWidget(self.audiences)
        aud_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, aud_dock)
        self.audiences.setMinimumWidth(280)

        self.jobs_panel = JobsPanel(self.jobs)
        jobs_dock = QDockWidget("Jobs", self)
        jobs_dock.setObjectName("jobsDock")
        jobs_dock.setWidget(self.jobs_panel)
        jobs_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, jobs_dock)

        self.tabs = PageTabs()
        self.tabs.setObjectName("mainTabs")
        self.setCentralWidget(self.tabs)
        self.preview = PreviewWidget()
        self.item_info = QLabel("Open a workspace (File ▸ Open Workspace…) or the demo workspace (Ctrl+Shift+D).")
        self.item_info.setObjectName("itemInfo")
        self.item_info.setWordWrap(True)
        preview_page = QWidget()
        preview_layout = QVBoxLayout(preview_page)
        preview_layout.addWidget(self.preview, 1)
        preview_layout.addWidget(self.item_info)
        self.tabs.addTab(preview_page, "Preview")
        self._add_feature_tabs()
        self.audience_editor = AudienceEditor(self)
        self.last_message = ""  # the last status message the window gave about a job or an undo (for tests)
        self.jobs.job_finished.connect(self._job_finished)
        from generec_desktop.app.versions import ensure_versions

        ensure_versions(self).history_ended.connect(self._history_ended)

        self._build_menus()
        self.statusBar().showMessage("Ready")
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(geometry)
        self.fit_to_screen()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.fit_to_screen()  # again: the window frame's size is known once the window exists

    def fit_to_screen(self) -> None:
        """Never larger than the screen's free area (a 1920×1080 screen at QT_SCALE_FACTOR=1.5 is 1280×720
        logical pixels; a geometry saved on a bigger screen): the window, frame included, fits in it."""
        screen = self.screen()
        if screen is None:
            return
        free = screen.availableGeometry()
        frame_w = max(0, self.frameGeometry().width() - self.geometry().width())
        frame_h = max(0, self.frameGeometry().height() - self.geometry().height())
        width = min(self.width(), free.width() - frame_w)
        height = min(self.height(), free.height() - frame_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        if not free.contains(self.frameGeometry()):
            self.move(max(free.left(), min(self.x(), free.right() - self.frameGeometry().width())),
                      max(free.top(), min(self.y(), free.bottom() - self.frameGeometry().height())))

    # Menus and actions ------------------------------------------------------------------------------
    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.new_action = self._action("&New Workspace…", self._ask_new_workspace, QKeySequence.StandardKey.New)
        self.open_action = self._action("&Open Workspace…", self._ask_open_workspace, QKeySequence.StandardKey.Open)
        self.demo_action = self._action("Open &Demo Workspace", self.open_demo_workspace, "Ctrl+Shift+D",
                                        "Open the demo workspace built from real sample media")
        self.import_action = self._action("&Import Videos…", self._ask_import, "Ctrl+I",
                                          "Copy videos into the workspace (originals are never modified)")
        self.new_audience_action = self._action(
            "New &Audience from Examples…", lambda: self.audience_editor.new_from_examples(), "Ctrl+Shift+A",
            "People who like these: an audience from library items, images, videos or a folder")
        self.import_interactions_action = self._action(
            "Import I&nteractions…", self.show_interactions_dialog, None,
            "Import who watched or liked what (CSV/Parquet) and build audiences from it")
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        for a in (self.new_action, self.open_action, self.demo_action):
            file_menu.addAction(a)
        self.recent_menu = file_menu.addMenu("Recent &Workspaces")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        self.fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.new_audience_action)
        file_menu.addAction(self.import_interactions_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        self.models_action = self._action("&Models…", self.show_models,
                                          tip="Download an encoder that understands images and text, and switch to it")
        edit_menu.addAction(self.models_action)

        self.jobs_menu = self.menuBar().addMenu("&Jobs")
        self.jobs_menu.addAction(self._action("Cancel &All Jobs", self.jobs.cancel_all, "Ctrl+.",
                                              "Stop every running job"))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&About", self._about))

    def show_models(self) -> Any:
        """Preferences ▸ Models: the model manager (generec_desktop/app/models.py), non-modal."""
        from generec_desktop.app.models import ModelManagerDialog

        dialog = ModelManagerDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # Messages -------------------------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """A non-blocking error dialog (never a traceback); the text is kept for tests in ``last_error``."""
        self.last_error = message
        log.warning("%s: %s", title, message)
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def say(self, message: str, msecs: int = 6000) -> None:
        """A passing status-bar message (kept in ``last_message``)."""
        self.last_message = message
        self.statusBar().showMessage(message, msecs)

    def _job_finished(self, job: Any) -> None:
        # a cancel replaces whatever the job had put in the status bar ("Building the demo workspace…")
        if job.state == "cancelled":
            self.say(f"Cancelled: {job.title}. Nothing half-done was kept.", 4000)

    def _history_ended(self, version_id: str, item_id: int) -> None:
        self.say(f"Version {version_id} was exported as item #{item_id}: the export ends its undo history, so "
                 "that undo/redo changed nothing (the item stays in the corpus).", 10000)

    def _about(self) -> None:
        QMessageBox.about(self, "About GeneRec Desktop",
                          f"GeneRec Desktop {__version__}\nPersonalised thumbnails, clips, styles and AI revisions "
                          "of short videos per audience — checked, watermarked and exported with provenance.")

    # Workspace --------------------------------------------------------------------------------------
    def _ask_new_workspace(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose an empty folder for the new workspace")
        if path:
            self.request_open_workspace(Path(path), create=True)

    def _ask_open_workspace(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a workspace folder")
        if path:
            self.request_open_workspace(Path(path))

    def open_workspace(self, path: Path, *, create: bool = False) -> bool:
        """Open (or create) a workspace now, on the calling (GUI) thread; a bad folder gives a message and
        changes nothing. The menus and start-up use :meth:`request_open_workspace`, which does the slow part
        in a worker; this one is for scripts and tests that want the workspace open when it returns."""
        from generec_desktop.jobs import GenerecError
        from generec_desktop.versions import open_workspace

        try:
            ws = open_workspace(path, create=create)
        except (GenerecError, OSError, ValueError) as exc:
            self.show_error("Cannot open workspace", str(exc))
            return False
        self._workspace_ready(ws, Path(path))
        return True

    def request_open_workspace(self, path: Path, *, create: bool = False) -> Any:
        """Open (or create) a workspace in the background: the database, the recovery of crashed writes, the
        corpus code's imports, the items, cover pictures, artwork and pending versions, and the first video's
        frame times are read in a worker; then the window shows the workspace in a few short steps, each its
        own turn of the event loop (only cheap work on the GUI thread). Returns the job."""
        path = Path(path)
        icon_size = self.library.list.iconSize()

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.app.versions import read_pending, read_saved_reports
            from generec_desktop.versions import open_workspace

            ws = open_workspace(path, create=create)
            try:
                items = ws.items()
                covers = {it.id: _cover_image(self._safe_cover(it, ws), icon_size) for it in items}
                artwork = self._artwork_by_item(ws)
                pending = read_pending(ws)
                reports = read_saved_reports(ws, pending)
                first_times = None
                if items:  # the preview shows the first video at once: its frame times are read here
                    from generec_desktop import media

                    with contextlib.suppress(Exception):  # the preview says what is wrong with the file
                        first = ws.media_path(items[0])
                        first_times = (first, media.frame_times(first))
            except BaseException:
                ws.close()
                raise
            return ws, items, covers, artwork, pending, reports, first_times

        def done(result: Any) -> None:
            ws, items, covers, artwork, pending, reports, first_times = result
            if first_times is not None:
                from generec_desktop.app.frame_index import frame_times_cache

                frame_times_cache().put(*first_times)
            self._workspace_ready(ws, path, items=items, covers=covers, artwork=artwork, pending=pending,
                                  reports=reports, stepwise=True)

        self.say(f"Opening {path}…", 0)
        return self.jobs.submit(f"Open workspace {path.name}", job, on_done=done,
                                on_error=lambda m: self.show_error("Cannot open workspace", m))

    def _workspace_ready(self, ws: Any, path: Path, *, items: Any = None, covers: Any = None, artwork: Any = None,
                         pending: Any = None, reports: Any = None, stepwise: bool = False) -> None:
        """Show an opened workspace: library, tabs, audiences (loaded in the background), the first item.
        ``stepwise``: each of those is its own turn of the event loop (painting and input go on between them;
        the whole took up to 0.1–0.2 s on a busy machine as one block); else all of them now (open_workspace)."""
        previous, self.workspace = self.workspace, ws
        if previous is not None and previous is not ws:
            self._retire_workspace(previous)
        self.settings.setValue("workspace/last", str(Path(path).resolve()))
        self._remember_recent(Path(path))
        self.setWindowTitle(f"GeneRec Desktop — {Path(path).name}" + (" (read-only)" if ws.read_only else ""))
        self.refresh_library(items=items, covers=covers, artwork=artwork)
        if pending is not None:
            self.versions.prime(ws, pending, reports)
        steps = (lambda: self._show_opened_tabs(ws), lambda: self._show_opened_item(ws, Path(path)))
        if not stepwise:
            for step in steps:
                step()
            return

        def run(k: int = 0) -> None:
            if self.workspace is not ws:  # another workspace was opened meanwhile
                return
            steps[k]()
            if k + 1 < len(steps):
                QTimer.singleShot(0, lambda: run(k + 1))

        QTimer.singleShot(0, run)

    def _retire_workspace(self, ws: Any) -> None:
        """Close a workspace the window no longer shows, once no worker thread may still read it: its
        connections were left to the garbage collector before, whose late close (a WAL checkpoint that
        deletes ``generec.sqlite-wal``) could land while the user moved or deleted that folder."""
        if self.jobs.busy_threads():
            QTimer.singleShot(RETIRE_RETRY_MS, lambda: self._retire_workspace(ws))
            return
        with contextlib.suppress(Exception):  # a folder already gone: nothing left to checkpoint
            ws.close()

    def _show_opened_tabs(self, ws: Any) -> None:
        """Opening, step 2: the tabs and the versions model learn of the workspace; profiles start loading."""
        self.on_workspace_opened()

    def _show_opened_item(self, ws: Any, path: Path) -> None:
        """Opening, step 3: the first item is shown (or what to do in an empty workspace), and any files the
        catalogue does not know are reported."""
        if self.library.current_item_id() is None and self.library.item_ids():
            self.library.list.setCurrentRow(0)  # show something at once rather than an empty preview
        elif not self.library.item_ids():
            self.item_info.setText("This workspace is empty: import videos (Ctrl+I) or drop them on the library.")
        self.say(f"Opened workspace {path}" + (" (read-only)" if ws.read_only else ""), 5000)
        recovered = ws.last_recovery
        if recovered.quarantined or recovered.left:
            self.show_error("Files that the catalogue does not know", recovered.summary())

    def on_workspace_opened(self) -> None:
        """Tell the tabs, then load the audience profiles in the background."""
        self.profiles = None
        self.audiences.set_profiles(None)
        self.audiences.status.setText("Loading audience profiles…")
        self.workspace_opened.emit(self.workspace)
        self.load_profiles()

    def _add_feature_tabs(self) -> None:
        """The feature tabs (Thumbnails, Clips, Style, …), each from its own module under app/tabs/."""
        import importlib

        for module_name, class_name, title in FEATURE_TABS:
            module = importlib.import_module(f"generec_desktop.app.tabs.{module_name}")
            self.tabs.addTab(getattr(module, class_name)(self), title)

    def selected_audiences(self) -> list[str]:
        """The audience ids selected in the audiences panel (``"segment:0"``, ``"examples:1"``, ``"user:42"``…)."""
        return self.audiences.selected_ids()

    def load_profiles(self) -> None:
        ws = self.workspace
        if ws is None:
            return

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles import ProfilesError, load_profiles

            try:
                return load_profiles(ws)
            except ProfilesError:
                return None

        self.jobs.submit("Load audience profiles", job, on_done=self._set_profiles,
                         on_error=lambda m: self.show_error("Cannot load audience profiles", m))

    def _set_profiles(self, profiles: Any) -> None:
        self.profiles = profiles
        self.audiences.set_profiles(profiles)
        self.profiles_changed.emit(profiles)

    def build_profiles(self) -> None:
        """Build User_Hist profiles and segments and train the recommender, in the background."""
        ws = self.workspace
        if ws is None:
            self.show_error("No workspace", "Open a workspace first.")
            return

        # the encoder chosen in Preferences / Edit ▸ Models when there is one, else the workspace's own
        encoder = str(self.settings.value("prefs/encoder", "") or "").strip() or None

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.jobs import Steps
            from generec_desktop.profiles import NoInteractionsError, build_profiles, train_recommender

            steps = Steps(progress, {"profiles": 2, "recommender": 1})
            try:
                profiles = build_profiles(ws, encoder=encoder, progress=steps["profiles"], cancel=cancel)
            except NoInteractionsError:
                return None  # a new workspace: offer the Import Interactions dialog instead of an error
            train_recommender(ws, encoder=profiles.encoder_id, progress=steps["recommender"], cancel=cancel)
            return profiles

        def done(profiles: Any) -> None:
            if profiles is None:
                from generec_desktop.app.interactions_dialog import offer_interaction_import

                offer_interaction_import(self)
                return
            self._set_profiles(profiles)

        self.jobs.submit("Build audience profiles", job, on_done=done,
                         on_error=lambda m: self.show_error("Cannot build profiles", m))

    def show_interactions_dialog(self, path: Path | str | None = None) -> Any:
        """File ▸ Import Interactions…: the dialog (kept, so an import can finish while it is closed)."""
        if self.workspace is None:
            self.show_error("No workspace", "Open or create a workspace before importing interactions.")
            return None
        from generec_desktop.app.interactions_dialog import InteractionsDialog

        dialog = getattr(self, "interactions_dialog", None)
        if dialog is None:
            dialog = self.interactions_dialog = InteractionsDialog(self)
            self.workspace_opened.connect(lambda _ws: dialog.reset_for_workspace())
        dialog.show()
        dialog.raise_()
        if path is not None:
            dialog.open_file(Path(path))
        return dialog

    # Recent workspaces (kept in the user's settings, QSettings "workspace/recent", newest first) ----------
    def recent_workspaces(self) -> list[Path]:
        value = self.settings.value("workspace/recent") or []
        paths = [value] if isinstance(value, str) else list(value)
        return [Path(str(p)) for p in paths if str(p)][:RECENT_MAX]

    def _set_recent(self, paths: list[Path]) -> None:
        unique = list(dict.fromkeys(str(p) for p in paths))[:RECENT_MAX]
        self.settings.setValue("workspace/recent", unique)
        self.fill_recent_menu()

    def _remember_recent(self, path: Path) -> None:
        self._set_recent([path.resolve(), *self.recent_workspaces()])

    def forget_missing_recent(self) -> None:
        """File ▸ Recent Workspaces ▸ Remove Missing: drop the workspaces that are no longer on disk."""
        self._set_recent([p for p in self.recent_workspaces() if (p / "workspace.json").is_file()])

    def fill_recent_menu(self) -> None:
        """One entry per recent workspace; a folder that is gone (or no longer a workspace) is greyed out."""
        menu = self.recent_menu
        menu.clear()
        recent = self.recent_workspaces()
        missing = 0
        for path in recent:
            action = menu.addAction(path.name or str(path))
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            if (path / "workspace.json").is_file():
                action.triggered.connect(lambda _=False, p=path: self.request_open_workspace(p))
            else:
                missing += 1
                action.setText(f"{path.name or path} (not found)")
                action.setEnabled(False)
        if not recent:
            menu.addAction("No recent workspaces").setEnabled(False)
        menu.addSeparator()
        remove = menu.addAction("Remove Missing", self.forget_missing_recent)
        remove.setEnabled(missing > 0)
        clear = menu.addAction("Clear List", lambda: self._set_recent([]))
        clear.setEnabled(bool(recent))

    def restore_last_workspace(self) -> None:
        last = self.settings.value("workspace/last")
        if last and Path(str(last)).is_dir():
            self.request_open_workspace(Path(str(last)))

    def open_demo_workspace(self) -> None:
        """Open the demo workspace, building it first (in the background) when it does not exist."""
        from generec_desktop.config import demo_workspace_dir

        target = demo_workspace_dir()
        if (target / "workspace.json").exists():
            self.request_open_workspace(target)
            return

        def build(progress: Any, cancel: Any) -> Path:
            from generec_desktop.demo import build_demo_workspace

            build_demo_workspace(target, progress=progress, cancel=cancel)
            return target

        self.statusBar().showMessage("Building the demo workspace from real sample media…")
        self.jobs.submit("Build demo workspace", build,
                         on_done=lambda p: self.request_open_workspace(Path(p)),
                         on_error=lambda m: self.show_error("Demo workspace failed", m))

    def _safe_cover(self, item: Any, ws: Any = None) -> Path | None:
        """The item's cover, or None when the catalogue's path is refused (`generec workspace check` says why)."""
        from generec_desktop.corpus import CorpusError

        ws = ws if ws is not None else self.workspace
        try:
            return ws.cover_path(item) if ws is not None else None
        except CorpusError:
            return None

    def refresh_library(self, *, items: Any = None, covers: Any = None, artwork: Any = None) -> None:
        """Fill the library; ``items``/``covers``/``artwork`` when a worker read them already (covers: scaled
        QImages; artwork: :meth:`_artwork_by_item`)."""
        if self.workspace is None:
            return
        if items is None:
            items = self.workspace.items()
        if covers is None:
            covers = {it.id: self._safe_cover(it) for it in items}
        self.library.set_items(items, covers, artwork if artwork is not None else self._artwork_by_item())
        self.library_changed.emit()

    def _artwork_by_item(self, ws: Any = None) -> dict[int, list[tuple[str, Path]]]:
        """(audience label, file) of each item's stored artwork, for the library (one cheap read; ``ws``: the
        workspace a worker is opening, else the open one)."""
        from generec_desktop.fidelity.artwork import artwork_path, list_artwork
        from generec_desktop.jobs import GenerecError

        ws = ws if ws is not None else self.workspace
        out: dict[int, list[tuple[str, Path]]] = {}
        if ws is None:
            return out
        try:
            rows = list_artwork(ws)
        except GenerecError:
            return out
        for r in rows:
            try:
                path = artwork_path(ws, r)
            except GenerecError:
                continue
            out.setdefault(r.item_id, []).append((r.audience_label or r.audience_id, path))
        return out

    # Import ---------------------------------------------------------------------------------------
    def _ask_import(self) -> None:
        if self.workspace is None:
            self.show_error("No workspace", "Open or create a workspace before importing videos.")
            return
        paths, _ = QFileDialog.getOpenFileNames(self, "Import videos", "", VIDEO_FILTER)
        if paths:
            self.import_files(paths)

    def import_files(self, paths: list[str]) -> None:
        """Import in the background; bad files give one message each and leave the workspace as it was."""
        if self.workspace is None:
            self.show_error("No workspace", "Open or create a workspace before importing videos.")
            return
        ws = self.workspace

        def job(progress: Any, cancel: Any) -> Any:
            return ws.import_media([Path(p) for p in paths], progress=progress, cancel=cancel)

        def done(result: Any) -> None:
            self.refresh_library()
            if self.library.current_item_id() is None:
                first = [f.item.id for f in getattr(result, "files", []) if getattr(f, "item", None) is not None]
                if first:  # the first import into an empty workspace: show it, not "This workspace is empty"
                    self.library.select_item(first[0])
            errors = getattr(result, "errors", None) or []
            if errors:
                self.show_error("Some files were not imported", "\n".join(str(e) for e in errors))

        self.jobs.submit(f"Import {len(paths)} file(s)", job, on_done=done,
                         on_error=lambda m: self.show_error("Import failed", m))

    # Items and tabs ---------------------------------------------------------------------------------
    def item_record(self, item_id: int) -> Any:
        """The catalogue's record of an item: the library's copy (read when the library was filled, so no
        query on the GUI thread), else one read of the catalogue."""
        item = self.library.item(item_id)
        return item if item is not None else self.workspace.item(item_id)

    def select_item(self, item_id: int) -> None:
        self.current_item_id = item_id
        if self.workspace is not None:
            item = self.item_record(item_id)
            self.preview.set_video(self.workspace.media_path(item))
            self.item_info.setText(self.describe_item(item))
        self.on_item_selected(item_id)

    @staticmethod
    def describe_item(item: Any) -> str:
        parts = [f"<b>{item.title or item.original_name}</b> — #{item.id}, {item.kind.replace('_', '-')}",
                 f"{item.width}×{item.height}, {item.fps or 0:.2f} fps, {item.duration or 0:.2f} s, "
                 f"{item.frame_count} frames",
                 "audio" if item.has_audio else "no audio"]
        if item.owner:
            parts.append(f"owner {item.owner}")
        if item.licence:
            parts.append(f"licence {item.licence}")
        if item.parent_id:
            parts.append(f"from #{item.parent_id}")
        warnings = getattr(item, "warnings", ())
        if warnings:
            from html import escape

            parts.append(f"⚠ damaged file, read as far as it decodes: {escape('; '.join(warnings))}")
        return " · ".join(parts)

    def on_item_selected(self, item_id: int) -> None:
        self.item_changed.emit(item_id)

    def show_tab(self, name: str) -> None:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).replace("&", "").lower().startswith(name.lower()):
                self.tabs.setCurrentIndex(i)
                return

    def tab_widget(self, name: str) -> QWidget | None:
        for i in range(self.tabs.count()):
            if self.tabs.tabText(i).replace("&", "").lower() == name.lower():
                return self.tabs.widget(i)
        return None

    def when_painted(self, fn: Any, *, fallback_ms: int = 1000) -> None:
        """Run ``fn`` once on the GUI thread right after the window's first paint (so a user sees the window
        before anything loads), or after ``fallback_ms`` if no paint comes (a hidden or minimised window)."""
        done = [False]

        def run() -> None:
            if not done[0]:
                done[0] = True
                self.removeEventFilter(watcher)
                fn()

        class _Watcher(QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() == QEvent.Type.Paint:
                    QTimer.singleShot(0, run)
                return False

        watcher = _Watcher(self)
        self.installEventFilter(watcher)
        QTimer.singleShot(fallback_ms, run)

    # Screenshots ------------------------------------------------------------------------------------
    def screenshot_when_ready(self, path: Path, *, quit_after: bool = False, settle_ms: int = 600) -> None:
        """Save a PNG of the window once no job runs (for the README and docs)."""

        def poll() -> None:
            if self.jobs.running():
                QTimer.singleShot(200, poll)
                return
            QTimer.singleShot(settle_ms, shoot)

        def shoot() -> None:
            self.grab().save(str(path))
            log.info("screenshot saved to %s", path)
            if quit_after:
                QApplication.quit()

        QTimer.singleShot(300, poll)

    # Shutdown ---------------------------------------------------------------------------------------
    def closeEvent(self, event: Any) -> None:
        """Quit: cancel every job and join the worker threads, waiting at most QUIT_WAIT_MS (jobs check their
        cancel token between units of work). A job that ignores its token is named in the log; main() then
        ends the process anyway (its writes are journaled: the next open finishes or removes them)."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.sync()
        self.hide()  # the user sees the quit at once
        self.jobs.cancel_all()
        if "generec_desktop.app.process_jobs" in sys.modules:  # jobs in child processes end at once
            sys.modules["generec_desktop.app.process_jobs"].shutdown()
        if not self.jobs.wait(QUIT_WAIT_MS):
            log.warning("quitting while these jobs still run: %s", ", ".join(j.title for j in self.jobs.running()))
        elif self.workspace is not None:  # no thread reads it any more: checkpoint and release the database
            with contextlib.suppress(Exception):
                self.workspace.close()
        self.preview.close_source()
        super().closeEvent(event)
