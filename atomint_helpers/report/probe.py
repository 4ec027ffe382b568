"""Fig. 5's verdicts and words: the paper's sentences about the local chemical potential, each with its rule.

The paper shows SchNet's probe maps only, so its claims are ``paper`` rows for SchNet; the same measures on
BP's maps are ``beyond`` rows. The measures are computed in :mod:`atomint_helpers.interpret.probe_maps`
(units there). The rules, fixed before any number of the trained models was seen:

1. *"reflect the expected symmetries"*: for every molecule with an in-plane point-group operation (found
   from its geometry within 0.1 Å), the symmetry error ``P95 |Ω(g·r) − Ω(r)| / (P95 Ω − P5 Ω)`` on the cut
   is ≤ :data:`SYMMETRY_TOL` (2 %) for every operation.
2. *low- and high-energy regions "clearly separated"*: the median over the five molecules of Otsu's
   separability η of the area-weighted potential on the isosurface is ≥ :data:`SEPARATION_MIN` (0.8: two
   equal Gaussian modes about 4σ apart give 0.81; one Gaussian gives 0.64, a uniform spread 0.75).
3. *"high density of contour lines near the atom positions"*: on every molecule's cut, the median |∇Ω|
   0.5–1.5 Å from the nearest atom is ≥ :data:`CONTRAST_MIN` (2) times the median 2.0–3.0 Å away.
4. *"… most clearly visible for aromatic rings"*: the geometric mean of that ratio over benzene, toluene
   and pyrazine exceeds the geometric mean over methane and propane.
5. *"the representation is localized"*: moving an atom B by 0.02 Å changes Ω at surface points ≥ 4 Å from
   B by a median of at most :data:`LOCALITY_MAX` (0.1) times the median change at points < 2 Å from B
   (pooled over the five molecules).
6. *"mirror bond saturation"*: the site values of saturated carbons (four neighbours: methane, propane,
   toluene's methyl) and of aromatic carbons (benzene, toluene's ring, pyrazine) do not overlap, and their
   means differ by ≥ :data:`GAP_MIN` (1 kcal/mol, chemical accuracy).
7. *"different degrees of aromaticity"*: the site values of benzene's and pyrazine's carbons do not
   overlap, and their means differ by ≥ 1 kcal/mol.

A site value is the mean Ω over the part of the carbon's van der Waals sphere (1.70 Å) outside every
other atom's. Under the quick profile and for checkpoints still training every row is ``not comparable``.
"""
from __future__ import annotations

import numpy as np

from ..interpret.probe_maps import AROMATIC, SATURATED, group_gap
from .claims import QUICK_NOTE

SYMMETRY_TOL = 0.02
SEPARATION_MIN = 0.8
CONTRAST_MIN = 2.0
LOCALITY_MAX = 0.1
GAP_MIN = 1.0
AROMATICS, SATURATES = ("benzene", "toluene", "pyrazine"), ("methane", "propane")

RULES = {
    "symmetry": f"holds if, on every molecule with an in-plane symmetry operation, P95 |Ω(g·r) − Ω(r)| over the cut "
                f"is ≤ {SYMMETRY_TOL:.0%} of the cut's P5–P95 range of Ω, for every operation g",
    "separation": f"holds if the median over the five molecules of Otsu's separability η of Ω on the isosurface "
                  f"(area-weighted) is ≥ {SEPARATION_MIN}",
    "contours": f"holds if on every molecule's cut median |∇Ω| at 0.5–1.5 Å from the nearest atom is ≥ "
                f"{CONTRAST_MIN:g}× the median at 2.0–3.0 Å",
    "aromatic": "holds if the geometric mean of that near/far |∇Ω| ratio over benzene, toluene, pyrazine exceeds "
                "the geometric mean over methane and propane",
    "local": f"holds if moving an atom changes Ω at points ≥ 4 Å from it by a median ≤ {LOCALITY_MAX:g}× the "
             "median change at points < 2 Å from it (0.02 Å moves, surface points, five molecules pooled)",
    "saturation": f"holds if saturated (4 neighbours) and aromatic carbons' site values do not overlap and their "
                  f"means differ by ≥ {GAP_MIN:g} kcal/mol",
    "aromaticity": f"holds if benzene's and pyrazine's carbon site values do not overlap and their means differ "
                   f"by ≥ {GAP_MIN:g} kcal/mol",
}
CLAIMS = {
    "symmetry": "the local chemical potentials “reflect the expected symmetries”",
    "separation": "low- and high-energy regions are “clearly separated”",
    "contours": "“high density of contour lines near the atom positions”",
    "aromatic": "the dense contours near the atoms are “most clearly visible for aromatic rings”",
    "local": "“the representation is localized”",
    "saturation": "the potentials “mirror bond saturation”",
    "aromaticity": "the potentials mirror “different degrees of aromaticity”",
}


def _gmean(x) -> float:
    x = np.asarray([v for v in x if np.isfinite(v) and v > 0], dtype=np.float64)
    return float(np.exp(np.log(x).mean())) if len(x) else float("nan")


def _sites(carbons: dict, molecules, kind: str | None = None) -> list[float]:
    return [c["value"] for m in molecules for c in carbons.get(m, []) if kind is None or c["kind"] == kind]


def evaluate(m: dict) -> dict:
    """``{claim: (holds, value, unit, detail)}`` for one model's :func:`~atomint_helpers.interpret.probe_maps.
    map_measures` entry, by the rules of this module."""
    sym = {k: e for k, (e, n) in m["symmetry"].items() if n > 0}
    sep = m["separability"]
    ratio = {k: c["ratio"] for k, c in m["contrast"].items()}
    aro, sat = _gmean([ratio.get(k, np.nan) for k in AROMATICS]), _gmean([ratio.get(k, np.nan) for k in SATURATES])
    loc = m["influence_all"]
    mols = list(m["carbons"])
    s_gap = group_gap(_sites(m["carbons"], mols, SATURATED), _sites(m["carbons"], mols, AROMATIC))
    a_gap = group_gap(_sites(m["carbons"], ["benzene"]), _sites(m["carbons"], ["pyrazine"]))
    each = "; ".join
    sym_max = max(sym.values()) if sym else float("nan")
    return {
        "symmetry": (bool(sym) and sym_max <= SYMMETRY_TOL, 100 * sym_max, "%",
                     each(f"{k} {100 * v:.2f} %" for k, v in sym.items())),
        "separation": (float(np.median(list(sep.values()))) >= SEPARATION_MIN, float(np.median(list(sep.values()))),
                       "", each(f"{k} {v:.2f}" for k, v in sep.items())),
        "contours": (min(ratio.values()) >= CONTRAST_MIN, min(ratio.values()), "",
                     each(f"{k} {v:.1f}" for k, v in ratio.items())),
        "aromatic": (bool(aro > sat), aro / sat, "", f"geometric mean ratio: aromatic {aro:.2f}, saturated {sat:.2f}"),
        "local": (bool(np.isfinite(loc["ratio"]) and loc["ratio"] <= LOCALITY_MAX), loc["ratio"], "",
                  (f"median |ΔΩ|/δ {loc['far']:.3g} (≥ 4 Å) vs {loc['near']:.3g} kcal/mol/Å (< 2 Å), "
                  f"{loc['n_far']} far pairs")),
        "saturation": (s_gap["separate"] and abs(s_gap["gap"]) >= GAP_MIN, s_gap["gap"], "kcal/mol",
                       f"saturated − aromatic mean site value; {'no overlap' if s_gap['separate'] else 'overlap'}"),
        "aromaticity": (a_gap["separate"] and abs(a_gap["gap"]) >= GAP_MIN, a_gap["gap"], "kcal/mol",
                        f"benzene − pyrazine mean site value; {'no overlap' if a_gap['separate'] else 'overlap'}"),
    }


def pending(models: dict) -> dict:
    """``{label: checkpoint name}`` of the models whose checkpoint is still training."""
    from pathlib import Path

    from ..store import PROVENANCE, provenance

    out = {}
    for label, m in models.items():
        folder = getattr(m, "checkpoint", None)  # None: a model not loaded from a checkpoint folder
        if folder is not None and (Path(folder) / PROVENANCE).is_file() \
                and str(provenance(folder).get("status", "")).startswith("training"):
            out[label] = Path(folder).name
    return out


def rows(measures: dict, exactness, *, quick: bool, pending_: dict | None = None) -> list[dict]:
    """Scorecard rows: the two implementation checks (``exactness``: the table of the notebook's check), then
    per claim one SchNet row (``paper``) and one BP row (``beyond``)."""
    mol_col, batched_col = exactness.columns[-1], exactness.columns[1]
    out = [
        {"claim": "a probe atom does not act back on the molecule (its atoms' energies unchanged)",
         "paper": "probe only receives", "atomint": float(f"{exactness[mol_col].max():.2g}"), "unit": "kcal/mol",
         "kind": "implementation", "holds": bool(exactness[mol_col].max() <= 1e-4),
         "note": "max |ΔE_i| over toluene's atoms with a plane of carbon probes appended, both models"},
        {"claim": "batched probe grid = the model's plain forward pass with the probes appended",
         "paper": None, "atomint": float(f"{exactness[batched_col].max():.2g}"), "unit": "kcal/mol",
         "kind": "implementation", "holds": bool(exactness[batched_col].max() <= 1e-4),
         "note": "max over the points and both models (float32)"},
    ]
    pending_ = pending_ or {}
    results = {label: evaluate(m) for label, m in measures.items()}
    for key, claim in CLAIMS.items():
        for label in ("SchNet", "BP"):
            if label not in results:
                continue
            ok, value, unit, detail = results[label][key]
            note = detail
            verdict = "holds" if ok else "differs"
            if quick:
                verdict, note = "not comparable", QUICK_NOTE
            elif label in pending_:
                verdict = "not comparable"
                note = (f"preliminary: {pending_[label]} still training (best weights so far); on them the rule is "
                        f"{'met' if ok else 'not met'}: {detail}")
            out.append({"claim": claim, "kind": "paper" if label == "SchNet" else "beyond", "model": label,
                        "paper": "stated for SchNet's Fig. 5" if label == "SchNet" else None,
                        "atomint": round(float(value), 3) if np.isfinite(value) else None, "unit": unit,
                        "verdict": verdict, "rule": RULES[key], "note": note})
    return out


# ------------------------------------------------------------------------------------------ words
def measures_table(measures: dict):
    """One row per model and molecule: the numbers behind the rules (no NaN: '—' where a measure does not
    apply, e.g. no in-plane symmetry operation or no carbon of a kind)."""
    import pandas as pd

    def f(x, fmt):
        return "—" if x is None or not np.isfinite(x) else format(x, fmt)

    rows = []
    for label, m in measures.items():
        for mol, (err, n_ops) in m["symmetry"].items():
            sites = {k: [c["value"] - m["reference"] for c in m["carbons"][mol] if c["kind"] == k]
                     for k in (SATURATED, AROMATIC)}
            rows.append({"model": label, "molecule": mol, "symmetry operations": n_ops,
                         "symmetry error (%)": f(100 * err if n_ops else np.nan, ".2f"),
                         "separability η": f(m["separability"][mol], ".2f"),
                         "|∇Ω| near/far": f(m["contrast"][mol]["ratio"], ".1f"),
                         "influence ≥4 Å / <2 Å": f(m["influence"][mol]["ratio"], ".3f"),
                         "saturated C site (kcal/mol)": f(np.mean(sites[SATURATED]) if sites[SATURATED] else np.nan, ".2f"),
                         "aromatic C site (kcal/mol)": f(np.mean(sites[AROMATIC]) if sites[AROMATIC] else np.nan, ".2f")})
    return pd.DataFrame(rows).set_index(["model", "molecule"])


def caption(panels: list[dict], model: str, levels) -> str:
    """Fig. 5's caption for one model, its numbers from the panels and the figure's ``levels`` (kcal/mol)."""
    ps = [p for p in panels if p["model"] == model]
    ref, cutoff = ps[0]["reference"], ps[0]["potential"].cutoff
    surf = np.concatenate([p["surface_values"] for p in ps])
    pos = [x for x in levels if x > 0]
    which = "as in the paper's Fig. 5" if model == "SchNet" else "beyond the paper, which shows SchNet only"
    return (f"**Fig. 5 ({model}; {which}).** Local chemical potential of a carbon probe, Ω − Ω(∞) in kcal/mol, "
            f"where Ω(∞) = {ref:.1f} kcal/mol is the probe's own energy with no atom within the model's {cutoff:g} Å "
            "cutoff. Top: the lower half of the surface Σ|r − r_i|⁻² = const just outside the van der Waals surface "
            "(viewed from above the cut plane; the upper half is close to its mirror image for these molecules), "
            "with the molecule drawn over it. Bottom: the cut through the molecule (ring plane of the aromatics, "
            "C–C–C plane of propane, an H–C–H plane of methane), in-plane coordinates in Å, atoms drawn at their "
            "projection. Blue: the probe is more stable than far from the molecule, red: less stable; the white "
            f"band is ±{pos[0]:g} kcal/mol and the levels double outwards up to ±{pos[-1]:g} kcal/mol, so the steep "
            "change near the atoms shows as dense contour lines; negative contours are dashed. On the surfaces "
            f"Ω − Ω(∞) spans {surf.min():+.1f} to {surf.max():+.1f} kcal/mol.")


def _model_words(label: str, m: dict, r: dict) -> str:
    sym = {k: e for k, (e, n) in m["symmetry"].items() if n > 0}
    sep = m["separability"]
    worst = max(sym, key=sym.get) if sym else None
    ratio = {k: c["ratio"] for k, c in m["contrast"].items()}
    loc = m["influence_all"]
    sat, aro = r["saturation"][1], r["aromaticity"][1]
    text = (f"For **{label}**, Ω at mirror- and rotation-related points of the cut differs by at most "
            f"{100 * max(sym.values()):.2f} % of the cut's range ({worst}). " if sym else f"For **{label}**: ")
    text += (f"Otsu's separability of the surface values is {min(sep.values()):.2f}–{max(sep.values()):.2f} "
             f"(median {np.median(list(sep.values())):.2f}; 0.64 is one Gaussian, 1 two sharp levels). "
             f"|∇Ω| 0.5–1.5 Å from the atoms is {min(ratio.values()):.1f}–{max(ratio.values()):.1f}× that 2–3 Å away "
             f"(geometric mean ratio aromatic / saturated molecules: {r['aromatic'][1]:.2f}). Moving an atom "
             f"changes Ω at points ≥ 4 Å away by a median {loc['far']:.3g} kcal/mol/Å against {loc['near']:.3g} at "
             f"points < 2 Å away (ratio {loc['ratio']:.3f}). Saturated carbons' site values lie {abs(sat):.2f} kcal/mol "
             f"{'above' if sat > 0 else 'below'} the aromatic ones ({r['saturation'][3].split('; ')[1]}), benzene's "
             f"carbons {abs(aro):.2f} kcal/mol {'above' if aro > 0 else 'below'} pyrazine's "
             f"({r['aromaticity'][3].split('; ')[1]}).")
    return text


def what_we_see(measures: dict, exactness, *, quick: bool, pending_: dict | None = None) -> str:
    """The chapter's "What we see" paragraph, every number from ``measures`` and ``exactness``."""
    e = exactness
    text = "**What we see.** " + " ".join(_model_words(label, m, evaluate(m)) for label, m in measures.items())
    text += (f" The batched grid reproduces the plain forward pass to {e.iloc[:, 1].max():.1e} kcal/mol (schnetpack's "
             f"filter network on every pair: {e.iloc[:, 2].max():.1e}), and the probes move the molecule's own "
             f"atomic energies by at most {e.iloc[:, 3].max():.1e} kcal/mol — they only receive.")
    if quick:
        text += (" These are the `quick` models — tiny networks trained for seconds on the embedded sample — so the "
                 "maps show the method, not the paper's chemistry.")
    elif pending_:
        text += f" Preliminary: {', '.join(pending_.values())} is still training; its best weights so far are shown."
    return text


def page_text(panels: list[dict]) -> str:
    """The explanation on the interactive 3D page (HTML), its numbers from the panels."""
    refs = {p["model"]: p["reference"] for p in panels}
    return ("The colour on each surface is the local chemical potential Ω − Ω(∞) (kcal/mol) of a carbon probe: "
            "the energy the model gives a carbon atom placed on the surface, which feels the molecule but does not "
            "act back on it, relative to the same probe far from the molecule (Ω(∞) = "
            + ", ".join(f"{v:.1f} kcal/mol for {k}" for k, v in refs.items())
            + "). Blue: the probe is more stable there than far away; red: less stable. The surface lies just "
            "outside the van der Waals surface. Pick a molecule and model in the menu; drag to rotate, scroll to "
            "zoom.")
