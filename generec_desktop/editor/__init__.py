"""The AI editor: personalised thumbnails and clips (paper §5.1.1–5.1.2), styles, and MCVD revision.

Modules (import them directly; none is imported here, so the package stays cheap to import):

- ``personalize``: ``personalize(ws, item, audiences, *, thumbnails, clips, generate, encoder, rate,
  clip_frames, diversity="auto", ...) -> PersonalizeResult`` — one decode + encode pass serves every audience
  (Eq. 1, Eq. 2); ``result.choice`` / ``result.clip_choice`` say when the video offered no real choice.
- ``choice`` (score noise measured on near-duplicate frames; "no real choice" verdicts; diversity within the
  noise), ``analysis`` (sampling, quality gates, shot cuts; cached), ``thumbnails`` (Eq. 1 score matrix and
  selection, ``choose_thumbnails``), ``clips`` (Eq. 2 windows, ``choose_clips``, ``export_clip``), ``shots``,
  ``quality``, ``reframe`` (``crop_to``, and ``crop_path``: a smooth salient crop path over time, which
  ``crop_track`` applies),
  ``thumbgen`` (palette transfer + reframing, no weights), ``diffusion_thumbs`` (diffusers img2img +
  IP-Adapter with local weights).
- ``styles``: ``list_styles``, ``stylize_image``, ``VideoStylizer``, ``run_style_video``, ``StyleRequest``.
- ``revise``: MCVD revision of an item toward an audience (SDEdit strength, full-resolution transfer).
"""
