"""User-supplied feed-forward style networks, used as a style function like the classic styles.

Formats: ``torch.export`` programs (.pt2, the current PyTorch format), TorchScript (.pt, .ts;
deprecated by PyTorch but common) and ONNX (.onnx, needs onnxruntime). The contract for a network
file: input a (1, 3, H, W) float32 tensor of RGB in [0, 1], output the same layout (any H, W; it is
resized back). Frames are processed at ``max_side`` on the long side on the CPU. Nothing is
downloaded: the user gives the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from generec_desktop.editor.styles.errors import StyleError
from generec_desktop.editor.styles.filters import StyleState, downscale, upscale

TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript", ".jit")


class StyleNetwork:
    """A loaded network, callable as ``net(rgb, state) -> rgb`` like the classic styles."""

    def __init__(self, path: Path, runner: Any, *, max_side: int) -> None:
        self.path = path
        self._run = runner
        self.max_side = max_side

    def __call__(self, rgb: np.ndarray, state: StyleState | None = None) -> np.ndarray:
        small = downscale(rgb, self.max_side)
        x = np.ascontiguousarray(small.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0
        try:
            y = np.asarray(self._run(x), dtype=np.float32)
        except Exception as exc:  # a user file: any failure inside it is a user-facing error
            raise StyleError(f"The style network {self.path.name} failed on a frame ({exc}); "
                             "check that it maps (1, 3, H, W) in [0, 1] to the same layout.") from exc
        if y.ndim != 4 or y.shape[:2] != (1, 3):
            raise StyleError(f"The style network {self.path.name} returned shape {y.shape}; "
                             "it must return (1, 3, H, W).")
        out = np.clip(y[0].transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return upscale(np.ascontiguousarray(out), rgb.shape)


def _torchscript_runner(path: Path) -> Any:
    import warnings

    import torch

    with warnings.catch_warnings():  # torch 2.14 deprecates TorchScript; users still have such files
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    module.eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(x)).float().numpy()

    return run


def _export_runner(path: Path) -> Any:
    """A ``torch.export`` program (.pt2); one exported with a fixed input size gets inputs resized to it."""
    import cv2
    import torch

    module = torch.export.load(str(path)).module()
    placeholders = module.graph.find_nodes(op="placeholder")
    val = placeholders[0].meta.get("val") if placeholders else None
    static = None
    if val is not None and len(val.shape) == 4 and all(isinstance(d, int) for d in val.shape[2:]):
        static = (int(val.shape[3]), int(val.shape[2]))  # (W, H) for cv2.resize

    def run(x: np.ndarray) -> np.ndarray:
        if static is not None and (x.shape[3], x.shape[2]) != static:
            x = cv2.resize(x[0].transpose(1, 2, 0), static, interpolation=cv2.INTER_AREA)
            x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        with torch.inference_mode():
            return module(torch.from_numpy(x)).float().numpy()

    return run


def _onnx_runner(path: Path) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise StyleError("ONNX style networks need the onnxruntime package; install it or use TorchScript.") from exc
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: x})[0]

    return run


def load_style_network(path: Path, *, max_side: int = 512) -> StyleNetwork:
    """Load ``path``: a ``torch.export`` program (.pt2), TorchScript (.pt/.pth/.ts/.torchscript/.jit) or ONNX."""
    path = Path(path)
    if not path.is_file():
        raise StyleError(f"The style network {path} does not exist; give a TorchScript or ONNX file.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".onnx":
            runner = _onnx_runner(path)
        elif suffix == ".pt2":
            runner = _export_runner(path)
        elif suffix in TORCHSCRIPT_SUFFIXES:
            runner = _torchscript_runner(path)
        else:
            raise StyleError(f"{path.name} is not a .pt2, TorchScript (.pt, .ts) or ONNX (.onnx) file.")
    except StyleError:
        raise
    except Exception as exc:  # corrupt or foreign file
        raise StyleError(f"Cannot load the style network {path.name}: {exc}.") from exc
    net = StyleNetwork(path, runner, max_side=max_side)
    net(np.zeros((32, 32, 3), np.uint8))  # fail now, not on the first frame of a long job
    return net
