"""The AI editor, one sub-package per concern (none is imported here, so the package stays cheap to import):

- :mod:`generec_desktop.editor.personalize`: personalised thumbnails and clips (paper §5.1.1–5.1.2) — the
  video analysis (sampling, quality gates, shot cuts), the Eq. 1 / Eq. 2 choices, reframing and thumbnail
  generation.
- :mod:`generec_desktop.editor.styles`: style transfer for images and videos (classic filters, the
  personalised grade, user networks).

MCVD revision of a video toward an audience lives with the rest of the MCVD workspace glue, in
:mod:`generec_desktop.mcvd.revise`.
"""
