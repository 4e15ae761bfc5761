"""Invisible watermark for exported videos and thumbnails (DESIGN §7).

Why not invisible-watermark: its dwtDct default is at chance after H.264 and it declares the non-headless
``opencv-python``. This is a vectorised spread-spectrum mark in the luma, built for video:

* **Geometry.** The mark lives on a fixed ``GRID × GRID`` grid of *chips* in normalised frame coordinates,
  so a frame of any size (a 0.5× downscale, a thumbnail) maps to the same grid: detection is one
  ``cv2.resize(..., INTER_AREA)`` of the luma to ``GRID × GRID``.
* **Payload.** 32 bits + CRC-16 (48 data bits) plus 16 keyed pilot bits. Each bit owns a keyed random
  subset of chips with keyed random signs (spread spectrum); the chip pattern is upsampled smoothly,
  so the mark is a low-frequency, low-amplitude luma pattern.
* **Informed embedding.** The embedder knows the host: per bit it cancels the host's own correlation
  with the bit's pattern (improved spread spectrum), solved on the 64×64 chip grid. This, not raw
  strength, is what makes a 39 dB mark survive CRF 28 (plain spread spectrum needed ~2× the amplitude).
* **Nearly the same on every frame.** Per-bit amplitudes are smoothed over time; a static pattern costs
  little under inter-frame coding (skip blocks copy it) and detection averages chip values over frames.
* **Luma only, added to R, G and B equally.** Adding ``d`` to all three channels changes Y by ``d``
  and leaves U and V unchanged, so embedding needs no colour conversion. PSNR is capped at 38.5 dB.
* **Detection.** Chip values are high-passed (chip minus the mean of its 8 neighbours) to remove most of
  the host image, robustly normalised and clipped, averaged over frames, then correlated per bit. The
  pilot gives a z-score that is N(0, 1) on unmarked content; ``found`` needs pilot z ≥ 4 **and** a
  matching CRC (CRC-aided Chase decoding of the 4 weakest bits), so "no watermark" is told apart from
  "watermark with payload X".
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from generec_desktop.jobs import CancelToken, GenerecError, Progress, check_cancel, report

__all__ = [
    "DEFAULT_IMAGE_STRENGTH",
    "DEFAULT_KEY",
    "DEFAULT_STRENGTH",
    "PAYLOAD_BITS",
    "WatermarkDetection",
    "WatermarkError",
    "WatermarkVideoResult",
    "bit_accuracy",
    "crc16",
    "detect_images",
    "detect_video",
    "embed_image",
    "payload_for_version",
    "psnr",
    "watermark_video",
]

PAYLOAD_BITS = 32
CRC_BITS = 16
PILOT_BITS = 16
DATA_BITS = PAYLOAD_BITS + CRC_BITS
GRID = 64
#: Default key; a deployment should set its own (any string) so others cannot read or forge the mark.
DEFAULT_KEY = "generec-desktop-v1"
#: Nominal chip amplitude (8-bit luma levels) of a video frame: at 2.0 bikes grew 15.7 % at CRF 28 (target
#: ≤ 15 %), at 1.75 12.9 % with 720p CRF 28 bit accuracy still 1.000 (benchmarks/bench_watermark.py).
DEFAULT_STRENGTH = 1.75
#: A still (thumbnail) has no frames to average over, so it gets a stronger mark (PSNR guard still holds).
DEFAULT_IMAGE_STRENGTH = 3.0
#: Pilot z-score above which a mark is present. Under no mark z ~ N(0, 1) (p ≈ 3e-5) and the CRC,
#: which must match too, passes with p ≈ 2**-12 after Chase decoding: ≈ 1e-8 false positives per item..
PILOT_Z_THRESHOLD = 4.0


class WatermarkError(GenerecError):
    """Bad input to the watermark (an image that is not RGB uint8, a payload that does not fit...)."""


@dataclass(frozen=True)
class WatermarkDetection:
    """What :func:`detect_images` found.

    ``confidence`` in [0, 1] grows with the pilot z-score (0 at z ≤ 2, 1 at z ≥ 8; at most 0.5
    when the CRC fails);
    ``bit_accuracy_estimate`` is the mean over data bits of Φ(|z_bit|), the estimated probability that
    each decoded bit is right. ``payload`` is set only when ``found``.
    """

    found: bool
    payload: int | None
    confidence: float
    bit_accuracy_estimate: float
    frames_used: int
    pilot_z: float = 0.0
    crc_ok: bool = False
    raw_payload: int | None = None  # the decoded 32 bits even when the CRC or pilot failed


@dataclass(frozen=True)
class WatermarkVideoResult:
    """Result of :func:`watermark_video`."""

    path: Path
    payload: int
    frames: int
    strength: float


# --------------------------------------------------------------------------------------------- payload


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (binascii's CRC-HQX with the 0xFFFF start value)."""
    import binascii

    return binascii.crc_hqx(data, 0xFFFF)


def _payload_int(payload: bytes | int) -> int:
    if isinstance(payload, bytes | bytearray):
        if len(payload) > PAYLOAD_BITS // 8:
            raise WatermarkError(f"The payload is {len(payload)} bytes; at most {PAYLOAD_BITS // 8} fit.")
        return int.from_bytes(payload, "big")
    if isinstance(payload, bool) or not isinstance(payload, int | np.integer):
        raise WatermarkError("The payload must be an int or bytes.")
    value = int(payload)
    if not 0 <= value < 1 << PAYLOAD_BITS:
        raise WatermarkError(f"The payload must be a non-negative integer below 2**{PAYLOAD_BITS}.")
    return value


def _data_bits(payload: int) -> np.ndarray:
    """The 48 data bits (payload then CRC) as ±1 floats."""
    raw = payload.to_bytes(PAYLOAD_BITS // 8, "big")
    word = (payload << CRC_BITS) | crc16(raw)
    bits = np.array([(word >> (DATA_BITS - 1 - i)) & 1 for i in range(DATA_BITS)], dtype=np.float32)
    return bits * 2.0 - 1.0


def _word_ok(bits: np.ndarray) -> tuple[int, bool]:
    word = 0
    for b in bits:
        word = (word << 1) | int(b)
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    return payload, crc16(payload.to_bytes(PAYLOAD_BITS // 8, "big")) == crc


#: Chase decoding: also try flipping any subset of this many least reliable bits (16 candidates).
CHASE_BITS = 4


def _decode_bits(soft: np.ndarray) -> tuple[int, bool]:
    """Decode 48 soft bits (payload + CRC); returns (payload, crc_ok).

    CRC-aided Chase decoding: the hard decision first, then flips of the least reliable bits in
    order of total flipped reliability; the first candidate whose CRC matches wins. It fixes the
    one or two weak bits a heavy re-encode leaves, at a 2**CHASE_BITS larger chance that random
    bits pass the CRC (still ~2**-12, and ``found`` also needs the pilot).
    """
    hard = (soft > 0).astype(np.int64)
    payload, ok = _word_ok(hard)
    if ok:
        return payload, True
    weak = np.argsort(np.abs(soft))[:CHASE_BITS]
    combos = []
    for m in range(1, 1 << CHASE_BITS):
        idx = [int(weak[j]) for j in range(CHASE_BITS) if m >> j & 1]
        combos.append((float(np.sum(np.abs(soft[idx]))), idx))
    for _cost, idx in sorted(combos):
        trial = hard.copy()
        trial[idx] ^= 1
        p, ok = _word_ok(trial)
        if ok:
            return p, True
    return payload, False


def payload_for_version(version_id: int | str, *, workspace_id: str = "") -> int:
    """A 32-bit payload that identifies an exported version.

    An integer id below 2**32 is used as is (the database item id: decodes back to the row); anything
    else (a string id, or an id qualified by ``workspace_id``) is hashed with BLAKE2b to 32 bits.
    """
    if isinstance(version_id, int) and not isinstance(version_id, bool) and not workspace_id:
        return _payload_int(version_id)
    digest = hashlib.blake2b(f"{workspace_id}\x00{version_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


# --------------------------------------------------------------------------------------------- pattern


@dataclass(frozen=True)
class _Layout:
    owner: np.ndarray  # (GRID*GRID,) int: which bit owns each chip, 0..PILOT+DATA-1
    sign: np.ndarray  # (GRID*GRID,) float32 ±1: keyed chip signs
    pilot: np.ndarray  # (PILOT_BITS,) ±1 pilot values


@lru_cache(maxsize=8)
def _layout(key: str) -> _Layout:
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    n = GRID * GRID
    nbits = PILOT_BITS + DATA_BITS
    owner = rng.permutation(np.arange(n) % nbits)
    sign = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n)
    pilot = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=PILOT_BITS)
    return _Layout(owner=owner, sign=sign, pilot=pilot)


@lru_cache(maxsize=16)
def _chip_pattern(payload: int, key: str) -> np.ndarray:
    """The ±1 chip grid (GRID, GRID) for ``payload``: sign × value of the owning bit."""
    lay = _layout(key)
    values = np.concatenate([lay.pilot, _data_bits(payload)])
    return (lay.sign * values[lay.owner]).reshape(GRID, GRID).astype(np.float32)


@lru_cache(maxsize=8)
def _full_pattern(payload: int, key: str, height: int, width: int) -> np.ndarray:
    """The chip grid upsampled to (height, width) float32, smooth (bicubic) and in [-1, 1]."""
    import cv2

    chips = _chip_pattern(payload, key)
    up = cv2.resize(chips, (width, height), interpolation=cv2.INTER_CUBIC)
    np.clip(up, -1.0, 1.0, out=up)
    up.setflags(write=False)
    return up


def _luma(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _mask(rgb: np.ndarray, floor: float = 0.5) -> np.ndarray:
    """Perceptual mask in [floor, ~1.6], mean ≈ 1: stronger where the luma has local texture.

    Computed on a 1/8-size luma (cheap), from the local standard deviation, then upsampled smoothly.
    """
    import cv2

    h, w = rgb.shape[:2]
    small = cv2.resize(_luma(rgb), (max(8, w // 8), max(8, h // 8)), interpolation=cv2.INTER_AREA)
    small = small.astype(np.float32)
    mean = cv2.blur(small, (5, 5))
    var = np.maximum(cv2.blur(small * small, (5, 5)) - mean * mean, 0.0)
    act = np.sqrt(var)
    act = act / (float(np.mean(act)) + 1e-3)
    m = np.clip(floor + (1.0 - floor) * act, floor, 1.6).astype(np.float32)
    m = m / float(np.mean(m))
    return cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR)


def _check_rgb(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise WatermarkError("The image must be a uint8 RGB array of shape (H, W, 3).")
    if rgb.shape[0] < 32 or rgb.shape[1] < 32:
        raise WatermarkError("The image is too small to carry a watermark (at least 32×32 pixels).")


#: Response of the detector's high-passed chip value to a unit chip amplitude (measured: 0.62–0.68).
_CHIP_GAIN = 0.62
#: Informed embedding: fraction of the host interference cancelled, and the per-bit amplitude range
#: (× strength); tuned in benchmarks/bench_watermark.py.
_ISS_LAMBDA = 1.0
_AMP_RANGE = (0.25, 3.0)
_ISS_STEPS = 3
_PILOT_BOOST = 1.5
#: Weight of the previous frame's per-bit amplitudes in a video (temporal smoothing).
_TEMPORAL = 0.0  # 0.8 measured no smaller files at CRF 28 (bench --curve)
#: Detector clips normalised chip residuals at ± this many robust SDs (limits edge outliers).
_CLIP = 3.0
#: The mark never costs more than this PSNR (dB, before rounding; rounding costs ~0.1 dB more).
MIN_PSNR = 38.5
_MAX_RMS = 255.0 * 10 ** (-MIN_PSNR / 20)


def _hp_chips(y: np.ndarray) -> np.ndarray:
    """Chip values (GRID, GRID) of a luma plane minus the mean of their 8 neighbours, in luma levels.

    The host is spatially smooth at chip scale and the chip pattern is spatially white, so this keeps
    most of the mark and removes most of the host. Borders are reflected so edge chips are alike.
    """
    import cv2

    c = cv2.resize(y.astype(np.float32), (GRID, GRID), interpolation=cv2.INTER_AREA)
    kernel = np.full((3, 3), -1.0 / 8.0, dtype=np.float32)
    kernel[1, 1] = 1.0
    return cv2.filter2D(c, -1, kernel, borderType=cv2.BORDER_REFLECT)


@lru_cache(maxsize=8)
def _chip_kernel(height: int, width: int) -> np.ndarray:
    """5×5 response, on the chip grid, of one unit chip after bicubic upsampling to (height, width)
    and the detector's area resize back: lets the embedder predict the detector exactly on 64×64."""
    import cv2

    imp = np.zeros((GRID, GRID), np.float32)
    imp[GRID // 2, GRID // 2] = 1.0
    up = cv2.resize(imp, (width, height), interpolation=cv2.INTER_CUBIC)
    back = cv2.resize(up, (GRID, GRID), interpolation=cv2.INTER_AREA)
    k = back[GRID // 2 - 2: GRID // 2 + 3, GRID // 2 - 2: GRID // 2 + 3].copy()
    k.setflags(write=False)
    return k


def _normalise(r: np.ndarray) -> np.ndarray:
    """Robustly normalised and clipped chip residuals: what the detector correlates."""
    mad = float(np.median(np.abs(r - np.median(r)))) * 1.4826
    return np.clip(r / max(mad, 0.05), -_CLIP, _CLIP)


def _bit_amplitudes(rgb: np.ndarray, payload: int, key: str, amp: float) -> np.ndarray:
    """Per-bit amplitudes (luma levels) with informed embedding (improved spread spectrum).

    The embedder knows the host, so for each bit it measures how much the host already correlates
    with (or against) that bit's pattern and adds only what is missing to reach ``amp`` worth of
    detector response: bits the host helps get a weaker mark, bits it fights a stronger one (capped).
    A few fixed-point steps on the 64×64 chip grid (with the measured upsample/area kernel) account
    for the detector's non-linear normalisation and clipping and for cross-talk between chips.
    """
    import cv2

    h, w = rgb.shape[:2]
    host_c = cv2.resize(_luma(rgb).astype(np.float32), (GRID, GRID), interpolation=cv2.INTER_AREA)
    return _bit_amplitudes_chips(host_c, h, w, payload, key, amp)


def _bit_amplitudes_chips(host_c: np.ndarray, h: int, w: int, payload: int, key: str,
                          amp: float) -> np.ndarray:
    """:func:`_bit_amplitudes` from the host's (GRID, GRID) float32 chip means (detector luma units)
    of an (h, w) frame: all the informed embedding's work happens on the 64×64 grid."""
    import cv2

    lay = _layout(key)
    nbits = PILOT_BITS + DATA_BITS
    values = _values(payload, key)
    counts = _counts(key)
    hp = np.full((3, 3), -1.0 / 8.0, dtype=np.float32)
    hp[1, 1] = 1.0
    kern = cv2.filter2D(_chip_kernel(h, w), -1, hp, borderType=cv2.BORDER_CONSTANT)
    host_r = cv2.filter2D(host_c, -1, hp, borderType=cv2.BORDER_REFLECT)
    corr = host_r.ravel() * lay.sign
    host = np.bincount(lay.owner, weights=corr, minlength=nbits) / counts
    lo, hi = _AMP_RANGE[0] * amp, _AMP_RANGE[1] * amp
    boost = np.where(np.arange(nbits) < PILOT_BITS, _PILOT_BOOST, 1.0)
    bit_amp = np.clip(amp - _ISS_LAMBDA * values * host / _CHIP_GAIN, lo, hi)
    signs = lay.sign * values[lay.owner]
    mad0 = float(np.median(np.abs(host_r - np.median(host_r)))) * 1.4826
    # per-chip detector response plain SS would give; the pilot (which decides 'found') gets more
    target = amp * _CHIP_GAIN / max(mad0, 0.05) * np.where(np.arange(nbits) < PILOT_BITS, _PILOT_BOOST, 1.0)
    for _ in range(_ISS_STEPS):
        chips = (signs * bit_amp[lay.owner]).reshape(GRID, GRID).astype(np.float32)
        r = host_r + cv2.filter2D(chips, -1, kern, borderType=cv2.BORDER_REFLECT)
        got = np.bincount(lay.owner, weights=_normalise(r).ravel() * signs, minlength=nbits) / counts
        bit_amp = np.clip(bit_amp + (target - got) * max(mad0, 0.05) / _CHIP_GAIN, lo, hi * boost)
    return bit_amp


@lru_cache(maxsize=16)
def _values(payload: int, key: str) -> np.ndarray:
    """The 64 bit values (pilot then data) as ±1 floats."""
    v = np.concatenate([_layout(key).pilot, _data_bits(payload)])
    v.setflags(write=False)
    return v


@lru_cache(maxsize=8)
def _counts(key: str) -> np.ndarray:
    c = np.bincount(_layout(key).owner, minlength=PILOT_BITS + DATA_BITS)
    c.setflags(write=False)
    return c


def _chips_from_bit_amp(payload: int, key: str, bit_amp: np.ndarray) -> np.ndarray:
    lay = _layout(key)
    return (_chip_pattern(payload, key).ravel() * bit_amp[lay.owner]).reshape(GRID, GRID).astype(np.float32)


def _delta(rgb: np.ndarray, payload: int, key: str, amp: float, informed: bool, masking: bool,
           bit_amp: np.ndarray | None = None) -> np.ndarray:
    """The int16 luma change (H, W) to add to every channel of ``rgb``."""
    import cv2

    h, w = rgb.shape[:2]
    if informed:
        if bit_amp is None:
            bit_amp = _bit_amplitudes(rgb, payload, key, amp)
        chips = _chips_from_bit_amp(payload, key, bit_amp)
        delta = cv2.resize(chips, (w, h), interpolation=cv2.INTER_CUBIC)
    else:
        delta = _full_pattern(payload, key, h, w) * amp
    if masking:
        delta = delta * _mask(rgb)
    # quality guard: never let a frame fall below MIN_PSNR (informed embedding can ask for up to
    # 3× the nominal amplitude on hostile content)
    rms = float(np.sqrt(np.mean(delta * delta)))
    if rms > _MAX_RMS:
        delta = delta * (_MAX_RMS / rms)
    return np.rint(delta).astype(np.int16)


def _apply(rgb: np.ndarray, d16: np.ndarray) -> np.ndarray:
    out = rgb.astype(np.int16)
    out += d16[:, :, None]
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def embed_image(
    rgb: np.ndarray,
    payload: bytes | int,
    *,
    strength: float | None = None,
    key: str = DEFAULT_KEY,
    informed: bool = True,
    masking: bool = False,
) -> np.ndarray:
    """Return a copy of ``rgb`` (uint8 RGB) carrying ``payload`` (≤ 32 bits); the input is not modified.

    ``strength`` is the nominal chip amplitude in 8-bit luma levels (default
    :data:`DEFAULT_IMAGE_STRENGTH`; videos use :data:`DEFAULT_STRENGTH` per frame).
    ``informed`` adapts each bit's amplitude to the host (see :func:`_chip_amplitudes`); ``masking``
    moves strength from flat to textured regions at the same mean.
    """
    _check_rgb(rgb)
    value = _payload_int(payload)
    amp = DEFAULT_IMAGE_STRENGTH if strength is None else float(strength)
    if not 0.0 < amp <= 32.0:
        raise WatermarkError("The strength must be in (0, 32] luma levels.")
    return _apply(rgb, _delta(rgb, value, key, amp, informed, masking))


class _Embedder:
    """Frame function for videos; caches the plain delta per frame size (one add + clip per frame)."""

    def __init__(self, payload: int, key: str, strength: float, informed: bool = True,
                 masking: bool = False) -> None:
        self.payload, self.key, self.strength = payload, key, strength
        self.informed, self.masking = informed, masking
        self._d16: np.ndarray | None = None
        self._bit_amp: np.ndarray | None = None

    def __call__(self, rgb: np.ndarray, _t: float = 0.0) -> np.ndarray:
        _check_rgb(rgb)
        if self.informed or self.masking:
            bit_amp = None
            if self.informed:
                bit_amp = _bit_amplitudes(rgb, self.payload, self.key, self.strength)
                if self._bit_amp is not None and _TEMPORAL > 0:
                    # keep the per-bit amplitudes steady over time: a mark that changes little from
                    # frame to frame costs the inter-frame coder few bits
                    bit_amp = _TEMPORAL * self._bit_amp + (1.0 - _TEMPORAL) * bit_amp
                self._bit_amp = bit_amp
            d16 = _delta(rgb, self.payload, self.key, self.strength, self.informed, self.masking, bit_amp)
            return _apply(rgb, d16)
        h, w = rgb.shape[:2]
        if self._d16 is None or self._d16.shape != (h, w):
            self._d16 = _delta(rgb, self.payload, self.key, self.strength, False, False)
        return _apply(rgb, self._d16)


#: yuv420p luma is limited range: the detector's luma (of the decoded RGB) is (Y - 16) / _Y_SCALE, so a
#: change d in RGB is a change d * _Y_SCALE in Y (BT.601/709 luma weights sum to 1; chroma cancels out).
_Y_SCALE = 219.0 / 255.0
#: Video: frames one informed solve is held for, and the mean grid-luma change (levels) that re-solves
#: early (a cut); tuned in benchmarks/bench_watermark.py (--hold).
_HOLD = 12
_SCENE_CHANGE = 12.0


def _grid_means(y: np.ndarray) -> np.ndarray:
    """Area means (GRID, GRID) float32 of a luma plane, as the detector's INTER_AREA resize computes them.

    When the width is a multiple of GRID (1280, 1920, 640...) the columns are averaged first in an
    integer-ratio resize, OpenCV's fast path: 3× faster at 720p, equal up to uint8 rounding (< 0.3).
    """
    import cv2

    h, w = y.shape
    if w % GRID == 0 and w > GRID:
        y = cv2.resize(y, (GRID, h), interpolation=cv2.INTER_AREA)
    return cv2.resize(y, (GRID, GRID), interpolation=cv2.INTER_AREA).astype(np.float32)


class _LumaEmbedder:
    """Frame function for ``media.transform_video(..., luma=True)``: marks the Y plane in place.

    The informed mark of :class:`_Embedder`, built for cheap video:

    * no colour conversion, and all analysis on the 64×64 grid (one area resize of the luma down,
      the informed-embedding solve on the grid, one bicubic upsample of the chips in Y units);
    * **held**: the per-bit amplitudes are solved on one frame and the same integer delta is added
      to the next ``hold - 1`` frames too, re-solved early at a scene change (grid means moving by
      more than ``_SCENE_CHANGE`` levels). A mark that is identical from frame to frame costs the
      inter-frame coder few bits (static areas stay skip blocks), and a held frame costs one add.
    """

    def __init__(self, payload: int, key: str, strength: float, informed: bool = True,
                 hold: int | None = None) -> None:
        self.payload, self.key, self.strength, self.informed = payload, key, strength, informed
        self.hold = max(1, int(_HOLD if hold is None else hold))
        # the integer delta split in its positive and negative parts: two saturating uint8 operations
        # per frame instead of a float conversion of the whole plane (measured 4x cheaper at 720p)
        self._up: np.ndarray | None = None
        self._down: np.ndarray | None = None
        self._ref: np.ndarray | None = None  # scene signature of the frame the delta was solved on
        self._age = 0

    def _set_delta(self, delta: np.ndarray) -> None:
        import cv2

        d = np.asarray(delta, np.float32)
        # convertScaleAbs rounds to nearest and saturates, as np.rint + clip did (a third of the time)
        self._up = cv2.convertScaleAbs(cv2.max(d, 0.0))
        self._down = cv2.convertScaleAbs(cv2.min(d, 0.0))

    def __call__(self, y: np.ndarray, _t: float = 0.0) -> np.ndarray:
        import cv2

        if not isinstance(y, np.ndarray) or y.dtype != np.uint8 or y.ndim != 2:
            raise WatermarkError("The luma plane must be a uint8 array of shape (H, W).")
        h, w = y.shape
        if h < 32 or w < 32:
            raise WatermarkError("The frame is too small to carry a watermark (at least 32×32 pixels).")
        fresh = self._up is None or self._up.shape != (h, w)
        if not self.informed:
            if fresh:
                self._set_delta(_full_pattern(self.payload, self.key, h, w) * (self.strength * _Y_SCALE))
        else:
            # scene signature: grid means of every 4th row (a quarter of the work of the exact means)
            signature = _grid_means(y[::4]) if self.hold > 1 else None
            if not fresh and self._age < self.hold and signature is not None and self._ref is not None:
                fresh = float(np.mean(np.abs(signature - self._ref))) > _SCENE_CHANGE
            fresh = fresh or self._age >= self.hold
            if fresh:
                host_c = (_grid_means(y) - 16.0) * (1.0 / _Y_SCALE)
                bit_amp = _bit_amplitudes_chips(host_c, h, w, self.payload, self.key, self.strength)
                chips = _chips_from_bit_amp(self.payload, self.key, bit_amp)
                delta = cv2.resize(chips, (w, h), interpolation=cv2.INTER_CUBIC)
                # quality guard as in _delta (in RGB units), then to Y units, rounded once
                rms = cv2.norm(delta) / math.sqrt(h * w)
                delta *= _Y_SCALE * min(1.0, _MAX_RMS / rms) if rms > 0 else _Y_SCALE
                self._set_delta(delta)
                self._ref, self._age = signature, 0
        self._age += 1
        cv2.add(y, self._up, dst=y)  # saturating, as the float add was
        cv2.subtract(y, self._down, dst=y)
        return y


# --------------------------------------------------------------------------------------------- detection


def _chip_residual(rgb: np.ndarray) -> np.ndarray:
    """High-passed, robustly normalised chip values (GRID, GRID) of one frame."""
    _check_rgb(rgb)
    r = _hp_chips(_luma(rgb))
    # robust scale (MAD) and clipping, so a few edges do not dominate the correlation
    return _normalise(r)


def detect_images(
    frames: Iterable[np.ndarray],
    *,
    key: str = DEFAULT_KEY,
    luma: bool = False,
    cancel: CancelToken | None = None,
) -> WatermarkDetection:
    """Detect the mark in one or more RGB frames (uint8) of the same item, aggregating over frames.

    ``luma=True``: the frames are decoded Y planes (H, W) uint8 instead; the chip residual is
    normalised robustly, so the limited-range offset and scale of Y against RGB luma do not matter.
    """
    lay = _layout(key)
    acc = np.zeros((GRID, GRID), dtype=np.float64)
    n = 0
    for frame in frames:
        check_cancel(cancel)
        if luma:
            if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 2 \
                    or min(frame.shape) < 32:
                raise WatermarkError("A luma plane must be a uint8 array (H, W) of at least 32×32 pixels.")
            acc += _normalise(_hp_chips(frame))
        else:
            acc += _chip_residual(frame)
        n += 1
    if n == 0:
        raise WatermarkError("No frames were given to detect a watermark in.")
    return _decide(acc.ravel() / n, lay, n)


def _decide(chips: np.ndarray, lay: _Layout, n: int) -> WatermarkDetection:
    from scipy.special import ndtr

    nbits = PILOT_BITS + DATA_BITS
    corr = chips * lay.sign
    sums = np.bincount(lay.owner, weights=corr, minlength=nbits)
    counts = np.bincount(lay.owner, minlength=nbits)
    # Null: each chip contributes an independent zero-mean term; estimate its variance from all chips
    # (includes the mark itself when present, which only makes the z-scores conservative).
    sigma = float(np.std(chips)) or 1.0
    z = sums / (sigma * np.sqrt(counts))
    pilot_z = float(np.sum(z[:PILOT_BITS] * lay.pilot) / math.sqrt(PILOT_BITS))
    data_z = z[PILOT_BITS:]
    raw, crc_ok = _decode_bits(data_z)
    found = bool(crc_ok and pilot_z >= PILOT_Z_THRESHOLD)
    confidence = float(np.clip((pilot_z - 2.0) / 6.0, 0.0, 1.0))
    if not crc_ok:
        confidence = min(confidence, 0.5)
    bit_acc = float(np.mean(ndtr(np.abs(data_z))))
    return WatermarkDetection(
        found=found,
        payload=raw if found else None,
        confidence=confidence,
        bit_accuracy_estimate=bit_acc,
        frames_used=n,
        pilot_z=pilot_z,
        crc_ok=bool(crc_ok),
        raw_payload=raw,
    )


def bit_accuracy(frames: Iterable[np.ndarray], payload: int, *, key: str = DEFAULT_KEY) -> float:
    """Fraction of the 48 data bits (payload + CRC) decoded right, aggregated over ``frames``.

    For measurement (tests, benchmark): the true payload must be known.
    """
    lay = _layout(key)
    acc = np.zeros((GRID, GRID), dtype=np.float64)
    n = 0
    for frame in frames:
        acc += _chip_residual(frame)
        n += 1
    if n == 0:
        raise WatermarkError("No frames were given.")
    corr = acc.ravel() * lay.sign
    sums = np.bincount(lay.owner, weights=corr, minlength=PILOT_BITS + DATA_BITS)[PILOT_BITS:]
    truth = _data_bits(_payload_int(payload))
    return float(np.mean(np.sign(sums) == truth))


# --------------------------------------------------------------------------------------------- video


def watermark_video(
    src: str | Path,
    dst: str | Path,
    payload: bytes | int,
    *,
    crf: int = 23,
    preset: str = "veryfast",
    strength: float | None = None,
    key: str = DEFAULT_KEY,
    masking: bool = False,
    metadata: dict[str, str] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> WatermarkVideoResult:
    """Re-encode ``src`` to ``dst`` (H.264, audio kept) with the mark on every frame."""
    from generec_desktop import media

    value = _payload_int(payload)
    amp = DEFAULT_STRENGTH if strength is None else float(strength)
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise WatermarkError("The output must be a different file from the input.")
    tags = {"comment": "generec watermark"} | dict(metadata or {})
    if masking:  # texture masking needs the full-resolution texture: the RGB path
        fn = _Embedder(value, key, amp, informed=True, masking=True)
        info = media.transform_video(src, dst, fn, crf=crf, preset=preset, metadata=tags, progress=progress,
                                     cancel=cancel)
    else:  # the fast path: the mark goes straight into the decoded Y plane (no colour conversion)
        info = media.transform_video(src, dst, _LumaEmbedder(value, key, amp), crf=crf, preset=preset,
                                     metadata=tags, luma=True, progress=progress, cancel=cancel)
    return WatermarkVideoResult(path=dst, payload=value, frames=int(info.frame_count), strength=amp)


def detect_video(
    path: str | Path,
    *,
    max_frames: int = 48,
    key: str = DEFAULT_KEY,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> WatermarkDetection:
    """Detect the mark in a video from up to ``max_frames`` frames spread evenly over its length."""
    from generec_desktop import media

    if max_frames < 1:
        raise WatermarkError("max_frames must be at least 1.")
    info = media.probe(path)
    duration = max(float(info.duration), 1e-3)
    count = max(1, min(int(max_frames), int(info.frame_count) or int(max_frames)))
    timestamps = [duration * (i + 0.5) / count for i in range(count)]
    report(progress, 0.0, "Sampling frames")
    # detection works on a 64×64 grid: a 360-px side is plenty and decodes/converts faster.
    frames = media.sample_frames(path, timestamps=timestamps, max_side=640, progress=progress, cancel=cancel)
    if not frames:
        raise WatermarkError(f"No frames could be read from {path}.")
    result = detect_images((f.image for f in frames), key=key, cancel=cancel)
    report(progress, 1.0, "Done")
    return result


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two uint8 images of the same shape."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0**2 / mse)

