"""Input-gradient saliency of an energy model, |∂E/∂R_i|, against its latent atomic energies E_i (paper §1).

A saliency map explains a prediction by how strongly it changes when an input moves. For an energy model
the inputs are the atom positions, and ∂E/∂R_i is minus the force on atom i (kcal/mol/Å). QM9's
geometries are relaxed: the true forces vanish there, so what a trained model returns at them is its
own residual error, not a statement about the chemistry. The paper argues (§1) that this makes
gradient saliency uninformative for molecules at equilibrium, and that the latent atomic energies are
the better explanation. This module measures both on the same atoms:

* :func:`gradient_norms` — |∂E/∂R_i| of every atom (kcal/mol/Å), by autograd through the model;
* :func:`distorted` — the same molecules with every coordinate displaced by Gaussian noise of standard
  deviation ``sigma`` (Å), the contrast where forces are real and a gradient does point somewhere;
* :func:`saliency_summary` — per geometry: the median |∂E/∂R_i|, the energy a displacement of
  :data:`STEP` along it would change (|∂E/∂R_i| · STEP, kcal/mol), and the median within-element
  interquartile range of the latent atomic energies of the same atoms (kcal/mol) to compare it with.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import AtomintError
from ..data.batch import AtomsData, molecule_pairs
from ..properties import ACSF_KEY
from ..properties import R_KEY

#: displacement (Å) that turns a gradient into an energy: about the root-mean-square zero-point
#: amplitude of a C–H stretch, the scale on which a molecule at equilibrium actually moves
STEP = 0.1
#: standard deviation (Å) of the random displacement of every coordinate in the distorted contrast
SIGMA = 0.1


def gradient_norms(model, data: AtomsData, rows, batch_size: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """(|∂E/∂R_i| per atom of ``rows`` in data order (kcal/mol/Å), latent atomic energy E_i per atom
    (kcal/mol)) of an energy model. The model is put in eval mode and restored afterwards."""
    if model.config.get("target") != "energy":
        raise AtomintError(f"saliency needs an energy model; got target {model.config.get('target')!r}")
    rows = np.asarray(rows, dtype=np.int64)
    was = model.training
    model.eval()
    grads, energies = [], []
    try:
        for b in range(0, len(rows), batch_size):
            batch = data.batch(rows[b:b + batch_size])
            batch.pop(ACSF_KEY, None)
            R = batch[R_KEY].detach().clone().requires_grad_(True)
            batch[R_KEY] = R
            out = model(batch)
            (g,) = torch.autograd.grad(out["energy"].sum(), R)
            grads.append(torch.linalg.vector_norm(g, dim=1).detach().double().numpy())
            energies.append(out["atomic_energies"].detach().double().numpy())
    finally:
        model.train(was)
    if not grads:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(grads), np.concatenate(energies)


def distorted(data: AtomsData, sigma: float = SIGMA, seed: int = 0) -> AtomsData:
    """The same molecules with every coordinate displaced by N(0, sigma²) (Å), neighbour pairs rebuilt
    with the same cutoff."""
    if not sigma >= 0:
        raise AtomintError(f"sigma must be a displacement ≥ 0 Å; got {sigma}")
    R = np.asarray(data.R, dtype=np.float64)
    R = R + np.random.default_rng(seed).normal(scale=sigma, size=R.shape)
    pairs = molecule_pairs(R, np.asarray(data.offsets), data.pairs.cutoff)
    return AtomsData(np.asarray(data.Z), R, np.asarray(data.offsets), pairs, ids=data.ids)


def within_element_iqr(values, Z) -> float:
    """The median over elements of the interquartile range of ``values`` within each element (only
    elements with at least 4 atoms)."""
    values, Z = np.asarray(values, dtype=np.float64), np.asarray(Z)
    iqr = [np.subtract(*np.percentile(values[Z == z], [75, 25])) for z in np.unique(Z) if (Z == z).sum() >= 4]
    return float(np.median(iqr)) if iqr else float("nan")


def saliency_summary(model, data: AtomsData, rows, sigma: float = SIGMA, seed: int = 0) -> dict:
    """The numbers of the saliency claim for one model on the molecules ``rows`` of ``data``:

    ``grad_eq`` / ``grad_dist`` median |∂E/∂R_i| (kcal/mol/Å) at the given and at the distorted geometry;
    ``step_eq`` / ``step_dist`` the same times :data:`STEP` (kcal/mol); ``latent_iqr`` the median
    within-element IQR of the latent atomic energies at the given geometry (kcal/mol); ``ratio_eq`` /
    ``ratio_dist`` = step / latent_iqr; ``n_molecules``, ``n_atoms``."""
    rows = np.asarray(rows, dtype=np.int64)
    g_eq, e_eq = gradient_norms(model, data, rows)
    g_d, _ = gradient_norms(model, distorted(data, sigma, seed), rows)
    off = np.asarray(data.offsets, dtype=np.int64)
    Z = np.concatenate([np.asarray(data.Z)[off[r]:off[r + 1]] for r in rows]) if len(rows) else np.zeros(0)
    iqr = within_element_iqr(e_eq, Z)
    out = {"grad_eq": float(np.median(g_eq)), "grad_dist": float(np.median(g_d)), "latent_iqr": iqr,
           "n_molecules": len(rows), "n_atoms": len(g_eq), "sigma": sigma}
    out.update(step_eq=STEP * out["grad_eq"], step_dist=STEP * out["grad_dist"])
    out.update(ratio_eq=out["step_eq"] / iqr, ratio_dist=out["step_dist"] / iqr)
    return out


def saliency_study(study, ds, n_molecules: int = 300, seed: int = 0) -> dict:
    """:func:`saliency_summary` for each model of an energy study, on its lowest fold's checkpoint and a
    random sample (``seed``) of ``n_molecules`` of that checkpoint's own held-out test molecules."""
    from .. import store
    from .atom_terms import cached_qm9_data

    out = {}
    for m in study.models():
        fold = min(study.fold_set.folders[m])
        folder = study.fold_set.folders[m][fold]
        model = store.load_model(folder)
        test = np.asarray(study.tests[m][fold])
        rows = ds.rows(test[np.isin(test, ds.index)])
        if len(rows) > n_molecules:
            rows = np.sort(np.random.default_rng(seed).choice(rows, n_molecules, replace=False))
        res = saliency_summary(model, cached_qm9_data(ds, model.cutoff), rows, seed=seed)
        out[m] = {**res, "checkpoint": folder.name}
    return out


def summary_table(sal: dict):
    """:func:`saliency_study`'s numbers as a display table, one row per model (units in the headers)."""
    import pandas as pd

    from .atom_terms import MODEL_LABELS

    cols = {"checkpoint": "checkpoint", "n_molecules": "molecules", "grad_eq": "|∂E/∂R| QM9 (kcal/mol/Å)",
            "grad_dist": "|∂E/∂R| distorted (kcal/mol/Å)", "step_eq": "× 0.1 Å, QM9 (kcal/mol)",
            "step_dist": "× 0.1 Å, distorted (kcal/mol)", "latent_iqr": "latent IQR within element (kcal/mol)"}
    t = pd.DataFrame({MODEL_LABELS.get(m, m): {v: s[k] for k, v in cols.items()} for m, s in sal.items()}).T
    for c in list(cols.values())[2:]:
        t[c] = t[c].astype(float).round(3)
    return t
