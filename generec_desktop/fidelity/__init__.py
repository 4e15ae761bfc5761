"""Fidelity: the six checks, the invisible watermarks, provenance manifests, atomic export and artwork (paper
§2, §5.2).

Modules (import them directly; none is imported here):

- ``checks``: ``run_checks(subject, context) -> FidelityReport`` — each check a plain ``summary`` sentence,
  its ``fixes`` and the details behind it: privacy (faces by MTCNN, licence plates), safety
  (NudeNet when installed, else "not checked"), authenticity, bias, legal, identifiability; ``detect_faces``,
  ``detect_plates``, ``blur_regions``.
- ``intended``: ``intended_edit(operation, params)`` — what a version was meant to change (clip shift, reframe
  crop, style, intended blur) and ``aligned_original`` (the same edit applied to an original frame), so the
  checks count only changes beyond it.
- ``fixes``: ``track_regions`` / ``blur_tracked`` (faces and plates blurred over their tracked spans),
  ``restore_face_colours``; the version-level fixes are ``export.blur_version``, ``export.restore_faces_version``,
  ``export.set_version_licence``.
- ``watermark``: ``embed_image``, ``detect_images``, ``watermark_video``, ``detect_video`` (32-bit payload +
  CRC-16 + pilot; aggregated over frames with a confidence); ``luma_embedder`` (the per-frame Y-plane mark of
  ``watermark_video``, for a caller that runs its own encode: ``versions.render``).
- ``still_mark``: ``embed_still`` / ``detect_still`` — the still-image mark (block-DCT spread spectrum in a
  canonical 256² frame) that survives JPEG quality 75 + a 50 % resize; ``attack`` (that test); refused below
  480×270.
- ``artwork``: the artwork per (item, audience) — ``store``, ``list_artwork``, ``artwork_for``, ``remove``,
  ``put_back`` (undo), ``verify``, ``full_resolution_frame``; ``artwork`` is the table's one declaration.
- ``provenance``: manifests as a JSON sidecar and container tags; ``verify_file``.
- ``credentials``: C2PA Content Credentials: ``sign_file``, ``sign_image`` (artwork), ``read_credentials``, the
  signing identity (a local CA made on first use, or an organisation's certificate).
- ``export``: pending versions (``create_pending``) and ``run_export`` — watermark + provenance in one
  re-encode, verified, then committed atomically through ``Workspace.add_version``; ``ranking.rank_preview``.
"""
