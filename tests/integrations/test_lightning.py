"""PyTorch Lightning: the logger's metrics at the trainer's steps, hyper-parameters, checkpoint."""

from __future__ import annotations

from typing import Any

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from runhistory import Experiment, Workspace
from runhistory.integrations.lightning import RunhistoryLogger
from runhistory.tracking import status as st

pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning"),  # "few workers", "small batch" hints
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # Lightning's use of torch's pytree
]


class Tiny(L.LightningModule):
    def __init__(self, hidden: int = 8, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(3, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=generator)
    return DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)


def _trainer(logger: RunhistoryLogger, root: Any) -> L.Trainer:
    return L.Trainer(
        max_epochs=2, logger=logger, log_every_n_steps=1, accelerator="cpu",
        default_root_dir=str(root), enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip


def test_fit_logs_metrics_at_global_steps(run: Any, steps_of: Any, tmp_path: Any) -> None:
    torch.manual_seed(0)
    logger = RunhistoryLogger(run, log_model=True)
    _trainer(logger, tmp_path).fit(Tiny(hidden=8, lr=0.05), _loader(), _loader())
    assert steps_of(run, "train_loss") == list(range(8))  # 4 batches x 2 epochs
    assert steps_of(run, "val_loss") == [3, 7]  # after each epoch's last step
    properties = run.get_properties()
    assert properties["hidden"] == "8" and properties["lr"] == "0.05"
    names = run.get_file_names()
    assert any(n.startswith("outputs/checkpoints/") and n.endswith(".ckpt") for n in names)
    assert run.get_status() == st.RUNNING  # the caller's run is the caller's to complete
    assert logger.version == run.id


def test_a_logger_given_an_experiment_owns_its_run(tmp_path: Any) -> None:
    experiment = Experiment(Workspace(), "lightning")
    logger = RunhistoryLogger(experiment=experiment)
    _trainer(logger, tmp_path).fit(Tiny(), _loader())
    run = logger.run
    assert run.get_status() == st.COMPLETED
    assert len(run.get_metrics()["train_loss"]) == 8
