"""MCVD on a workspace: the glue between the model and the workspace, shared by revision and creation.

:mod:`generec_desktop.diffusion` knows only arrays; :mod:`generec_desktop.mcvd.workspace` builds its
training data from a workspace's videos and likes, trains it there, finds a checkpoint that fits the
workspace's profiles and turns an audience into a condition vector. MCVD revision of a workspace video
toward an audience (:mod:`generec_desktop.mcvd.revise`: SDEdit, full-resolution transfer) lives here beside
it. The creator and the MCVD evaluation use this package; it imports neither.

Layer: above diffusion, profiles, encoders and corpus; below editor and creator.

Public API (heavy libraries load on first use), in :mod:`generec_desktop.mcvd.workspace` and
:mod:`generec_desktop.mcvd.revise`::

    train_workspace_mcvd(ws, *, steps, condition, resume, ...) -> TrainResult
    find_mcvd_checkpoint(root, *, explicit, condition, source) -> Path
    load_workspace_model(ws, *, checkpoint, condition) -> (model, ConditionSource, folder)
    condition_source(ws, condition) -> ConditionSource (.audience_vector("segment:0" | "user:42"))
    revise_item(ws, item_id, *, audience, out_path, strength, ...) -> ReviseResult   # mcvd.revise
"""
