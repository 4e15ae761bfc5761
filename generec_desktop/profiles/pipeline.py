"""Interactions to audiences in one job: import a file, build the profiles, train the recommender.

The window's Import Interactions dialog and ``generec profiles import --build`` both run
:func:`import_and_build`. Cancel leaves a consistent state, never a half-written one:

* during the import step: nothing is written (the import is one transaction);
* after it: the imported interactions stay (complete and valid; importing the file again skips
  them), and the profiles and the recommender are each either the complete set stored before the job
  or the complete set this job built (profiles are replaced in one transaction, the recommender is
  recorded only after its file is saved). :class:`ImportBuildCancelled` says which steps finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generec_desktop.jobs import Cancelled, CancelToken, Progress, Steps, check_cancel, report
from generec_desktop.profiles.interactions import DEFAULT_MAX_ROWS, InteractionImportReport, import_interactions
from generec_desktop.profiles.service import FRAMES_PER_ITEM, ProfileSet, build_profiles, train_recommender

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace
    from generec_desktop.profiles.interaction_files import ColumnMapping

STAGES = ("import", "profiles", "recommender")


@dataclass(frozen=True)
class ImportBuildResult:
    """The import's report, the profiles built (segments and users) and the recommender's metrics."""

    imported: InteractionImportReport
    profiles: ProfileSet
    recommender: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        rep, ps = self.imported, self.profiles
        return (f"Imported {rep.imported:,} interactions ({rep.new_users:,} new users) from {rep.path.name}; "
                f"{len(ps.segments)} audience segments of {len(ps.user_ids):,} users built and the recommender "
                f"trained ({self.seconds:.1f} s).")


class ImportBuildCancelled(Cancelled):
    """Cancelled part-way; ``imported`` is the import's report when that step had finished (else ``None``)
    and ``finished`` names the steps that completed (see the module docstring for what stays)."""

    def __init__(self, imported: InteractionImportReport | None, finished: tuple[str, ...]) -> None:
        if imported is None:
            message = "Cancelled by the user; nothing was imported."
        else:
            rebuilt = "the profiles were rebuilt but the recommender was not" if "profiles" in finished else \
                "the profiles and the recommender were not rebuilt"
            message = (f"Cancelled after importing {imported.imported:,} interactions from {imported.path.name}: "
                       f"they are kept, and {rebuilt}; Build profiles to finish.")
        super().__init__(message)
        self.imported = imported
        self.finished = finished


def import_and_build(
    ws: Workspace,
    path: Path | str,
    *,
    mapping: ColumnMapping | None = None,
    encoder: str | None = None,
    n_segments: int | None = None,
    basis: str = "items",
    seed: int = 0,
    dim: int = 64,
    epochs: int = 20,
    frames_per_item: int = FRAMES_PER_ITEM,
    threads: int | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> ImportBuildResult:
    """Import ``path`` (all or nothing, see :func:`import_interactions`), then build the profiles and train
    the recommender on every interaction of the workspace. Raises :class:`ImportBuildCancelled` on cancel."""
    start = time.perf_counter()
    steps = Steps(progress, {"import": 1, "profiles": 3, "recommender": 4})
    finished: list[str] = []
    imported: InteractionImportReport | None = None
    try:
        imported = import_interactions(ws, path, mapping=mapping, max_rows=max_rows, progress=steps["import"],
                                       cancel=cancel)
        finished.append("import")
        report(steps["import"], 1.0, f"Imported {imported.imported:,} interactions")
        check_cancel(cancel)
        profiles = build_profiles(ws, encoder=encoder, n_segments=n_segments, basis=basis, seed=seed,
                                  progress=steps["profiles"], cancel=cancel)
        finished.append("profiles")
        report(steps["profiles"], 1.0, f"Built {len(profiles.segments)} audience segments")
        check_cancel(cancel)
        train_kw: dict[str, Any] = {} if threads is None else {"threads": threads}
        model = train_recommender(ws, encoder=encoder, dim=dim, epochs=epochs, seed=seed,
                                  frames_per_item=frames_per_item, progress=steps["recommender"], cancel=cancel,
                                  **train_kw)
        finished.append("recommender")
    except ImportBuildCancelled:
        raise
    except Cancelled as exc:
        raise ImportBuildCancelled(imported, tuple(finished)) from exc
    report(progress, 1.0, "Audiences ready")
    metrics = {k: v for k, v in model.metrics.items() if k != "loss_history"}
    return ImportBuildResult(imported, profiles, metrics, round(time.perf_counter() - start, 3))
