"""Verdicts on the paper's section 3.2 (Fig. 6, the ESP of the latent charges), in words and numbers.

:func:`rows` gives the ESP chapter's scorecard rows and :func:`what_we_see` its text, from the numbers of
:mod:`atomint_helpers.interpret.esp` on the six molecules of Fig. 6 (methane, propane, benzene,
pyrazine, toluene, phloroglucinol). The paper's sentences are claims of the registry (:data:`CLAIMS`,
:mod:`.registry`), each decided by two tests whose rules are generated from the constants below:

* the two claims about the pair of models (*very similar ESPs*; the similarity *amplified by the 1/r
  damping*) are measured on the charges of the notebook's models (fold 0 of each), pooled over the six
  molecules and **per molecule** (the "folds" of these claims: the figure shows one model per
  architecture);
* the sign claims (H +, C − in the hydrocarbons; O − in phloroglucinol; a negative ESP area around its O
  atoms) are measured per model on **each dipole fold** (0–2) and pooled on the charges averaged over the
  folds.

Confound of the sign claims (kind ``beyond``): the dipole head starts each element's charge offset from its
electronegativity (:func:`~atomint_helpers.models.heads.seed_charge`). Per model, the seed against the
mean latent charge per element, and the sign verdicts for the quick-profile models trained with and
without the seed (otherwise the same recipe and random seeds): the row holds if the number of folds
passing each check is the same with and without the seed.
"""
from __future__ import annotations

import numpy as np

from . import row_reading as fnd
from .budget import annotate_values
from .claims import QUICK_NOTE
from .registry import Claim, Measurement, Test, decide, fmt

FIG6 = "§3.2, Fig. 6"
#: Fig. 6's molecules: the claims are decided on exactly these
FIG6_MOLECULES = ("methane", "propane", "benzene", "pyrazine", "toluene", "phloroglucinol")
#: "very similar": the Pearson r of the two models' ESPs outside the van der Waals surface at least this
SIMILAR_R = 0.9
#: "very similar": the relative rms difference of the two models' normalized ESPs at most this
SIMILAR_DIFF = 0.3
#: "a negative area": at least this share of each O atom's patch of the vdW surface with V < 0
NEGATIVE_SHARE = 0.5
NO_CLAIM = "a measurement beyond the paper, no claim to decide"

SIMILAR = Claim(
    "fig6.similar-esps", FIG6, "Both models give very similar ESPs for the different molecules.",
    "BP and SchNet give very similar ESPs",
    tests=(Test("Pearson r", "the Pearson r of the two models' ESPs (raw charges) at grid points outside the van der "
                "Waals surface; pooled: the mean over the six molecules", SIMILAR_R, "above"),
           Test("relative difference", "rms(V_BP − V_SchNet) / rms(V) of the ESPs of the normalized charges (max |q| "
                "= 1 per molecule) outside the van der Waals surface; pooled: all molecules' points together",
                SIMILAR_DIFF, "below")))
AMPLIFIED = Claim(
    "fig6.similarity-amplified", FIG6, "This is a consequence of the similarity between the charge distributions "
    "produced by the different architectures (see Section 3.1) and further amplified by the damping introduced via "
    "the inverse dependence on the distance between probe and atoms.",
    "The two models' ESPs are more alike than their charges (the 1/r sum amplifies the similarity)",
    tests=(Test("r gain", "Pearson r of the two models' ESPs minus Pearson r of their charges (normalized to max |q| "
                "= 1 per molecule; ESPs outside the van der Waals surface)", 0.0, "above"),
           Test("difference ratio", "the relative rms difference of the two models' normalized charges divided by that "
                "of their ESPs", 1.0, "above")))
HC_SIGNS = Claim(
    "fig6.hc-signs", FIG6, "In the molecules containing only hydrogen and carbon (methane, propane, benzene, "
    "toluene), one would expect the hydrogen atoms to carry a slight positive charge and hence lead to unfavorable "
    "interactions with the equally positively charged probe.",
    "H positive and C negative in the hydrocarbons, and so on their ESP maps", models=("BP", "SchNet"),
    tests=(Test("mean charges", "the smallest over methane, propane, benzene and toluene of min(mean q_H, −mean q_C)",
                0.0, "above", "e"),
           Test("ESP at the atoms", "the smallest over the four hydrocarbons of min(mean V over the H atoms' patches of "
                "the van der Waals surface, −mean V over the exposed C patches)", 0.0, "above", "eV")))
O_NEGATIVE = Claim(
    "fig6.o-negative", FIG6, "In a similar manner, one would expect the oxygen atoms in phloroglucinol to carry a "
    "negative charge, due to their electron-withdrawing properties.", "Phloroglucinol's O atoms are negative",
    models=("BP", "SchNet"),
    tests=(Test("largest O charge", "the largest of phloroglucinol's three O charges", 0.0, "below", "e"),
           Test("O against C", "phloroglucinol's mean O charge minus its mean C charge (the O atoms withdraw charge)",
                0.0, "below", "e")))
O_AREA = Claim(
    "fig6.o-negative-area", FIG6, "Thus, the ESP should show a negative area around these atoms, which is indeed "
    "the case in the examined ESPs.", "The ESP shows a negative area around phloroglucinol's O atoms",
    models=("BP", "SchNet"),
    tests=(Test("patch mean", "the largest over the three O atoms of the mean V over its patch of the van der Waals "
                "surface (raw charges)", 0.0, "below", "eV"),
           Test("negative share", "the smallest over the three O atoms of the share of its patch with V < 0",
                NEGATIVE_SHARE, "above")))
#: every claim of the chapter, in the order of the paper
CLAIMS = (SIMILAR, AMPLIFIED, HC_SIGNS, O_NEGATIVE, O_AREA)
_SIGN_KEYS = {HC_SIGNS: {"mean charges": "hc_charge", "ESP at the atoms": "hc_esp"},
              O_NEGATIVE: {"largest O charge": "o_max", "O against C": "o_minus_c"},
              O_AREA: {"patch mean": "o_patch", "negative share": "o_share"}}


def pair_evidence(pairs: dict, pooled: dict) -> dict:
    """The pair claims' measurements: ``pairs`` per molecule (:func:`~atomint_helpers.interpret.esp.
    pair_measures`), ``pooled`` the same over all molecules (:func:`~atomint_helpers.interpret.esp.
    pooled_similarity`)."""
    mols = list(pairs)

    def m(pooled_value, fn):
        return Measurement(pooled_value, tuple(fn(pairs[k]) for k in mols), tuple(f"{k}" for k in mols))

    r = [pairs[k]["esp_r_raw"] for k in mols]
    return {SIMILAR: {"Pearson r": m(float(np.mean(r)), lambda x: x["esp_r_raw"]),
                      "relative difference": m(pooled["esp_diff"], lambda x: x["esp_diff"])},
            AMPLIFIED: {"r gain": m(pooled["esp_r"] - pooled["charge_r"], lambda x: x["esp_r"] - x["charge_r"]),
                        "difference ratio": m(pooled["charge_diff"] / pooled["esp_diff"],
                                              lambda x: x["charge_diff"] / x["esp_diff"])}}


def sign_evidence(signs: dict) -> dict:
    """The sign claims' measurements per model label: ``signs`` = ``{label: {"pooled": sign_measures of the
    fold-mean charges, fold: sign_measures of that fold}}`` (:func:`~atomint_helpers.interpret.esp.
    sign_measures`)."""
    out = {}
    for label, by in signs.items():
        folds = sorted(k for k in by if k != "pooled")
        for claim, keys in _SIGN_KEYS.items():
            out[(claim, label)] = {name: Measurement(by["pooled"].get(key), tuple(by[k].get(key) for k in folds),
                                                     tuple(f"dipole fold {k}" for k in folds))
                                   for name, key in keys.items()}
    return out


def claim_rows(pairs: dict, pooled: dict, signs: dict, quick: bool) -> list[dict]:
    """The registry rows of the chapter: one per pair claim, one per sign claim and model."""
    why = QUICK_NOTE if quick else None
    note = f"six molecules: {pooled['atoms']} atoms, {pooled['points']:,} grid points outside the vdW surfaces"
    out = [decide(c, "", m, why_not=why, note=note).row() for c, m in pair_evidence(pairs, pooled).items()]
    out += [decide(c, label, m, why_not=why, note="latent charges of the dipole models").row()
            for (c, label), m in sign_evidence(signs).items()]
    return out


def _row(claim, model, paper, atomint, rule, holds, note, kind="paper") -> dict:
    return {"claim": claim, "model": model, "paper": paper, "atomint": atomint, "unit": "", "holds": holds,
            "kind": kind, "rule": rule, "note": note}


def _passes(control: dict, which: str, key: str) -> tuple[int, int]:
    runs = control[which]
    return sum(bool(c[key]) for c in runs.values()), len(runs)


#: the confound check of the charge head's electronegativity seed (beyond the paper): the sign checks pass on
#: as many folds with the seed as without it
SEED_INDEPENDENT = Claim(
    "esp.seed-independent", "", "", "The sign verdicts do not depend on the electronegativity seed", kind="beyond",
    tests=(Test("H+/C− folds", "|folds passing H+/C− with the seed − folds passing without it|", 0.5, "below"),
           Test("O− folds", "|folds passing O− with the seed − folds passing without it|", 0.5, "below")))


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
                         f"{NO_CLAIM}; seed/mean: " + ", ".join(f"{r['element']} {fmt(r['seed / mean'], 2)}" for r in recs)
                         + "; trained offsets (e): " + ", ".join(f"{r['element']} {r['trained offset (e)']:+.3f}"
                                                                  for r in recs), "beyond"))
    for label, c in control.items():
        measured = {}
        for test, key in zip(SEED_INDEPENDENT.tests, ("hc_holds", "o_holds")):
            (with_seed, n_with), (without, n_without) = _passes(c, "seeded", key), _passes(c, "unseeded", key)
            measured[test.name] = Measurement(float(abs(with_seed - without)) if n_with and n_without else None)
        rows.append(decide(SEED_INDEPENDENT, label, measured,
                           note="quick profile only (4-epoch models on 1,000 sample molecules, with and without the "
                                "seed, otherwise the same recipe and random seeds; every checkpoint's global sign fixed "
                                "by Mulliken at load); the cpu models were all trained with the seed").row())
    return rows


def rows(pairs: dict, similarity: dict, signs: dict, seed, control: dict, quick: bool) -> list[dict]:
    """Every scorecard row of the ESP chapter: the registry's claims (:data:`CLAIMS`), then the seed
    confound. Measures that include a molecule not in :data:`FIG6_MOLECULES` give no rows: the paper's
    sentences are about those six."""
    if not set(pairs) <= set(FIG6_MOLECULES):
        return []
    return annotate_values(claim_rows(pairs, similarity, signs, quick), CLAIMS, quick, "fig6") + seed_rows(seed, control)


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


def _count(n: int, noun: str) -> str:
    words = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    return f"{words[n - 1] if 1 <= n <= 9 else n} {noun}{'' if n == 1 else 's'}"


def similarity_table(similarity: dict):
    """Rule 2's numbers as one row: Pearson r of the charges and of the ESPs, the atoms and points."""
    import pandas as pd

    return pd.DataFrame([{"r of charges": round(similarity["charge_r"], 3), "r of ESPs": round(similarity["esp_r"], 3),
                          "atoms": similarity["atoms"], "grid points": similarity["points"]}],
                        index=[_count(similarity.get("molecules", 6), "molecule")])


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


#: the paper's statements on Fig. 6 as the headline names them
_NAMES = {SIMILAR: "BP and SchNet give very similar ESPs", AMPLIFIED: "the 1/r sum amplifies that similarity",
          HC_SIGNS: "H is positive and C negative in the hydrocarbons", O_NEGATIVE: "phloroglucinol's O atoms are "
          "negative", O_AREA: "its ESP shows a negative area around them"}


def _by_model(rows: list[dict], claim: Claim, test: str, digits: int = 2, unit: str = "") -> str:
    vals = [(r["model"], fnd.value(r, test)) for r in rows if r.get("id") == claim.id]
    return " and ".join(f"{fmt(v, digits).replace('-', '−')}{unit} for {m}" for m, v in vals)


def _sign_sentence(rows: list[dict]) -> list[str]:
    """Why the H+/C− claim stands where it does, from its two tests and their folds."""
    hc = [r for r in rows if r.get("id") == HC_SIGNS.id]
    if not hc or any(r["verdict"] == "not comparable" for r in hc):
        return []
    margins = _by_model(rows, HC_SIGNS, "mean charges", 2, " e")
    if all(r["verdict"] == "holds" for r in hc):
        return [f"H is positive and C negative in the hydrocarbons in the charges (smallest margin {margins}) and "
                "on the ESP map alike."]
    charge, esp = ({t["name"]: t for t in hc[0]["tests"]}[n] for n in ("mean charges", "ESP at the atoms"))
    (kq, nq), (ke, ne) = fnd.folds_holding(charge), fnd.folds_holding(esp)
    text = (f"H positive and C negative in the hydrocarbons "
            f"{fnd.plural(fnd.verdict_words(fnd.verdicts(rows, HC_SIGNS.id)), 1)} because its two tests part: the "
            f"charges have the expected signs on {kq} of {nq} folds (smallest margin {margins}), ")
    if esp["verdict"] == "holds":
        return [text + f"the map on {ke} of {ne}."]
    area = [fnd.value(r, "patch mean") for r in rows if r.get("id") == O_AREA.id]
    worst = min(fnd.value(r, "ESP at the atoms") for r in hc)
    scale = (f", {abs(worst) / abs(max(area)):.0%} of the {fnd.minus(fmt(max(area), 2))} eV around "
             "phloroglucinol's oxygens" if area and all(a is not None and a < 0 for a in area) else "")
    return [text + f"but the ESP map does not on {ne - ke} of {ne}: in at least one hydrocarbon the mean potential on "
            "the H atoms' van der Waals patches is negative or on the C atoms' positive, down to "
            f"{_by_model(rows, HC_SIGNS, 'ESP at the atoms', 2, ' eV')}{scale}."]


def what_we_find(rows: list[dict], quick: bool) -> str:
    """The chapter's finding in at most four sentences, read off its scorecard rows: which of the paper's
    statements hold, why the H+/C− statement stands where it does (which of its tests fails, on how many
    folds), the 1/r amplification, the electronegativity start; then the causes ("Why")."""
    if quick:
        return fnd.QUICK_FINDING
    r_mean = fnd.value(fnd.by_id(rows).get(SIMILAR.id, {}), "Pearson r")
    names = {**_NAMES, SIMILAR: f"{_NAMES[SIMILAR]} (r = {fmt(r_mean)} averaged over the six molecules)"}
    named = [(names[c], fnd.verdicts(rows, c.id)) for c in CLAIMS if fnd.verdicts(rows, c.id)]
    if not named:
        return "**What we find.** No verdict on this build: the chapter ran on other molecules than Fig. 6's."
    alike = all(len(set(v.values())) == 1 for _, v in named)
    out = [fnd.tally(named, "the paper's five statements on Fig. 6") + (", alike for BP and SchNet." if alike else ".")]
    out += _sign_sentence(rows)
    amp = fnd.by_id(rows).get(AMPLIFIED.id)
    if amp and amp["verdict"] not in ("holds", "not comparable"):
        gain, ratio = fnd.value(amp, "r gain"), fnd.value(amp, "difference ratio")
        out.append(f"That the 1/r sum amplifies the similarity {fnd.plural(amp['verdict'], 1)}: the ESPs correlate "
                   f"{'no better than' if gain <= 0 else 'better than'} the charges (r of the ESPs minus r of the "
                   f"charges {fnd.minus(f'{gain:+.4f}')}), and the charges differ {ratio:.2f}× as much as the ESPs "
                   "(relative rms difference).")
    seed = [r for r in rows if r.get("id") == SEED_INDEPENDENT.id]
    if seed and all(r["verdict"] == "holds" for r in seed):
        out.append("The charges' electronegativity start does not decide the signs: quick models trained without it "
                   "pass the sign checks on as many folds as with it (beyond the paper).")
    claims = {c.id: c for c in (*CLAIMS, SEED_INDEPENDENT)}
    reason = fnd.why(rows, claims)
    return "**What we find.** " + " ".join(out[:4]) + ("\n\n" + reason if reason else "")


__all__ = ["CLAIMS", "rows", "what_we_find", "claim_rows", "pair_evidence", "sign_evidence", "seed_rows", "charge_display", "negative_display", "tidy",
           "similarity_table",
           "control_table", "what_we_see", "QUICK_NOTE"]
