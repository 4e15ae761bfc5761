"""Personalisation: per-audience thumbnails and clips of one video (paper §5.1.1–5.1.2).

Modules (import them directly; none is imported here, so the package stays cheap to import):

- ``pipeline``: ``personalize(ws, item, audiences, *, thumbnails, clips, generate, encoder, rate,
  clip_frames, diversity="auto", ...) -> PersonalizeResult`` — one decode + encode pass serves every audience
  (Eq. 1, Eq. 2); ``result.choice`` / ``result.clip_choice`` say when the video offered no real choice;
  ``Target``, ``resolve_item``, ``resolve_targets``, ``noise_floor``.
- ``analysis`` (sampling, quality gates, shot cuts; cached), ``quality``, ``shots`` (the sample-based
  detector), ``shotdetect`` (every shot detector and the default choice).
- ``choice`` (score noise measured on near-duplicate frames; "no real choice" verdicts; diversity within the
  noise), ``thumbnails`` (Eq. 1 score matrix and selection, ``choose_thumbnails``), ``clips`` (Eq. 2
  windows, ``choose_clips``, ``export_clip``).
- ``reframe`` (``crop_to``, and ``crop_path``: a smooth salient crop path over time, which ``crop_track``
  applies), ``thumbgen`` (palette transfer + reframing, no weights), ``diffusion_thumbs`` (diffusers
  img2img + IP-Adapter with local weights).
- ``errors``: ``EditorError``, the user-facing error of personalisation.
"""
