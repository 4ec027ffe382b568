"""Fig. 5's verdicts and words: the paper's sentences about the local chemical potential, each with its rule.

The paper shows SchNet's probe maps only, so its claims are ``paper`` rows for SchNet; the same measures on
BP's maps are ``beyond`` rows. The measures are computed in :mod:`atomint_helpers.interpret.probe_maps`
(units there). The rules, fixed before any number of the trained models was seen:

1. *"reflect the expected symmetries"*: for every molecule with an in-plane point-group operation (found
   from its geometry within 0.1 Å), the symmetry error ``P95 |Ω(g·r) − Ω(r)| / (P95 Ω − P5 Ω)`` on the cut
   is ≤ :data:`SYMMETRY_TOL` (2 %) for every operation.
2. *low- and high-energy regions "clearly separated"*: the median over the five molecules of Otsu's
   separability η of the area-weighted potential on the isosurface is ≥ :data:`SEPARATION_MIN` (0.8, the
   value of two equal Gaussian modes 4σ apart; one Gaussian gives 0.64, a uniform spread 0.75).
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
                  f"median |ΔΩ|/δ {loc['far']:.3g} (≥ 4 Å) vs {loc['near']:.3g} kcal/mol/Å (< 2 Å), "
                  f"{loc['n_far']} far pairs"),
        "saturation": (s_gap["separate"] and abs(s_gap["gap"]) >= GAP_MIN, s_gap["gap"], "kcal/mol",
                       f"saturated − aromatic mean site value; {'no overlap' if s_gap['separate'] else 'overlap'}"),
        "aromaticity": (a_gap["separate"] and abs(a_gap["gap"]) >= GAP_MIN, a_gap["gap"], "kcal/mol",
                        f"benzene − pyrazine mean site value; {'no overlap' if a_gap['separate'] else 'overlap'}"),
    }


def pending(models: dict) -> dict:
    """``{label: checkpoint name}`` of the models whose checkpoint is still training."""
    from ..store import provenance

    out = {}
    for label, m in models.items():
        try:
            if str(provenance(m.checkpoint).get("status", "")).startswith("training"):
                out[label] = m.checkpoint.name
        except Exception:  # a model not loaded from a checkpoint folder
            pass
    return out


def rows(measures: dict, exactness, *, quick: bool, pending_: dict | None = None) -> list[dict]:
    """Scorecard rows: the two implementation checks (``exactness``: the table of the notebook's check), then
    per claim one SchNet row (``paper``) and one BP row (``beyond``)."""
    mol_col, batched_col = exactness.columns[-1], exactness.columns[1]
    out = [
        {"claim": "a probe atom does not act back on the molecule (its atoms' energies unchanged)",
         "paper": "probe only receives", "atomint": float(exactness[mol_col].max()), "unit": "kcal/mol",
         "kind": "implementation", "holds": bool(exactness[mol_col].max() <= 1e-4),
         "note": "max |ΔE_i| over toluene's atoms with a plane of carbon probes appended, both models"},
        {"claim": "batched probe grid = the model's plain forward pass with the probes appended",
         "paper": None, "atomint": float(exactness[batched_col].max()), "unit": "kcal/mol",
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
