"""The ``paper`` profile's trainer: the same model, loss and schedule through PyTorch Lightning.

Lightning is what lets one command scale from a CPU to one GPU to several GPUs (DDP): the batches are
built by a ``collate_fn`` that slices the precomputed arrays (``AtomsData.batch``) from the molecule
rows the sampler hands it, so Lightning's ``DistributedSampler`` shards the molecules across processes
without any change here. Checkpoints (``lightning/last.ckpt``) are written every epoch; re-running the
same command resumes from it (loaded with ``weights_only=True``). At the end the best weights are
written in atomint's checkpoint format (``weights.pt``, ``provenance.json``, ``log.csv``) by rank 0.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .. import store


def _lightning():
    import pytorch_lightning as pl

    return pl


def make_module(model, prof):
    pl = _lightning()
    key = model.target_key

    class LitAtomistic(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model

        def _step(self, batch):
            pred = self.model(batch)[key]
            return pred - batch[key].to(pred.dtype)

        def training_step(self, batch, _):
            err = self._step(batch)
            loss = (err ** 2).mean()
            self.log("train_loss", loss.detach(), batch_size=len(err), on_epoch=True, on_step=False, sync_dist=True)
            self.log("train_mae", err.detach().abs().mean(), batch_size=len(err), on_epoch=True, on_step=False,
                     sync_dist=True)
            return loss

        def validation_step(self, batch, _):
            err = self._step(batch)
            self.log("val_mae", err.abs().mean(), batch_size=len(err), sync_dist=True)
            self.log("val_mse", (err ** 2).mean(), batch_size=len(err), sync_dist=True)

        def configure_optimizers(self):
            opt = torch.optim.Adam(self.parameters(), lr=prof.lr)
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=prof.lr_factor,
                                                               patience=prof.lr_patience, min_lr=prof.min_lr)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "monitor": "val_mae"}}

    return LitAtomistic()


class _Collate:
    """Picklable collate: molecule rows → one sliced batch."""

    def __init__(self, data):
        self.data = data

    def __call__(self, rows):
        return self.data.batch(np.asarray(rows, dtype=np.int64))


def fit(model, data, rows: dict, prof, folder: Path, *, devices="auto", accelerator="auto",
        max_minutes: float | None = None, progress: bool = True, seed: int = 0,
        weights_dir: Path | None = None) -> tuple[list[dict], float]:
    """Train ``model`` with Lightning; returns (per-epoch log rows, wall seconds). Best weights are
    written to ``weights_dir/weights.pt`` (default ``folder``; a run passes its save's staging folder)."""
    import time

    pl = _lightning()
    from torch.utils.data import DataLoader

    pl.seed_everything(seed, workers=True, verbose=False)
    collate = _Collate(data)
    train_dl = DataLoader(rows["train"].tolist(), batch_size=prof.batch_size, shuffle=True, collate_fn=collate)
    val_dl = DataLoader(rows["val"].tolist(), batch_size=max(prof.batch_size, 500), collate_fn=collate)
    ckdir = folder / "lightning"
    best = pl.callbacks.ModelCheckpoint(dirpath=ckdir, filename="best", monitor="val_mae", mode="min",
                                        save_top_k=1, save_last=True)
    stop = pl.callbacks.EarlyStopping(monitor="val_mae", mode="min", patience=prof.early_stop_patience)
    timer = pl.callbacks.Timer(duration={"minutes": max_minutes}) if max_minutes else None
    logger = pl.loggers.CSVLogger(folder, name="lightning_logs")  # a new version per (resumed) fit
    trainer = pl.Trainer(max_epochs=prof.max_epochs, accelerator=accelerator, devices=devices, logger=logger,
                         callbacks=[c for c in (best, stop, timer) if c is not None],
                         enable_progress_bar=progress, enable_model_summary=False, deterministic=False,
                         num_sanity_val_steps=0)
    lit = make_module(model, prof)
    last = ckdir / "last.ckpt"
    t0 = time.time()
    trainer.fit(lit, train_dl, val_dl, ckpt_path=str(last) if last.is_file() else None, weights_only=True)
    wall = time.time() - t0
    if trainer.is_global_zero:
        state = torch.load(best.best_model_path, map_location="cpu", weights_only=True)["state_dict"]
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
        store.save_weights(folder if weights_dir is None else weights_dir, model)
    return _read_lightning_logs(folder / "lightning_logs"), wall


def fit_run(run, progress: bool, devices) -> None:
    """Train a :class:`~atomint_helpers.training.run.Run` of the paper profile with :func:`fit` and save its
    folder as one unit (weights, log, state, provenance)."""
    from .loop import write_log

    budget = run.prof.max_minutes.get(run.model_name)
    left = None if budget is None else max(budget - run.wall / 60, 0.1)
    with store.saving(run.folder) as save:
        log, wall = fit(run.model, run.data, run.rows, run.prof, run.folder, max_minutes=left,
                        progress=progress, seed=run.seed, devices=devices, weights_dir=save.dir)
        run.log, run.wall, run.epoch = log, run.wall + wall, len(log)
        best_row = min(log, key=lambda r: r["val_mae"]) if log else None
        run.best_epoch = best_row["epoch"] if best_row else 0
        write_log(save.dir, log)
        store.atomic_torch_save({"epoch": run.epoch, "best_val": best_row["val_mae"] if best_row else math.inf,
                                 "best_epoch": run.best_epoch, "wall_s": run.wall, "done": False},
                                save.dir / store.STATE)
        run.write_provenance("training", save)


def _read_lightning_logs(root: Path) -> list[dict]:
    """Per-epoch rows from every fit's ``metrics.csv`` (a resumed fit continues the epoch count; a later
    fit's row for an epoch replaces an earlier one)."""
    import pandas as pd

    rows: dict[int, dict] = {}
    versions = sorted(root.glob("version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[1]))
    for path in versions:
        t = pd.read_csv(path)
        if "epoch" not in t:
            continue
        for epoch, g in t.groupby("epoch"):
            last = g.ffill().iloc[-1]
            rows[int(epoch) + 1] = {"epoch": int(epoch) + 1, "wall_s": math.nan, "lr": math.nan,
                                    "train_loss": float(last.get("train_loss_epoch", math.nan)),
                                    "train_mae": float(last.get("train_mae_epoch", math.nan)),
                                    "val_mae": float(last.get("val_mae", math.nan)),
                                    "val_rmse": float(np.sqrt(last.get("val_mse", math.nan)))}
    return [rows[k] for k in sorted(rows)]
