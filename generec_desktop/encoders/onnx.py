"""ONNX Runtime for the open_clip image tower on CPU: fp32 and int8 (dynamic quantisation).

The tower (``model.encode_image``, projection included) is exported once with ``torch.onnx.export``
and cached next to the weights, keyed by the weights' sha256: ``<weights folder>/.generec-onnx/
<sha256[:16]>-<side>px-{fp32,int8}.onnx`` (``<data home>/onnx/`` when that folder is read-only).
int8 is onnxruntime's ``quantize_dynamic`` (8-bit weights per output channel, activations quantised
at run time, one image per call; no calibration data needed).

Which path runs (``backend``): ``"torch"``, ``"onnx-fp32"``, ``"onnx-int8"`` or ``"auto"`` (the default;
``$GENEREC_ENCODER_BACKEND`` overrides it). Auto uses ONNX only when onnxruntime is installed and the
tower is CLIP-sized (:data:`AUTO_MIN_PARAMS`; for tiny towers the export costs more than it saves).
It then measures, once per weights and machine, on real photos (scikit-image's), the cosine of each
ONNX path's embeddings to torch's and its speed, and keeps the fastest path whose agreement holds:
int8 needs a minimum cosine of :data:`INT8_MIN_COSINE`, fp32 :data:`FP32_MIN_COSINE`; else torch. The
measurement is stored beside the models (``<...>.json``) and reused. int8 is not always faster: it pays
off on CPUs with VNNI/AMX int8 instructions, and the measurement decides.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.config import data_home

__all__ = [
    "AUTO_MIN_PARAMS",
    "BACKENDS",
    "BACKEND_ENV",
    "FP32_MIN_COSINE",
    "INT8_MIN_COSINE",
    "OnnxVision",
    "available",
    "cache_paths",
    "choose_backend",
    "probe_photos",
]

log = logging.getLogger("generec.encoders")

BACKENDS = ("auto", "torch", "onnx-fp32", "onnx-int8")
BACKEND_ENV = "GENEREC_ENCODER_BACKEND"
#: image towers with at least this many parameters are "CLIP-sized" (ViT-B-32's has 88 M, MobileCLIP-S1's 21 M)
AUTO_MIN_PARAMS = 15_000_000
FP32_MIN_COSINE = 0.999
INT8_MIN_COSINE = 0.98
_PROBE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field",
                 "camera", "page")
_FORMAT = 2  # bump when the export or quantisation changes (it names the cached files)


def available() -> bool:
    """Whether onnxruntime and onnx (needed to quantise) are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def requested_backend(backend: str | None) -> str:
    """``backend``, else ``$GENEREC_ENCODER_BACKEND``, else "auto"; checked against :data:`BACKENDS`."""
    from generec_desktop.encoders.base import EncoderError

    value = (backend or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
    if value not in BACKENDS:
        raise EncoderError(f"Unknown encoder backend '{value}'; use one of {', '.join(BACKENDS)}.")
    return value


def probe_photos() -> list[np.ndarray]:
    """Real photos (scikit-image's sample data) as uint8 RGB, for the agreement check."""
    import skimage.data

    out = []
    for name in _PROBE_PHOTOS:
        try:  # all ship inside scikit-image's wheel; a trimmed install may lack some
            img = np.asarray(getattr(skimage.data, name)())
        except Exception:  # any loader failure only means one photo fewer
            continue
        out.append(np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img[:, :, :3])
    if len(out) < 3:
        from generec_desktop.encoders.base import EncoderError

        raise EncoderError("scikit-image's sample photos are missing; reinstall scikit-image.")
    return out


def _writable(folder: Path) -> bool:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return os.access(probe, os.W_OK)


def cache_paths(weights: Path, sha256: str, side: int) -> dict[str, Path]:
    """Where the exported models and the measurement of ``weights`` live (fp32, int8, json)."""
    folder = Path(weights).resolve().parent / ".generec-onnx"
    if not _writable(folder):
        folder = data_home() / "onnx"
    stem = f"{sha256[:16]}-{side}px-v{_FORMAT}"
    return {"fp32": folder / f"{stem}-fp32.onnx", "int8": folder / f"{stem}-int8.onnx",
            "json": folder / f"{stem}.json"}


def export_fp32(model: Any, side: int, path: Path) -> None:
    """Export ``model.encode_image`` (batch dimension dynamic) to ``path`` atomically."""
    import torch

    from generec_desktop.safefiles import atomic_path

    class _Tower(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.m.encode_image(x)
            return out

    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(2, 3, side, side)
    # grad mode on: under no_grad nn.MultiheadAttention takes its fused fast path, which the exporter cannot trace
    with atomic_path(path) as tmp, warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
        warnings.simplefilter("ignore")
        kwargs: dict[str, Any] = {"input_names": ["pixels"], "output_names": ["embedding"],
                                  "dynamic_axes": {"pixels": {0: "batch"}, "embedding": {0: "batch"}},
                                  "opset_version": 17}
        try:  # the TorchScript exporter: fast, and no onnxscript needed
            torch.onnx.export(_Tower(model).eval(), (dummy,), str(tmp), dynamo=False, **kwargs)
        except TypeError:  # pragma: no cover - a torch without the dynamo switch
            torch.onnx.export(_Tower(model).eval(), (dummy,), str(tmp), **kwargs)


def quantize_int8(fp32: Path, int8: Path) -> None:
    """Dynamic int8 quantisation of ``fp32`` into ``int8`` (onnxruntime.quantization), atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from generec_desktop.safefiles import atomic_path

    logging.getLogger("root").setLevel(logging.ERROR)  # its "consider pre-processing" advice on every call
    # uint8 weights (u8u8 kernels), per output channel: signed int8 weights make x86 CPUs without VNNI use
    # vpmaddubsw, whose int16 sums saturate; on a random ViT-S-32 that cost min cosine 0.974 against torch,
    # uint8 weights give 0.9999 (onnxruntime documents reduce_range or u8u8 for such CPUs)
    with atomic_path(int8) as tmp:
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QUInt8, per_channel=True)


class OnnxVision:
    """An onnxruntime session of an exported image tower: ``(N, 3, side, side)`` float32 -> ``(N, dim)``.

    A dynamically quantised (int8) model computes each activation's scale over the whole input tensor,
    so in a batch an image's embedding would depend on the other images (measured: up to 0.01 per
    component on ViT-S-32); int8 models therefore run one image per call (``per_image``), which keeps an
    embedding a function of its frame alone (the cache and "batching is exact" rely on it).
    """

    def __init__(self, path: Path, *, threads: int | None = None, per_image: bool | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads or os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.path = Path(path)
        self.per_image = path.name.endswith("-int8.onnx") if per_image is None else per_image
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pixels, dtype=np.float32)
        if self.per_image and len(x) > 1:
            return np.concatenate([self(x[i:i + 1]) for i in range(len(x))])
        out = self._session.run(None, {self._input: x})[0]
        result: np.ndarray = np.asarray(out, dtype=np.float32)
        return result


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    cos: np.ndarray = np.sum(a * b, axis=1)
    return cos


def _timed(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> tuple[np.ndarray, float]:
    fn(x[:2])  # warm-up (allocations, kernel selection)
    t = time.perf_counter()
    y = fn(x)
    return y, (time.perf_counter() - t) * 1000.0 / len(x)


def measure(torch_fn: Callable[[np.ndarray], np.ndarray], paths: dict[str, Path], pixels: np.ndarray,
            kinds: Sequence[str] = ("fp32", "int8")) -> dict[str, Any]:
    """Cosine agreement with torch (min and mean over ``pixels``) and ms per image of each ONNX path."""
    ref, torch_ms = _timed(torch_fn, pixels)
    report: dict[str, Any] = {"torch_ms_per_image": round(torch_ms, 2), "photos": len(pixels)}
    for kind in kinds:
        y, ms = _timed(OnnxVision(paths[kind]), pixels)
        cos = _cosines(y, ref)
        report[kind] = {"cosine_min": float(cos.min()), "cosine_mean": float(cos.mean()),
                        "ms_per_image": round(ms, 2)}
    return report


def pick(report: dict[str, Any]) -> str:
    """The fastest backend whose agreement with torch holds (see the module docstring)."""
    ok = [("torch", float(report["torch_ms_per_image"]))]
    for kind, floor in (("fp32", FP32_MIN_COSINE), ("int8", INT8_MIN_COSINE)):
        r = report.get(kind)
        if r and r["cosine_min"] >= floor:
            ok.append((f"onnx-{kind}", float(r["ms_per_image"])))
    onnx = [o for o in ok if o[0] != "torch"]
    # an agreeing ONNX path is kept unless torch is clearly faster (timings on a busy machine are noisy)
    best = min(onnx, key=lambda o: o[1]) if onnx else ok[0]
    return best[0] if best[1] <= ok[0][1] * 1.1 else "torch"


def choose_backend(requested: str, *, model: Any, sha256: str, weights: Path, side: int,
                   torch_fn: Callable[[np.ndarray], np.ndarray], preprocess: Callable[[np.ndarray], np.ndarray],
                   n_params: int) -> tuple[str, OnnxVision | None, dict[str, Any]]:
    """The backend to run and its session: exports, quantises and measures on first use (then cached).

    Never raises for a failed export or a missing onnxruntime: the tower then stays on torch (logged).
    """
    if requested == "torch":
        return "torch", None, {}
    if not available():
        if requested != "auto":
            log.warning("onnxruntime is not installed; the encoder runs on torch (pip install "
                        "'generec-desktop[onnx]').")
        return "torch", None, {}
    if requested == "auto" and n_params < AUTO_MIN_PARAMS:
        return "torch", None, {}
    paths = cache_paths(weights, sha256, side)
    try:
        if not paths["fp32"].is_file():
            log.info("Exporting the image tower to ONNX once (%s)", paths["fp32"])
            export_fp32(model, side, paths["fp32"])
        if requested in ("auto", "onnx-int8") and not paths["int8"].is_file():
            quantize_int8(paths["fp32"], paths["int8"])
        report: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            report = json.loads(paths["json"].read_text(encoding="utf-8"))
        kinds = ("fp32", "int8") if requested == "auto" else (requested.removeprefix("onnx-"),)
        if not all(k in report for k in kinds):
            pixels = np.stack([preprocess(p) for p in probe_photos()])
            report = {**report, **measure(torch_fn, paths, pixels, kinds)}
            from generec_desktop.safefiles import atomic_write_json

            with contextlib.suppress(OSError):
                atomic_write_json(paths["json"], report)
        chosen = pick(report) if requested == "auto" else requested
        if chosen == "torch":
            return "torch", None, report
        return chosen, OnnxVision(paths[chosen.removeprefix("onnx-")]), report
    except Exception as exc:  # an architecture the exporter cannot trace, a full disk, a broken onnxruntime
        log.warning("The ONNX path is not available for %s (%s: %s); the encoder runs on torch.",
                    weights.name, type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "")
        return "torch", None, {"error": f"{type(exc).__name__}: {exc}"[:500]}
