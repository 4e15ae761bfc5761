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
  with the bit's pattern (improved spread spectrum), solved on the 64×64 chip grid against the detector
  itself (its reliability weighting included) and the share of the mark an H.264 export keeps
  (:data:`VIDEO_CHANNEL_GAIN`). This, not raw strength, is what makes a 39 dB mark survive CRF 28 (plain
  spread spectrum needed ~2× the amplitude).
* **Solved on every frame.** The chip pattern is the same on every frame (a static pattern costs little
  under inter-frame coding, and detection averages chip values over frames); only the 64 per-bit
  amplitudes follow the picture, so that each frame alone carries the mark with its own host cancelled:
  a single frame taken out of the video (a screenshot) reads on its own.
* **Luma only, added to R, G and B equally.** Adding ``d`` to all three channels changes Y by ``d``
  and leaves U and V unchanged, so embedding needs no colour conversion. PSNR is capped at 38.5 dB.
* **Detection.** Chip values are high-passed (chip minus the mean of its 8 neighbours) to remove most of
  the host image, divided by their local scale (the host left over sits on edges and texture: those chips
  are less reliable), robustly normalised and clipped, averaged over frames, then correlated per bit. The
  pilot gives a z-score that is N(0, 1) on unmarked content; ``found`` needs pilot z ≥ 4 **and** a
  matching CRC (CRC-aided Chase decoding of the 6 weakest bits), so "no watermark" is told apart from
  "watermark with payload X".
* **Identification.** One frame of a video carries too little of the mark to decode its 48 bits blind
  (per-bit z ≈ 1), but enough to tell which of a few known payloads it carries: given ``candidates``
  (a manifest's payload, a workspace's exports), a likelihood-ratio test against "some other payload"
  names one, with a false-identification bound that holds at any SNR (:data:`IDENTIFY_ALPHA`).
* **Secret key.** The layout (which chips carry which bit, their signs, the pilot) is drawn from the
  installation's secret key (:mod:`.watermark_key`: 256 random bits in the user data folder), so only an
  installation holding the key can read the mark — or write one it would accept: embedding a version's
  payload with another key makes a file this installation reports as unmarked. ``key=`` overrides it
  (tests, a teammate's key). The layout seed is the full SHA-256 of the key.
* **Legacy marks.** Before keys were secret every mark used the public constant :data:`LEGACY_KEY` (with a
  64-bit seed). Detection with the installation key also tries that layout (same frame, no geometric
  search) and reports ``legacy_key=True``: the payload is readable but anyone could have written it, so
  it is *not* proof of origin (the identifiability check warns, ``verify_file`` refuses it as proof).
  No demo workspace or committed test file carries such a mark; old exports of earlier versions may.
* **Geometry search.** When the frame as given carries no mark, detection searches the hypotheses of a
  horizontal flip, a 90/180/270° rotation and a crop of up to 10 % per axis (the chip grid scaled by up
  to 1/0.9 and shifted): one FFT correlation of the pilot per orientation and scale pair over all
  offsets (quarter-chip steps), then a local refinement of the best few. Searching many hypotheses
  inflates the best pilot z under no mark, so a searched hypothesis needs :data:`SEARCH_Z_THRESHOLD`
  (Bonferroni over the effective number of hypotheses) as well as the CRC.
* **Honest confidence.** ``bit_accuracy_estimate`` is the fraction of decoded bits the CRC-checked word
  confirms when the mark is found; otherwise it is the expected accuracy at the per-bit SNR the pilot
  implies (≈ 0.5 on unmarked content or with a wrong key).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from generec_desktop.jobs import CancelToken, GenerecError, Progress, check_cancel, report

__all__ = [
    "DEFAULT_IMAGE_STRENGTH",
    "DEFAULT_STRENGTH",
    "LEGACY_KEY",
    "PAYLOAD_BITS",
    "PILOT_Z_THRESHOLD",
    "SEARCH_Z_THRESHOLD",
    "WatermarkDetection",
    "WatermarkError",
    "WatermarkVideoResult",
    "bit_accuracy",
    "crc16",
    "detect_images",
    "detect_video",
    "embed_image",
    "luma_embedder",
    "payload_for_version",
    "psnr",
    "watermark_video",
]

PAYLOAD_BITS = 32
CRC_BITS = 16
PILOT_BITS = 16
DATA_BITS = PAYLOAD_BITS + CRC_BITS
GRID = 64
#: The public key every mark used before keys were secret: readable by anyone, so never proof of origin.
#: Only detection uses it (see "Legacy marks" above); embedding uses the installation key.
LEGACY_KEY = "generec-desktop-v1"
#: Nominal chip amplitude (8-bit luma levels) of a video frame: at 2.0 bikes grew 15.7 % at CRF 28 (target
#: ≤ 15 %), at 1.75 12.9 % with 720p CRF 28 bit accuracy still 1.000 (benchmarks/bench_watermark.py).
DEFAULT_STRENGTH = 1.75
#: A still (thumbnail) has no frames to average over, so it gets a stronger mark (PSNR guard still holds).
DEFAULT_IMAGE_STRENGTH = 3.0
#: Pilot z-score above which a mark is present. Under no mark z ~ N(0, 1) (p ≈ 3e-5) and the CRC,
#: which must match too, passes with p ≈ 2**-10 after Chase decoding: ≈ 3e-8 false positives per item;
#: the geometry search adds as many again (its own threshold, SEARCH_Z_THRESHOLD).
PILOT_Z_THRESHOLD = 4.0


class WatermarkError(GenerecError):
    """Bad input to the watermark (an image that is not RGB uint8, a payload that does not fit...)."""


@dataclass(frozen=True)
class WatermarkDetection:
    """What :func:`detect_images` found.

    ``confidence`` in [0, 1] grows with the pilot z-score (0 at z ≤ 2, 1 at z ≥ 8, both shifted by the
    search's stricter threshold for a searched hypothesis; at most 0.5 when the CRC fails);
    ``bit_accuracy_estimate``: the estimated fraction of data bits decoded right (≈ 0.5 when there is no
    mark; see :func:`_bit_accuracy_estimate`). ``payload`` is set only when ``found``. ``pilot_z`` is the
    frame as given unless a searched hypothesis was found (then that hypothesis's, see ``geometry``).
    """

    found: bool
    payload: int | None
    confidence: float
    bit_accuracy_estimate: float
    frames_used: int
    pilot_z: float = 0.0
    crc_ok: bool = False
    raw_payload: int | None = None  # the decoded 32 bits even when the CRC or pilot failed
    legacy_key: bool = False  # marked with the old public LEGACY_KEY: readable by anyone, not proof of origin
    geometry: str | None = None  # the flip/rotation/crop the search undid to find it; None: as given
    search_z: float | None = None  # best pilot z the geometry search saw (None: not run); vs SEARCH_Z_THRESHOLD
    identified_among: int | None = None  # found by matching this many known payloads (see _identify)


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


#: Chase decoding: also try flipping any subset of this many least reliable bits (64 candidates: 6 read
#: 17 of 48 single video frames, 4 read 15; random bits then pass the CRC with p ≈ 2**-10).
CHASE_BITS = 6


def _decode_bits(soft: np.ndarray) -> tuple[int, bool]:
    """Decode 48 soft bits (payload + CRC); returns (payload, crc_ok).

    CRC-aided Chase decoding: the hard decision first, then flips of the least reliable bits in
    order of total flipped reliability; the first candidate whose CRC matches wins. It fixes the
    one or two weak bits a heavy re-encode leaves, at a 2**CHASE_BITS larger chance that random
    bits pass the CRC (~2**-10, and ``found`` also needs the pilot).
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


def _resolve_key(key: str | None) -> str:
    """``key``, or the installation's secret key when None (made on first use)."""
    if key is not None:
        if not isinstance(key, str) or not key:
            raise WatermarkError("The watermark key must be a non-empty string.")
        return key
    from generec_desktop.fidelity.watermark_key import installation_key

    return installation_key()


@lru_cache(maxsize=8)
def _layout(key: str) -> _Layout:
    digest = hashlib.sha256(key.encode()).digest()
    # the legacy public key keeps its 64-bit seed so that old marks still read; any other key seeds the
    # generator with all 256 bits of its hash
    seed = int.from_bytes(digest[:8] if key == LEGACY_KEY else digest, "big")
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
#: Informed embedding: the per-bit amplitude range (× strength) and the solver's fixed-point steps (3 read as 4
#: did: bikes 26/30 against 25/30, bigbuckbunny 30/30, at three quarters of the cost). The cap
#: was 3× while the solve ignored the channel's loss; solving for the response after it (below), bikes' single
#: frames need more on the bits its textured frames fight: 5× read 24/30 blind against 21/30 at 3×, for 0.3 dB
#: of PSNR (the per-frame guard MIN_PSNR still bounds every frame; benchmarks/bench_watermark.py --single).
_AMP_RANGE = (0.25, 5.0)
_ISS_STEPS = 3
#: Fraction of the mark's detector response an H.264 export at CRF 23 keeps, as the informed embedding
#: models it (see :func:`_bit_amplitudes_chips`). Measured on bikes through CRF 23: 0.8 on P frames, 0.5–0.8
#: on B frames. As a model parameter it trades single frames for PSNR (Y) and size; bikes / bigbuckbunny,
#: 30 frames read blind, PSNR, growth at CRF 23: 0.6: 26/30, 40.8 / 40.9 dB, +22.5 / +6.1 %; 0.7: 24/30,
#: 41.1 / 41.5 dB, +20.9 / +5.0 %; 0.8: 22/30, 41.3 / 41.8 dB, +19.8 / +4.2 %; held amplitudes before (main):
#: 12/30, 41.3 / 42.1 dB, +20.9 / +10.4 %. All identify ≥ 29/30 among 100 known payloads; 0.7 is the middle
#: of the measured loss.
VIDEO_CHANNEL_GAIN = 0.7
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


#: Detector's per-chip reliability weighting: a chip's residual is divided by the mean |residual| of its
#: 3×3 neighbourhood (plus this fraction of the frame's median |residual|). The host left after the
#: high-pass (std ≈ 13 levels against a 1.2-level mark on bikes and bigbuckbunny) sits on edges and texture,
#: so this down-weights the chips where it is large: single exported frames read 17 and 23 of 30 instead of
#: 6 and 6 (benchmarks/bench_watermark.py --single). The informed embedder models this weighting too (it
#: did not at first: its host cancellation was then off by the weights, most on textured frames).
_LOCAL_WIN = 3
_LOCAL_EPS = 0.3


def _reliability_weighted(r: np.ndarray) -> np.ndarray:
    """Chip residuals (GRID, GRID) divided by their local scale (see :data:`_LOCAL_WIN`)."""
    import cv2

    a = np.abs(r)
    scale = cv2.blur(a, (_LOCAL_WIN, _LOCAL_WIN), borderType=cv2.BORDER_REFLECT)
    return r / (scale + max(_LOCAL_EPS * float(np.median(a)), 0.05))


def _detector_chips(y: np.ndarray) -> np.ndarray:
    """What the detector correlates for one luma plane: high-passed chips, reliability-weighted, then
    robustly normalised and clipped."""
    return _detector_chips_r(_hp_chips(y))


def _detector_chips_r(r: np.ndarray, scales: tuple[float, float] | None = None) -> np.ndarray:
    """:func:`_detector_chips` from the high-passed chips ``r`` (what the informed embedder models).

    ``scales``: the two medians the detector takes (:func:`_detector_scales`), when the caller already has
    them for a nearly equal ``r``: the three medians are most of the cost on a 64×64 grid."""
    import cv2

    if scales is None:
        return _normalise(_reliability_weighted(r))
    eps, mad = scales
    wr = r / (cv2.blur(np.abs(r), (_LOCAL_WIN, _LOCAL_WIN), borderType=cv2.BORDER_REFLECT) + eps)
    return np.clip(wr / mad, -_CLIP, _CLIP)


def _detector_scales(r: np.ndarray) -> tuple[float, float]:
    """The reliability weighting's floor and the normalisation's MAD that :func:`_detector_chips_r` uses on ``r``."""
    import cv2

    def median(x: np.ndarray) -> float:  # the upper median: one partition, 4x faster than np.median
        flat = x.ravel()
        return float(np.partition(flat, flat.size // 2)[flat.size // 2])

    a = np.abs(r)
    eps = max(_LOCAL_EPS * median(a), 0.05)
    wr = r / (cv2.blur(a, (_LOCAL_WIN, _LOCAL_WIN), borderType=cv2.BORDER_REFLECT) + eps)
    mad = median(np.abs(wr - median(wr))) * 1.4826
    return eps, max(mad, 0.05)


def _bit_amplitudes(rgb: np.ndarray, payload: int, key: str, amp: float,
                    channel_gain: float = 1.0) -> np.ndarray:
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
    return _bit_amplitudes_chips(host_c, h, w, payload, key, amp, channel_gain)


def _bit_amplitudes_chips(host_c: np.ndarray, h: int, w: int, payload: int, key: str, amp: float,
                          channel_gain: float = 1.0) -> np.ndarray:
    """:func:`_bit_amplitudes` from the host's (GRID, GRID) float32 chip means (detector luma units)
    of an (h, w) frame: all the informed embedding's work happens on the 64×64 grid.

    The model is the detector itself (:func:`_detector_chips`: high-pass, reliability weighting,
    normalisation and clipping) applied to the host plus the mark scaled by ``channel_gain``: the fraction
    of the mark's chip response the coder is expected to keep (:data:`VIDEO_CHANNEL_GAIN` for a video).
    Each bit is solved so that, *after* that loss, the host's correlation is cancelled and the detector's
    response reaches what plain spread spectrum at ``amp`` would give after it: bits the host fights get
    ``host / channel_gain`` more (capped at :data:`_AMP_RANGE`), so an attenuated mark no longer leaves
    them at the mercy of the host. Bits the host leaves alone get ``amp``: the nominal strength is unchanged.
    """
    import cv2

    lay = _layout(key)
    nbits = PILOT_BITS + DATA_BITS
    values = _values(payload, key)
    counts = _counts(key)
    hp = np.full((3, 3), -1.0 / 8.0, dtype=np.float32)
    hp[1, 1] = 1.0
    kern = cv2.filter2D(_chip_kernel(h, w), -1, hp, borderType=cv2.BORDER_CONSTANT)
    kern = (kern * channel_gain).astype(np.float32)
    host_r = cv2.filter2D(host_c, -1, hp, borderType=cv2.BORDER_REFLECT)
    signs = lay.sign * values[lay.owner]
    lo, hi = _AMP_RANGE[0] * amp, _AMP_RANGE[1] * amp
    boost = np.where(np.arange(nbits) < PILOT_BITS, _PILOT_BOOST, 1.0)
    bit_amp = amp * boost
    chips = (signs * bit_amp[lay.owner]).reshape(GRID, GRID).astype(np.float32)
    r = host_r + cv2.filter2D(chips, -1, kern, borderType=cv2.BORDER_REFLECT)
    # Each chip's weight in the detector on the host alone (normalised units per luma level of chip
    # residual), and so each bit's response per level of its amplitude: what plain spread spectrum's target
    # is measured in. (The same weights measured with the mark in read bikes 22/30 at 1 dB more PSNR: a
    # weaker mark, not a better one.)
    eps0, mad0 = _detector_scales(host_r)
    wgt = 1.0 / (cv2.blur(np.abs(host_r), (_LOCAL_WIN, _LOCAL_WIN), borderType=cv2.BORDER_REFLECT) + eps0)
    slope = _CHIP_GAIN * np.bincount(lay.owner, weights=wgt.ravel() / mad0, minlength=nbits) / counts
    slope = np.maximum(slope * channel_gain, 1e-6)
    target = amp * boost * slope  # plain spread spectrum's response at amp, after the channel
    # The detector's scales on host + mark (three medians: most of the solve's cost) are measured once, with
    # the plain mark, and kept: re-measuring them every step read the same single frames (bikes 24/30
    # against 25/30, bigbuckbunny 30/30) at half the embedder's speed.
    scales = _detector_scales(r)
    for step in range(_ISS_STEPS):
        if step:
            chips = (signs * bit_amp[lay.owner]).reshape(GRID, GRID).astype(np.float32)
            r = host_r + cv2.filter2D(chips, -1, kern, borderType=cv2.BORDER_REFLECT)
        got = np.bincount(lay.owner, weights=_detector_chips_r(r, scales).ravel() * signs, minlength=nbits) / counts
        bit_amp = np.clip(bit_amp + (target - got) / slope, lo, hi * boost)
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
    key: str | None = None,
    informed: bool = True,
    masking: bool = False,
) -> np.ndarray:
    """Return a copy of ``rgb`` (uint8 RGB) carrying ``payload`` (≤ 32 bits); the input is not modified.

    ``strength`` is the nominal chip amplitude in 8-bit luma levels (default
    :data:`DEFAULT_IMAGE_STRENGTH`; videos use :data:`DEFAULT_STRENGTH` per frame).
    ``key``: the installation's secret key when None.
    ``informed`` adapts each bit's amplitude to the host (see :func:`_chip_amplitudes`); ``masking``
    moves strength from flat to textured regions at the same mean.
    """
    _check_rgb(rgb)
    value = _payload_int(payload)
    amp = DEFAULT_IMAGE_STRENGTH if strength is None else float(strength)
    if not 0.0 < amp <= 32.0:
        raise WatermarkError("The strength must be in (0, 32] luma levels.")
    return _apply(rgb, _delta(rgb, value, _resolve_key(key), amp, informed, masking))


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
                bit_amp = _bit_amplitudes(rgb, self.payload, self.key, self.strength, VIDEO_CHANNEL_GAIN)
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
#: early (a cut). 1: solved on every frame. A held solve cancels the host of the frame it was solved on,
#: not of the frames that follow: on a panning clip (bikes) single frames read 12/30 held 12, 20/30 solved
#: every frame, and files are no larger (bigbuckbunny +10.4 % → +5.0 % at CRF 23); benchmarks/bench_watermark.py.
_HOLD = 1
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
    * **solved on every frame** (the default, ``hold=1``): the informed amplitudes cancel the host of
      the frame they are added to, so a single frame taken out of the video carries the whole mark;
      the solve (64×64, 0.2 ms) and one bicubic upsample and add per frame (0.9 ms at 720p);
    * or **held** (``hold > 1``): the per-bit amplitudes are solved on one frame and the same integer
      delta is added to the next ``hold - 1`` frames too, re-solved early at a scene change (grid
      means moving by more than ``_SCENE_CHANGE`` levels); a held frame costs one add.
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
        elif self.hold == 1:
            return self._solved(y)
        else:
            # scene signature: grid means of every 4th row (a quarter of the work of the exact means)
            signature = _grid_means(y[::4])
            if not fresh and self._age < self.hold and self._ref is not None:
                fresh = float(np.mean(np.abs(signature - self._ref))) > _SCENE_CHANGE
            fresh = fresh or self._age >= self.hold
            if fresh:
                self._set_delta(self._render(self._solve(y), h, w))
                self._ref, self._age = signature, 0
        self._age += 1
        assert self._up is not None and self._down is not None
        cv2.add(y, self._up, dst=y)  # saturating, as the float add was
        cv2.subtract(y, self._down, dst=y)
        return y

    def _solve(self, y: np.ndarray) -> np.ndarray:
        """The informed per-bit amplitudes (RGB luma levels) for the plane ``y``."""
        h, w = y.shape
        host_c = (_grid_means(y) - 16.0) * (1.0 / _Y_SCALE)
        return _bit_amplitudes_chips(host_c, h, w, self.payload, self.key, self.strength, VIDEO_CHANNEL_GAIN)

    def _render(self, bit_amp: np.ndarray, h: int, w: int) -> np.ndarray:
        """The float32 delta (H, W) in Y units for ``bit_amp``, within the quality guard of :func:`_delta`."""
        import cv2

        # Y units folded into the 64×64 chips (the upsample is linear): one full-size float pass fewer
        chips = _chips_from_bit_amp(self.payload, self.key, bit_amp * _Y_SCALE)
        delta = cv2.resize(chips, (w, h), interpolation=cv2.INTER_CUBIC)
        rms = cv2.norm(delta) / math.sqrt(h * w)
        if rms > _MAX_RMS * _Y_SCALE:  # rare: hostile content asking for the cap on many bits
            delta *= _MAX_RMS * _Y_SCALE / rms
        return delta

    def _solved(self, y: np.ndarray) -> np.ndarray:
        """Solve on this frame, draw its delta and add it with one saturating, rounding add (uint8 + float32:
        the same result as rounding the delta first, in one pass instead of the held path's five).

        Keeping the drawn delta until some bit's amplitude moved by more than 10 % of the strength did not
        pay: bikes redraws nearly every frame anyway, and bigbuckbunny's files grew more (+5.8 % against
        +4.9 % at CRF 23) for a fifth more speed."""
        import cv2

        h, w = y.shape
        cv2.add(y, self._render(self._solve(y), h, w), dst=y, dtype=cv2.CV_8U)
        return y


# --------------------------------------------------------------------------------------------- detection


def _chip_residual(rgb: np.ndarray) -> np.ndarray:
    """High-passed, reliability-weighted, robustly normalised chip values (GRID, GRID) of one frame."""
    _check_rgb(rgb)
    return _detector_chips(_luma(rgb))


#: The search's fine grid: FINE samples per chip, so offsets are searched in quarter chips.
FINE = 4
_NF = GRID * FINE
#: Orientations searched (the observed frame is the original with this applied, then cropped):
#: name -> the numpy operation that undoes it on the (square, normalised) fine residual.
_ORIENTATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "none": lambda a: a,
    "hflip": lambda a: a[:, ::-1],
    "rot90": lambda a: np.rot90(a, -1),
    "rot180": lambda a: a[::-1, ::-1],
    "rot270": lambda a: np.rot90(a, 1),
}
#: Crop scales searched per axis (the visible fraction of the original's width or height): ≤ 10 % crops.
_SCALES = tuple(float(s) for s in np.linspace(0.9, 1.0, 7))
#: Candidates from the coarse FFT search that get the local refinement.
_REFINE_TOP = 4
#: Effective number of independent hypotheses the search tries, calibrated empirically: over 213 unmarked
#: items (tests/fidelity/test_watermark.py) the best searched pilot z averaged 4.0 (max 5.7), the expected
#: maximum of ~2·10⁴ independent N(0, 1) (more than the ~3·10³ orientations × scale/offset cells one chip
#: apart: the local refinement and small, upsampled frames add their own maxima); twice that for margin.
_SEARCH_HYPOTHESES = 4.0e4


def _search_threshold() -> float:
    from scipy.special import ndtr, ndtri

    # Bonferroni: the searched maximum exceeds the threshold under no mark no more often than one
    # unsearched pilot z exceeds PILOT_Z_THRESHOLD (then the CRC must pass too)
    return float(-ndtri(ndtr(-PILOT_Z_THRESHOLD) / _SEARCH_HYPOTHESES))


#: Pilot z a hypothesis found by the geometry search needs (≈ 6.0): see :func:`_search_threshold`.
SEARCH_Z_THRESHOLD = _search_threshold()


def _fine_means(y: np.ndarray) -> np.ndarray:
    """Area means of a luma plane on the (FINE·GRID)² grid (float32): what the search works from."""
    import cv2

    return cv2.resize(y, (_NF, _NF), interpolation=cv2.INTER_AREA).astype(np.float32)


def _fine_residual(g: np.ndarray) -> np.ndarray:
    """The chip-scale high-pass of fine area means ``g``: at every fine position, the mean of a chip-sized
    box minus the mean of its 8 chip-sized neighbours; normalised and clipped as the chips are. Sampled at
    the chip centres of an unmoved frame it is :func:`_hp_chips`; elsewhere it lets the search read the
    chips of a shifted or scaled grid."""
    import cv2

    b = cv2.blur(g, (FINE, FINE), borderType=cv2.BORDER_REFLECT)
    k = np.zeros((2 * FINE + 1, 2 * FINE + 1), np.float32)
    k[::FINE, ::FINE] = -1.0 / 8.0
    k[FINE, FINE] = 1.0
    return _normalise(cv2.filter2D(b, -1, k, borderType=cv2.BORDER_REFLECT))


def _undo_chips(fine_means: list[np.ndarray], name: str, sx: float, sy: float, ox: float,
                oy: float) -> tuple[np.ndarray, np.ndarray]:
    """The detector's chip residuals (averaged over frames) of the original frame a hypothesis implies: each
    frame's fine means re-oriented and resampled onto the original's fine grid, then area means per chip,
    high-pass and normalisation exactly as for an unmoved frame. Chips outside the view are masked."""
    import cv2

    c = np.arange(_NF, dtype=np.float32)
    # original fine sample c (chip c // FINE) lies at this fine coordinate of the re-oriented observed frame
    mx, my = np.meshgrid((c + 1 - ox) / sx - 1, (c + 1 - oy) / sy - 1)
    mx, my = mx.astype(np.float32), my.astype(np.float32)
    inside = (mx >= -0.5) & (mx <= _NF - 0.5) & (my >= -0.5) & (my <= _NF - 0.5)
    valid = inside.reshape(GRID, FINE, GRID, FINE).all(axis=(1, 3))
    hp = np.full((3, 3), -1.0 / 8.0, dtype=np.float32)
    hp[1, 1] = 1.0
    acc = np.zeros((GRID, GRID), np.float64)
    for g in fine_means:
        w = cv2.remap(np.ascontiguousarray(_ORIENTATIONS[name](g)), mx, my, interpolation=cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)
        chips = w.reshape(GRID, FINE, GRID, FINE).mean(axis=(1, 3))
        r = cv2.filter2D(chips, -1, hp, borderType=cv2.BORDER_REFLECT)
        acc += _normalise(np.where(valid, r, 0.0).astype(np.float32))
    return acc / max(len(fine_means), 1), valid


@lru_cache(maxsize=8)
def _pilot_fft(key: str) -> np.ndarray:
    """rFFT (complex64) of the pilot template on the fine grid: ±1 (chip sign × pilot) at pilot chips' centres."""
    from scipy import fft

    lay = _layout(key)
    t = np.zeros((_NF, _NF), np.float32)
    vals = np.where(lay.owner < PILOT_BITS, lay.sign * lay.pilot[np.minimum(lay.owner, PILOT_BITS - 1)], 0.0)
    t[FINE // 2::FINE, FINE // 2::FINE] = vals.reshape(GRID, GRID)
    f = fft.rfft2(t)
    f.setflags(write=False)
    return f


@dataclass(frozen=True)
class _PilotChips:
    col: np.ndarray  # (P,) float32 fine-grid column of each pilot chip's centre
    row: np.ndarray
    owner: np.ndarray  # (P,) which pilot bit
    value: np.ndarray  # (P,) float32 chip sign × pilot value
    counts: np.ndarray  # (PILOT_BITS,)


@lru_cache(maxsize=8)
def _pilot_chips(key: str) -> _PilotChips:
    lay = _layout(key)
    idx = np.flatnonzero(lay.owner < PILOT_BITS)
    row, col = np.divmod(idx, GRID)
    owner = lay.owner[idx]
    return _PilotChips(col=(col * FINE + FINE / 2).astype(np.float32), row=(row * FINE + FINE / 2).astype(np.float32),
                       owner=owner, value=(lay.sign[idx] * lay.pilot[owner]).astype(np.float32),
                       counts=np.bincount(owner, minlength=PILOT_BITS))


def _positions(col: np.ndarray, row: np.ndarray, sx: float, sy: float, ox: float,
               oy: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where, on the fine grid of the observed (re-oriented) frame, the original's chip centres at fine
    (col, row) fall under the hypothesis "the frame shows a fraction (sx, sy) of the original from the
    fine offset (ox, oy)"; and which of them lie inside the frame."""
    kx = ((col - ox + 0.5) / sx - 0.5).astype(np.float32)
    ky = ((row - oy + 0.5) / sy - 0.5).astype(np.float32)
    return kx, ky, (kx >= 0) & (kx <= _NF - 1) & (ky >= 0) & (ky <= _NF - 1)


def _sample_chips(res: np.ndarray, sx: float, sy: float, ox: float, oy: float) -> tuple[np.ndarray, np.ndarray]:
    """All chip values (GRID, GRID) of a hypothesis (see :func:`_positions`), bilinear on the fine
    residual ``res``, and the mask of chips inside the frame."""
    import cv2

    c = np.arange(GRID, dtype=np.float32) * FINE + FINE / 2
    mx, my, valid = _positions(*np.meshgrid(c, c), sx, sy, ox, oy)
    chips = cv2.remap(res, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return chips, valid


def _pilot_z_of(res: np.ndarray, pc: _PilotChips, h: tuple[float, float, float, float]) -> float:
    """The pilot z of a hypothesis, from the pilot chips alone (cheap; the noise scale from them too)."""
    import cv2

    kx, ky, valid = _positions(pc.col, pc.row, *h)
    if int(valid.sum()) < GRID:
        return -np.inf
    v = cv2.remap(res, kx[None], ky[None], interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                  borderValue=0.0)[0][valid]
    sigma = float(np.std(v)) or 1.0
    sums = np.bincount(pc.owner[valid], weights=v * pc.value[valid], minlength=PILOT_BITS)
    counts = np.maximum(np.bincount(pc.owner[valid], minlength=PILOT_BITS), 1)
    return float(np.sum(sums / (sigma * np.sqrt(counts))) / math.sqrt(PILOT_BITS))


def _refine(res: np.ndarray, pc: _PilotChips, h: tuple[float, float, float, float]) -> tuple[float, tuple]:
    """Local hill-climb of a coarse hypothesis: offsets ±1 fine sample, scales ±0.8 %, then finer steps."""
    best = (_pilot_z_of(res, pc, h), h)
    steps = [[(0, 0, dx, dy) for dx in (-1.0, -0.5, 0.0, 0.5, 1.0) for dy in (-1.0, -0.5, 0.0, 0.5, 1.0)],
             [(dsx, dsy, 0, 0) for dsx in (-0.008, 0.0, 0.008) for dsy in (-0.008, 0.0, 0.008)],
             [(0, 0, dx, dy) for dx in (-0.5, 0.0, 0.5) for dy in (-0.5, 0.0, 0.5)],
             [(dsx, dsy, 0, 0) for dsx in (-0.004, 0.0, 0.004) for dsy in (-0.004, 0.0, 0.004)],
             [(0, 0, dx, dy) for dx in (-0.25, 0.0, 0.25) for dy in (-0.25, 0.0, 0.25)]]
    for step in steps:
        sx, sy, ox, oy = best[1]
        for dsx, dsy, dx, dy in step:
            t = (min(1.0, sx + dsx), min(1.0, sy + dsy), ox + dx, oy + dy)
            z = _pilot_z_of(res, pc, t)
            if z > best[0]:
                best = (z, t)
    return best


def _search(fine_means: list[np.ndarray], lay: _Layout, key: str) -> WatermarkDetection | None:
    """The best geometric hypothesis (orientation, per-axis crop scale and offset) for frames given by their
    fine area means; its detection (decoded as :func:`_undo_chips` reads it), or None. See "Geometry
    search" above."""
    import cv2
    from scipy import fft

    res = (sum(_fine_residual(g) for g in fine_means) / len(fine_means)).astype(np.float32)

    tf = _pilot_fft(key)
    pc = _pilot_chips(key)
    cands: list[tuple[float, str, float, float, float, float]] = []
    canvas = np.zeros((_NF, _NF), np.float32)
    for name, undo in _ORIENTATIONS.items():
        r = np.ascontiguousarray(undo(res))
        for sy in _SCALES:
            for sx in _SCALES:
                w, h = round(_NF * sx), round(_NF * sy)
                canvas[:] = 0.0
                canvas[:h, :w] = r if (w, h) == (_NF, _NF) else cv2.resize(r, (w, h), interpolation=cv2.INTER_LINEAR)
                surf = fft.irfft2(np.conj(fft.rfft2(canvas)) * tf, s=(_NF, _NF))
                # offsets the crop allows, with a margin of two fine samples for the grids' phase
                sub = np.roll(surf, (2, 2), axis=(0, 1))[: _NF - h + 4, : _NF - w + 4]
                iy, ix = divmod(int(np.argmax(sub)), sub.shape[1])
                cands.append((float(sub[iy, ix]) / math.sqrt(sx * sy), name, w / _NF, h / _NF,
                              float(ix - 2), float(iy - 2)))
    cands.sort(key=lambda c: -c[0])
    best: tuple[float, str, tuple] | None = None
    for _score, name, sx, sy, ox, oy in cands[:_REFINE_TOP]:
        z, hyp = _refine(np.ascontiguousarray(_ORIENTATIONS[name](res)), pc, (sx, sy, ox, oy))
        if best is None or z > best[0]:
            best = (z, name, hyp)
    if best is None:
        return None
    z, name, (sx, sy, ox, oy) = best
    geometry = (f"{name}, visible {sx:.3f}×{sy:.3f} of the original from "
                f"({ox / _NF:+.3f}, {oy / _NF:+.3f})")
    n = len(fine_means)
    chips, valid = _sample_chips(np.ascontiguousarray(_ORIENTATIONS[name](res)), sx, sy, ox, oy)
    det = _decide(chips.ravel(), lay, n, valid=valid.ravel(), threshold=SEARCH_Z_THRESHOLD, geometry=geometry)
    if det.found or z < SEARCH_Z_THRESHOLD:
        return det
    # A pilot strong enough but a word the CRC rejects: the residual sampled between chips blurs the data
    # bits of a scaled grid. Decode once more from each frame's means resampled onto the original grid
    # (exact chip areas; ±1 fine sample for the orientation's phase), at the best pilot of those.
    tries = [_undo_chips(fine_means, name, sx, sy, ox + dx, oy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    chips, valid = max(tries, key=lambda t: _decide(t[0].ravel(), lay, n, valid=t[1].ravel()).pilot_z)
    again = _decide(chips.ravel(), lay, n, valid=valid.ravel(), threshold=SEARCH_Z_THRESHOLD, geometry=geometry)
    return again if again.found else det


def detect_images(
    frames: Iterable[np.ndarray],
    *,
    key: str | None = None,
    luma: bool = False,
    search: bool = True,
    candidates: Iterable[int] | None = None,
    cancel: CancelToken | None = None,
) -> WatermarkDetection:
    """Detect the mark in one or more RGB frames (uint8) of the same item, aggregating over frames.

    ``key``: the installation's secret key when None; then a mark made with the public
    :data:`LEGACY_KEY` is reported too (``legacy_key=True``, not proof of origin).
    ``search``: when the frames as given carry no mark, also try flips, rotations and crops of ≤ 10 %
    (see "Geometry search" in the module docstring).
    ``luma=True``: the frames are decoded Y planes (H, W) uint8 instead; the chip residual is
    normalised robustly, so the limited-range offset and scale of Y against RGB luma do not matter.
    ``candidates``: payloads the caller knows (a manifest's, a workspace's exports); when the blind read
    fails, the mark is identified among them (see :func:`_identify`: a single frame carries too little
    energy to decode 48 bits blind, but enough to tell which of a few known payloads it carries).
    """
    k = _resolve_key(key)
    lay = _layout(k)
    acc = np.zeros((GRID, GRID), dtype=np.float64)
    fine: list[np.ndarray] | None = [] if search else None  # kept for the search: 256 KiB a frame
    n = 0
    for frame in frames:
        check_cancel(cancel)
        if luma:
            if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 2 \
                    or min(frame.shape) < 32:
                raise WatermarkError("A luma plane must be a uint8 array (H, W) of at least 32×32 pixels.")
            y = frame
        else:
            _check_rgb(frame)
            y = _luma(frame)
        acc += _detector_chips(y)
        if fine is not None:
            fine.append(_fine_means(y))
        n += 1
    if n == 0:
        raise WatermarkError("No frames were given to detect a watermark in.")
    chips = acc.ravel() / n
    det = _decide(chips, lay, n)
    if det.found:
        return det
    if key is None and k != LEGACY_KEY:
        old = _decide(chips, _layout(LEGACY_KEY), n)
        if old.found:
            return replace(old, legacy_key=True)
    known = sorted({_payload_int(c) for c in candidates}) if candidates is not None else []
    if known:
        ident = _identify(chips, lay, n, known)
        if ident is not None:
            return ident
    if fine is not None:
        check_cancel(cancel)
        found = _search(fine, lay, k)
        if found is not None:
            if found.found:
                return replace(found, search_z=found.pilot_z)
            return replace(det, search_z=found.pilot_z)
    return det


#: Per-bit mean z of a data bit relative to a pilot bit's (the pilot is embedded _PILOT_BOOST stronger):
#: 0.69 measured on single frames and 3-frame groups of bikes and bigbuckbunny after CRF 23.
_DATA_TO_PILOT = 0.69


def _bit_accuracy_estimate(data_z: np.ndarray, pilot_bits_z: np.ndarray, word: np.ndarray | None) -> float:
    """Estimated fraction of the 48 data bits decoded right.

    ``word`` (the CRC-checked bits, ±1) when the mark was found: the fraction of hard decisions it
    confirms (what the CRC proves). Otherwise from the per-bit SNR the 16 known pilot bits show:
    ``pilot_bits_z`` (each pilot bit's z times its known sign) has mean m and spread s, a data bit's
    SNR is ``_DATA_TO_PILOT``·m/s, and a Gaussian bit at that SNR is right with probability Φ(SNR).
    With no mark (or the wrong key) m ≈ 0, so the estimate is ≈ 0.5 — not the 0.75 that Φ(|z|)
    averaged over random bits gives. (On single frames and 3-frame groups: mean error 0.035.)
    """
    from scipy.special import ndtr

    if word is not None:
        return float(np.mean(np.sign(data_z) == word))
    m = max(0.0, float(np.mean(pilot_bits_z)))
    s = max(float(np.std(pilot_bits_z, ddof=1)), 0.25)
    return float(ndtr(_DATA_TO_PILOT * m / s))


def _decide(chips: np.ndarray, lay: _Layout, n: int, *, valid: np.ndarray | None = None,
            threshold: float = PILOT_Z_THRESHOLD, geometry: str | None = None) -> WatermarkDetection:
    nbits = PILOT_BITS + DATA_BITS
    if valid is not None:
        chips, owner, sign = chips[valid], lay.owner[valid], lay.sign[valid]
    else:
        owner, sign = lay.owner, lay.sign
    corr = chips * sign
    sums = np.bincount(owner, weights=corr, minlength=nbits)
    counts = np.maximum(np.bincount(owner, minlength=nbits), 1)
    # Null: each chip contributes an independent zero-mean term; estimate its variance from all chips
    # (includes the mark itself when present, which only makes the z-scores conservative).
    sigma = float(np.std(chips)) or 1.0
    z = sums / (sigma * np.sqrt(counts))
    pilot_z = float(np.sum(z[:PILOT_BITS] * lay.pilot) / math.sqrt(PILOT_BITS))
    data_z = z[PILOT_BITS:]
    raw, crc_ok = _decode_bits(data_z)
    found = bool(crc_ok and pilot_z >= threshold)
    # a searched hypothesis is judged on the z it would have needed had it been the only one tried
    z_eff = pilot_z - (threshold - PILOT_Z_THRESHOLD)
    confidence = float(np.clip((z_eff - 2.0) / 6.0, 0.0, 1.0))
    if not crc_ok:
        confidence = min(confidence, 0.5)
    bit_acc = _bit_accuracy_estimate(data_z, z[:PILOT_BITS] * lay.pilot, _data_bits(raw) if found else None)
    return WatermarkDetection(
        found=found,
        payload=raw if found else None,
        confidence=confidence,
        bit_accuracy_estimate=bit_acc,
        frames_used=n,
        pilot_z=pilot_z,
        crc_ok=bool(crc_ok),
        raw_payload=raw,
        geometry=geometry if found else None,
    )


#: Identification among known payloads: a payload is accepted when the log-likelihood ratio of "this frame
#: carries that payload" against "it carries some other payload" reaches ln(N / IDENTIFY_ALPHA) for N
#: candidates. Under any wrong payload the likelihood ratio has expectation 1, so (Markov) each candidate
#: passes with probability ≤ IDENTIFY_ALPHA / N whatever the SNR; the pilot must pass too. Measured on 30
#: single frames each of bikes and bigbuckbunny exported at CRF 23, saved as JPEG q75 (one candidate):
#: 24/30 and 30/30 identified (blind decoding: 12/30 and 22/30); 2,000 wrong payloads scored at most -8.7
#: against the threshold 13.8.
IDENTIFY_ALPHA = 1e-6
#: The pilot needs only some evidence here (the bound above also holds on unmarked content: a data bit's
#: likelihood ratio 2σ(2·mu·z) has expectation 1 when z ~ N(0, 1)), so faint frames whose pilot stays under
#: PILOT_Z_THRESHOLD can still be identified.
IDENTIFY_PILOT_Z = 2.0


#: Identification measures the data bits' noise on the pilot bits' spread (in units of the chips' spread),
#: within this range: the floor keeps 16 samples from claiming too much; 1 is the old model's fixed value
#: (bikes' single frames: 26/30 identified with 1.0 alone, 30/30 with the range; the floor 0.4 read the same).
_IDENTIFY_SIGMA_RANGE = (0.25, 1.0)


def _identify(chips: np.ndarray, lay: _Layout, n: int, candidates: list[int]) -> WatermarkDetection | None:
    """The known payload the chips carry, when the evidence for one of them is decisive; else None.

    Each data bit's z is modelled as N(mu·b, 1), with mu estimated from the 16 known pilot bits (so
    independently of the data bits). The per-candidate statistic is the log-likelihood ratio against a
    mark with a uniformly random other word: sum over bits of mu·b·z − log cosh(mu·z).
    """
    nbits = PILOT_BITS + DATA_BITS
    sums = np.bincount(lay.owner, weights=chips * lay.sign, minlength=nbits)
    counts = np.maximum(np.bincount(lay.owner, minlength=nbits), 1)
    z = sums / ((float(np.std(chips)) or 1.0) * np.sqrt(counts))
    pilot_bits = z[:PILOT_BITS] * lay.pilot
    pilot_z = float(np.sum(pilot_bits) / math.sqrt(PILOT_BITS))
    if pilot_z < IDENTIFY_PILOT_Z:
        return None
    # z is in units of the chips' spread, which the host dominates; the informed embedding cancels the host
    # per bit, so the bits' real noise is smaller: measure it on the 16 known pilot bits (their spread,
    # floored) and model each data bit as N(mu·b, 1) in those units. Any scale chosen without the
    # candidates keeps the bound (the ratio's expectation is 1 under a wrong payload for every z).
    sigma = float(np.clip(np.std(pilot_bits, ddof=1), *_IDENTIFY_SIGMA_RANGE))
    mu = max(_DATA_TO_PILOT * float(np.mean(pilot_bits)) / sigma, 0.05)
    x = mu * z[PILOT_BITS:] / sigma
    # log cosh(x) without overflow: |x| + log1p(exp(-2|x|)) - log 2
    norm = float(np.sum(np.abs(x) + np.log1p(np.exp(-2.0 * np.abs(x))) - math.log(2.0)))
    words = np.stack([_data_bits(c) for c in candidates])
    llr = words @ x - norm
    best = int(np.argmax(llr))
    threshold = math.log(len(candidates) / IDENTIFY_ALPHA)
    if float(llr[best]) < threshold:
        return None
    word = words[best]
    return WatermarkDetection(
        found=True, payload=candidates[best],
        confidence=float(np.clip((float(llr[best]) - threshold) / 20.0 + 0.5, 0.5, 1.0)),
        bit_accuracy_estimate=float(np.mean(np.sign(z[PILOT_BITS:]) == word)), frames_used=n, pilot_z=pilot_z,
        crc_ok=False, raw_payload=candidates[best], identified_among=len(candidates))


def bit_accuracy(frames: Iterable[np.ndarray], payload: int, *, key: str | None = None) -> float:
    """Fraction of the 48 data bits (payload + CRC) decoded right, aggregated over ``frames``.

    For measurement (tests, benchmark): the true payload must be known; the frames are read as given
    (no geometry search).
    """
    lay = _layout(_resolve_key(key))
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
    key: str | None = None,
    masking: bool = False,
    metadata: dict[str, str] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> WatermarkVideoResult:
    """Re-encode ``src`` to ``dst`` (H.264, audio kept) with the mark on every frame (``key``: the
    installation's secret key when None)."""
    from generec_desktop import media

    value = _payload_int(payload)
    key = _resolve_key(key)
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


def luma_embedder(payload: bytes | int, *, strength: float | None = None,
                  key: str | None = None) -> Callable[[np.ndarray, float], np.ndarray]:
    """The per-frame embedder of :func:`watermark_video`, for a caller that runs its own decode and encode
    (``versions.render``: crop, scale, then mark at the output size): call it on each output frame's
    (H, W) uint8 Y plane (yuv420p, limited range) in order; it marks the plane in place and returns it."""
    amp = DEFAULT_STRENGTH if strength is None else float(strength)
    if not 0.0 < amp <= 32.0:
        raise WatermarkError("The strength must be in (0, 32] luma levels.")
    return _LumaEmbedder(_payload_int(payload), _resolve_key(key), amp)


def detect_video(
    path: str | Path,
    *,
    max_frames: int = 48,
    key: str | None = None,
    search: bool = True,
    candidates: Iterable[int] | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> WatermarkDetection:
    """Detect the mark in a video from up to ``max_frames`` frames spread evenly over its length
    (``key``, ``search`` and ``candidates`` as in :func:`detect_images`)."""
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
    result = detect_images((f.image for f in frames), key=key, search=search, candidates=candidates,
                           cancel=cancel)
    report(progress, 1.0, "Done")
    return result


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB between two uint8 images of the same shape."""
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(255.0**2 / mse)

