"""Verdicts on the paper's section 3.2 (Fig. 6, the ESP of the latent charges), in words and numbers.

:func:`rows` gives the ESP chapter's scorecard rows and :func:`what_we_see` its text, from the numbers of
:mod:`atomint_helpers.interpret.esp` on the six molecules of Fig. 6 (methane, propane, benzene,
pyrazine, toluene, phloroglucinol). Rules, fixed before the numbers were looked at:

1. *BP and SchNet give very similar ESPs* — the mean over the six molecules of the Pearson r between the
   models' ESPs on a 3D grid outside the van der Waals surface is ≥ 0.9.
2. *The similarity "is further amplified by the damping … inverse dependence on the distance"* — over the
   same molecules, with each molecule's charges normalized to max |q| = 1, the Pearson r of the two
   models' ESPs (grid points outside the van der Waals surfaces, pooled) exceeds the Pearson r of their
   charges (atoms, pooled).
3. *H positive, C negative in the hydrocarbons* — per model: in each of methane, propane, benzene and
   toluene the mean H charge is > 0 and the mean C charge < 0.
4. *O negative in phloroglucinol* — per model: all three O charges < 0.
5. *"A negative area around" phloroglucinol's O atoms* — per model, on the ESP itself: for each O the
   mean V over its patch of the van der Waals surface (the exposed surface points that lie on its
   sphere) is < 0.

Confound of rules 3–5 (kind ``beyond``): the dipole head starts each element's charge offset from its
electronegativity (:func:`~atomint_helpers.models.heads.seed_charge`). Per model, the seed against the
mean latent charge per element, and the sign verdicts of 3 and 4 for the quick-profile models trained
with and without the seed (otherwise the same recipe and random seeds): the row holds if the number of
folds passing each check is the same with and without the seed.
"""
from __future__ import annotations

import numpy as np

from .claims import QUICK_NOTE, _fmt, _verdict

#: rule 1's threshold on the mean Pearson r
SIMILAR_R = 0.9
NO_CLAIM = "a measurement beyond the paper, no claim to decide"


def _row(claim, model, paper, atomint, rule, holds, note, kind="paper") -> dict:
    return {"claim": claim, "model": model, "paper": paper, "atomint": atomint, "unit": "", "holds": holds,
            "kind": kind, "rule": rule, "note": note}


def similarity_rows(agreement, similarity: dict, quick: bool) -> list[dict]:
    """Rules 1 and 2 (about the pair of models)."""
    col = next(c for c in agreement.columns if c.startswith("r("))
    r = agreement[col].astype(float)
    holds, note = _verdict(bool(r.mean() >= SIMILAR_R), quick)
    mirror = ("; r < 0: mirror-image ESPs, one model's charges globally inverted" if r.mean() < 0 else "")
    rows = [_row("BP and SchNet give “very similar” ESPs (Fig. 6)", "", "very similar", round(float(r.mean()), 3),
                 f"holds if the mean over the six molecules of Pearson r(V_BP, V_SchNet) outside the vdW surface is "
                 f"≥ {SIMILAR_R}", holds, note or f"min r = {r.min():.3f} ({r.idxmin()}){mirror}")]
    qr, vr = similarity["charge_r"], similarity["esp_r"]
    holds, note = _verdict(bool(vr > qr), quick)
    rows.append(_row("The similarity “is further amplified by the damping … inverse dependence on the distance”", "",
                     "ESP more similar than charges", f"r of ESPs {_fmt(vr)} vs r of charges {_fmt(qr)}",
                     "holds if Pearson r of the two models' ESPs (grid points outside the vdW surfaces, pooled) "
                     "exceeds Pearson r of their charges (atoms, pooled); charges normalized to max |q| = 1 per molecule",
                     holds, note or (f"six molecules: {similarity['atoms']} atoms, {similarity['points']:,} points"
                                      + ("; both r within 0.01 of 1: little is left to amplify" if min(qr, vr) > 0.99
                                         else ""))))
    return rows


def sign_rows(checks: dict, negative: dict, quick: bool) -> list[dict]:
    """Rules 3, 4 and 5, one row per model each."""
    rows = []
    for label, c in checks.items():
        holds, note = _verdict(bool(c["hc_holds"]), quick)
        rows.append(_row("H positive and C negative in the hydrocarbons", label, "H +, C −",
                         f"H > 0: {c['h_pos']}/{c['h_total']}, C < 0: {c['c_neg']}/{c['c_total']}",
                         "holds if the mean H charge is > 0 and the mean C charge < 0 in every hydrocarbon",
                         holds, note or "methane, propane, benzene, toluene; latent charges of the dipole model"))
        if "o_total" in c:
            holds, note = _verdict(bool(c["o_holds"]), quick)
            rows.append(_row("O negative in phloroglucinol", label, "O −",
                             f"{c['o_neg']}/{c['o_total']} O < 0 (mean {c['o_mean']:+.3f} e)",
                             "holds if all three O charges are < 0", holds, note or "latent charges of the dipole model"))
        if label in negative:
            t = negative[label]
            neg = int((t["mean V (eV)"] < 0).sum())
            holds, note = _verdict(bool(len(t) and neg == len(t)), quick)
            vals = ", ".join(f"{v:+.3f}" for v in t["mean V (eV)"])
            rows.append(_row("“a negative area around” phloroglucinol's O atoms on the ESP map", label, "V < 0 near O",
                             f"{neg}/{len(t)} O with mean V < 0 on their vdW patch (eV: {vals})",
                             "holds if, for each O, the mean V over its patch of the van der Waals surface is < 0",
                             holds, note or "raw latent charges; exposed vdW-surface points on each O's sphere"))
    return rows


def _passes(control: dict, which: str, key: str) -> tuple[int, int]:
    runs = control[which]
    return sum(bool(c[key]) for c in runs.values()), len(runs)


def seed_rows(seed, control: dict) -> list[dict]:
    """The confound rows (kind ``beyond``): per model the seed against the mean latent charge
    (``seed`` from :func:`~atomint_helpers.interpret.charges.seed_table`) and the sign checks with and
    without the seed (``control`` from :func:`~atomint_helpers.interpret.esp.seed_control`)."""
    rows = []
    for label, t in seed.groupby("model", sort=False):
        recs = t.to_dict("records")
        txt = ", ".join(f"{r['element']} {r['seed (e)']:+.3f}/{r['mean latent charge (e)']:+.3f}" for r in recs)
        rows.append(_row("Electronegativity seed against the mean latent charge per element", label, None,
                         f"seed/mean (e): {txt}", "", None,
                         f"{NO_CLAIM}; seed/mean: " + ", ".join(f"{r['element']} {_fmt(r['seed / mean'], 2)}" for r in recs)
                         + "; trained offsets (e): " + ", ".join(f"{r['element']} {r['trained offset (e)']:+.3f}"
                                                                  for r in recs), "beyond"))
    for label, c in control.items():
        hc_s, hc_u = _passes(c, "seeded", "hc_holds"), _passes(c, "unseeded", "hc_holds")
        o_s, o_u = _passes(c, "seeded", "o_holds"), _passes(c, "unseeded", "o_holds")
        ok = None if not (hc_s[1] and hc_u[1]) else bool(hc_s[0] == hc_u[0] and o_s[0] == o_u[0])
        rows.append(_row("The sign verdicts do not depend on the electronegativity seed", label, None,
                         f"folds passing H+/C−: seeded {hc_s[0]}/{hc_s[1]}, unseeded {hc_u[0]}/{hc_u[1]}; O−: "
                         f"seeded {o_s[0]}/{o_s[1]}, unseeded {o_u[0]}/{o_u[1]}",
                         "holds if as many folds pass each sign check with the seed as without it", ok,
                         "quick profile only (4-epoch models on 1,000 sample molecules, with and without the seed, "
                         "otherwise the same recipe and random seeds; every checkpoint's global sign fixed by Mulliken at "
                         "load); the cpu models were all trained with the seed",
                         "beyond"))
    return rows


def rows(agreement, similarity: dict, checks: dict, negative: dict, seed, control: dict, quick: bool) -> list[dict]:
    """Every scorecard row of the ESP chapter: rules 1–5, then the seed confound."""
    return similarity_rows(agreement, similarity, quick) + sign_rows(checks, negative, quick) + seed_rows(seed, control)


def charge_display(table):
    """:func:`~atomint_helpers.interpret.esp.charge_table` for reading: 3 decimals, a dash where a molecule
    has no atom of that element (never a raw NaN)."""
    def fmt(col):
        form = "{:.3f}" if col.name == "max |q|" else "{:+.3f}"
        return col.map(lambda v: "—" if v is None or not np.isfinite(v) else form.format(v))

    return table.apply(fmt)


def tidy(table, digits: int = 3):
    """A numeric table for reading: rounded, a dash for NaN (never a raw NaN)."""
    return table.round(digits).astype(object).where(table.notna(), "—")


def similarity_table(similarity: dict):
    """Rule 2's numbers as one row: Pearson r of the charges and of the ESPs, the atoms and points."""
    import pandas as pd

    return pd.DataFrame([{"r of charges": round(similarity["charge_r"], 3), "r of ESPs": round(similarity["esp_r"], 3),
                          "atoms": similarity["atoms"], "grid points": similarity["points"]}], index=["six molecules"])


def control_table(control: dict):
    """The seed control (:func:`~atomint_helpers.interpret.esp.seed_control`) as a table: per model, run
    (with / without the seed) and fold, whether each sign check passes (✓ / ✗)."""
    import pandas as pd

    mark = {True: "✓", False: "✗"}
    rows = [{"model": label, "electronegativity seed": {"seeded": "with", "unseeded": "without"}[which], "fold": k,
             "H +, C − (hydrocarbons)": mark[bool(c["hc_holds"])], "O − (phloroglucinol)": mark[bool(c.get("o_holds"))]}
            for label, runs in control.items() for which, by in runs.items() for k, c in by.items()]
    return pd.DataFrame(rows).set_index(["model", "electronegativity seed", "fold"])


def negative_display(negative: dict):
    """The O patches of rule 5 for both models, one table (rounded)."""
    import pandas as pd

    return pd.concat(negative, names=["model"]).round(3).droplevel(1).set_index("atom", append=True)


def _sign_text(label: str, c: dict) -> str:
    inverted = all(v["mean_qH"] < 0 and v["mean_qC"] > 0 for v in c["per_molecule"].values())
    return (f"**{label}**: H is positive in {c['h_pos']} of {c['h_total']} hydrogens and C negative in {c['c_neg']} "
            f"of {c['c_total']} carbons of the hydrocarbons (the mean-per-molecule check "
            f"{'holds' if c['hc_holds'] else 'fails'}); {c['o_neg']} of {c['o_total']} oxygens of phloroglucinol are "
            f"negative (mean {c['o_mean']:+.3f} e)"
            + (" — every sign is inverted, the global flip that training on |μ| cannot see" if inverted else "") + ".")


def what_we_see(agreement, similarity: dict, checks: dict, negative: dict, charges, seed, control: dict,
                quick: bool) -> str:
    """The chapter's 'What we see' text, from the numbers."""
    col = next(c for c in agreement.columns if c.startswith("r("))
    r = agreement[col].astype(float)
    out = [f"The BP and SchNet ESPs correlate with r = {r.mean():.3f} on average over the six molecules (from "
           f"{r.min():.3f} for {r.idxmin()} to {r.max():.3f} for {r.idxmax()}), outside the van der Waals surface."]
    qr, vr = similarity["charge_r"], similarity["esp_r"]
    out.append(f"Pooled over the molecules, the normalized charges correlate with r = {qr:.3f} and their ESPs with "
               f"r = {vr:.3f}: the 1/r sum {'smooths the differences out' if vr > qr else 'does not make them more alike'}"
               + (f"; both lie within {1 - min(qr, vr):.3f} of a perfect correlation, so little is left to amplify"
                  if min(qr, vr) > 0.99 else "") + ".")
    out += [_sign_text(label, c) for label, c in checks.items()]
    for label, t in negative.items():
        out.append(f"On phloroglucinol's van der Waals surface, {label} gives {int((t['mean V (eV)'] < 0).sum())} of "
                   f"{len(t)} oxygen patches a negative mean potential ({', '.join(f'{v:+.3f}' for v in t['mean V (eV)'])} eV).")
    big = charges.groupby(level="model", sort=False)["max |q|"].max()
    out.append("The charges' scales: the largest |q| is " + " and ".join(f"{v:.2f} e for {k}" for k, v in big.items())
               + ".")
    for label, t in seed.groupby("model", sort=False):
        share = ", ".join(f"{r['element']} {r['seed / mean']:.0%}" for r in t.to_dict("records")
                          if np.isfinite(r["seed / mean"]))
        out.append(f"For {label}, the electronegativity seed alone would give these shares of each element's mean "
                   f"latent charge: {share}.")
    for label, c in control.items():
        u = _passes(c, "unseeded", "hc_holds"), _passes(c, "unseeded", "o_holds")
        s = _passes(c, "seeded", "hc_holds"), _passes(c, "seeded", "o_holds")
        out.append(f"Quick-profile {label} models trained without the seed pass the hydrocarbon check in {u[0][0]} of "
                   f"{u[0][1]} folds and the oxygen check in {u[1][0]} of {u[1][1]} (with the seed: {s[0][0]} and "
                   f"{s[1][0]}).")
    if quick:
        out.append("*These are the `quick` models — tiny networks trained for seconds on the embedded sample — so the "
                   "numbers show the method, not the paper's result.*")
    return " ".join(out)


__all__ = ["rows", "similarity_rows", "sign_rows", "seed_rows", "charge_display", "negative_display", "tidy",
           "similarity_table",
           "control_table", "what_we_see", "QUICK_NOTE"]
