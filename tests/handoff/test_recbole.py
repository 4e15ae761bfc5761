"""A real recommender that no one here wrote reads our export: RecBole (PyPI ``recbole``, extra
``recbole``) loads the atomic files with its own loader, trains BPR on them and scores the exported AI
items next to the human ones (issue 18, part 3). Slow: about 20 s of CPU.

RecBole 1.2.1 (the newest release) predates NumPy 2: its ``Config.compatibility_settings`` reads the
NumPy 1 aliases ``np.float_``, ``np.complex_`` and ``np.unicode_``, which NumPy 2 removed, so with this
project's NumPy 2 it cannot even build its configuration. The test gives NumPy those three aliases back
(their NumPy 1 meanings) for its own duration; nothing else of RecBole is touched, and nothing of ours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from handoff_corpus import fill

pytestmark = pytest.mark.slow


@pytest.fixture
def recbole(monkeypatch):
    """``recbole`` importable, with the NumPy 1 aliases it needs (see the module docstring)."""
    pytest.importorskip("recbole", reason="RecBole is not installed (pip install -e '.[recbole]')")
    for alias, value in {"float_": np.float64, "complex_": np.complex128, "unicode_": np.str_}.items():
        monkeypatch.setattr(np, alias, value, raising=False)
    import recbole

    return recbole


def test_recbole_trains_bpr_on_the_export_and_scores_ai_items_beside_human_ones(
        recbole, tmp_path: Path, monkeypatch) -> None:
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.data.interaction import Interaction
    from recbole.model.general_recommender import BPR
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    from generec_desktop.corpus import Workspace
    from generec_desktop.handoff import export_corpus
    from generec_desktop.profiles import store

    monkeypatch.chdir(tmp_path)  # RecBole writes log/ and log_tensorboard/ into the working folder
    with Workspace.create(tmp_path / "ws") as ws:
        c = fill(ws, n_human=30, n_users=60)
        export_corpus(ws, tmp_path / "data" / "generec", format="recbole")
        users, items = ws.users(), ws.items()
        visual = store.thumbnail_embeddings(ws, store.get_encoder("builtin", ws), items)

    config = Config(model="BPR", dataset="generec", config_dict={
        "data_path": str(tmp_path / "data"), "checkpoint_dir": str(tmp_path / "ckpt"),
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"],
                     "item": ["item_id", "kind", "generator", "parent_id", "target_audience", "visual"],
                     "user": ["user_id", "segment"]},
        "epochs": 40, "stopping_step": 100, "learning_rate": 0.01, "train_batch_size": 256,
        "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "RO", "group_by": "user", "mode": "full"},
        "use_gpu": False, "device": "cpu", "show_progress": False, "save_dataset": False,
        "save_dataloaders": False, "seed": 0, "reproducibility": True, "state": "WARNING"})
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)  # RecBole's own reader of our three files
    assert dataset.user_num == len(users) + 1 and dataset.item_num == len(items) + 1  # + its [PAD]
    iid = {it.id: int(dataset.token2id(dataset.iid_field, str(it.id))) for it in items}
    for k, it in enumerate(items):  # the visual features arrive as we wrote them (float_seq -> float32)
        got = np.asarray(dataset.item_feat["visual"][iid[it.id]], np.float32)
        np.testing.assert_array_equal(got, visual[k])
    ai_token = dataset.token2id("kind", "ai_edited")
    assert sum(int(dataset.item_feat["kind"][iid[i]]) == ai_token for i in c.ai) == len(c.ai)

    train, valid, test = data_preparation(config, dataset)
    model = BPR(config, train.dataset).to(config["device"])
    trainer = Trainer(config, model)
    trainer.fit(train, valid, saved=False, show_progress=False)
    result = trainer.evaluate(test, load_best_model=False, show_progress=False)
    assert result["hit@10"] > 10 / len(items)  # better than picking 10 items at random

    model.eval()
    uidx = torch.as_tensor(dataset.token2id(dataset.uid_field, [str(u.id) for u in users]))
    with torch.no_grad():
        scores = model.full_sort_predict(Interaction({dataset.uid_field: uidx})).view(len(users), -1).numpy()
    group = np.array([c.user_group[u.external_id] for u in users])

    def margins(ids: list[int]) -> np.ndarray:
        """Per item: mean score among the users of its group minus among the others."""
        return np.array([scores[group == k % 3, iid[i]].mean() - scores[group != k % 3, iid[i]].mean()
                         for k, i in enumerate(ids)])

    ai, human = margins(c.ai), margins(c.human)
    assert np.isfinite(scores[:, [iid[i] for i in c.ai]]).all()
    # the exported AI items rank where they belong: higher for the audience that likes them, as human ones do
    assert (ai > 0).mean() >= 0.75 and (human > 0).mean() >= 0.75, (ai, human)
    print(f"RecBole {recbole.__version__} BPR: test {dict(result)}; own-audience margin AI {ai.mean():.3f} "
          f"({(ai > 0).mean():.0%} of {len(ai)} items), human {human.mean():.3f} ({(human > 0).mean():.0%})")
