"""Invisible watermark for still images (artwork, thumbnails) that survives JPEG and resizing.

Why not the video mark (:mod:`.watermark`) on a still: it relies on averaging over frames and its
chips are read at 64×64; on one 512 px photo after JPEG it is not read back. Why not a library:
``invisible-watermark``'s dwtDct is at chance after a 50 % resize and pulls the non-headless OpenCV
(see :mod:`.watermark`). This is a small spread-spectrum mark in block-DCT coefficients:

* **Canonical frame.** The luma is resized (``INTER_AREA``) to a fixed ``CANON × CANON`` frame, whatever
  the image's size or aspect. The mark is computed there as a *difference*, upsampled to the image's size
  and added to R, G and B equally (luma only; the picture's own detail is never resampled). A resize of
  the marked file maps to the same canonical frame, so it keeps the mark. A crop (even 10 %) or a
  rotation moves the frame and removes it (no geometric search here).
* **Where.** The 8×8 block DCT of the canonical luma: the 18 mid-frequency coefficients with
  ``2 ≤ u + v ≤ 5`` of each of the 1024 blocks. Each of 64 bits (16 keyed pilot bits, 32 payload bits, a
  CRC-16) owns a keyed random set of 288 coefficients with keyed random signs (spread spectrum). The
  layout is drawn from the installation's secret key (:mod:`.watermark_key`), in its own namespace
  (``still-v1``), so only this installation reads or writes marks it accepts.
* **Perceptual masking.** A coefficient's change is proportional to its block's mid-band energy (clipped
  to ``[FLOOR, CAP]``): textured blocks carry more, flat sky little.
* **Detection.** Each coefficient is divided by its block's scale (whitening: textured blocks are noisy);
  per bit ``z = Σ s·x / sqrt(Σ x²)``, which is exactly N(0, 1)-distributed (mean 0, variance 1) on any
  unmarked image because the keyed signs are independent of the picture. The pilot's ``Z = Σ p·z / 4``
  is N(0, 1) unmarked; ``found`` needs ``Z ≥ PILOT_Z_THRESHOLD`` (p ≈ 3e-7) **and** a matching CRC
  (hard decision, then Chase flips of the 4 weakest bits: random bits pass with p ≈ 2.4e-4).
* **Informed, closed-loop embedding.** The embedder cancels the host's own correlation per bit and then
  checks itself against the attack it must survive (the stored JPEG, JPEG quality 75 and a 50 % resize),
  boosting only the bits that came out weak, until the pilot clears its threshold by ``PILOT_MARGIN`` and
  every data bit is ``DATA_Z`` on its right side, clean and attacked, or the PSNR floor :data:`MIN_PSNR`
  is reached.

Reliable from about 480×270 pixels up (smaller images leave too little of the canonical frame's detail
after a 50 % resize): :func:`embed_still` refuses smaller ones. Measured in ``benchmarks/bench_still_mark.py``.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from generec_desktop.fidelity.watermark import (
    CRC_BITS,
    MIN_PSNR,
    PAYLOAD_BITS,
    WatermarkError,
    crc16,
)

__all__ = [
    "MIN_HEIGHT",
    "MIN_WIDTH",
    "PILOT_Z_THRESHOLD",
    "StillDetection",
    "StillEmbedding",
    "attack",
    "detect_still",
    "embed_still",
]

CANON = 256
BLOCK = 8
PILOT_BITS = 16
DATA_BITS = PAYLOAD_BITS + CRC_BITS  # 48
NBITS = PILOT_BITS + DATA_BITS  # 64
#: Smallest image the mark is reliable on (either orientation).
MIN_WIDTH, MIN_HEIGHT = 480, 270
#: Pilot z-score above which a mark is present: p ≈ 2.9e-7 on unmarked images (z is N(0, 1) there).
PILOT_Z_THRESHOLD = 5.0
#: Per-bit z the embedder starts from (pilot Z then ≈ 4 × TARGET_Z); it stops once, clean and after the
#: attack, the pilot is PILOT_MARGIN above its threshold and every data bit is DATA_Z on its right side.
TARGET_Z = 2.0
PILOT_MARGIN = 2.0
DATA_Z = 1.5
#: Block scale bounds (orthonormal DCT units of the canonical frame) for masking and whitening.
FLOOR, CAP = 2.0, 24.0
CHASE_BITS = 4
_ITERATIONS = 10
PROXY_SIDE = 1600
_MAX_RMS = 255.0 * 10 ** (-MIN_PSNR / 20)


def _mid_band() -> np.ndarray:
    uv = [(u, v) for u in range(BLOCK) for v in range(BLOCK) if 2 <= u + v <= 5]
    return np.array(uv, dtype=np.int64)


_MID = _mid_band()  # (18, 2)
_NCOEF = (CANON // BLOCK) ** 2 * len(_MID)  # 18432


@lru_cache(maxsize=1)
def _dct_matrix() -> np.ndarray:
    n = BLOCK
    k = np.arange(n)
    c = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n))
    c[0] /= np.sqrt(2.0)
    return np.asarray(c, np.float64)


@dataclass(frozen=True)
class _Layout:
    owner: np.ndarray  # (_NCOEF,) which bit owns each coefficient
    sign: np.ndarray  # (_NCOEF,) ±1
    pilot: np.ndarray  # (PILOT_BITS,) ±1


@lru_cache(maxsize=8)
def _layout(key: str) -> _Layout:
    seed = int.from_bytes(hashlib.sha256(b"still-v1\x00" + key.encode()).digest(), "big")
    rng = np.random.default_rng(seed)
    owner = rng.permutation(np.arange(_NCOEF) % NBITS)
    sign = rng.choice(np.array([-1.0, 1.0]), size=_NCOEF)
    pilot = rng.choice(np.array([-1.0, 1.0]), size=PILOT_BITS)
    return _Layout(owner, sign, pilot)


def _resolve_key(key: str | None) -> str:
    from generec_desktop.fidelity.watermark import _resolve_key as resolve

    return resolve(key)


def _check(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise WatermarkError("The image must be a uint8 RGB array of shape (H, W, 3).")
    if rgb.shape[0] < 16 or rgb.shape[1] < 16:
        raise WatermarkError("The image is too small to look for a watermark in (at least 16×16 pixels).")


def _payload_bits(payload: int) -> np.ndarray:
    """The 64 bit values (pilot then payload and CRC) as ±1, pilot filled in by the caller."""
    if isinstance(payload, bool) or not isinstance(payload, int | np.integer) or not 0 <= int(payload) < 1 << 32:
        raise WatermarkError("The payload must be a non-negative integer below 2**32.")
    value = int(payload)
    word = (value << CRC_BITS) | crc16(value.to_bytes(4, "big"))
    return np.array([((word >> (DATA_BITS - 1 - i)) & 1) * 2.0 - 1.0 for i in range(DATA_BITS)])


def _canonical_luma(rgb: np.ndarray) -> np.ndarray:
    import cv2

    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(y, (CANON, CANON), interpolation=cv2.INTER_AREA), np.float64)


def _mid_coefficients(y256: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mid-band coefficients (_NCOEF,), their block scale (_NCOEF,))."""
    c = _dct_matrix()
    nb = CANON // BLOCK
    blocks = y256.reshape(nb, BLOCK, nb, BLOCK).transpose(0, 2, 1, 3)
    coef = np.einsum("ij,abjk,lk->abil", c, blocks, c)
    mid = coef[:, :, _MID[:, 0], _MID[:, 1]]  # (32, 32, 18)
    scale = np.clip(np.sqrt(np.mean(mid * mid, axis=2, keepdims=True)), FLOOR, CAP)
    return mid.reshape(-1), np.broadcast_to(scale, mid.shape).reshape(-1)


def _spatial(delta_mid: np.ndarray) -> np.ndarray:
    """The canonical-frame luma difference (CANON, CANON) of mid-band coefficient changes."""
    c = _dct_matrix()
    nb = CANON // BLOCK
    coef = np.zeros((nb, nb, BLOCK, BLOCK))
    coef[:, :, _MID[:, 0], _MID[:, 1]] = delta_mid.reshape(nb, nb, len(_MID))
    blocks = np.einsum("ji,abjk,kl->abil", c, coef, c)
    return np.asarray(blocks.transpose(0, 2, 1, 3).reshape(CANON, CANON))


def _bit_z(rgb: np.ndarray, lay: _Layout) -> np.ndarray:
    """Per-bit z-scores (NBITS,) of an image: N(0, 1) each on unmarked content."""
    mid, scale = _mid_coefficients(_canonical_luma(rgb))
    x = mid / scale
    num = np.bincount(lay.owner, weights=lay.sign * x, minlength=NBITS)
    den = np.sqrt(np.bincount(lay.owner, weights=x * x, minlength=NBITS)) + 1e-9
    return np.asarray(num / den)


def attack(rgb: np.ndarray, *, quality: int = 75, scale: float = 0.5) -> np.ndarray:
    """JPEG at ``quality`` then a resize by ``scale`` (``INTER_AREA``): what the store checks a mark against."""
    import cv2
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        img = np.asarray(im.convert("RGB"))
    h, w = img.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8)


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


@dataclass(frozen=True)
class StillEmbedding:
    """Result of :func:`embed_still`: the marked image and how well the mark reads."""

    image: np.ndarray
    payload: int
    psnr: float
    clean_z: float  # weakest bit's z (signed toward its value) on the marked image
    attacked_z: float  # the same after the store's attack
    iterations: int


@dataclass(frozen=True)
class StillDetection:
    """Result of :func:`detect_still`. ``payload`` is set only when ``found``."""

    found: bool
    payload: int | None
    pilot_z: float
    crc_ok: bool
    min_bit_z: float  # weakest decoded bit's |z|
    raw_payload: int | None = None


def too_small(width: int, height: int) -> bool:
    """True when an image of this size is below what the mark is reliable on (either orientation)."""
    return max(width, height) < MIN_WIDTH or min(width, height) < MIN_HEIGHT


def embed_still(rgb: np.ndarray, payload: int, *, key: str | None = None, store_quality: int = 92,
                target_z: float = TARGET_Z) -> StillEmbedding:
    """Return ``rgb`` marked with ``payload`` (see the module docstring); the input is not modified.

    ``store_quality``: the JPEG quality the caller will store it at (the loop simulates it before the attack).
    Refuses images below :data:`MIN_WIDTH` × :data:`MIN_HEIGHT` (either orientation) with a clear error.
    """
    import cv2

    _check(rgb)
    h, w = rgb.shape[:2]
    if too_small(w, h):
        raise WatermarkError(f"The image is {w}×{h} pixels; the still-image watermark is reliable only from "
                             f"{MIN_WIDTH}×{MIN_HEIGHT} (or {MIN_HEIGHT}×{MIN_WIDTH}) up, so it was not marked. "
                             "Use a larger frame or image.")
    lay = _layout(_resolve_key(key))
    want = np.concatenate([lay.pilot, _payload_bits(payload)])  # (64,) ±1
    mid, scale = _mid_coefficients(_canonical_luma(rgb))
    x = mid / scale
    n = np.bincount(lay.owner, minlength=NBITS).astype(np.float64)
    # host correlation per bit in whitened units, and the z it gives
    host = np.bincount(lay.owner, weights=lay.sign * x, minlength=NBITS) / n
    norm = np.sqrt(np.bincount(lay.owner, weights=x * x, minlength=NBITS) / n) + 1e-9
    # t[b]: the mean whitened change of bit b's coefficients, in the direction of its value
    t = np.maximum(0.0, target_z * norm / np.sqrt(n) - want * host) + 0.0
    # A large image is tuned on a proxy of at most PROXY_SIDE px (the mark lives in the 256² frame, so the
    # proxy responds alike): 13 MP took 137 s with every iteration at full size, against 0.8 s median.
    big = max(h, w) > PROXY_SIDE
    if big:
        s = PROXY_SIDE / max(h, w)
        proxy = np.asarray(cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))),
                                      interpolation=cv2.INTER_AREA), np.uint8)
        t, _img, _stats, _it = _tune(proxy, t, want, lay, scale, norm, n, store_quality, target_z, _ITERATIONS)
    t, img, (z_clean, z_att), iterations = _tune(rgb, t, want, lay, scale, norm, n, store_quality, target_z,
                                                 3 if big else _ITERATIONS)
    return StillEmbedding(image=img, payload=int(payload), psnr=_psnr(rgb, img), clean_z=z_clean,
                          attacked_z=z_att, iterations=iterations)


def _tune(rgb: np.ndarray, t: np.ndarray, want: np.ndarray, lay: _Layout, scale: np.ndarray, norm: np.ndarray,
          n: np.ndarray, store_quality: int, target_z: float,
          max_iterations: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float], int]:
    """The closed loop of :func:`embed_still` on ``rgb``: (per-bit changes, marked image, (weakest clean z,
    weakest attacked z), iterations)."""
    import cv2

    h, w = rgb.shape[:2]
    src = rgb.astype(np.float32)
    img, z_clean, z_att = rgb, -math.inf, -math.inf
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (the count is reported)
        delta_mid = (want * t)[lay.owner] * lay.sign * scale
        d = _spatial(delta_mid).astype(np.float32)
        d_full = np.asarray(cv2.resize(d, (w, h), interpolation=cv2.INTER_LINEAR if w >= CANON and h >= CANON
                                       else cv2.INTER_AREA), np.float32)
        img = np.clip(src + d_full[:, :, None], 0, 255).round().astype(np.uint8)
        # the PSNR floor, on the change that lands (clipping at black and white removes part of it)
        rms = float(np.sqrt(np.mean((img.astype(np.float32) - src) ** 2)))
        if rms > _MAX_RMS:  # never more than MIN_PSNR costs
            d_full = d_full * np.float32(_MAX_RMS / rms)
            img = np.clip(src + d_full[:, :, None], 0, 255).round().astype(np.uint8)
        zc = _bit_z(img, lay) * want
        za = _bit_z(attack(_jpeg(img, store_quality)), lay) * want
        z_clean, z_att = float(zc.min()), float(za.min())
        weak = np.minimum(zc, za)
        pilot_ok = float(np.sum(weak[:PILOT_BITS])) / math.sqrt(PILOT_BITS) >= PILOT_Z_THRESHOLD + PILOT_MARGIN
        data_ok = float(weak[PILOT_BITS:].min()) >= DATA_Z
        if (pilot_ok and data_ok) or rms > _MAX_RMS:
            break
        # boost what is short, each bit in proportion to its deficit (the response is about linear): the
        # data bits below DATA_Z, the pilot's weak bits while the pilot as a whole is short
        goal = np.full(NBITS, DATA_Z + 0.5)
        goal[:PILOT_BITS] = target_z + 0.5 if not pilot_ok else -math.inf
        t = t + np.maximum(0.0, goal - weak) * norm / np.sqrt(n)
    return t, img, (z_clean, z_att), iterations


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def _word(bits: np.ndarray) -> tuple[int, bool]:
    word = 0
    for b in bits:
        word = (word << 1) | int(b)
    payload, crc = word >> CRC_BITS, word & ((1 << CRC_BITS) - 1)
    return payload, crc16(payload.to_bytes(4, "big")) == crc


def detect_still(rgb: np.ndarray, *, key: str | None = None) -> StillDetection:
    """Look for the still mark in ``rgb`` (uint8 RGB, any size: a resized copy reads the same)."""
    _check(rgb)
    lay = _layout(_resolve_key(key))
    z = _bit_z(rgb, lay)
    pilot_z = float(np.sum(z[:PILOT_BITS] * lay.pilot) / math.sqrt(PILOT_BITS))
    soft = z[PILOT_BITS:]
    hard = (soft > 0).astype(np.int64)
    raw, ok = _word(hard)
    payload = raw
    if not ok:
        weak = np.argsort(np.abs(soft))[:CHASE_BITS]
        for m in sorted(range(1, 1 << CHASE_BITS), key=lambda m: sum(abs(soft[weak[i]]) for i in range(CHASE_BITS)
                                                                     if m >> i & 1)):
            trial = hard.copy()
            for i in range(CHASE_BITS):
                if m >> i & 1:
                    trial[weak[i]] ^= 1
            payload, ok = _word(trial)
            if ok:
                break
    found = ok and pilot_z >= PILOT_Z_THRESHOLD
    return StillDetection(found=found, payload=payload if found else None, pilot_z=pilot_z, crc_ok=ok,
                          min_bit_z=float(np.min(np.abs(soft))), raw_payload=raw)
