"""File ▸ Import Interactions…: who watched or liked what, from a CSV or Parquet file, into audiences.

The dialog previews the file's first rows, maps its columns (prefilled by the core's guess), runs the
validator in the background ("Check": line-numbered problems, nothing written) and only then allows
Import, which runs import + profiles + recommender as one background job with progress and Cancel
(``profiles.import_and_build``). Afterwards the window reloads its audience profiles.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from generec_desktop.app.widgets import Notice
from generec_desktop.app.worker import Job

FILE_FILTER = "Interaction files (*.csv *.tsv *.txt *.parquet *.pq);;All files (*)"
SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")
PREVIEW_ROWS = 20
MATCHES = (("external", "External id (the platform's video id)"),
           ("id", "Corpus id (the # shown in the library)"),
           ("filename", "File name it was imported from"),
           ("auto", "External id, else corpus id"))
NO_WEIGHT = "(none: every row counts 1)"
NO_TIME = "(none)"
_BAD_ROW = QColor("#ffebee")


class InteractionsDialog(QDialog):
    """Choose or drop a file, map its columns, Check, then Import && Build Audiences (one background job)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Import interactions")
        self.setObjectName("interactionsDialog")
        self.setAcceptDrops(True)
        self.resize(980, 720)
        self.path: Path | None = None
        self.preview: Any = None      # profiles.InteractionPreview
        self.check: Any = None        # profiles.InteractionCheck of the current file and mapping
        self.result: Any = None       # profiles.ImportBuildResult of the last import
        self.job: Job | None = None
        self.job_kind = ""
        self._cancel_info: dict[str, Any] = {}

        intro = QLabel("Import who watched or liked which video (a CSV or Parquet export from your platform) to "
                       "build audiences. Each row is one user and one item; a weight and a time are optional.")
        intro.setWordWrap(True)
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("Choose or drop a CSV or Parquet file…")
        self.choose_button = QPushButton("Choose File…")
        self.choose_button.clicked.connect(self._ask_file)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path_edit, 1)
        file_row.addWidget(self.choose_button)
        self.format_label = QLabel("")
        self.format_label.setObjectName("interactionsFormat")
        self.format_label.setWordWrap(True)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("interactionsPreview")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setMinimumHeight(200)
        self.table.setToolTip("The file's first rows; the numbers on the left are the file's line numbers")

        self.user_combo = QComboBox()
        self.item_combo = QComboBox()
        self.match_combo = QComboBox()
        for key, text in MATCHES:
            self.match_combo.addItem(text, key)
        self.weight_combo = QComboBox()
        self.time_combo = QComboBox()
        for combo in (self.user_combo, self.item_combo, self.match_combo, self.weight_combo, self.time_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._mapping_changed)
        item_row = QHBoxLayout()
        item_row.addWidget(self.item_combo)
        item_row.addWidget(QLabel("matched by"))
        item_row.addWidget(self.match_combo)
        item_row.addStretch(1)
        mapping_box = QGroupBox("Columns")
        form = QFormLayout(mapping_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("User", self.user_combo)
        form.addRow("Item", item_row)
        form.addRow("Weight", self.weight_combo)
        form.addRow("Time", self.time_combo)
        self.notes = QLabel("")
        self.notes.setObjectName("interactionsNotes")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #555;")
        form.addRow(self.notes)

        self.notice = Notice("")
        self.notice.setObjectName("interactionsNotice")
        self.errors = QTableWidget(0, 2)
        self.errors.setObjectName("interactionErrors")
        self.errors.setHorizontalHeaderLabels(["Line", "Problem"])
        self.errors.verticalHeader().setVisible(False)
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.errors.horizontalHeader().setStretchLastSection(True)
        self.errors.setMinimumHeight(120)
        self.errors.setVisible(False)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("interactionsStatus")
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Read the whole file and list every row with a problem; nothing is written")
        self.check_button.clicked.connect(self.run_check)
        self.import_button = QPushButton("Import && Build Audiences")
        self.import_button.setToolTip("Import the interactions, build audience profiles and train the recommender "
                                      "(one background job)")
        self.import_button.clicked.connect(self.run_import)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running step")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for b in (self.check_button, self.import_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(file_row)
        layout.addWidget(self.format_label)
        layout.addWidget(self.table, 2)
        layout.addWidget(mapping_box)
        layout.addWidget(self.notice)
        layout.addWidget(self.errors, 1)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

        jobs = window.jobs
        jobs.job_changed.connect(self._job_changed)
        jobs.job_finished.connect(self._job_finished)
        self._update_buttons()

    # File -------------------------------------------------------------------------------------------
    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an interactions file", "", FILE_FILTER)
        if path:
            self.open_file(Path(path))

    @staticmethod
    def _dropped(event: QDragEnterEvent | QDropEvent) -> list[str]:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [u.toLocalFile() for u in urls if u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in SUFFIXES]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped(event) and not self._busy():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped(event)
        if paths:
            event.acceptProposedAction()
            self.open_file(Path(paths[0]))

    def open_file(self, path: Path | str) -> None:
        """Show ``path``'s first rows and the guessed mapping (read in the background)."""
        if self._busy():
            return
        self.path = Path(path)
        self.preview = self.check = self.result = None
        self.path_edit.setText(str(self.path))
        self.format_label.setText("Reading…")
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self._fill_combos([], None)
        self._show_errors([], 0, "line")
        self.notice.set_text("")
        ws, target = self.window_.workspace, self.path

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles import preview_interactions

            return preview_interactions(target, PREVIEW_ROWS, ws=ws)

        self._submit("preview", f"Read {self.path.name}", job, self._preview_done, self._preview_failed)

    def _preview_done(self, preview: Any) -> None:
        if self.path is None or Path(preview.path) != self.path:
            return
        self.preview = preview
        total = f" · {preview.total_rows:,} rows" if preview.total_rows is not None else ""
        self.format_label.setText(f"{preview.description}{total} · showing the first {len(preview.rows)} rows")
        self.table.setColumnCount(len(preview.columns))
        self.table.setRowCount(len(preview.rows))
        self.table.setVerticalHeaderLabels([str(n) for n in preview.numbers])
        for r, row in enumerate(preview.rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self._fill_combos(preview.columns, preview.mapping)
        self.notes.setText("Guessed from the file: " + "; ".join(preview.notes) + "." if preview.notes else "")
        if preview.mapping is None:
            self.notice.set_text("This file has fewer than two columns; it needs one for users and one for items "
                                 "(is it separated by something other than , ; tab or |?).", "error")
        else:
            self.notice.set_text("Check the columns, then press <b>Check</b>: every row is read and any problem is "
                                 "listed with its line number before anything is imported.")
        self._mapping_changed()  # also labels the headers with their roles, so size the columns after it
        self.table.resizeColumnsToContents()
        for c in range(self.table.columnCount()):
            self.table.setColumnWidth(c, min(self.table.columnWidth(c) + 12, 320))

    def _preview_failed(self, message: str) -> None:
        self.format_label.setText("")
        self.notice.set_text(escape(message), "error")

    # Mapping ----------------------------------------------------------------------------------------
    def _fill_combos(self, columns: list[str], mapping: Any) -> None:
        combos = (self.user_combo, self.item_combo, self.match_combo, self.weight_combo, self.time_combo)
        for combo in combos:
            combo.blockSignals(True)
        for combo, none in ((self.user_combo, None), (self.item_combo, None), (self.weight_combo, NO_WEIGHT),
                            (self.time_combo, NO_TIME)):
            combo.clear()
            if none is not None:
                combo.addItem(none, None)
            for col in columns:
                combo.addItem(col, col)
        if mapping is not None:
            for combo, value in ((self.user_combo, mapping.user), (self.item_combo, mapping.item),
                                 (self.match_combo, mapping.item_match), (self.weight_combo, mapping.weight),
                                 (self.time_combo, mapping.timestamp)):
                index = combo.findData(value)
                combo.setCurrentIndex(max(0, index))
        for combo in combos:
            combo.blockSignals(False)

    def mapping(self) -> Any:
        """The ColumnMapping chosen in the combos, or ``None`` before a file is read."""
        from generec_desktop.profiles import ColumnMapping

        user, item = self.user_combo.currentData(), self.item_combo.currentData()
        if self.preview is None or user is None or item is None:
            return None
        return ColumnMapping(user=user, item=item, item_match=self.match_combo.currentData(),
                             weight=self.weight_combo.currentData(), timestamp=self.time_combo.currentData())

    def _mapping_changed(self, *_: Any) -> None:
        """A new mapping needs a new check before Import."""
        self.check = None
        self._label_columns()
        if self.preview is not None and self.job is None and self.result is None:
            self._show_errors([], 0, self.preview.unit)
            m = self.mapping()
            if m is not None and len(set(m.columns().values())) < len(m.columns()):
                self.notice.set_text("Each role needs its own column.", "warn")
        self._update_buttons()

    def _label_columns(self) -> None:
        if self.preview is None:
            return
        roles = {}
        m = self.mapping()
        if m is not None:
            roles = {col: role for role, col in m.columns().items()}
        for c, col in enumerate(self.preview.columns):
            role = roles.get(col)
            header = QTableWidgetItem(f"{col}\n→ {role}" if role else f"{col}\n(ignored)")
            if not role:
                header.setForeground(QBrush(QColor("#888")))
            self.table.setHorizontalHeaderItem(c, header)

    # Check ----------------------------------------------------------------------------------------
    def run_check(self) -> None:
        """Validate the whole file with the current mapping in the background; nothing is written."""
        mapping, ws, path = self.mapping(), self.window_.workspace, self.path
        if mapping is None or ws is None or path is None or self._busy():
            return

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles import validate_interactions

            return validate_interactions(ws, path, mapping, progress=progress, cancel=cancel)

        self.notice.set_text("Checking every row…")
        self._submit("check", f"Check {path.name}", job, self._check_done, self._check_failed)

    def _check_done(self, check: Any) -> None:
        if check.path != self.path or check.mapping != self.mapping():
            return  # another file or mapping was chosen since
        self.check = check
        self._show_errors(check.errors, check.bad_rows, check.unit)
        notes = "".join(f"<br>{escape(w)}" for w in check.warnings)
        if check.ok:
            self.notice.set_text(f"<b>{escape(check.summary())}</b>{notes}<br>Press <b>Import &amp; Build "
                                 "Audiences</b> to import them and build the audiences.", "info")
        else:
            self.notice.set_text(f"<b>{escape(check.summary())}</b> Fix the file (or the columns above) and check "
                                 f"again; nothing was written.{notes}", "error")
        self._update_buttons()

    def _check_failed(self, message: str) -> None:
        self.check = None
        self._show_errors([], 0, "line")
        self.notice.set_text(escape(message), "error")
        self._update_buttons()

    def _show_errors(self, errors: list[tuple[int, str]], total: int, unit: str) -> None:
        self.errors.setRowCount(0)
        self.errors.setHorizontalHeaderLabels(["Line" if unit == "line" else "Row", "Problem"])
        rows = list(errors)
        if total > len(rows):
            rows.append((-1, f"… and {total - len(rows):,} more rows with problems"))
        self.errors.setRowCount(len(rows))
        for r, (number, message) in enumerate(rows):
            self.errors.setItem(r, 0, QTableWidgetItem("" if number < 0 else str(number)))
            self.errors.setItem(r, 1, QTableWidgetItem(message))
        self.errors.setVisible(bool(rows))
        bad = {n for n, _ in errors}
        if self.preview is not None:
            for r, number in enumerate(self.preview.numbers):
                for c in range(self.table.columnCount()):
                    cell = self.table.item(r, c)
                    if cell is not None:
                        cell.setBackground(QBrush(_BAD_ROW) if number in bad else QBrush())

    def error_lines(self) -> list[str]:
        """The errors table as text rows (``"line 4: unknown item …"``), for tests and screen readers."""
        header = self.errors.horizontalHeaderItem(0)
        unit = header.text().lower() if header is not None else "line"
        out = []
        for r in range(self.errors.rowCount()):
            a, b = self.errors.item(r, 0), self.errors.item(r, 1)
            number = a.text() if a is not None else ""
            out.append(f"{unit} {number}: {b.text() if b else ''}" if number else (b.text() if b else ""))
        return out

    # Import -----------------------------------------------------------------------------------------
    def run_import(self) -> None:
        """Import + profiles + recommender as one background job (enabled only after a clean check)."""
        path = self.path
        if self.check is None or not self.check.ok or self._busy() or path is None:
            return
        ws, mapping = self.window_.workspace, self.check.mapping
        info = self._cancel_info = {}

        def job(progress: Any, cancel: Any) -> Any:
            from generec_desktop.profiles import ImportBuildCancelled, import_and_build

            try:
                return import_and_build(ws, path, mapping=mapping, progress=progress, cancel=cancel)
            except ImportBuildCancelled as exc:
                info["message"], info["imported"] = str(exc), exc.imported
                raise

        self.notice.set_text("Importing, then building audience profiles and training the recommender…")
        self._submit("import", f"Import interactions from {path.name}", job, self._import_done, self._import_failed)

    def _import_done(self, result: Any) -> None:
        self.result = result
        self.check = None
        self.notice.set_text(f"<b>Done.</b> {escape(result.summary())} The audiences are in the Audiences panel.",
                             "info")
        self.window_.load_profiles()
        self._update_buttons()

    def _import_failed(self, message: str) -> None:
        self.notice.set_text(escape(message), "error")
        self.window_.load_profiles()  # a later step may have failed after the import: show what is stored
        self._update_buttons()

    def _import_cancelled(self) -> None:
        message = self._cancel_info.get("message", "Cancelled by the user.")
        self.check = None
        self.notice.set_text(escape(message), "warn")
        self.window_.load_profiles()
        self._update_buttons()

    # Jobs -------------------------------------------------------------------------------------------
    def _busy(self) -> bool:
        return self.job is not None

    def _submit(self, kind: str, title: str, fn: Any, on_done: Any, on_error: Any) -> None:
        def done(result: Any) -> None:
            self.job, self.job_kind = None, ""
            self.progress.setVisible(False)
            self.status.setText("")
            on_done(result)
            self._update_buttons()

        def failed(message: str) -> None:
            self.job, self.job_kind = None, ""
            self.progress.setVisible(False)
            self.status.setText("")
            on_error(message)
            self._update_buttons()

        self.job_kind = kind
        self.progress.setValue(0)
        self.progress.setVisible(kind != "preview")
        self.status.setText("")
        self.job = self.window_.jobs.submit(title, fn, on_done=done, on_error=failed)
        self._update_buttons()

    def _job_changed(self, job: Job) -> None:
        if self.job is not None and job.job_id == self.job.job_id:
            self.progress.setValue(round(job.fraction * 1000))
            self.status.setText(job.message)

    def _job_finished(self, job: Job) -> None:
        if self.job is None or job.job_id != self.job.job_id or job.state != "cancelled":
            return
        kind = self.job_kind
        self.job, self.job_kind = None, ""
        self.progress.setVisible(False)
        self.status.setText("")
        if kind == "import":
            self._import_cancelled()
        else:
            self.notice.set_text("Cancelled; nothing was written.", "warn")
            if kind == "preview":
                self.format_label.setText("")
        self._update_buttons()

    def cancel(self) -> None:
        """Stop the running preview, check or import."""
        if self.job is not None:
            self.window_.jobs.cancel(self.job.job_id)
            self.status.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _update_buttons(self) -> None:
        busy = self._busy()
        ws = self.window_.workspace
        read_only = bool(getattr(ws, "read_only", False))
        m = self.mapping() if self.preview is not None else None
        distinct = m is not None and len(set(m.columns().values())) == len(m.columns())
        self.choose_button.setEnabled(not busy)
        self.check_button.setEnabled(not busy and ws is not None and distinct)
        self.import_button.setEnabled(not busy and not read_only and self.check is not None and self.check.ok)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        for combo in (self.user_combo, self.item_combo, self.match_combo, self.weight_combo, self.time_combo):
            combo.setEnabled(not busy and self.preview is not None)
        if read_only and self.check is not None and self.check.ok:
            self.status.setText("This workspace is read-only; nothing can be imported.")

    def reset_for_workspace(self) -> None:
        """Another workspace was opened: an earlier check says nothing about it."""
        if not self._busy():
            self.check = self.result = None
            if self.path is not None:
                self.open_file(self.path)
            self._update_buttons()

    def closeEvent(self, event: Any) -> None:
        if self.job_kind in ("preview", "check") and self.job is not None:
            self.window_.jobs.cancel(self.job.job_id)
        super().closeEvent(event)  # an import keeps running in the Jobs area; the window reloads after it


def offer_interaction_import(window: Any) -> QMessageBox:
    """Build profiles found no interactions: say what is needed and offer the dialog (non-blocking)."""
    message = ("This workspace has no interactions yet, so there are no audiences to build. Import a CSV or Parquet "
               "file of who watched or liked which video (File ▸ Import Interactions…).")
    window.last_error = message
    box = QMessageBox(QMessageBox.Icon.Information, "No interactions yet", message, QMessageBox.StandardButton.Cancel,
                      window)
    box.setObjectName("noInteractionsBox")
    button = box.addButton("Import Interactions…", QMessageBox.ButtonRole.AcceptRole)
    button.clicked.connect(lambda: window.show_interactions_dialog())
    box.setDefaultButton(button)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
