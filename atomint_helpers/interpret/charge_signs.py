"""The sign of a dipole model's latent charges: orientation by QM9's Mulliken charges, agreement with
the Mulliken sign per element and number of bonded neighbours, and the Mulliken comparison table.
Re-exported by :mod:`atomint_helpers.interpret.latent`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np

from .. import AtomintError
from ..data.bonds import neighbour_counts
from .atom_terms import MODEL_LABELS

if TYPE_CHECKING:
    from .latent_study import Study


def charge_orientation(df) -> tuple[int, str]:
    """+1 or −1 and why: the sign that makes a dipole model's charges follow the chemical convention.

    A dipole model is trained on |μ| only (QM9 has no dipole direction), and |μ| does not change when
    every charge changes sign: which of the two mirror solutions a training run ends in is chance. The
    sign is fixed here by QM9's Mulliken charges when present (the sign with a positive correlation),
    otherwise by the convention that oxygen, the most electronegative common element, is negative."""
    q = df["charge"].to_numpy()
    if "mulliken" in df and len(q) > 2 and np.std(q) > 0:
        r = float(np.corrcoef(q, df["mulliken"].to_numpy())[0, 1])
        return (1 if r >= 0 else -1), f"Pearson r with Mulliken {r:+.2f}"
    o = q[df["symbol"].to_numpy() == "O"]
    if len(o):
        return (1 if o.mean() <= 0 else -1), f"mean O charge {o.mean():+.3f} e"
    return 1, "no Mulliken charges and no oxygen: left as trained"


def orient_charges(st: "Study") -> list[str]:
    """Apply :func:`charge_orientation` to every frame of a charge study, in place; returns the
    checkpoints whose charges were flipped (also kept in ``st.flipped``)."""
    if st.target != "dipole":
        return []
    flipped = []
    for m, by in st.frames.items():
        for k, df in by.items():
            sign, _ = charge_orientation(df)
            if sign < 0:
                df["charge"] = -df["charge"]
                flipped.append(st.fold_set.folders[m][k].name)
    st.flipped = flipped
    return flipped


def sign_agreement(frames: Mapping[str, Mapping[int, object]], ds, min_abs: float = 0.1, min_atoms: int = 20):
    """How often a latent charge has the sign of QM9's Mulliken charge, per checkpoint, element and number
    of bonded neighbours (:func:`neighbour_counts`).

    A global sign flip (:func:`orient_charges`) fixes the mirror ambiguity of |μ| for a whole checkpoint,
    but a training run can also settle on the mirror solution for one kind of atom only, e.g. terminal N
    (one neighbour, as in nitriles) positive where Mulliken puts it negative. Only atoms with
    |Mulliken| ≥ ``min_abs`` (e) count, and only groups of at least ``min_atoms`` such atoms are kept.
    ``frames``: ``{model: {fold: latent_terms table with charge and mulliken}}`` (e.g. ``Study.frames``).
    Columns: model, fold, element, neighbours, atoms, agree (fraction with the Mulliken sign)."""
    import pandas as pd

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
            sel = np.abs(df["mulliken"].to_numpy()) >= min_abs
            agree = np.sign(df["charge"].to_numpy()) == np.sign(df["mulliken"].to_numpy())
            t = pd.DataFrame({"element": df["symbol"].astype(str).to_numpy()[sel], "neighbours": nb[sel],
                              "agree": agree[sel]})
            g = t.groupby(["element", "neighbours"]).agg(atoms=("agree", "size"), agree=("agree", "mean")).reset_index()
            g.insert(0, "fold", k)
            g.insert(0, "model", MODEL_LABELS.get(m, m))
            rows.append(g[g["atoms"] >= min_atoms])
    cols = ["model", "fold", "element", "neighbours", "atoms", "agree"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


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
