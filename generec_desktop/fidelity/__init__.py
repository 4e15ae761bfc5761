"""Fidelity: the six checks, the invisible watermark, provenance manifests and atomic export (paper §2, §5.2).

Modules (import them directly; none is imported here):

- ``checks``: ``run_checks(subject, context) -> FidelityReport`` — privacy (faces, licence plates), safety
  (NudeNet when installed, else "not checked"), authenticity, bias, legal, identifiability; ``detect_faces``,
  ``detect_plates``, ``blur_regions``.
- ``watermark``: ``embed_image``, ``detect_images``, ``watermark_video``, ``detect_video`` (32-bit payload +
  CRC-16 + pilot; aggregated over frames with a confidence); ``luma_embedder`` (the per-frame Y-plane mark of
  ``watermark_video``, for a caller that runs its own encode: ``versions.render``).
- ``provenance``: manifests as a JSON sidecar and container tags; ``verify_file``.
- ``export``: pending versions (``create_pending``) and ``run_export`` — watermark + provenance in one
  re-encode, verified, then committed atomically through ``Workspace.add_version``; ``ranking.rank_preview``.
"""
