"""Fig. 5's verdicts and words: the paper's sentences about the local chemical potential, declared once in the
claims registry (:data:`CLAIMS`, :mod:`.registry`), each with two tests whose rules are generated from the
constants below (fixed before any number of the trained models was seen).

The paper shows SchNet's probe maps only, so its claims are ``paper`` rows for SchNet; the same tests on
BP's maps are ``beyond`` rows (:data:`BP_CLAIMS`). The measures are computed in
:mod:`atomint_helpers.interpret.probe_maps` (units there). What a "fold" is:

* the map claims (symmetry, separation, contours, locality) rest on the five molecules of the figure,
  computed with the notebook's model (the first energy fold): each test is decided on the pooled value
  (named in its rule) and **per molecule**;
* the claims about site values (bond saturation, aromaticity, electronegativity) are measured on **each
  energy fold** of the model (0–2) and pooled on the site values averaged over the folds.

A site value is the mean Ω − Ω(∞) over the part of an atom's van der Waals sphere outside every other atom's.
Under the quick profile and for checkpoints still training every row is ``not comparable``.
"""
from __future__ import annotations

import numpy as np

from ..interpret.probe_sites import AROMATIC, SATURATED, group_gap
from .budget import annotate_values
from .claims import QUICK_NOTE
from .probe_checks import implementation_rows
from .registry import Claim, Measurement, Test, decide

FIG5 = "§3.2, Fig. 5"
#: symmetry: P95 |Ω(g·r) − Ω(r)| at most this share of the cut's P5–P95 range
SYMMETRY_TOL = 0.02
#: symmetry: rms(Ω(g·r) − Ω(r)) at most this share of the cut's standard deviation of Ω
SYMMETRY_RMS_TOL = 0.05
#: "clearly separated": Otsu's η of the surface values at least this (two Gaussians 4σ apart: 0.81)
SEPARATION_MIN = 0.8
#: "clearly separated": Sarle's bimodality coefficient above this (5/9: a uniform spread)
BIMODALITY_MIN = 5 / 9
#: "high density of contour lines near the atoms": median |∇Ω| near / far at least this
CONTRAST_MIN = 2.0
#: the same as a rank correlation of |∇Ω| with the distance to the nearest atom: below this
CONTRAST_RHO_MAX = -0.5
#: "localized": the influence of an atom on far points at most this share of that on near points
LOCALITY_MAX = 0.1
#: site-value differences: at least chemical accuracy (kcal/mol)
GAP_MIN = 1.0
#: "electronegativity": |Spearman ρ| of Pauling electronegativity vs element site value above this (a
#: monotonic order of H, C, N)
ORDER_RHO_MIN = 0.99
#: Pauling electronegativities of the elements in Fig. 5's molecules
PAULING = {1: 2.20, 6: 2.55, 7: 3.04}
AROMATICS, SATURATES = ("benzene", "toluene", "pyrazine"), ("methane", "propane")
#: Fig. 5's molecules, in the figure's order: the claims are decided on exactly these, with a carbon probe
FIG5_MOLECULES = ("methane", "benzene", "toluene", "pyrazine", "propane")

_Q_CUTS = ("In the cuts, we observe a high sensitivity to the probe position (i.e. high density of contour lines) near "
           "the atom positions, which is most clearly visible for the molecules with aromatic rings.")
_Q_CONCEPTS = ("On top of that, the visualizations mirror chemical concepts such as bond saturation as well as "
               "different degrees of aromaticity.")
SYMMETRY = Claim(
    "fig5.symmetry", FIG5, "The potentials reflect the expected symmetries that stem from the rotational and "
    "translational invariance of SchNet.", "The local chemical potentials reflect the molecules' symmetries",
    models=("SchNet",),
    tests=(Test("P95 error", "the largest over the in-plane symmetry operations g of P95 |Ω(g·r) − Ω(r)| on the cut "
                "divided by the cut's P5–P95 range of Ω (pooled: the largest over the molecules)", SYMMETRY_TOL,
                "below"),
           Test("rms error", "the largest over the operations g of rms(Ω(g·r) − Ω(r)) on the cut divided by the "
                "cut's standard deviation of Ω (pooled: the largest over the molecules)", SYMMETRY_RMS_TOL, "below")))
SEPARATED = Claim(
    "fig5.separated", FIG5, "The low- and high-energy regions on the iso-surfaces are clearly separated.",
    "Low- and high-energy regions on the isosurfaces are clearly separated", models=("SchNet",),
    tests=(Test("Otsu η", "Otsu's separability η of the area-weighted Ω on the isosurface (pooled: the median over "
                "the molecules)", SEPARATION_MIN, "above"),
           Test("bimodality", "Sarle's bimodality coefficient of the area-weighted Ω on the isosurface (pooled: the "
                "median over the molecules)", BIMODALITY_MIN, "above")))
CONTOURS = Claim(
    "fig5.contours-near-atoms", FIG5, _Q_CUTS, "High density of contour lines (steep Ω) near the atom positions",
    models=("SchNet",),
    tests=(Test("near/far |∇Ω|", "median |∇Ω| 0.5–1.5 Å from the nearest atom divided by the median 2.0–3.0 Å "
                "away, on the cut (pooled: the smallest over the molecules)", CONTRAST_MIN, "above"),
           Test("rank correlation", "Spearman ρ of |∇Ω| with the distance to the nearest atom, cut points 0.5–3.0 Å "
                "from the atoms (pooled: the largest over the molecules)", CONTRAST_RHO_MAX, "below")))
AROMATIC_CONTOURS = Claim(
    "fig5.contours-aromatic", FIG5, _Q_CUTS, "The dense contours near the atoms are most clearly visible for the "
    "aromatic molecules", models=("SchNet",),
    tests=(Test("ratio vs saturated", "an aromatic molecule's near/far |∇Ω| ratio divided by the geometric mean of "
                "methane's and propane's (pooled: geometric mean over benzene, toluene, pyrazine)", 1.0, "above"),
           Test("near |∇Ω| vs saturated", "an aromatic molecule's median |∇Ω| 0.5–1.5 Å from the atoms divided by the "
                "geometric mean of methane's and propane's (pooled: geometric means)", 1.0, "above")))
LOCALIZED = Claim(
    "fig5.localized", FIG5, "Both of these findings indicate that the learned representation is localized, which "
    "coincides with chemical intuition.", "The learned representation is localized", models=("SchNet",),
    tests=(Test("far/near influence", "median |ΔΩ|/δ at surface points ≥ 4 Å from a moved atom divided by the median "
                "at points < 2 Å from it (δ = 0.02 Å; pooled: all molecules' atom–point pairs)", LOCALITY_MAX,
                "below"),
           Test("beyond the cutoff", "the same with the far points beyond the model's cutoff (5 Å): what the atom "
                "reaches only through message passing", LOCALITY_MAX, "below")))
SATURATION = Claim(
    "fig5.bond-saturation", FIG5, _Q_CONCEPTS, "The potentials tell saturated (4 neighbours) from aromatic carbons",
    models=("SchNet",),
    tests=(Test("mean gap", "|mean site value of the saturated carbons − that of the aromatic carbons| (five "
                "molecules)", GAP_MIN, "above", "kcal/mol"),
           Test("margin", "the distance between the two groups' ranges of site values (> 0: no overlap)", 0.0,
                "above", "kcal/mol")))
AROMATICITY = Claim(
    "fig5.aromaticity", FIG5, _Q_CONCEPTS, "The potentials tell benzene's carbons from pyrazine's (different degrees "
    "of aromaticity)", models=("SchNet",),
    tests=(Test("mean gap", "|mean site value of benzene's carbons − that of pyrazine's|", GAP_MIN, "above",
                "kcal/mol"),
           Test("margin", "the distance between the two groups' ranges of site values (> 0: no overlap)", 0.0,
                "above", "kcal/mol")))
ELECTRONEGATIVITY = Claim(
    "s4.probe-electronegativity", "§4", "These further improve interpretability of the energy partitioning and "
    "resemble chemical concepts such as bond saturation, electronegativity and different degrees of aromaticity.",
    "The probe potentials near atoms follow their electronegativity (H, C, N in Fig. 5's molecules)",
    models=("SchNet",),
    tests=(Test("order |ρ|", "|Spearman ρ| of Pauling electronegativity (H 2.20, C 2.55, N 3.04) against the "
                "element's mean site value over the five molecules (direction free: the paper gives none)",
                ORDER_RHO_MIN, "above"),
           Test("N vs C", "|mean site value of pyrazine's N − that of its C|", GAP_MIN, "above", "kcal/mol")))
RELEVANCE = Claim(
    "fig5.local-relevance", FIG5, "Since our local chemical potentials inherit the locality of atom-wise "
    "explanations, they can be similarly used as a visually more intuitive alternative for attributing local "
    "relevance.", "The potentials can serve as a more intuitive alternative for attributing local relevance",
    models=("SchNet",),
    untestable="a statement of use: \"more intuitive\" is about readers, and the paper names no relevance "
               "attribution to compare with; the locality it rests on is decided in fig5.localized")
#: the paper's claims about Fig. 5 (SchNet), in the order of the paper
CLAIMS = (SYMMETRY, SEPARATED, CONTOURS, AROMATIC_CONTOURS, LOCALIZED, RELEVANCE, SATURATION, AROMATICITY,
          ELECTRONEGATIVITY)
#: the same tests on BP's maps (beyond the paper, which shows SchNet only)
BP_CLAIMS = {c.id: Claim(f"beyond.bp-{c.id}", "", "", f"BP: {c.statement[:1].lower()}{c.statement[1:]}",
                         kind="beyond", models=("BP",), tests=c.tests) for c in CLAIMS if c.untestable is None}


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


def _by_molecule(values: dict, pooled) -> Measurement:
    """A per-molecule measurement: ``values`` {molecule: value} and the pooled value."""
    def f(v):
        return None if v is None or not np.isfinite(v) else float(v)
    return Measurement(f(pooled), tuple(f(v) for v in values.values()), tuple(values))


def map_evidence(m: dict) -> dict:
    """The map claims' measurements for one model's :func:`~atomint_helpers.interpret.probe_maps.map_measures`
    entry: ``{claim: {test name: Measurement}}``, per molecule and pooled as each rule says."""
    sym = {k: e for k, (e, n) in m["symmetry"].items() if n > 0}
    rms = {k: m["symmetry_rms"][k] for k in sym}
    sep, bim = m["separability"], m["bimodality"]
    ratio = {k: c["ratio"] for k, c in m["contrast"].items()}
    rho = {k: c["rho"] for k, c in m["contrast"].items()}
    near = {k: c["near"] for k, c in m["contrast"].items()}
    sat_ratio, sat_near = _gmean([ratio[k] for k in SATURATES]), _gmean([near[k] for k in SATURATES])
    aro = [k for k in AROMATICS if k in ratio]
    big = lambda d: max(d.values()) if d else float("nan")  # noqa: E731
    return {
        SYMMETRY: {"P95 error": _by_molecule(sym, big(sym)), "rms error": _by_molecule(rms, big(rms))},
        SEPARATED: {"Otsu η": _by_molecule(sep, float(np.median(list(sep.values())))),
                    "bimodality": _by_molecule(bim, float(np.median(list(bim.values()))))},
        CONTOURS: {"near/far |∇Ω|": _by_molecule(ratio, min(ratio.values())),
                   "rank correlation": _by_molecule(rho, max(rho.values()))},
        AROMATIC_CONTOURS: {
            "ratio vs saturated": _by_molecule({k: ratio[k] / sat_ratio for k in aro},
                                               _gmean([ratio[k] for k in aro]) / sat_ratio),
            "near |∇Ω| vs saturated": _by_molecule({k: near[k] / sat_near for k in aro},
                                                   _gmean([near[k] for k in aro]) / sat_near)},
        LOCALIZED: {"far/near influence": _by_molecule({k: v["ratio"] for k, v in m["influence"].items()},
                                                       m["influence_all"]["ratio"]),
                    "beyond the cutoff": _by_molecule({k: v["ratio"] for k, v in m["influence_cutoff"].items()},
                                                      m["influence_cutoff_all"]["ratio"])},
    }


def _values(sites: dict, molecules, element: int | None = None, kind: str | None = None) -> list[float]:
    return [x["value"] for mol in molecules for x in sites.get(mol, [])
            if (element is None or x["element"] == element) and (kind is None or x["kind"] == kind)]


def site_numbers(sites: dict) -> dict:
    """The site-value claims' numbers on one fold's ``{molecule: atom_sites}``."""
    from scipy.stats import spearmanr

    mols = list(sites)
    sat = group_gap(_values(sites, mols, 6, SATURATED), _values(sites, mols, 6, AROMATIC))
    aro = group_gap(_values(sites, ["benzene"], 6), _values(sites, ["pyrazine"], 6))
    means = {z: np.nanmean(_values(sites, mols, z)) for z in PAULING if _values(sites, mols, z)}
    if len(means) < len(PAULING):
        order = float("nan")
    elif np.ptp(list(means.values())) == 0:  # no order at all: every element the same
        order = 0.0
    else:
        order = abs(float(spearmanr(list(PAULING.values()), [means[z] for z in PAULING]).statistic))
    nc = group_gap(_values(sites, ["pyrazine"], 7), _values(sites, ["pyrazine"], 6))
    return {SATURATION: {"mean gap": abs(sat["gap"]), "margin": sat["margin"]},
            AROMATICITY: {"mean gap": abs(aro["gap"]), "margin": aro["margin"]},
            ELECTRONEGATIVITY: {"order |ρ|": order, "N vs C": abs(nc["gap"])}}


def fold_mean_sites(by_fold: dict) -> dict:
    """The site values averaged over the folds, atom by atom (the pooled evidence)."""
    first = by_fold[min(by_fold)]
    return {mol: [{**x, "value": float(np.mean([by_fold[k][mol][i]["value"] for k in by_fold]))}
                  for i, x in enumerate(first[mol])] for mol in first}


def site_evidence(by_fold: dict) -> dict:
    """The site claims' measurements for one model: ``by_fold`` = ``{fold: {molecule: atom_sites}}``
    (:func:`~atomint_helpers.interpret.probe_maps.fold_sites`); pooled on the fold-mean site values."""
    folds = sorted(by_fold)
    per = {k: site_numbers(by_fold[k]) for k in folds}
    pooled = site_numbers(fold_mean_sites(by_fold))
    return {c: {name: Measurement(pooled[c][name], tuple(per[k][c][name] for k in folds),
                                  tuple(f"energy fold {k}" for k in folds)) for name in pooled[c]}
            for c in pooled}


def rows(measures: dict, exactness, *, quick: bool, pending_: dict | None = None, sites: dict | None = None
         ) -> list[dict]:
    """Scorecard rows: the two implementation checks (``exactness``: the table of the notebook's check), then
    per claim of :data:`CLAIMS` one SchNet row (``paper``) and one BP row (``beyond``). ``sites``: per model
    label the per-fold site values (:func:`~atomint_helpers.interpret.probe_maps.fold_sites`). Maps that
    include a molecule not in :data:`FIG5_MOLECULES` give no rows: the paper's sentences are about those five."""
    if any(not set(m.get("symmetry", {})) <= set(FIG5_MOLECULES) for m in measures.values()):
        return []
    out = implementation_rows(exactness)
    pending_ = pending_ or {}
    for label in ("SchNet", "BP"):
        if label not in measures:
            continue
        ev = map_evidence(measures[label])
        if sites and sites.get(label):
            ev.update(site_evidence(sites[label]))
        why = QUICK_NOTE if quick else (f"preliminary: {pending_[label]} still training (best weights so far)"
                                        if label in pending_ else None)
        for claim in CLAIMS:
            if claim.untestable is not None:
                if label == "SchNet":
                    out.append(decide(claim, label, {}).row())
                continue
            c = claim if label == "SchNet" else BP_CLAIMS[claim.id]
            if claim in ev:
                out.append(decide(c, label, ev[claim], why_not=why).row())
            else:
                out.append(decide(c, label, {t.name: Measurement(None) for t in c.tests},
                                  why_not=why or "no per-fold site values in this run").row())
    return annotate_values(out, CLAIMS, quick, "fig5")


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


def probe_name(probe) -> str:
    from ase.data import atomic_names, atomic_numbers

    return atomic_names[probe if isinstance(probe, int) else atomic_numbers[probe]].lower()


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def caption(panels: list[dict], model: str, levels, probe="C") -> str:
    """Fig. 5's caption for one model, its numbers from the panels and the figure's ``levels`` (kcal/mol);
    ``probe``: the probe atom's element (symbol or Z)."""
    ps = [p for p in panels if p["model"] == model]
    ref, cutoff = ps[0]["reference"], ps[0]["potential"].cutoff
    surf = np.concatenate([p["surface_values"] for p in ps])
    pos = [x for x in levels if x > 0]
    which = "as in the paper's Fig. 5" if model == "SchNet" else "beyond the paper, which shows SchNet only"
    if {p["molecule"] for p in ps} != set(FIG5_MOLECULES) or probe_name(probe) != "carbon":
        which = "the maps of Fig. 5 for this run's molecules and probe"
        cuts = "the best-fit plane of the heavy atoms"
    else:
        cuts = "ring plane of the aromatics, C–C–C plane of propane, an H–C–H plane of methane"
    return (f"**Fig. 5 ({model}; {which}).** Local chemical potential of {_a(probe_name(probe))} probe, "
            f"Ω − Ω(∞) in kcal/mol, where Ω(∞) = {ref:.1f} kcal/mol is the probe's own energy with no atom within the "
            f"model's {cutoff:g} Å cutoff. Above each cut: the lower half of the surface Σ|r − r_i|⁻² = const just outside the "
            "van der Waals surface (viewed from above the cut plane; the upper half is close to its mirror image for "
            "these molecules), with the molecule drawn over it. Below: the cut through the molecule "
            f"({cuts}), in-plane coordinates in Å, atoms drawn at their projection. Blue: the probe is more stable "
            "than far from the molecule, red: less stable; the white "
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


def page_title(probe="C") -> str:
    """The interactive 3D page's title for a ``probe`` element (symbol or Z)."""
    return f"Local chemical potential of {_a(probe_name(probe))} probe (Fig. 5)"


def page_text(panels: list[dict], probe="C") -> str:
    """The explanation on the interactive 3D page (HTML), its numbers from the panels; ``probe``: the probe
    atom's element (symbol or Z)."""
    refs = {p["model"]: p["reference"] for p in panels}
    return ("The colour on each surface is the local chemical potential Ω − Ω(∞) (kcal/mol) of "
            f"{_a(probe_name(probe))} probe: the energy the model gives {_a(probe_name(probe))} atom placed on the "
            "surface, which feels the molecule but does not act back on it, relative to the same probe far from the molecule (Ω(∞) = "
            + ", ".join(f"{v:.1f} kcal/mol for {k}" for k, v in refs.items())
            + "). Blue: the probe is more stable there than far away; red: less stable. The surface lies just "
            "outside the van der Waals surface. Pick a molecule and model in the menu; drag to rotate, scroll to "
            "zoom.")
