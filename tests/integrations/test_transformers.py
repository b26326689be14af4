"""Transformers (torch, CPU): the Trainer's logs at global steps, arguments, the saved model.

The model is a tiny BERT built from a configuration (no download), trained on random tokens.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from runhistory.integrations.transformers import RunhistoryCallback

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]


class Tokens(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, count: int) -> None:
        generator = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, 50, (count, 8), generator=generator)
        self.labels = (self.ids[:, 0] > 25).long()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.ids[i], "labels": self.labels[i]}


def test_trainer_logs_at_global_steps(run: Any, steps_of: Any, tmp_path: Any) -> None:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, num_labels=2)  # fmt: skip
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"), num_train_epochs=2, per_device_train_batch_size=8,
        per_device_eval_batch_size=8, learning_rate=1e-3, logging_steps=2, eval_strategy="epoch",
        save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True,
    )  # fmt: skip
    trainer = Trainer(
        model=model, args=args, train_dataset=Tokens(32), eval_dataset=Tokens(16),
        callbacks=[RunhistoryCallback(run, model_path="outputs/model")],
    )  # fmt: skip
    trainer.train()
    assert steps_of(run, "loss") == [2, 4, 6, 8]  # 4 steps per epoch, a log every 2
    assert steps_of(run, "eval_loss") == [4, 8]
    assert steps_of(run, "train_loss") == [8]
    properties = run.get_properties()
    assert properties["args.learning_rate"] == "0.001"
    assert properties["args.num_train_epochs"] == "2"
    assert properties["model.hidden_size"] == "16"
    names = run.get_file_names()
    assert "outputs/model/config.json" in names
    assert any(n.startswith("outputs/model/model") for n in names)
