"""Starting the personalisation job (thumbnails + clips for the selected audiences) shared by two tabs."""

from __future__ import annotations

from typing import Any

from generec_desktop.app.versions import ensure_results
from generec_desktop.app.widgets import FeatureTab, setting

JOB_KEY = "personalize"


def personalize_blocker(tab: FeatureTab) -> str:
    """Why personalisation cannot run now (empty string when it can)."""
    w = tab.window_
    if w.workspace is None:
        return "Open a workspace first (File ▸ Open Workspace…, or Ctrl+Shift+D for the demo)."
    if w.current_item_id is None:
        return "Select a video in the library on the left."
    if w.profiles is None:
        return ("No audiences yet: click <b>New audience from examples…</b> in the Audiences panel (pictures, "
                "videos or library items people like), or import interactions and click <b>Build profiles</b>.")
    if not w.selected_audiences():
        return "Select one or more audiences on the right (Ctrl-click to compare several)."
    return ""


def start_personalize(tab: FeatureTab) -> Any:
    """Compute thumbnails and clips of the current item for the selected audiences, in the background."""
    blocker = personalize_blocker(tab)
    if blocker:
        tab.window_.statusBar().showMessage(blocker.replace("<b>", "").replace("</b>", ""), 6000)
        return None
    w = tab.window_
    ws, item_id = w.workspace, w.current_item_id
    # ids, not Audience objects: the core then also resolves each audience's liked items (for "generated")
    audiences = list(w.selected_audiences())
    encoder = setting(w, "prefs/encoder", "builtin") or "builtin"
    if getattr(w.profiles, "encoder_id", None) and not str(w.profiles.encoder_id).startswith(encoder.split(":")[0]):
        encoder = "builtin"  # the profiles decide the space; a mismatched preference would fail the dot products
    results = ensure_results(w)
    shots = setting(w, "prefs/shots", "") or None  # Preferences ▸ Shot detection (None: $GENEREC_SHOTS / auto)

    root = str(ws.root)

    def job(progress: Any, cancel: Any) -> Any:
        # in a child process: the analysis (PyAV, the encoder, TransNetV2's PyTorch) would otherwise hold the
        # window's GIL for up to hundreds of ms at a time (app/process_jobs.py has the measurements)
        from generec_desktop.app import process_jobs
        from generec_desktop.editor.personalize.pipeline import personalize

        return process_jobs.run_in_process(personalize, root, item_id, audiences, encoder=encoder, shots=shots,
                                           progress=progress, cancel=cancel)

    def done(result: Any) -> None:
        results.set(item_id, result)

    # Both tabs share one key on the window so the same job cannot run twice from two tabs.
    return tab.submit(JOB_KEY, f"Personalise item #{item_id} for {len(audiences)} audience(s)", job, done,
                      "Personalisation failed")
