"""The sign of a dipole model's latent charges: orientation by QM9's Mulliken charges, agreement with
the Mulliken sign per element and number of bonded neighbours, and the Mulliken comparison table.
Re-exported by :mod:`atomint_helpers.interpret.latent`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np

from .. import AtomintError
from ..data.bonds import mulliken_sign_groups, neighbour_counts
from .atom_terms import MODEL_LABELS

if TYPE_CHECKING:
    from .latent_study import Study


def orient_charges(st: "Study") -> list[str]:
    """The checkpoints of a charge study whose charges were multiplied by −1 when they were loaded.

    A dipole model is trained on |μ| only, and |μ| does not change when every charge changes sign: which of
    the two mirror solutions a run ends in is chance. :func:`atomint_helpers.store.orient_charges` fixes
    the sign once, at load (positive Pearson correlation with QM9's Mulliken charges on fixed sample
    molecules), so the study's charges already carry it; this names the checkpoints it flipped (also kept in
    ``st.flipped``), so a chapter can say so."""
    from .. import store

    if st.target != "dipole":
        return []
    flipped = [f.name for by in st.fold_set.folders.values() for f in by.values()
               if store.load_model(f).charge_sign < 0]  # cached by the weights' hash: no recomputation
    st.flipped = flipped
    return flipped


def sign_agreement(frames: Mapping[str, Mapping[int, object]], ds, min_abs: float = 0.1, min_atoms: int = 20):
    """How often a latent charge has the sign of QM9's Mulliken charge, per checkpoint, element and number
    of bonded neighbours (:func:`neighbour_counts`; groups from :func:`~atomint_helpers.data.bonds.
    mulliken_sign_groups`, the measure training logs every epoch).

    A global sign flip (:func:`orient_charges`) fixes the mirror ambiguity of |μ| for a whole checkpoint,
    but a training run can also settle on the mirror solution for one kind of atom only, e.g. terminal N
    (one neighbour, as in nitriles) positive where Mulliken puts it negative. Only atoms with
    |Mulliken| ≥ ``min_abs`` (e) count, and only groups of at least ``min_atoms`` such atoms are kept.
    ``frames``: ``{model: {fold: latent_terms table with charge and mulliken}}`` (e.g. ``Study.frames``).
    Columns: model, fold, element, neighbours, atoms, agree (fraction with the Mulliken sign)."""
    import pandas as pd
    from ase.data import atomic_numbers, chemical_symbols

    cols = ["model", "fold", "element", "neighbours", "atoms", "agree"]
    rows, counts = [], {}
    for m, by in frames.items():
        for k, df in by.items():
            if "mulliken" not in df:
                raise AtomintError("sign_agreement needs QM9's Mulliken charges (a 'mulliken' column)")
            key = tuple(pd.unique(df["row"].to_numpy()))
            if key not in counts:
                counts[key] = neighbour_counts(ds, np.asarray(key))
            nb = counts[key]
            if len(nb) != len(df):
                raise AtomintError(f"{len(df)} latent terms for {len(nb)} atoms of the same molecules")
            Z = np.array([atomic_numbers[s] for s in df["symbol"].astype(str)])
            groups = mulliken_sign_groups(df["charge"].to_numpy(), df["mulliken"].to_numpy(), Z, nb, min_abs,
                                          min_atoms)
            rows += [(MODEL_LABELS.get(m, m), k, chemical_symbols[z], n, a, g) for z, n, a, g in groups]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["model", "fold", "element", "neighbours"], kind="stable").reset_index(drop=True) \
        if len(out) else out


def mulliken_table(st: "Study", elements: Iterable[str] = ("H", "C", "N", "O", "F")):
    """Per model and element: Pearson r between latent and Mulliken charges (fold-mean), the latent and
    Mulliken means, and the least-squares slope of latent on Mulliken; plus an ``all`` row."""
    import pandas as pd

    rows = []
    for m in st.models():
        for e in (*elements, "all"):
            rs, slopes, ql, qm, n = [], [], [], [], 0
            for df in st.frames[m].values():
                sel = df if e == "all" else df[df["symbol"] == e]
                if len(sel) < 3 or "mulliken" not in sel:
                    continue
                x, y = sel["mulliken"].to_numpy(), sel["charge"].to_numpy()
                if np.std(x) > 0 and np.std(y) > 0:
                    rs.append(np.corrcoef(x, y)[0, 1])
                    slopes.append(np.polyfit(x, y, 1)[0])
                ql.append(y.mean())
                qm.append(x.mean())
                n = len(sel)
            if not ql:
                continue
            rows.append({"model": MODEL_LABELS.get(m, m), "element": e, "n atoms": n,
                         "Pearson r": float(np.mean(rs)) if rs else np.nan,
                         "slope": float(np.mean(slopes)) if slopes else np.nan,
                         "mean latent (e)": float(np.mean(ql)), "mean Mulliken (e)": float(np.mean(qm))})
    return pd.DataFrame(rows)
