"""The sign of a dipole model's latent charges in a study: which checkpoints were flipped at load (the sign
itself is decided by :mod:`atomint_helpers.models.charge_sign`), agreement with the Mulliken sign per element
and number of bonded neighbours, and the Mulliken comparison table."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np

from .. import AtomintError
from ..data.bonds import mulliken_sign_groups, neighbour_counts
from ..data.elements import QM9_SYMBOLS
from .atom_terms import MODEL_LABELS, first_frame, molecule_rows

if TYPE_CHECKING:
    from .latent_study import Study


def flipped_checkpoints(st: "Study") -> list[str]:
    """The checkpoints of a charge study whose charges were multiplied by −1 when they were loaded.

    A dipole model is trained on |μ| only, and |μ| does not change when every charge changes sign: which of
    the two mirror solutions a run ends in is chance. The sign is decided by one convention
    (:func:`atomint_helpers.models.charge_sign.mulliken_charge_sign`: positive Pearson correlation with
    QM9's Mulliken charges on fixed sample molecules) and applied at load (:func:`atomint_helpers.store.
    load_model`), so the study's charges already carry it; this names the checkpoints it flipped (also kept
    in ``st.flipped``), so a chapter can say so."""
    from .. import store

    if st.target != "dipole":
        return []
    flipped = [f.name for f in st.fold_set.checkpoints()
               if store.load_model(f).charge_sign < 0]  # cached by the weights' hash: no recomputation
    st.flipped = flipped
    return flipped


def sign_agreement(frames: Mapping[str, Mapping[int, object]], ds, min_abs: float = 0.1, min_atoms: int = 20,
                   reference: str = "mulliken"):
    """How often a latent charge has the sign of QM9's Mulliken charge, per checkpoint, element and number
    of bonded neighbours (:func:`neighbour_counts`; groups from :func:`~atomint_helpers.data.bonds.
    mulliken_sign_groups`, the measure training logs every epoch).

    A global sign flip (:mod:`atomint_helpers.models.charge_sign`) fixes the mirror ambiguity of |μ| for a whole checkpoint,
    but a training run can also settle on the mirror solution for one kind of atom only, e.g. terminal N
    (one neighbour, as in nitriles) positive where Mulliken puts it negative. Only atoms with
    |Mulliken| ≥ ``min_abs`` (e) count, and only groups of at least ``min_atoms`` such atoms are kept.
    ``frames``: ``{model: {fold: latent_terms table with charge and mulliken}}`` (e.g. ``Study.frames``).
    ``reference`` names the column whose sign is the reference on the same atoms (``"gasteiger"``: add it
    with :func:`~.reference_charges.add_gasteiger`). Columns: model, fold, element, neighbours, atoms,
    agree (fraction with the reference's sign)."""
    import pandas as pd
    from ase.data import atomic_numbers, chemical_symbols

    cols = ["model", "fold", "element", "neighbours", "atoms", "agree"]
    rows, counts = [], {}
    for m, by in frames.items():
        for k, df in by.items():
            if "mulliken" not in df:
                raise AtomintError("sign_agreement needs QM9's Mulliken charges (a 'mulliken' column)")
            if reference not in df:
                raise AtomintError(f"no '{reference}' column to judge the signs by (Gasteiger charges: "
                                   f"reference_charges.add_gasteiger(study, ds))")
            key = tuple(molecule_rows(df))
            if key not in counts:
                counts[key] = neighbour_counts(ds, np.asarray(key))
            nb = counts[key]
            if len(nb) != len(df):
                raise AtomintError(f"{len(df)} latent terms for {len(nb)} atoms of the same molecules")
            Z = np.array([atomic_numbers[s] for s in df["symbol"].astype(str)])
            groups = mulliken_sign_groups(df["charge"].to_numpy(), df["mulliken"].to_numpy(), Z, nb, min_abs,
                                          min_atoms, reference=df[reference].to_numpy())
            rows += [(MODEL_LABELS.get(m, m), k, chemical_symbols[z], n, a, g) for z, n, a, g in groups]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["model", "fold", "element", "neighbours"], kind="stable").reset_index(drop=True) \
        if len(out) else out


def mulliken_table(st: "Study", elements: Iterable[str] = QM9_SYMBOLS):
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


# ------------------------------------------------------------------------------------------ two references
#: the share of atoms with the reference's sign that the project's goal asks of every group and checkpoint
SIGN_GOAL = 0.95


def reference_table(frames: Mapping[str, Mapping[int, object]], ds, min_abs: float = 0.1, min_atoms: int = 20):
    """Per (element, neighbours) group: the share of atoms with the Mulliken sign and with the Gasteiger
    sign (lowest and highest over all checkpoints), and how often the two references agree with each other
    on the same atoms (|Mulliken| ≥ ``min_abs``, as in :func:`sign_agreement`). The frames need a
    ``gasteiger`` column (:func:`~.reference_charges.add_gasteiger`)."""
    tabs = {ref: sign_agreement(frames, ds, min_abs, min_atoms, reference=ref) for ref in ("mulliken", "gasteiger")}
    first = first_frame(frames)
    refs = sign_agreement({"references": {0: first.assign(charge=first["gasteiger"])}}, ds, min_abs, min_atoms)
    key = ["element", "neighbours"]
    out = tabs["mulliken"].groupby(key)["atoms"].max().to_frame("atoms")
    for ref, name in (("mulliken", "Mulliken"), ("gasteiger", "Gasteiger")):
        g = tabs[ref].groupby(key)["agree"]
        out[f"{name} sign, lowest"], out[f"{name} sign, highest"] = g.min(), g.max()
    out["Mulliken vs Gasteiger"] = refs.set_index(key)["agree"]
    return out.reset_index().astype({"atoms": int})


def _environment_labels(ds, rows) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, neighbours)`` per atom (order of :func:`~.atom_terms.latent_terms`): its bonded
    neighbours, each as element and that neighbour's own number of bonded neighbours, e.g. ``C[2] C[4]``
    for a carbon bonded to an sp and an sp³ carbon; and its number of bonded neighbours."""
    import pandas as pd
    from ase.data import chemical_symbols

    from ..data.bonds import bonded_pairs
    from ..data.qm9 import ranges

    i, j, n = bonded_pairs(ds, rows)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    Z = np.asarray(ds.arrays["Z"])[ranges(off[rows], off[rows + 1] - off[rows])]
    nb = np.bincount(i, minlength=n)
    code = pd.Series([f"{chemical_symbols[z]}[{k}]" for z, k in zip(Z[j], nb[j])], index=i)
    labels = code.groupby(level=0).agg(lambda s: " ".join(sorted(s)))
    return labels.reindex(np.arange(n)).fillna("none").to_numpy(), nb


def environment_table(frames: Mapping[str, Mapping[int, object]], ds, element: str, neighbours: Iterable[int],
                      min_abs: float = 0.1, top: int = 10):
    """Where the atoms of ``element`` with ``neighbours`` bonded neighbours disagree with Mulliken: per
    bonded environment (:func:`_environment_labels`), the number of atoms (|Mulliken| ≥ ``min_abs``), the
    mean Mulliken charge, the mean Gasteiger charge (where the frames have one), and per model the mean
    latent charge and the share with the Mulliken sign (all folds pooled). The ``top`` environments with
    the most atoms of the wrong sign (summed over models), worst first."""
    import pandas as pd

    first = first_frame(frames)
    rows = molecule_rows(first)
    env, nb = _environment_labels(ds, rows)
    sel = ((first["symbol"].astype(str).to_numpy() == element) & np.isin(nb, list(neighbours))
           & (np.abs(first["mulliken"].to_numpy()) >= min_abs))
    t = pd.DataFrame({"environment": env[sel], "neighbours": nb[sel], "Mulliken (e)": first["mulliken"].to_numpy()[sel]})
    if "gasteiger" in first:
        t["Gasteiger (e)"] = first["gasteiger"].to_numpy()[sel]
    wrong = np.zeros(int(sel.sum()))
    for m, by in frames.items():
        q = np.mean([df["charge"].to_numpy()[sel] for df in by.values()], axis=0)
        ok = np.mean([np.sign(df["charge"].to_numpy()[sel]) == np.sign(t["Mulliken (e)"].to_numpy())
                      for df in by.values()], axis=0)
        lab = MODEL_LABELS.get(m, m)
        t[f"{lab} (e)"], t[f"{lab} Mulliken sign"] = q, ok
        wrong += 1 - ok
    t["wrong"] = wrong
    agg = {c: "mean" for c in t.columns if c not in ("environment", "neighbours", "wrong")}
    g = t.groupby(["neighbours", "environment"]).agg({**agg, "wrong": "sum"})
    g.insert(0, "atoms", t.groupby(["neighbours", "environment"]).size())
    return g.sort_values("wrong", ascending=False).drop(columns="wrong").head(top)
