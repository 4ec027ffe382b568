"""The sign of the latent charges against two references: QM9's Mulliken charges and Gasteiger's
(:mod:`~atomint_helpers.interpret.reference_charges`), in words and scorecard rows (beyond the paper).

Rule (per model, kind ``beyond``): *the latent charges have the Mulliken sign* holds when, in every
(element, neighbours) group of :func:`~atomint_helpers.interpret.charge_signs.sign_agreement` and in every
fold, at least 95 % of the atoms (|Mulliken| ≥ 0.1 e) carry it
(:data:`~atomint_helpers.interpret.charge_signs.SIGN_GOAL`).

The text says which groups miss that share in every checkpoint of both models (a property of charges
learned from |μ|, not of one run), and for each whether the Gasteiger sign is met instead in every
checkpoint (a group where a hybridisation-aware electronegativity, not Mulliken, is the reference) or
not (a group that stays below the goal). It gives the |μ| error of Mulliken's own charges beside the
dipole models' test error: how far Mulliken's charges are from reproducing the dipole the latent charges
were trained on.
"""
from __future__ import annotations

import numpy as np

from ..interpret.charge_signs import SIGN_GOAL, environment_table
from .claims import QUICK_NOTE, format_significant, group_name, still_training_note, verdict_and_note
from .findings import join

#: a mean latent charge this close to zero (e) counts as "nearly neutral" in the environment text
NEAR_ZERO = 0.05
RULE = (f"≥ {SIGN_GOAL:.0%} of the atoms (|Mulliken| ≥ 0.1 e) carry the Mulliken sign in every (element, bonded "
        f"neighbours) group with ≥ 20 such atoms, in every fold")


def _e(x: float, digits: int) -> str:
    """A signed charge with a true minus sign and no negative zero: ``+0.28``, ``−0.09``, ``+0.00``."""
    return f"{round(float(x), digits) + 0.0:+.{digits}f}".replace("-", "−")


def sign_rows(signs, charges, quick: bool) -> list[dict]:
    """One ``beyond`` row per model: the rule above on :func:`~.latent.sign_agreement`'s table of the
    charge study ``charges``; the number is the model's lowest group."""
    pending = still_training_note(charges)
    rows = []
    for model, g in signs.groupby("model", sort=False):
        worst = g.loc[g["agree"].idxmin()]
        below = g[g["agree"] < SIGN_GOAL].groupby(["element", "neighbours"])["agree"].min()
        holds, why = verdict_and_note(bool(len(below) == 0), quick, pending)
        what = ("every group meets it" if not len(below) else
                "below it: " + ", ".join(f"{group_name(e, n)} {a:.1%}" for (e, n), a in below.items()))
        rows.append({"claim": "Latent charges have the Mulliken sign in every group of atoms", "model": model,
                     "paper": None, "atomint": f"lowest {group_name(worst['element'], int(worst['neighbours']))}: "
                                              f"{worst['agree']:.1%}",
                     "unit": "", "holds": holds, "kind": "beyond", "rule": RULE,
                     "note": "; ".join(x for x in (why, what) if x)})
    return rows


def reference_paragraph(table, mulliken_mae: float, model_mae: dict[str, float]) -> str:
    """'What we see' for :func:`~.charge_signs.reference_table`, from the numbers: groups below the goal in
    every checkpoint, whether Gasteiger's sign is met there, and Mulliken's own |μ| error (D) against the
    dipole checkpoints' test MAE ``model_mae`` (name → D)."""
    low = table[table["Mulliken sign, highest"] < SIGN_GOAL]
    parts = []
    if not len(low):
        parts.append(f"In every group, some checkpoint gives at least {SIGN_GOAL:.0%} of the atoms the Mulliken sign.")
    else:
        explained = low[low["Gasteiger sign, lowest"] >= SIGN_GOAL]
        open_ = low[low["Gasteiger sign, lowest"] < SIGN_GOAL]

        def span(r, ref):
            lo, hi = r[f"{ref} sign, lowest"], r[f"{ref} sign, highest"]
            return f"{lo:.1%}" if round(lo, 3) == round(hi, 3) else f"{lo:.1%}–{hi:.1%}"

        parts.append("In every checkpoint of both models, fewer than "
                     f"{SIGN_GOAL:.0%} of the atoms carry the Mulliken sign in these groups: "
                     + "; ".join(f"{group_name(r['element'], int(r['neighbours']))} ({span(r, 'Mulliken')} of "
                                 f"{int(r['atoms']):,} atoms)" for _, r in low.iterrows()) + ".")
        if len(explained):
            parts.append(
                "Gasteiger's sign, which makes sp carbon more electronegative than sp² and sp³ carbon, is met by "
                f"at least {SIGN_GOAL:.0%} of the atoms in every checkpoint for "
                + join([f"{group_name(r['element'], int(r['neighbours']))} ({span(r, 'Gasteiger')})"
                         for _, r in explained.iterrows()])
                + ". There the two references disagree on "
                + join([f"{1 - r['Mulliken vs Gasteiger']:.0%}" for _, r in explained.iterrows()])
                + " of the atoms, and the models side with Gasteiger's electronegativity: for these groups, "
                  "Mulliken is not the reference.")
        if len(open_):
            parts.append(
                "Neither reference is met for "
                + join([f"{group_name(r['element'], int(r['neighbours']))} (Gasteiger {span(r, 'Gasteiger')})"
                         for _, r in open_.iterrows()])
                + f": these groups stay below the {SIGN_GOAL:.0%} goal, and the table below shows which "
                  "environments the disagreement comes from.")
    maes = [v for v in model_mae.values() if np.isfinite(v)]
    if maes:
        ratio = mulliken_mae / max(maes)
        parts.append(f"Mulliken's charges, used as point charges, give |μ| with a mean absolute error of "
                     f"{mulliken_mae:.2f} D against QM9's |μ|; the dipole checkpoints' test MAE is "
                     f"{min(maes):.3f}–{max(maes):.3f} D.")
        if ratio >= 2:
            parts.append(f"That is at least {ratio:.0f} times smaller: the latent charges reproduce the dipole that "
                         "Mulliken's do not, so where the two disagree, Mulliken's sign is not a measurement the "
                         "latent charges should match.")
        else:
            parts.append("These checkpoints do not reproduce |μ| clearly better than Mulliken's charges do, so this "
                         "comparison cannot say which of the two to trust.")
    return " ".join(parts)


def below_goal(table) -> dict[str, list[int]]:
    """``{element: [neighbours]}`` of the groups of :func:`~.charge_signs.reference_table` in which no
    checkpoint reaches the goal's share of atoms with the Mulliken sign."""
    low = table[table["Mulliken sign, highest"] < SIGN_GOAL]
    return {str(e): [int(n) for n in g["neighbours"]] for e, g in low.groupby("element", sort=True)}


def environments(charges, ds, table, top: int = 10) -> dict:
    """``{element: environment_table}`` for the groups :func:`below_goal` (mean over folds per model)."""
    return {el: environment_table(charges.frames, ds, el, nbs, top=top) for el, nbs in below_goal(table).items()}


def dipole_errors(charges, ds) -> tuple[float, dict[str, float]]:
    """``(mulliken_mae, model_mae)``: the MAE (D) of |μ| from Mulliken's point charges against QM9's |μ|
    over the study's molecules, and each dipole checkpoint's recorded test MAE (D) by name."""
    from .. import store
    from ..interpret.atom_terms import first_frame, molecule_rows
    from ..interpret.reference_charges import mulliken_dipoles

    first = first_frame(charges.frames)
    rows = molecule_rows(first)
    mull = float(np.mean(np.abs(mulliken_dipoles(ds, rows) - np.asarray(ds.arrays["mu"], dtype=np.float64)[rows])))
    maes = {}
    for f in charges.fold_set.checkpoints():
        test = store.provenance(f).get("metrics", {}).get("test") or {}
        maes[f.name] = float(test.get("mae", np.nan))
    return mull, maes


def environment_paragraph(env, min_share: float = 0.5, top: int = 5) -> str:
    """'What we see' for :func:`~.charge_signs.environment_table`: the (at most ``top``) environments in
    which most atoms have the wrong sign under every model, with the mean charges."""
    cols = [c for c in env.columns if c.endswith("Mulliken sign")]
    if env.empty or not cols:
        return "No environment of these groups has enough atoms to show."
    bad = env[(env[cols] < min_share).all(axis=1)]
    if not len(bad):
        return (f"No environment has the Mulliken sign for fewer than {min_share:.0%} of its atoms under every "
                f"model: the disagreement is spread over many environments.")
    models = [c.removesuffix(" Mulliken sign") for c in cols]

    def one(env_label, r):
        q = [r[f"{m} (e)"] for m in models]
        gas = f", Gasteiger {_e(r['Gasteiger (e)'], 2)} e" if "Gasteiger (e)" in r else ""
        return (f"{env_label} ({int(r['atoms']):,} atoms: Mulliken {_e(r['Mulliken (e)'], 2)} e{gas}, "
                f"models {_e(min(q), 3)} to {_e(max(q), 3)} e)")

    share = bad["atoms"].sum() / env["atoms"].sum()
    text = ("Under every model, most atoms carry the sign opposite to Mulliken's in "
            + join([one(e, r) for (_, e), r in bad.head(top).iterrows()])
            + (f", and {len(bad) - top} more" if len(bad) > top else "")
            + f". Those environments hold {share:.0%} of the atoms the table lists.")
    q = bad[[f"{m} (e)" for m in models]].abs().to_numpy()
    mull = bad["Mulliken (e)"].abs().to_numpy()
    if (q.max(axis=1) < NEAR_ZERO).all():
        text += (f" In each of them every model's mean charge is within ±{NEAR_ZERO} e of zero, while Mulliken's "
                 f"is {mull.min():.2f}–{mull.max():.2f} e away from it: the models leave these atoms nearly "
                 f"neutral where Mulliken charges them.")
    return text


# ------------------------------------------------------------------------------------------ Mulliken (beyond the paper)
def mulliken_rows(table, quick: bool) -> list[dict]:
    """Scorecard rows for the Mulliken comparison (beyond the paper: no claim, ``holds`` None)."""
    rows = []
    for model, sub in table.groupby("model", sort=False):
        r_all = sub.loc[sub["element"] == "all", "Pearson r"]
        per = ", ".join(f"{e} {format_significant(r, 2)}" for e, r in zip(sub["element"], sub["Pearson r"])
                        if e != "all")
        rows.append({"claim": f"{model} latent charges vs QM9 Mulliken charges (Pearson r)", "paper": None,
                     "atomint": round(float(r_all.iloc[0]), 3) if len(r_all) else None, "unit": "",
                     "holds": None, "kind": "beyond", "model": model,
                     "note": (QUICK_NOTE + "; " if quick else "") + f"beyond the paper; per element: {per}"})
    return rows


def mulliken_paragraph(table, flipped: list[str]) -> str:
    """'What we see' text for the Mulliken comparison, written from the numbers."""
    parts = []
    for model, sub in table.groupby("model", sort=False):
        sub = sub.set_index("element")
        el = sub.drop(index="all", errors="ignore").dropna(subset=["Pearson r"])
        if el.empty:
            continue
        best, worst = el["Pearson r"].idxmax(), el["Pearson r"].idxmin()
        off = (el["mean latent (e)"] - el["mean Mulliken (e)"])
        big = off.abs().idxmax()
        r_all = sub.loc["all", "Pearson r"]
        if r_all > el["Pearson r"].max():
            how = "higher than within any single element, so the agreement rests on the differences between elements"
        elif r_all < el["Pearson r"].min():
            how = "lower than within every single element"
        else:
            how = "between the values within single elements"
        parts.append(
            f"For {model}, latent and Mulliken charges correlate with r = {format_significant(r_all, 2)} "
            f"over all atoms, {how}. Within an element the "
            f"agreement is best for {best} (r = {format_significant(el.loc[best, 'Pearson r'], 2)}) "
            f"and weakest for {worst} (r = {format_significant(el.loc[worst, 'Pearson r'], 2)}). "
            f"The largest systematic offset is for {big}: its mean latent charge is {el.loc[big, 'mean latent (e)']:+.3f} e against a Mulliken mean of "
            f"{el.loc[big, 'mean Mulliken (e)']:+.3f} e, and the latent charges span "
            f"{format_significant(sub.loc['all', 'slope'], 2)} times the Mulliken range "
            f"(least-squares slope over all atoms).")
    if flipped:
        parts.append(f"The charges of {', '.join(flipped)} came out of training with the opposite overall sign "
                     f"(|μ| cannot tell) and are shown multiplied by −1.")
    else:
        parts.append("No checkpoint needed its charges flipped: all came out of training with the Mulliken sign.")
    return " ".join(parts)


def sign_paragraph(table, gap: float = 0.2) -> str:
    """'What we see' text for :func:`~atomint_helpers.interpret.charge_signs.sign_agreement`, from the numbers:
    groups (element, number of neighbours) in which one fold's agreement with the Mulliken sign lies at
    least ``gap`` below the best fold of the same model (a local mirror solution), and groups in which
    every checkpoint disagrees with Mulliken for most atoms."""
    if table.empty:
        return "No group of atoms is large enough to compare."
    parts = []
    for (model, el, nb), g in table.groupby(["model", "element", "neighbours"], sort=False):
        best = g["agree"].max()
        for _, r in g[g["agree"] <= best - gap].iterrows():
            parts.append(f"{model} fold {r['fold']} gives only {r['agree']:.0%} of its {el} atoms with {nb} bonded "
                         f"neighbour{'s' if nb != 1 else ''} the Mulliken sign ({r['atoms']:,} atoms), against "
                         f"{best:.0%} for the best {model} fold: that run settled on the mirror solution for this "
                         f"kind of atom only, which |μ| alone does not rule out")
    mostly_opposite = table.groupby(["element", "neighbours"])["agree"].max()
    mostly_opposite = mostly_opposite[mostly_opposite < 0.5]
    text = ("; ".join(parts) + ". ") if parts else (
        f"No fold departs from the other folds of its model by {gap:.0%} or more in any group: wherever the "
        f"folds agree with Mulliken's sign, they do so together. ")
    if len(mostly_opposite):
        groups = ", ".join(group_name(el, nb) for el, nb in mostly_opposite.index)
        text += (f"In every checkpoint, most atoms of these groups carry the sign opposite to Mulliken's: {groups}.")
    else:
        lo = table["agree"].min()
        text += f"Over all checkpoints and groups, the agreement ranges from {lo:.0%} to {table['agree'].max():.0%}."
    return text
