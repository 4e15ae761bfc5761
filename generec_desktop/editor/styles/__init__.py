"""Style transfer for images and videos (import the modules directly; none is imported here):

- ``stylize``: ``list_styles``, ``stylize_image``, ``VideoStylizer``, ``run_style_video``, ``StyleRequest``,
  ``run_style_request``, ``register_network_style``, ``flicker_ratio``.
- ``filters``: the classic no-weights filters and the per-video ``StyleState``.
- ``network``: user style networks (torch.export, TorchScript, ONNX).
- ``errors``: ``StyleError``.
"""
