"""A model's predictions of its target over many molecules, and their errors (MAE, RMSE)."""
from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def predict(model, data, rows, batch_size: int = 500) -> np.ndarray:
    """Model predictions of its target for ``rows`` of ``data`` (kcal/mol or Debye)."""
    was = model.training
    model.eval()
    out = [model(b)[model.target_key].double().numpy() for b in data.batches(rows, batch_size)]
    model.train(was)
    return np.concatenate(out) if out else np.zeros(0)


def metrics(pred: np.ndarray, target: np.ndarray) -> dict:
    err = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))), "n": int(len(err))}
