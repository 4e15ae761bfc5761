"""The open_clip checkpoints a user can get from the Hugging Face hub (``generec models get NAME``).

Each entry names a real hub repository in open_clip's own layout (``open_clip_config.json`` + weights,
plus tokenizer files where the text tower needs them); the repositories are the ones open_clip itself
lists as ``hf_hub`` for these pretrained tags. The licence shown before a download is the one the hub
reports for the repository at that moment (its model card); ``licence`` here is only what we expect,
for the listing. Any other open_clip repository works as ``hf-hub:<org>/<repo>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from generec_desktop.encoders.base import EncoderError

__all__ = ["CATALOGUE", "HubModel", "catalogue_entry"]


@dataclass(frozen=True)
class HubModel:
    """A downloadable checkpoint: the name a user types, its hub repository, what it is."""

    name: str  # local name: the folder <models>/open_clip/<name>/ and the encoder "open_clip:<name>"
    repo_id: str
    family: str
    description: str
    licence: str  # expected licence id (the hub's model card decides; shown before download)
    approx_mb: int  # download size, for the listing (the hub's sizes are used for the disk check)
    revision: str = "main"


CATALOGUE: tuple[HubModel, ...] = (
    HubModel("ViT-B-32", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "CLIP",
             "OpenCLIP ViT-B/32 trained on LAION-2B: the standard CLIP-sized encoder (512-d, text tower).",
             "mit", 605),
    HubModel("ViT-B-16", "laion/CLIP-ViT-B-16-laion2B-s34B-b88K", "CLIP",
             "OpenCLIP ViT-B/16 on LAION-2B: finer patches, about 4x the compute of ViT-B-32 (512-d).",
             "mit", 599),
    HubModel("ViT-B-16-SigLIP", "timm/ViT-B-16-SigLIP", "SigLIP",
             "Google SigLIP ViT-B/16 (WebLI), sigmoid-loss CLIP; strong zero-shot text matching (768-d).",
             "apache-2.0", 813),
    HubModel("MobileCLIP-S1", "apple/MobileCLIP-S1-OpenCLIP", "MobileCLIP",
             "Apple MobileCLIP-S1 (DataCompDR): a fast image tower for CPUs and phones (512-d).",
             "apple-amlr", 342),
    HubModel("MobileCLIP2-S0", "timm/MobileCLIP2-S0-OpenCLIP", "MobileCLIP",
             "Apple MobileCLIP2-S0 (DFNDR-2B): the smallest MobileCLIP2, fastest on CPU (512-d).",
             "apple-amlr", 286),
)


def catalogue_entry(name: str) -> HubModel:
    """The catalogue entry ``name``, or for ``hf-hub:<org>/<repo>[@revision]`` an entry built for that repository."""
    name = name.strip()
    if name.startswith("hf-hub:"):
        spec = name[len("hf-hub:"):]
        repo_id, _, revision = spec.partition("@")
        if repo_id.count("/") != 1 or not all(repo_id.split("/")):
            raise EncoderError(f"'{name}' is not a hub repository; write it as hf-hub:<org>/<repo>, e.g. "
                               "hf-hub:timm/ViT-B-16-SigLIP.")
        local = repo_id.split("/")[1]
        return HubModel(local, repo_id, "open_clip", f"open_clip checkpoint {repo_id}", "", 0, revision or "main")
    for entry in CATALOGUE:
        if entry.name.lower() == name.lower():
            return entry
    known = ", ".join(e.name for e in CATALOGUE)
    raise EncoderError(f"Unknown model '{name}'; choose one of {known} (see `generec models catalog`), "
                       "or give any open_clip repository as hf-hub:<org>/<repo>.")
