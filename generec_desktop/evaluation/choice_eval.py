"""Does the noise-aware choice help? Per-audience thumbnails and clips, plain Eq. 1/2 vs ``diversity="auto"``.

For every video and a set of audiences (the workspace's segments), both policies choose a frame and a
clip per audience (:func:`generec_desktop.editor.personalize.thumbnails.choose_thumbnails`,
:func:`generec_desktop.editor.personalize.clips.choose_clips`); reported per policy:

* how often audiences got different frames: the mean share of audience pairs with different frames,
  with frames of different shots (what a person sees as a different picture) and with clips that do
  not overlap, and the shot coverage (distinct shots given out / the most there could be, min(audiences,
  shots));
* what it costs in the paper's terms: the mean loss of Eq. 1 (Eq. 2) score against each audience's
  own argmax (0 for the plain policy by definition);
* on the demo, what users see: the ground-truth hit rate over (segment member, video) pairs —
  whether the frame chosen for the member's segment shows a category the member really prefers (the
  judge of :mod:`.editor_eval`, applied to segment choices instead of per-user ones) — and for clips
  the share of the clip's samples that do;
* the verdicts (:class:`generec_desktop.editor.personalize.choice.ChoiceReport` kinds) and how many videos
  offered no real choice.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.jobs import CancelToken, Progress, check_cancel, report

if TYPE_CHECKING:
    from generec_desktop.corpus import Workspace

__all__ = ["ChoiceRow", "VideoChoice", "choice_rows", "evaluate_choice", "format_choice", "video_choices"]


@dataclass(frozen=True)
class VideoChoice:
    """Both policies' picks on one video: ``frames[mode]`` sample indices (A,), ``clips[mode]`` first
    samples (A,), and the reports."""

    name: str
    frames: dict[str, np.ndarray]
    clips: dict[str, np.ndarray]
    frame_reports: dict[str, Any]
    clip_reports: dict[str, Any]
    shot_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # shot of each sample
    window: int = 1  # L of the clips
    frame_hits: dict[str, list[float]] = field(default_factory=dict)  # ground truth: hit per pair, per mode
    clip_hits: dict[str, list[float]] = field(default_factory=dict)
    gt_pairs: int = 0
    hit_users: list[str] = field(default_factory=list)  # the member of each pair (for intervals over users)


@dataclass(frozen=True)
class ChoiceRow:
    """One policy over many videos (see the module docstring)."""

    mode: str
    videos: int
    audiences: int
    pairs_different: float  # mean share of audience pairs with different frames
    pairs_other_shot: float  # ... with frames of different shots
    shot_cover: float  # mean of distinct shots given out / min(audiences, shots)
    cost: float  # mean Eq. 1 score loss per audience
    clip_pairs_apart: float  # mean share of audience pairs whose clips do not overlap
    clip_cost: float
    no_choice: int  # videos the report calls one_frame / one_scene / within_noise
    kinds: dict[str, int]
    gt_hit: float | None = None
    clip_gt_hit: float | None = None
    gt_pairs: int = 0
    gt_better: int = 0  # pairs whose frame shows a preferred category now and did not under the first policy
    gt_worse: int = 0  # ... the other way round
    gt_ci: float | None = None  # half-width of the 95 % interval over users (thumbnails)
    clip_gt_ci: float | None = None


def _mode_name(mode: float | str | None) -> str:
    return "auto" if mode is None or mode == "auto" else ("plain" if float(mode) == 0 else f"tolerance {mode:g}")


def video_choices(analysis: Any, vectors: np.ndarray, *, modes: Sequence[float | str] = (0.0, "auto"),
                  clip_frames: int | None = None, name: str = "",
                  noise_floor: tuple[np.ndarray, int] | None = None, space: Any = None) -> VideoChoice:
    """Both policies' thumbnails and clips for ``vectors`` (A, d) on one :class:`VideoAnalysis`
    (``noise_floor``: :func:`generec_desktop.editor.personalize.noise_floor`, as ``personalize`` uses;
    ``space``: the :class:`~generec_desktop.profiles.space.SelectionSpace` ``vectors`` are in, None for raw)."""
    from generec_desktop.editor.personalize.clips import DEFAULT_CLIP_FRAMES, choose_clips
    from generec_desktop.editor.personalize.thumbnails import build_candidates, choose_thumbnails

    frames_sel = np.asarray(analysis.embeddings, np.float32)
    if space is not None:
        frames_sel = space.transform(frames_sel)
    scores = np.asarray(vectors, np.float32) @ frames_sel.T
    n = scores.shape[1]
    cand = build_candidates(n, analysis.cut_after, analysis.passed)
    L = int(clip_frames or DEFAULT_CLIP_FRAMES)
    frames, clips, frep, crep = {}, {}, {}, {}
    for mode in modes:
        m = _mode_name(mode)
        frames[m], _, frep[m] = choose_thumbnails(scores, cand, cut_after=analysis.cut_after,
                                                  frame_embeddings=analysis.embeddings, diversity=mode,
                                                  noise_floor=noise_floor)
        picks, crep[m] = choose_clips(scores, analysis.sample_times, analysis.frame_times, analysis.video_end,
                                      window=L, cut_after=analysis.cut_after, cuts=analysis.cut_times,
                                      cut_ends=analysis.cut_ends, sample_period=1.0 / analysis.rate,
                                      diversity=mode, embeddings=analysis.embeddings, noise_floor=noise_floor)
        clips[m] = np.array([c.first_sample for c in picks], np.int64)
    from generec_desktop.editor.personalize.choice import shot_ids

    return VideoChoice(name, frames, clips, frep, crep, shot_of=shot_ids(n, analysis.cut_after),
                       window=min(L, n))


def _pairs(chosen: np.ndarray, apart: int = 1) -> float:
    """Share of audience pairs whose positions are at least ``apart`` samples from each other."""
    a = len(chosen)
    if a < 2:
        return 0.0
    diff = np.abs(chosen[:, None] - chosen[None, :]) >= apart
    return float(diff[np.triu_indices(a, 1)].mean())


def choice_rows(videos: Sequence[VideoChoice]) -> list[ChoiceRow]:
    """Aggregate :func:`video_choices` results into one row per policy."""
    if not videos:
        return []
    rows = []
    first = next(iter(videos[0].frames))

    def changed(m: str, sign: int) -> int:
        return int(sum(np.sum(sign * (np.asarray(v.frame_hits.get(m, [])) - np.asarray(v.frame_hits.get(first, [])))
                              > 0) for v in videos))

    from generec_desktop.evaluation.editor_eval import pair_interval

    def per_user(m: str, clips: bool) -> float | None:
        users = [u for v in videos for u in v.hit_users]
        vals = [h for v in videos for h in (v.clip_hits if clips else v.frame_hits).get(m, [])]
        return pair_interval(users, vals)[1] if vals and len(vals) == len(users) else None

    for m in videos[0].frames:
        fr = [v.frame_reports[m] for v in videos]
        cr = [v.clip_reports[m] for v in videos]
        pairs = sum(v.gt_pairs for v in videos)
        rows.append(ChoiceRow(
            mode=m, videos=len(videos), audiences=int(np.mean([r.audiences for r in fr])),
            pairs_different=float(np.mean([_pairs(v.frames[m]) for v in videos])),
            pairs_other_shot=float(np.mean([_pairs(v.shot_of[v.frames[m]]) for v in videos])),
            shot_cover=float(np.mean([np.unique(v.shot_of[v.frames[m]]).size
                                      / min(len(v.frames[m]), int(v.shot_of.max()) + 1) for v in videos])),
            cost=float(np.mean([r.cost for r in fr])),
            clip_pairs_apart=float(np.mean([_pairs(v.clips[m], v.window) for v in videos])),
            clip_cost=float(np.mean([r.cost for r in cr])),
            no_choice=int(sum(not r.real_choice for r in fr)),
            kinds=dict(Counter(r.kind for r in fr)),
            gt_hit=(sum(sum(v.frame_hits.get(m, [])) for v in videos) / pairs) if pairs else None,
            clip_gt_hit=(sum(sum(v.clip_hits.get(m, [])) for v in videos) / pairs) if pairs else None,
            gt_pairs=pairs, gt_better=changed(m, 1), gt_worse=changed(m, -1),
            gt_ci=per_user(m, False), clip_gt_ci=per_user(m, True),
        ))
    return rows


def evaluate_choice(ws: Workspace, *, encoder: str = "builtin", rate: float | None = None,
                    clip_frames: int | None = None, modes: Sequence[float | str] = (0.0, "auto"),
                    ground_truth: Any = True, selection: str = "centred",
                    progress: Progress | None = None, cancel: CancelToken | None = None) -> list[ChoiceRow]:
    """Both policies on every video of ``ws`` for its segments, with the ground truth when there is one
    (``ground_truth`` as :func:`~generec_desktop.evaluation.editor_eval.evaluate_editor` takes it); segments
    scored as ``selection`` scores them (:mod:`generec_desktop.profiles.space`)."""
    from generec_desktop import profiles as prof
    from generec_desktop.editor.personalize.analysis import DEFAULT_RATE, analyze_video
    from generec_desktop.editor.personalize.clips import DEFAULT_CLIP_FRAMES
    from generec_desktop.encoders import get_encoder

    enc = get_encoder(encoder, workspace_root=ws.root)
    ps = prof.load_profiles(ws, encoder_id=enc.id)
    if len(ps.segments) < 2:
        return []
    from generec_desktop.editor.personalize.pipeline import SpaceEncoder
    from generec_desktop.evaluation.editor_eval import _ground_truth
    from generec_desktop.profiles.space import selection_vectors

    sel = selection_vectors(ws, ps, [s.audience_id for s in ps.segments], enc, method=selection, cancel=cancel)
    vectors = sel.vectors
    sel_enc = SpaceEncoder(enc, sel.space)
    L = int(clip_frames or DEFAULT_CLIP_FRAMES)
    gt, _ = _ground_truth(ws, ground_truth)
    members: dict[int, list[Any]] = {}
    liked: dict[int, set[str]] = {}  # item id -> external ids of the users who liked it
    if gt is not None:
        ext = {u.id: u.external_id for u in ws.users()}
        for u, seg in zip(ps.user_ids, ps.user_segment):
            g = gt.users.get(ext.get(int(u), ""))
            if g is not None and seg >= 0:
                members.setdefault(int(seg), []).append(g)
        for i in ws.interactions():
            if i.weight > 0:
                liked.setdefault(i.item_id, set()).add(ext.get(i.user_id, ""))
    items = [it for it in ws.items(kind="human") if (it.duration or 0) > 0]
    by_sha = {it.sha256: it.id for it in items}
    gt_items = {by_sha[v.sha256]: v for v in gt.items.values() if v.sha256 in by_sha} if gt is not None else {}
    out = []
    for k, it in enumerate(items):
        check_cancel(cancel)
        an = analyze_video(ws.media_path(it), enc, sha256=it.sha256, cache_dir=ws.cache_dir,
                           rate=float(rate or DEFAULT_RATE), keep_images=False, cancel=cancel)
        floor = _floor(an, ws.media_path(it), sel_enc, vectors, cancel)
        vc = video_choices(an, vectors, modes=modes, clip_frames=L, name=it.external_id or str(it.id),
                           noise_floor=floor, space=sel.space)
        gi = gt_items.get(it.id)
        if gi is not None:
            cats = np.array([gi.category_at(float(t)) or "" for t in an.sample_times])
            n_pairs = 0
            for seg_index, seg in enumerate(ps.segments):
                for g in members.get(seg.index, []):
                    if g.external_id in liked.get(it.id, set()):
                        continue  # the protocol's non-interacted items only
                    pref = set(g.preferred)
                    if not any(gi.category_shares.get(c, 0) > 0 for c in pref):
                        continue
                    good = np.isin(cats, list(pref)).astype(np.float64)
                    Lc = min(L, good.size)
                    win = np.convolve(good, np.ones(Lc) / Lc, mode="valid")
                    n_pairs += 1
                    vc.hit_users.append(g.external_id)
                    for m in vc.frames:
                        vc.frame_hits.setdefault(m, []).append(float(good[vc.frames[m][seg_index]]))
                        vc.clip_hits.setdefault(m, []).append(float(win[vc.clips[m][seg_index]]))
            vc = dataclasses.replace(vc, gt_pairs=n_pairs)
        out.append(vc)
        report(progress, (k + 1) / max(1, len(items)), f"Compared choices on {k + 1} of {len(items)} videos")
    return choice_rows(out)


def _floor(analysis: Any, path: Any, encoder: Any, vectors: np.ndarray,
           cancel: CancelToken | None) -> tuple[np.ndarray, int]:
    from generec_desktop.editor.personalize.pipeline import noise_floor
    from generec_desktop.editor.personalize.thumbnails import build_candidates

    cand = build_candidates(len(analysis.sample_times), analysis.cut_after, analysis.passed)
    return noise_floor(analysis, path, encoder, vectors, cand.index[cand.eligible], cancel=cancel)


def format_choice(rows: Sequence[ChoiceRow], title: str = "Per-segment choice: plain Eq. 1/2 vs noise-aware") -> str:
    """The rows as an aligned text table."""
    if not rows:
        return ""
    head = (f"{'Policy':<8}{'videos':>7}{'frame≠':>8}{'shot≠':>7}{'cover':>6}{'cost':>9}{'clips apart':>12}"
            f"{'clip cost':>10}{'no choice':>10}{'GT hit':>13}{'clip GT':>13}")
    lines = [title, head, "-" * len(head)]
    for r in rows:
        def cell(v: float | None, ci: float | None) -> str:
            return f"{'-':>13}" if v is None else f"{f'{v:.3f}' + (f'±{ci:.3f}' if ci is not None else ''):>13}"

        gt, cgt = cell(r.gt_hit, r.gt_ci), cell(r.clip_gt_hit, r.clip_gt_ci)
        lines.append(f"{r.mode:<8}{r.videos:7d}{r.pairs_different:8.3f}{r.pairs_other_shot:7.3f}"
                     f"{r.shot_cover:6.2f}{r.cost:9.5f}{r.clip_pairs_apart:12.3f}{r.clip_cost:10.5f}"
                     f"{r.no_choice:10d}{gt}{cgt}")
    kinds = "; ".join(f"{r.mode}: " + ", ".join(f"{k} {v}" for k, v in sorted(r.kinds.items())) for r in rows)
    lines.append("frame≠ / shot≠: audience pairs given different frames / frames of different shots; cover: "
                 "distinct shots given out / min(audiences, shots); cost: mean Eq. 1 (clip: Eq. 2) score lost")
    lines.append(f"Verdicts (thumbnails) — {kinds}")
    if rows[0].gt_pairs:
        lines.append(f"GT pairs (segment member, non-interacted video showing a preferred category): "
                     f"{rows[0].gt_pairs}; against {rows[0].mode}: " + ", ".join(
                         f"{r.mode} {r.gt_better} better / {r.gt_worse} worse" for r in rows[1:]))
    return "\n".join(lines)
