"""``atomint explain``'s numbers and lines: what trained models say about molecules, atom by atom.

:func:`explain` runs every model (or fold ensemble) on every molecule and returns a table with one row per
atom — index, element, x, y, z (Å) and every model's latent term: the atomic energy E_i (kcal/mol, energy
models; Σ E_i = the predicted atomization energy) or the partial charge q_i (e, dipole models;
μ = Σ q_i r_i) — and each model's molecular prediction. :func:`prediction_line` and :func:`format_table`
turn them into the command's text, :func:`write_csv` writes the table (atomically) for ``--csv``, and
:func:`model_labels` names the models in both. The molecules arrive checked (:mod:`.explain` runs the
applicability check on each before any model sees it).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .. import AtomintError

#: a file whose molecules are estimated to take longer than this (s) shows a progress bar with an ETA
PROGRESS_AFTER_S = 3.0
#: per target: the latent term's symbol, its unit and its column name in the table
_HEADERS = {"energy": ("E_i", "kcal/mol", "atomic_energy_kcal_mol"),
            "dipole": ("q_i", "e", "charge_e")}


def model_labels(folders: list[Path]) -> list[str]:
    """A column label per model: the folder's name, or its whole path where two names are the same."""
    names = [f.name for f in folders]
    if len(set(names)) == len(names):
        return names
    return [str(f) for f in folders]


def explain(frames: list, models: list, labels: list[str] | None = None, progress: bool | None = None):
    """``(table, predictions)`` for molecules (``ase.Atoms``) under models.

    ``models``: per label a model, or a list of models (the folds of one model and target: an ensemble,
    reported as the fold mean with its standard deviation, ddof = 1).
    ``table``: one row per atom — ``frame`` (molecule number in the file), ``index``, ``element``,
    ``x_A``, ``y_A``, ``z_A`` and per label ``<label>:atomic_energy_kcal_mol`` or ``<label>:charge_e``
    (plus ``…_std`` for an ensemble). ``predictions``: one dict per (frame, label) with the molecular
    output (and ``*_std`` for an ensemble). Many molecules (the first one's time × their number above
    :data:`PROGRESS_AFTER_S` s, or ``progress=True``) show a progress bar with an ETA on stderr."""
    import pandas as pd
    from ase.data import chemical_symbols

    import time

    labels = labels or [f"model{i}" for i in range(len(models))]
    sets = [m if isinstance(m, (list, tuple)) else [m] for m in models]
    parts, preds = [], []
    bar, t0 = None, time.perf_counter()
    for k, atoms in enumerate(frames):
        slow = (time.perf_counter() - t0) * len(frames) > PROGRESS_AFTER_S
        if k == 1 and progress is not False and (progress or slow):
            from tqdm import tqdm  # many molecules: a progress bar with an ETA on stderr

            bar = tqdm(total=len(frames), initial=1, unit="molecule", desc="explain", leave=False, mininterval=1.0)
        elif bar is not None:
            bar.update(1)
        pos = np.asarray(atoms.positions, dtype=np.float64)
        t = pd.DataFrame({"frame": k, "index": np.arange(len(atoms)),
                          "element": [chemical_symbols[int(z)] for z in atoms.numbers],
                          "x_A": pos[:, 0], "y_A": pos[:, 1], "z_A": pos[:, 2]})
        for label, folds in zip(labels, sets):
            target = folds[0].config["target"]
            outs = [m.predict(atoms) for m in folds]
            latent, mol = (("atomic_energies", ("energy",)) if target == "energy"
                           else ("partial_charges", ("dipole_moment", "dipole_vector")))
            terms = np.stack([np.asarray(o[latent], dtype=np.float64) for o in outs])
            col = f"{label}:{_HEADERS[target][2]}"
            t[col] = terms.mean(0)
            if len(folds) > 1:
                t[col + "_std"] = terms.std(0, ddof=1)
            p = {"frame": k, "model": label, "target": target, "n_atoms": len(atoms), "folds": len(folds)}
            for key in mol:
                vals = np.stack([np.asarray(o[key], dtype=np.float64) for o in outs])
                p[key] = vals.mean(0).tolist() if vals.ndim > 1 else float(vals.mean())
                if len(folds) > 1:
                    p[key + "_std"] = vals.std(0, ddof=1).tolist() if vals.ndim > 1 else float(vals.std(ddof=1))
            preds.append(p)
        parts.append(t)
    if bar is not None:
        bar.update(1)
        bar.close()
    return pd.concat(parts, ignore_index=True), preds


def prediction_line(p: dict) -> str:
    """One line of a molecular prediction of :func:`explain`: the atomization energy (kcal/mol and eV) or the
    dipole moment (D, vector about the centre of mass), with the fold spread of an ensemble."""
    from ..units import EV_TO_KCAL_MOL

    folds = f" (mean of {p['folds']} folds)" if p.get("folds", 1) > 1 else ""
    if p["target"] == "energy":
        e = p["energy"]
        spread = f" ± {p['energy_std']:,.2f}" if "energy_std" in p else ""
        return (f"{p['model']}: atomization energy {e:,.2f}{spread} kcal/mol ({e / EV_TO_KCAL_MOL:,.3f} eV) "
                f"= Σ of {p['n_atoms']} atomic energies E_i{folds}")
    x, y, z = p["dipole_vector"]
    spread = f" ± {p['dipole_moment_std']:.3f}" if "dipole_moment_std" in p else ""
    return (f"{p['model']}: dipole moment |μ| = {p['dipole_moment']:.3f}{spread} D, μ = ({x:+.3f}, {y:+.3f}, "
            f"{z:+.3f}) D (centre of mass) = Σ q_i r_i over {p['n_atoms']} partial charges q_i{folds}")


def format_table(t, labels: list[str], models: list) -> str:
    """The per-atom table as aligned text (one header line with units)."""
    cols = ["index", "element", "x_A", "y_A", "z_A"]
    heads = ["atom", "el", "x (Å)", "y (Å)", "z (Å)"]
    for label, m in zip(labels, models):
        m = m[0] if isinstance(m, (list, tuple)) else m
        sym, unit, col = _HEADERS[m.config["target"]]
        cols.append(f"{label}:{col}")
        heads.append(f"{sym} {label} ({unit})")
        if f"{label}:{col}_std" in t:
            cols.append(f"{label}:{col}_std")
            heads.append(f"± ({unit})")
    fmt = {"x_A": "{:.4f}", "y_A": "{:.4f}", "z_A": "{:.4f}"}
    for c in cols[5:]:
        fmt[c] = "{:.3f}" if "kcal_mol" in c else ("{:.4f}" if c.endswith("_std") else "{:+.4f}")
    body = [[str(v) if c not in fmt else fmt[c].format(v) for c, v in zip(cols, row)]
            for row in t[cols].itertuples(index=False)]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in body]
    return "\n".join(lines)


def write_csv(t, path) -> Path:
    """Write the table as CSV atomically (temporary file, then rename)."""
    from ..store import atomic_write_bytes

    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise AtomintError(f"cannot write {path}: folder {path.parent} does not exist")
    buf = io.StringIO()
    t.to_csv(buf, index=False, float_format="%.6f")
    atomic_write_bytes(path, buf.getvalue().encode("utf-8"))
    return path
