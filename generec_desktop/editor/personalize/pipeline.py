"""``personalize``: per-audience thumbnails (Eq. 1) and clips (Eq. 2) of one item, in one pass.

The GUI calls :func:`personalize` in a worker thread and shows one column per audience; everything
it needs is in the returned :class:`PersonalizeResult` (images as arrays, times, scores).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generec_desktop.editor.personalize.analysis import DEFAULT_RATE, analyze_video
from generec_desktop.editor.personalize.choice import ChoiceReport, score_noise
from generec_desktop.editor.personalize.clips import DEFAULT_CLIP_FRAMES, ClipRange, choose_clips
from generec_desktop.editor.personalize.errors import EditorError
from generec_desktop.editor.personalize.quality import QualityGates
from generec_desktop.editor.personalize.thumbnails import build_candidates, choose_thumbnails, score_matrix
from generec_desktop.jobs import CancelToken, Progress, Steps, check_cancel, report, sub_progress

if TYPE_CHECKING:
    from generec_desktop.corpus import ItemInfo, Workspace

__all__ = [
    "AudienceResult",
    "ChoiceReport",
    "PersonalizeResult",
    "Target",
    "Thumbnail",
    "ThumbnailCandidate",
    "noise_floor",
    "personalize",
    "resolve_item",
    "resolve_targets",
]


@dataclass(frozen=True)
class Target:
    """An audience to personalise for: its id, label, Eq. 1 vector ``t*`` and liked items (for palettes);
    ``reference_paths`` are further pictures it likes (an example audience's image and video examples)."""

    id: str
    vector: np.ndarray
    label: str = ""
    liked_item_ids: tuple[int, ...] = ()
    reference_paths: tuple[Path, ...] = ()


@dataclass(frozen=True)
class ThumbnailCandidate:
    """One ranked candidate frame for an audience."""

    sample: int
    timestamp: float
    score: float
    source: str  # "shot" (first good frame after a cut) or "regular"


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail image (uint8 RGB) with the time it was taken at (None for a cover or generated one)
    and its Eq. 1 score ``t*·f(image)`` for the audience."""

    image: np.ndarray | None
    score: float
    timestamp: float | None = None
    kind: str = "selected"  # selected | original | random | generated
    variants: dict[str, np.ndarray] = field(default_factory=dict)  # aspect -> reframed image
    #: how a generated thumbnail was made: "palette" (:mod:`.thumbgen`) or "diffusion" (:mod:`.diffusion_thumbs`)
    method: str = ""


@dataclass(frozen=True)
class AudienceResult:
    """Everything chosen for one audience."""

    audience_id: str
    label: str
    candidates: tuple[ThumbnailCandidate, ...] = ()
    thumbnail: Thumbnail | None = None
    baselines: dict[str, Thumbnail] = field(default_factory=dict)  # "original", "random"
    generated: Thumbnail | None = None
    clip: ClipRange | None = None
    #: likes (a user), examples (an example audience) or members (a segment) the vector rests on, and
    #: whether that is too few to trust (then it was shrunk toward its segment; :mod:`profiles.space`)
    support: int = 0
    thin: bool = False


@dataclass
class PersonalizeResult:
    """The per-audience results and the shared data behind them (one analysis, one score matrix)."""

    item_id: int | None
    video: Path
    encoder_id: str
    rate: float
    sample_times: np.ndarray
    scores: np.ndarray  # (audiences, samples): t*_a · f(v_i)
    cut_times: np.ndarray  # where clips snap: a cut's first frame, a gradual transition's middle
    failed: tuple[str, ...]
    audiences: list[AudienceResult]
    gates_relaxed: bool = False
    from_cache: bool = False
    #: (K, 2) start/end time of each transition (equal for a hard cut) and the detector that found them
    cut_spans: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    shot_detector: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    #: whether the video offered these audiences a real choice of thumbnail / clip, and why not
    #: (:mod:`generec_desktop.editor.personalize.choice`); None when that part was not computed
    choice: ChoiceReport | None = None
    clip_choice: ChoiceReport | None = None
    #: how frames were scored: "centred" (default), "projected" or "eq1" (the paper's Eq. 1/2)
    selection: str = "centred"

    def notices(self) -> list[str]:
        """The sentences a person should read before the columns (no real choice, or diversified, or an
        audience too thin to trust)."""
        out = []
        thin = [a.label or a.audience_id for a in self.audiences if a.thin]
        if thin:
            out.append(f"Too few likes or examples to trust ({', '.join(thin[:5])}"
                       + (f" and {len(thin) - 5} more" if len(thin) > 5 else "")
                       + "): 3 or fewer say little about a taste (those in a segment lean on it); add likes "
                         "or examples.")
        for rep in (self.choice, self.clip_choice):
            if rep is not None and rep.message and rep.message not in out:
                out.append(rep.message)
        return out


def resolve_item(ws: Workspace, item: ItemInfo | int | str) -> ItemInfo:
    """An item by ItemInfo, numeric id or external id (e.g. "demo-007")."""
    if not isinstance(item, int | str):
        return item
    if isinstance(item, int) or str(item).isdigit():
        try:
            return ws.item(int(item))
        except Exception as exc:  # the corpus raises its own error type
            raise EditorError(f"There is no item {item} in this workspace; list them with `generec items`.") from exc
    for it in ws.items():
        if it.external_id == item:
            return it
    raise EditorError(f"There is no item {item!r} in this workspace; list them with `generec items`.")


def _liked_items(ws: Workspace, audience: Any, profiles: Any) -> tuple[int, ...]:
    """Items the audience likes: a user's likes, a segment's characteristic items, an example audience's
    example items."""
    kind = getattr(audience, "kind", None)
    if kind == "user" and audience.user_id is not None:
        return tuple(sorted({i.item_id for i in ws.interactions(user_id=audience.user_id) if i.weight > 0}))
    if kind in ("segment", "examples"):
        return tuple(getattr(audience, "item_ids", ()) or ())
    return ()


def _reference_paths(ws: Workspace, audience: Any) -> tuple[Path, ...]:
    """Pictures of an example audience's file examples (its image and video examples' small covers)."""
    if getattr(audience, "kind", None) != "examples" or getattr(audience, "examples_id", None) is None:
        return ()
    from generec_desktop.profiles.errors import ProfilesError
    from generec_desktop.profiles.examples import example_cover_paths, get_audience

    try:
        aud = get_audience(ws, int(audience.examples_id))
    except ProfilesError:
        return ()
    return tuple(example_cover_paths(ws, aud, limit=12, files_only=True))


def resolve_targets(ws: Workspace | None, audiences: Sequence[Any], encoder_id: str) -> list[Target]:
    """Audience ids ("user:3", "segment:1", "examples:2") or names ("Segment 2", "Cyclists"),
    ``profiles.Audience`` objects, :class:`Target` s or ``(id, vector)`` pairs -> targets in
    ``encoder_id``'s space."""
    out: list[Target] = []
    profiles = None
    for a in audiences:
        if isinstance(a, Target):
            out.append(a)
            continue
        if isinstance(a, tuple) and len(a) == 2:
            out.append(Target(str(a[0]), np.asarray(a[1], np.float32), str(a[0])))
            continue
        if isinstance(a, str):
            if ws is None:
                raise EditorError(f"Audience {a!r} needs a workspace with profiles.")
            if profiles is None:
                from generec_desktop.profiles import load_profiles

                profiles = load_profiles(ws, encoder_id=encoder_id)
            a = profiles.resolve(a)
        if hasattr(a, "vector") and hasattr(a, "id"):
            liked = _liked_items(ws, a, profiles) if ws is not None else ()
            refs = _reference_paths(ws, a) if ws is not None else ()
            label = getattr(a, "title", None) or getattr(a, "label", a.id)
            out.append(Target(a.id, np.asarray(a.vector, np.float32), label, liked, refs))
            continue
        raise EditorError(f"Cannot use {a!r} as an audience; give an id like 'segment:0' or 'user:12', or a name "
                          "like 'Segment 1'.")
    if not out:
        raise EditorError("Give at least one audience (e.g. --profiles segment:0,segment:1).")
    return out


def sample_pictures(analysis: Any, path: Path, indices: Sequence[int], *,
                    cancel: CancelToken | None = None) -> dict[int, np.ndarray]:
    """The analysis's sample pictures by index: from memory or its cache, else decoded (only those)."""
    need = sorted({int(i) for i in indices})
    picture = analysis.pictures(need)
    if picture is None:  # cached without pictures: decode only the frames we need
        from generec_desktop import media
        from generec_desktop.editor.personalize.analysis import SAMPLE_MAX_SIDE

        got = media.sample_frames(path, timestamps=[float(analysis.sample_times[i]) for i in need],
                                  max_side=SAMPLE_MAX_SIDE, cancel=cancel)
        picture = {i: f.image for i, f in zip(need, got)}
    return picture


#: candidate frames copied for :func:`noise_floor` (spread over the video)
NOISE_FLOOR_FRAMES = 4


def noise_floor(analysis: Any, path: Path, encoder: Any, vectors: np.ndarray, eligible: np.ndarray, *,
                cancel: CancelToken | None = None) -> tuple[np.ndarray, int]:
    """:func:`generec_desktop.editor.personalize.choice.perturbation_noise` of a few eligible frames spread over the
    video: a floor under the score noise measured on its frames (``(noise (A,), copies)``).

    The copies' embeddings are kept beside a cached analysis (``-floor.npz``): they depend only on the video and
    the encoder, and with a CLIP-sized encoder their 16 encodes were most of a repeated personalisation (1.2 of
    1.5 s for 1,000 audiences). A :class:`SpaceEncoder`'s space is applied after the cache."""
    from generec_desktop.editor.personalize.choice import noise_of_copies, perturbation_embeddings

    el = np.asarray(eligible, np.int64)
    if el.size == 0:
        return np.zeros(len(vectors)), 0
    idx = sorted({int(el[k]) for k in np.linspace(0, el.size - 1, min(NOISE_FLOOR_FRAMES, el.size)).astype(int)})
    inner, space = (encoder.inner, encoder.space) if isinstance(encoder, SpaceEncoder) else (encoder, None)
    key = str(getattr(inner, "cache_id", getattr(inner, "id", "")))
    store = _floor_path(analysis)
    kept = _load_floor(store, idx, key) if store is not None and key else None
    if kept is None:
        pics = sample_pictures(analysis, path, idx, cancel=cancel)
        images = [pics[i] for i in idx if i in pics]
        if not images:
            return np.zeros(len(vectors)), 0
        raw, counts = perturbation_embeddings(lambda ims: inner.encode_images(ims), images)
        if store is not None and key and len(images) == len(idx):
            _save_floor(store, idx, key, raw, counts)
    else:
        raw, counts = kept
    return noise_of_copies(space.transform(raw) if space is not None else raw, counts, vectors)


def _floor_path(analysis: Any) -> Path | None:
    cache = getattr(analysis, "cache_path", None)
    return None if cache is None else Path(cache).with_name(Path(cache).stem + "-floor.npz")


def _load_floor(store: Path, idx: list[int], key: str) -> tuple[np.ndarray, list[int]] | None:
    """The kept copies' embeddings when they are of these samples and this encoder (else None: recomputed)."""
    try:
        with np.load(store, allow_pickle=False) as z:
            if str(z["encoder"]) != key or z["samples"].tolist() != idx:
                return None
            counts = [int(c) for c in z["counts"]]
            raw = np.asarray(z["embeddings"])
    except (OSError, KeyError, ValueError, EOFError):
        return None
    return (raw, counts) if raw.ndim == 2 and raw.shape[0] == len(counts) + sum(counts) else None


def _save_floor(store: Path, idx: list[int], key: str, raw: np.ndarray, counts: list[int]) -> None:
    from generec_desktop.editor.personalize.analysis import _write_npz

    # a cache: a full disk or a read-only workspace only costs the next run the encodes
    with contextlib.suppress(OSError):
        _write_npz(store, encoder=np.array(key), samples=np.array(idx, np.int64), counts=np.array(counts, np.int64),
                   embeddings=np.asarray(raw, np.float32))


def _cover_image(ws: Workspace, item: ItemInfo) -> np.ndarray | None:
    from generec_desktop import media

    cover = ws.cover_path(item)
    if cover is not None and cover.exists():
        from PIL import Image

        with Image.open(cover) as im:
            return np.asarray(im.convert("RGB"))
    pic = media.read_cover(ws.media_path(item))
    return pic


def _liked_palettes(ws: Workspace, targets: Sequence[Target]) -> dict[str, Any]:
    """Each target's palette (Lab stats of its liked items' covers); covers are read once."""
    from PIL import Image

    from generec_desktop.editor.personalize.thumbgen import PaletteStats, palette_stats

    per_item: dict[int, PaletteStats] = {}
    out: dict[str, Any] = {}
    for t in targets:
        stats = []
        for ref in t.reference_paths:  # an example audience's own pictures
            try:
                with Image.open(ref) as im:
                    stats.append(palette_stats([np.asarray(im.convert("RGB"))]))
            except OSError:
                continue
        for iid in t.liked_item_ids:
            if iid not in per_item:
                try:
                    cover = ws.cover_path(ws.item(iid))
                except Exception:
                    cover = None
                if cover is None or not cover.exists():
                    continue
                with Image.open(cover) as im:
                    per_item[iid] = palette_stats([np.asarray(im.convert("RGB"))])
            stats.append(per_item[iid])
        if stats:
            m = np.mean([s.mean for s in stats], axis=0)
            var = np.mean([s.std ** 2 + s.mean ** 2 for s in stats], axis=0) - m ** 2
            out[t.id] = PaletteStats(m.astype(np.float32), np.sqrt(np.maximum(var, 1e-6)).astype(np.float32),
                                     len(stats))
    return out


#: liked pictures the diffusion model's IP-Adapter condition is the mean of (an audience's first ones)
DIFFUSION_LIKED_IMAGES = 8
#: generated thumbnails: the ways :func:`personalize` can make them
GENERATORS = ("auto", "palette", "diffusion")


def _liked_pictures(ws: Workspace, target: Target, limit: int = DIFFUSION_LIKED_IMAGES) -> list[np.ndarray]:
    """Up to ``limit`` pictures the target likes: its own reference pictures, then its liked items' covers."""
    from PIL import Image

    out: list[np.ndarray] = []
    paths: list[Path] = list(target.reference_paths)
    for iid in target.liked_item_ids:
        if len(paths) >= 4 * limit:
            break
        try:
            cover = ws.cover_path(ws.item(iid))
        except Exception:
            cover = None
        if cover is not None:
            paths.append(cover)
    for path in paths:
        if len(out) >= limit:
            break
        try:
            with Image.open(path) as im:
                out.append(np.array(im.convert("RGB")))  # writable: torch reads it
        except OSError:
            continue
    return out


def _diffusion_weights(ws: Workspace, generator: str) -> Any:
    """The local Stable Diffusion + IP-Adapter weights to generate with, or None for the palette transfer."""
    if generator not in GENERATORS:
        raise EditorError(f"Unknown generator {generator!r}; use one of {', '.join(GENERATORS)}.")
    if generator == "palette":
        return None
    from generec_desktop.editor.personalize.diffusion_thumbs import find_diffusion_weights

    weights = find_diffusion_weights(ws.root)
    if weights is not None and weights.usable:
        return weights
    if generator == "diffusion":
        from generec_desktop.encoders.discovery import search_dirs

        where = " or ".join(str(d) for _, d in search_dirs(ws.root))
        missing = ("an IP-Adapter (ip_adapter/models/ip-adapter_sd15.safetensors, h94/IP-Adapter's layout)"
                   if weights is not None else
                   "a Stable Diffusion folder (stable_diffusion/<name>/model_index.json) and an IP-Adapter "
                   "(ip_adapter/models/ip-adapter_sd15.safetensors)")
        raise EditorError(f"Diffusion thumbnails need {missing} in {where}; `generec models` lists what is found.")
    return None


def _diffusion_thumbnails(ws: Workspace, targets: Sequence[Target], results: list[dict[str, Any]], weights: Any,
                          *, strength: float, seed: int, progress: Progress | None,
                          cancel: CancelToken | None) -> list[tuple[int, np.ndarray]]:
    """``(audience index, image)`` per target with liked pictures: img2img of its chosen frame steered by them
    (:func:`generec_desktop.editor.personalize.diffusion_thumbs.generate_diffusion_thumbnail`), resized back to
    the frame's size."""
    import cv2

    from generec_desktop.editor.personalize.diffusion_thumbs import cached_pipeline, generate_diffusion_thumbnail

    report(progress, 0.0, "Loading the diffusion model")
    pipe = cached_pipeline(weights)
    check_cancel(cancel)
    todo = [(a, liked) for a, t in enumerate(targets) if (liked := _liked_pictures(ws, t))]
    out: list[tuple[int, np.ndarray]] = []
    for k, (a, liked) in enumerate(todo):
        frame = results[a]["thumbnail"].image
        img = generate_diffusion_thumbnail(pipe, frame, liked, strength=strength, seed=seed,
                                           progress=sub_progress(progress, k / len(todo), (k + 1) / len(todo)),
                                           cancel=cancel)
        if img.shape[:2] != frame.shape[:2]:
            img = cv2.resize(img, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_AREA)
        out.append((a, img))
    return out


class SpaceEncoder:
    """An encoder whose embeddings come out in a selection space (for the noise measurement)."""

    def __init__(self, encoder: Any, space: Any) -> None:
        self.inner, self.space = encoder, space

    def encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return np.asarray(self.space.transform(self.inner.encode_images(images)), np.float32)


def selection_targets(ws: Workspace, targets: Sequence[Target], encoder: Any, selection: str, *,
                      cancel: CancelToken | None = None) -> tuple[Any, np.ndarray, list[int], list[bool]]:
    """``(space, vectors (A, k), support, thin)``: the targets' vectors in ``selection``'s space
    (:func:`generec_desktop.profiles.space.selection_vectors`); targets that are no workspace audience
    (given as vectors) are mapped into the same space."""
    from generec_desktop.profiles import ModelNotFoundError, load_profiles
    from generec_desktop.profiles.errors import ProfilesError
    from generec_desktop.profiles.space import SELECTIONS, SelectionSpace, selection_vectors

    if selection not in SELECTIONS:
        raise EditorError(f"Unknown selection {selection!r}; use one of {', '.join(SELECTIONS)}.")
    try:
        profiles = load_profiles(ws, encoder_id=encoder.id)
    except ModelNotFoundError:
        profiles = None
    known: list[str] = []
    if profiles is not None:
        for t in targets:
            try:
                stored = profiles.audience(t.id).vector
            except ProfilesError:
                continue
            # a target whose vector is not its audience's own (moved toward words, say) keeps that vector:
            # it is mapped into the space like a vector from outside, below
            if np.asarray(stored).shape == np.asarray(t.vector).shape and np.allclose(stored, t.vector, atol=1e-6):
                known.append(t.id)
    if profiles is not None and known:
        av = selection_vectors(ws, profiles, known, encoder, method=selection, cancel=cancel)
        space = av.space
        got = {a: (av.vectors[k], av.support[k], av.thin[k]) for k, a in enumerate(av.ids)}
    else:
        got = {}
        space = SelectionSpace("eq1")
        if selection != "eq1":  # vectors from outside the workspace's audiences: centred on its covers
            # (cheap, no decoding: the covers' embeddings are cached at import; the videos' frame features
            # exist only once a recommender was trained, and decoding them here would cost more than the
            # personalisation itself — the 1,000-audience benchmark passes such vectors)
            from generec_desktop.profiles.store import thumbnail_embeddings

            covers = thumbnail_embeddings(ws, encoder, ws.items(), cancel=cancel)
            space = SelectionSpace(selection, np.asarray(covers, np.float32).mean(axis=0))
    outside = [k for k, t in enumerate(targets) if t.id not in known]
    # vectors from outside mapped together (one call for 1,000 of them rather than one each: 10 ms)
    mapped = dict(zip(outside, space.transform(np.stack([targets[k].vector for k in outside])))) if outside else {}
    vecs, sup, thin = [], [], []
    for k, t in enumerate(targets):
        v, n, th = (mapped[k], 0, False) if k in mapped else got[t.id]
        vecs.append(v)
        sup.append(int(n))
        thin.append(bool(th))
    return space, np.stack(vecs).astype(np.float32), sup, thin


def personalize(
    ws_or_path: Workspace | str | os.PathLike[str],
    item: ItemInfo | int | str,
    audiences: Sequence[Any],
    *,
    thumbnails: bool = True,
    clips: bool = True,
    generate: bool = True,
    encoder: Any = "builtin",
    rate: float = DEFAULT_RATE,
    clip_frames: int = DEFAULT_CLIP_FRAMES,
    min_clip: float = 1.0,
    max_clip: float = 60.0,
    diversity: float | str | None = "auto",
    top_k: int = 5,
    gates: QualityGates | None = None,
    aspects: Sequence[str] = (),
    strength: float = 0.6,
    seed: int = 0,
    shots: str | None = None,
    selection: str = "centred",
    generator: str = "auto",
    diffusion_strength: float = 0.35,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> PersonalizeResult:
    """Personalised thumbnails and clips of ``item`` for every audience in ``audiences``.

    One decode + encode pass (cached) and one (audiences × frames) score matrix serve all audiences.
    Per audience: ranked candidates (Eq. 1 over quality-gated samples + first good frame per shot), the
    chosen thumbnail, the baselines (original cover, a random frame), a generated thumbnail (palette
    transfer toward the audience's liked covers, plus reframes to ``aspects``) and the Eq. 2 clip of
    ``clip_frames`` samples snapped to shot cuts within [``min_clip``, ``max_clip``] seconds.

    ``diversity="auto"`` (default): when the video offers no real choice (one scene, or scores within
    the noise measured on its near-duplicate frames) every audience gets the same frame and clip and
    ``result.choice`` / ``result.clip_choice`` say why; when scores are close on a video with several
    shots, audiences get different frames (clips) within the noise of their best. ``0``: the paper's
    plain argmax (still reported); a number > 0: the older tolerance (a share of the score range).

    ``selection``: how frames are scored (:mod:`generec_desktop.profiles.space`): ``"centred"`` (default;
    the audience's liked videos and the frames, both centred on the workspace's mean video),
    ``"projected"`` (the same, projected on the directions audiences differ in) or ``"eq1"`` (the
    paper's Eq. 1/2 in the encoder's raw space, the baseline). Scores in the result are in that space.

    ``generator``: how the generated thumbnails are made. ``"auto"`` (default): Stable Diffusion img2img of
    the chosen frame steered by an IP-Adapter toward the audience's liked pictures when both sets of weights
    are on disk (:func:`generec_desktop.editor.personalize.diffusion_thumbs.find_diffusion_weights`; SDEdit
    noise ``diffusion_strength``), else the palette transfer (``strength``); ``"palette"``: always the palette
    transfer; ``"diffusion"``: the diffusion model or an :class:`EditorError` saying where to put the weights.
    ``Thumbnail.method`` says which made each.
    """
    from generec_desktop.corpus import Workspace

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    own = not hasattr(ws_or_path, "media_path")
    ws: Workspace = Workspace.open(ws_or_path) if own else ws_or_path  # type: ignore[assignment]
    try:
        if isinstance(encoder, str):
            from generec_desktop.encoders import get_encoder

            encoder = get_encoder(encoder, workspace_root=ws.root)
        info = resolve_item(ws, item)
        targets = resolve_targets(ws, audiences, encoder.id)
        weights = _diffusion_weights(ws, generator) if generate and thumbnails else None
        # a diffusion model costs far more than the analysis; the palette transfer next to nothing
        gen_share = (8.0 * len(targets) if weights is not None else 1.0) if generate else 0.01
        steps = Steps(progress, {"analyse": 8.0, "select": 1.0, "generate": gen_share})
        path = ws.media_path(info)
        analysis = analyze_video(path, encoder, sha256=info.sha256, cache_dir=ws.cache_dir, rate=rate, gates=gates,
                                 shots=shots,
                                 progress=steps["analyse"], cancel=cancel)
        timings["analyse"] = time.perf_counter() - t0
        check_cancel(cancel)
        t1 = time.perf_counter()
        space, vectors, support, thin = selection_targets(ws, targets, encoder, selection, cancel=cancel)
        frames_sel = space.transform(analysis.embeddings)
        scores = score_matrix(vectors, frames_sel)
        sel_encoder = SpaceEncoder(encoder, space)
        n = len(analysis.sample_times)
        cand = build_candidates(n, analysis.cut_after, analysis.passed)
        results: list[dict[str, Any]] = [{"audience_id": t.id, "label": t.label, "support": n, "thin": th}
                                         for t, n, th in zip(targets, support, thin)]
        chosen = ranked = None
        choice = clip_choice = None
        floor = noise_floor(analysis, path, sel_encoder, vectors, cand.index[cand.eligible], cancel=cancel)
        # the frames' score noise, which Eq. 1 and Eq. 2 both read (measured once: 50 ms at 1,000 audiences)
        frame_noise = score_noise(scores, analysis.cut_after, analysis.embeddings)
        # Eq. 2 (clips) runs beside Eq. 1 (thumbnails): both read the same score matrix and are independent;
        # most of their work is NumPy, which lets go of the GIL
        pool = ThreadPoolExecutor(1, thread_name_prefix="generec-clips") if clips else None
        clip_job = None if pool is None else pool.submit(
            choose_clips, scores, analysis.sample_times, analysis.frame_times, analysis.video_end,
            window=clip_frames, cut_after=analysis.cut_after, cuts=analysis.cut_times, cut_ends=analysis.cut_ends,
            sample_period=1.0 / analysis.rate, min_duration=min_clip, max_duration=max_clip, diversity=diversity,
            embeddings=analysis.embeddings, noise_floor=floor, noise=frame_noise)
        try:
            if thumbnails:
                chosen, ranked, choice = choose_thumbnails(scores, cand, cut_after=analysis.cut_after,
                                                           frame_embeddings=analysis.embeddings,
                                                           diversity=diversity, top_k=top_k, noise_floor=floor,
                                                           noise=frame_noise)
                rng = np.random.default_rng(seed)
                random_pick = rng.integers(0, n, size=len(targets))
                need = sorted({int(i) for i in chosen} | {int(i) for i in random_pick})
                picture = sample_pictures(analysis, path, need, cancel=cancel)
                cover = _cover_image(ws, info)
                cover_scores = None
                if cover is not None:
                    cover_emb = sel_encoder.encode_images([cover])[0]
                    cover_scores = vectors @ cover_emb
                src = dict(zip(cand.index.tolist(), cand.source))
                # as Python numbers in one conversion each (the same values): 18,000 NumPy scalar reads
                # for 1,000 audiences cost 40 ms
                st = analysis.sample_times.tolist()
                ranked_l = np.asarray(ranked).tolist()
                ranked_s = np.take_along_axis(scores, np.asarray(ranked, np.int64), axis=1).tolist()
                rows = np.arange(len(results))
                chosen_l, chosen_s = np.asarray(chosen).tolist(), scores[rows, chosen].tolist()
                random_l, random_s = random_pick.tolist(), scores[rows, random_pick].tolist()
                cover_l = None if cover_scores is None else np.asarray(cover_scores).tolist()
                for a, r in enumerate(results):
                    r["candidates"] = tuple(ThumbnailCandidate(i, st[i], sc, src[i])
                                            for i, sc in zip(ranked_l[a], ranked_s[a]))
                    c = chosen_l[a]
                    r["thumbnail"] = Thumbnail(picture[c], chosen_s[a], st[c], "selected")
                    rp = random_l[a]
                    base = {"random": Thumbnail(picture[rp], random_s[a], st[rp], "random")}
                    if cover_l is not None:
                        base["original"] = Thumbnail(cover, cover_l[a], None, "original")
                    r["baselines"] = base
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        timings["select_thumbnails"] = time.perf_counter() - t1
        check_cancel(cancel)
        t2 = time.perf_counter()
        if clip_job is not None:
            picks, clip_choice = clip_job.result()
            for r, clip in zip(results, picks):
                r["clip"] = clip
        timings["select_clips"] = time.perf_counter() - t2
        report(steps["select"], 1.0, "Selected thumbnails and clips")
        t3 = time.perf_counter()
        if generate and thumbnails and chosen is not None:
            from generec_desktop.editor.personalize.reframe import crop_to
            from generec_desktop.editor.personalize.thumbgen import transfer_palette

            made: list[tuple[int, np.ndarray]] = []
            if weights is not None:
                method = "diffusion"
                made = _diffusion_thumbnails(ws, targets, results, weights, strength=diffusion_strength, seed=seed,
                                             progress=sub_progress(steps["generate"], 0.0, 0.95), cancel=cancel)
            else:
                method = "palette"
                palettes = _liked_palettes(ws, targets)
                todo = [(a, t) for a, t in enumerate(targets) if t.id in palettes]
                for k, (a, t) in enumerate(todo):
                    check_cancel(cancel)
                    made.append((a, transfer_palette(results[a]["thumbnail"].image, palettes[t.id],
                                                     strength=strength)))
                    report(steps["generate"], (k + 1) / (2 * len(todo)),
                           f"Generated {k + 1} of {len(todo)} thumbnails")
            if made:
                gen_emb = sel_encoder.encode_images([img for _, img in made])
                for (a, img), e in zip(made, gen_emb):
                    variants = {asp: crop_to(img, asp) for asp in aspects}
                    results[a]["generated"] = Thumbnail(img, float(vectors[a] @ e),
                                                        results[a]["thumbnail"].timestamp, "generated", variants,
                                                        method)
        timings["generate"] = time.perf_counter() - t3
        report(progress, 1.0, f"Personalised for {len(targets)} audiences")
        timings["total"] = time.perf_counter() - t0
        return PersonalizeResult(
            item_id=info.id, video=path, encoder_id=encoder.id, rate=analysis.rate,
            sample_times=analysis.sample_times, scores=scores, cut_times=analysis.cut_times,
            cut_spans=analysis.cut_spans, shot_detector=analysis.shot_detector,
            failed=analysis.failed, audiences=[AudienceResult(**r) for r in results],
            gates_relaxed=cand.gates_relaxed, from_cache=analysis.from_cache, timings=timings,
            choice=choice, clip_choice=clip_choice, selection=selection,
        )
    finally:
        if own:
            ws.close()
