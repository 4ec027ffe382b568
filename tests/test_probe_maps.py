"""Fig. 5's measures and rules on constructed potentials whose answer is known, both ways; the figure and the
interactive page."""
from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from atomint_helpers.interpret import grid
from atomint_helpers.interpret import probe_maps as pm
from atomint_helpers.report import probe as words


def _benzene() -> Atoms:
    """An exactly D6h benzene in the xy plane (C–C 1.39 Å, C–H 1.09 Å)."""
    a = np.radians(60 * np.arange(6))
    ring = np.stack([np.cos(a), np.sin(a), 0 * a], -1)
    return Atoms("C6H6", positions=np.concatenate([1.39 * ring, 2.48 * ring]))


@pytest.fixture(scope="module")
def toluene():
    from atomint_helpers.data.qm9 import NAMED, load_sample

    return load_sample().atoms(NAMED["toluene"])


def gaussians(atoms, amplitude=None, width=0.8):
    """Ω(r) = Σ_j a_j exp(−|r − R_j|² / w²): local, and symmetric wherever the molecule is."""
    amp = np.ones(len(atoms)) if amplitude is None else np.asarray(amplitude, dtype=float)
    pos = atoms.positions.copy()

    def omega(points):
        d2 = ((np.asarray(points)[..., None, :] - pos) ** 2).sum(-1)
        return (amp * np.exp(-d2 / width ** 2)).sum(-1)
    return omega


# ------------------------------------------------------------------------------------------ symmetry
def test_symmetry_operations_of_a_hexagon():
    at = _benzene()
    ops = pm.plane_symmetries(at, grid.molecular_plane(at))
    assert len(ops) == 11  # C6 (5 rotations) and 6 mirrors containing the normal
    assert sum(np.linalg.det(g) < 0 for g in ops) == 6


def test_symmetry_error_both_ways():
    at = _benzene()
    cut = grid.plane_cut(at, spacing=0.25)
    err, n = pm.symmetry_error(gaussians(at), at, cut)
    assert n == 11 and err < 1e-9
    tilted = gaussians(at)
    err, _ = pm.symmetry_error(lambda p: tilted(p) + 0.3 * np.asarray(p)[..., 0], at, cut)
    assert err > words.SYMMETRY_TOL


def test_rms_symmetry_error_both_ways():
    at = _benzene()
    cut = grid.plane_cut(at, spacing=0.25)
    e = pm.symmetry_errors(gaussians(at), at, cut)
    assert e["n_ops"] == 11 and e["rms"] < 1e-9 and e["p95"] < 1e-9
    tilted = gaussians(at)
    e = pm.symmetry_errors(lambda p: tilted(p) + 0.3 * np.asarray(p)[..., 0], at, cut)
    assert e["rms"] > words.SYMMETRY_RMS_TOL and e["p95"] > words.SYMMETRY_TOL


def test_no_symmetry_gives_nan():
    at = Atoms("CNO", positions=[[0, 0, 0], [1.3, 0.2, 0], [-0.4, 1.7, 0]])
    err, n = pm.symmetry_error(gaussians(at), at, grid.plane_cut(at, spacing=0.3))
    assert n == 0 and np.isnan(err)


# ------------------------------------------------------------------------------------------ separation
def test_separability_known_values():
    rng = np.random.default_rng(0)
    assert pm.separability(np.r_[np.zeros(500), np.ones(500)]) == pytest.approx(1.0)
    assert pm.separability(rng.normal(size=20000)) == pytest.approx(2 / np.pi, abs=0.02)
    assert pm.separability(np.linspace(0, 1, 10001)) == pytest.approx(0.75, abs=0.01)
    two = np.r_[rng.normal(0, 1, 20000), rng.normal(6, 1, 20000)]
    assert pm.separability(two) > words.SEPARATION_MIN > pm.separability(rng.normal(size=20000))
    # weights: a heavy low group and a light high one is still two groups
    assert pm.separability([0, 0, 1], weights=[1, 1, 2]) == pytest.approx(1.0)


def test_bimodality_coefficient_known_values():
    rng = np.random.default_rng(0)
    assert pm.bimodality_coefficient(rng.normal(size=50000)) == pytest.approx(1 / 3, abs=0.02)
    assert pm.bimodality_coefficient(rng.uniform(size=50000)) == pytest.approx(5 / 9, abs=0.01)
    two = np.r_[rng.normal(-3, 0.5, 20000), rng.normal(3, 0.5, 20000)]
    assert pm.bimodality_coefficient(two) > words.BIMODALITY_MIN > pm.bimodality_coefficient(rng.normal(size=20000))
    assert pm.bimodality_coefficient([0, 0, 1], weights=[1, 1, 2]) == pytest.approx(1.0)
    assert np.isnan(pm.bimodality_coefficient(np.ones(5)))


def test_vertex_areas_sum_to_the_sphere():
    at = Atoms("C", positions=[[0, 0, 0]])
    s = grid.isosurface(at, resolution=(40, 80))
    r = np.linalg.norm(s.vertices, axis=1).mean()
    assert pm.vertex_areas(s).sum() == pytest.approx(4 * np.pi * r ** 2, rel=0.01)


# ------------------------------------------------------------------------------------------ contours
def test_gradient_contrast_both_ways():
    at = _benzene()
    cut = grid.plane_cut(at, spacing=0.1)
    steep = pm.gradient_contrast(gaussians(at, width=0.7)(cut.points), at, cut)
    assert steep["ratio"] > 10 * words.CONTRAST_MIN
    assert steep["rho"] < words.CONTRAST_RHO_MAX
    ramp = pm.gradient_contrast(cut.points[..., 0] * 2.0, at, cut)
    assert ramp["ratio"] == pytest.approx(1.0, rel=1e-6) and ramp["near"] == pytest.approx(2.0, rel=1e-6)
    # steepest far from the atoms: the rank correlation turns positive
    d = np.linalg.norm(cut.points[..., None, :] - at.positions, axis=-1).min(-1)
    away = pm.gradient_contrast(0.5 * d ** 3, at, cut)
    assert away["rho"] > 0 > words.CONTRAST_RHO_MAX and away["ratio"] < 1


# ------------------------------------------------------------------------------------------ locality
def test_influence_local_and_not(toluene):
    pts = pm.surface_sample(grid.isosurface(toluene, resolution=(12, 24)), 60)
    s, d = pm.atom_influence(lambda a: gaussians(a), toluene, pts)
    assert s.shape == d.shape == (len(toluene), len(pts))
    local = pm.influence_ratio(s, d)
    assert local["ratio"] < words.LOCALITY_MAX / 10 and local["n_far"] > 0

    def centroid(a):  # every atom pulls on every point equally: Ω = |r − centroid|
        c = a.positions.mean(0)
        return lambda p: np.linalg.norm(np.asarray(p) - c, axis=-1)
    s, d = pm.atom_influence(centroid, toluene, pts)
    assert pm.influence_ratio([s], [d])["ratio"] > 0.5


def test_influence_ratio_needs_both_bands():
    assert np.isnan(pm.influence_ratio(np.ones(3), np.array([0.5, 1.0, 1.5]))["ratio"])


def test_influence_beyond_the_cutoff():
    s, d = np.array([10.0, 10.0, 5.0, 0.1, 0.2]), np.array([1.0, 1.5, 4.5, 5.5, 6.0])
    assert pm.influence_ratio(s, d)["ratio"] == pytest.approx(0.2 / 10)  # ≥ 4 Å: 5.0, 0.1, 0.2 → median 0.2
    beyond = pm.influence_ratio(s, d, far_from=5.0)
    assert beyond["ratio"] == pytest.approx(0.15 / 10) and beyond["n_far"] == 2
    assert np.isnan(pm.influence_ratio(s, d, far_from=7.0)["ratio"])


# ------------------------------------------------------------------------------------------ carbons
def test_carbon_kinds(toluene):
    sites = pm.carbon_sites(gaussians(toluene), toluene)
    kinds = [c["kind"] for c in sites]
    assert kinds.count(pm.SATURATED) == 1 and kinds.count(pm.AROMATIC) == 6
    assert all(0 < c["exposed"] < 1 for c in sites)
    at = Atoms("CH4", positions=[[0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63], [-0.63, 0.63, -0.63],
                                 [0.63, -0.63, -0.63]])
    assert [c["kind"] for c in pm.carbon_sites(gaussians(at), at)] == [pm.SATURATED]


def test_saturation_gap_both_ways(toluene):
    methyl = [c["index"] for c in pm.carbon_sites(gaussians(toluene), toluene) if c["kind"] == pm.SATURATED]
    amp = np.full(len(toluene), 0.1)
    amp[methyl] = 20.0  # the saturated carbon raises Ω around it (width 1.2 Å: ≈ 2.7 at its sphere)
    for a, holds in ((amp, True), (np.full(len(toluene), 0.1), False)):
        sites = pm.carbon_sites(gaussians(toluene, a, width=1.2), toluene)
        g = pm.group_gap([c["value"] for c in sites if c["kind"] == pm.SATURATED],
                         [c["value"] for c in sites if c["kind"] == pm.AROMATIC])
        assert (g["separate"] and abs(g["gap"]) >= words.GAP_MIN) is holds


def test_group_gap():
    assert pm.group_gap([1, 2], [3, 4]) == {"gap": -2.0, "separate": True, "margin": 1.0}
    g = pm.group_gap([1, 3.5], [3, 4])
    assert g["separate"] is False and g["margin"] == pytest.approx(-0.5)
    assert pm.group_gap([], [1])["separate"] is False


# ------------------------------------------------------------------------------------------ rules
def _measures(good: bool) -> dict:
    mols = ("methane", "benzene", "toluene", "pyrazine", "propane")
    site = {"methane": [(pm.SATURATED, 3.0)], "propane": [(pm.SATURATED, 3.2)] * 3,
            "toluene": [(pm.SATURATED, 3.1)] + [(pm.AROMATIC, 0.5)] * 6,
            "benzene": [(pm.AROMATIC, 0.4)] * 6, "pyrazine": [(pm.AROMATIC, 2.0)] * 4}
    k = 1.0 if good else 0.0
    return {"symmetry": {m: (0.001 if good else 0.2, 1) for m in mols},
            "separability": {m: 0.9 if good else 0.7 for m in mols},
            "contrast": {m: {"ratio": (5.0 if m in words.AROMATICS else 3.0) if good else 1.5} for m in mols},
            "influence_all": {"ratio": 0.02 if good else 0.5, "near": 1.0, "far": 0.02, "n_far": 10},
            "carbons": {m: [{"kind": kd, "value": (v if good else 1.0) + k * 0.01 * i}
                            for i, (kd, v) in enumerate(site[m])] for m in mols}}


def test_rules_both_ways():
    ok, bad = words.evaluate(_measures(True)), words.evaluate(_measures(False))
    assert all(v[0] for v in ok.values()), {k: v for k, v in ok.items() if not v[0]}
    assert not any(v[0] for v in bad.values()), {k: v for k, v in bad.items() if v[0]}


def _full_measures(good: bool) -> dict:
    """A map_measures entry with every measure the registry's tests read, all on one side of their rules."""
    mols = ("methane", "benzene", "toluene", "pyrazine", "propane")
    m = _measures(good)
    m["symmetry_rms"] = {k: 0.001 if good else 0.3 for k in mols}
    m["bimodality"] = {k: 0.8 if good else 0.4 for k in mols}
    m["contrast"] = {k: {"ratio": (5.0 if k in words.AROMATICS else 3.0) if good else 1.5,
                         "near": (8.0 if k in words.AROMATICS else 4.0) if good else 2.0,
                         "rho": -0.8 if good else 0.1} for k in mols}
    ratio = {"ratio": 0.02 if good else 0.5, "near": 1.0, "far": 0.02, "n_far": 10}
    m["influence"] = m["influence_cutoff"] = {k: ratio for k in mols}
    m["influence_all"] = m["influence_cutoff_all"] = ratio
    return m


def _sites(good: bool, shift: float = 0.0) -> dict:
    """One fold's atom_sites: saturated carbons 3 kcal/mol above aromatic ones, pyrazine's carbons 1.5 above
    benzene's, H < C < N site values (good); every site value equal (not good)."""
    def site(z, kind, v):
        return {"element": z, "kind": kind, "value": (v + shift) if good else 1.0}
    c_sat, c_aro, h = (6, pm.SATURATED), (6, pm.AROMATIC), (1, "other")
    return {"methane": [site(*c_sat, 3.0)] + [site(*h, -1.0)] * 4,
            "propane": [site(*c_sat, 3.1)] * 3 + [site(*h, -1.0)] * 8,
            "benzene": [site(*c_aro, 0.0)] * 6 + [site(*h, -1.0)] * 6,
            "toluene": [site(*c_sat, 3.2)] + [site(*c_aro, 0.1)] * 6 + [site(*h, -1.0)] * 8,
            "pyrazine": [site(*c_aro, 1.5)] * 4 + [site(7, "other", 4.0)] * 2 + [site(*h, -1.0)] * 4}


def test_site_numbers_both_ways():
    ok, bad = words.site_numbers(_sites(True)), words.site_numbers(_sites(False))
    for claim in (words.SATURATION, words.AROMATICITY, words.ELECTRONEGATIVITY):
        assert all(t.holds(ok[claim][t.name]) for t in claim.tests), (claim.id, ok[claim])
        assert not any(t.holds(bad[claim][t.name]) for t in claim.tests), (claim.id, bad[claim])
    assert ok[words.SATURATION]["mean gap"] == pytest.approx(3.1 - 6.6 / 16)  # 5 saturated, 16 aromatic carbons
    assert ok[words.AROMATICITY]["mean gap"] == pytest.approx(1.5) and ok[words.AROMATICITY]["margin"] == pytest.approx(1.5)
    assert ok[words.ELECTRONEGATIVITY]["order |ρ|"] == pytest.approx(1.0)


def test_rows_are_registry_verdicts_per_molecule_and_per_fold():
    import pandas as pd

    ex = pd.DataFrame({"probe points": [4], "b": [1e-6], "e": [0.0], "m": [0.0]}, index=["SchNet"])
    meas = {"SchNet": _full_measures(True), "BP": _full_measures(False)}
    sites = {"SchNet": {k: _sites(True, 0.01 * k) for k in range(3)}, "BP": {k: _sites(False) for k in range(3)}}
    rows = words.rows(meas, ex, quick=False, sites=sites)
    paper = [r for r in rows if r["kind"] == "paper"]
    assert [r["id"] for r in paper] == [c.id for c in words.CLAIMS]
    assert all(r["model"] == "SchNet" and r["verdict"] == ("not testable" if r["id"] == words.RELEVANCE.id else "holds")
               for r in paper), [(r["id"], r["verdict"]) for r in paper]
    assert "statement of use" in next(r for r in paper if r["id"] == words.RELEVANCE.id)["note"]
    beyond = [r for r in rows if r["kind"] == "beyond"]
    assert len(beyond) == len(words.CLAIMS) - 1 and all(r["verdict"] == "differs" for r in beyond)
    assert all(r["cause"].startswith("a finding") for r in beyond)
    sym = next(r for r in paper if r["id"] == "fig5.symmetry")
    assert [t["name"] for t in sym["tests"]] == ["P95 error", "rms error"]
    assert sym["tests"][0]["fold_labels"] == ["methane", "benzene", "toluene", "pyrazine", "propane"]
    sat = next(r for r in paper if r["id"] == "fig5.bond-saturation")
    assert sat["tests"][0]["fold_labels"] == ["energy fold 0", "energy fold 1", "energy fold 2"]
    assert sat["tests"][0]["folds"] == ["holds"] * 3
    # one molecule against the rule: the pooled value (the largest) differs, 4 of 5 molecules hold
    one = _full_measures(True)
    one["symmetry"]["benzene"] = (0.2, 1)
    r = next(r for r in words.rows({"SchNet": one}, ex, quick=False, sites=sites) if r.get("id") == "fig5.symmetry")
    assert r["verdict"] == "inconclusive" and r["tests"][0]["verdict"] == "mixed"
    assert all(r["verdict"] == "not comparable" for r in words.rows(meas, ex, quick=True, sites=sites)[2:]
               if r["id"] != words.RELEVANCE.id)
    pend = words.rows(meas, ex, quick=False, pending_={"SchNet": "schnet-energy-cpu-fold0"}, sites=sites)
    assert all(r["verdict"] == "not comparable" and "still training" in r["note"] for r in pend
               if r.get("model") == "SchNet" and r.get("id") != words.RELEVANCE.id)
    nosites = words.rows(meas, ex, quick=False)
    assert next(r for r in nosites if r.get("id") == "fig5.aromaticity")["verdict"] == "not comparable"


# ------------------------------------------------------------------------------------------ figure and page
def test_doubling_levels():
    from atomint_helpers.plots import doubling_levels

    sc = doubling_levels(np.linspace(-30, 20, 1000), q=100)
    lv = sc["levels"]
    np.testing.assert_allclose(lv, -lv[::-1])
    assert np.allclose(lv[len(lv) // 2 + 1:] / lv[len(lv) // 2:-1], 2) and lv[-1] >= 30 > lv[-2]


def test_probe_figure_and_page():
    import matplotlib
    matplotlib.use("Agg")
    from atomint_helpers import plots

    panels = []
    for name, at in (("benzene", _benzene()), ("methane", Atoms("CH4", positions=[
            [0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63], [-0.63, 0.63, -0.63], [0.63, -0.63, -0.63]]))):
        surf, cut = grid.isosurface(at, resolution=(12, 24)), grid.plane_cut(at, spacing=0.3, half_width=4.0)
        om = gaussians(at)
        panels.append({"molecule": name, "model": "SchNet", "atoms": at, "bonds": np.argwhere(np.triu(pm.bonded_neighbours(at))),
                           "surface": surf, "cut": cut, "surface_values": om(surf.vertices) - 0.5,
                           "cut_values": om(cut.points) - 0.5, "reference": -140.0})
    fig = plots.probe_figure(panels, "SchNet")
    assert fig.get_size_inches()[0] * fig.dpi >= 600
    fig.canvas.draw()
    # the figure standard: every text at least 9 pt, each map at least 2 in wide (at most three to a row)
    texts = [t for ax in fig.axes for t in ax.texts + [ax.title, ax.xaxis.label, ax.yaxis.label]
             + ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert texts and min(t.get_fontsize() for t in texts) >= 9
    # the surfaces mark the atoms as the cuts do: element symbols with an outline, no element-coloured dots
    from mpl_toolkits.mplot3d.art3d import Path3DCollection

    for ax, p in zip([ax for ax in fig.axes if ax.name == "3d"], panels, strict=True):
        assert sorted(t.get_text() for t in ax.texts) == sorted(p["atoms"].get_chemical_symbols())
        assert all(t.get_path_effects() for t in ax.texts)
        assert not any(isinstance(c, Path3DCollection) for c in ax.collections)
    cuts = [ax for ax in fig.axes if ax.name != "3d" and ax.get_xlabel() == "s (Å)"]
    assert len(cuts) == 2 and all(ax.get_position().width * fig.get_figwidth() >= 2.0 for ax in cuts)  # the colour bar's labels: the white band once ("±base" at 0), none overlapping
    cb = fig.axes[-1]
    labels = [t for t in cb.get_xticklabels() if t.get_text()]
    assert sum(t.get_text().startswith("±") for t in labels) == 1
    assert not any("-" in t.get_text() for t in labels) and any(t.get_text().startswith("−") for t in labels)
    boxes = sorted((t.get_window_extent().x0, t.get_window_extent().x1) for t in labels)
    assert all(a[1] <= b[0] for a, b in zip(boxes, boxes[1:]))
    html = plots.probe_3d_page(panels, title="Local chemical potential", text="explained",
                               back="../notebooks/probe.html")
    assert "<h1>Local chemical potential</h1>" in html and 'href="../notebooks/probe.html"' in html
    assert "520" not in html.split("<script")[0] and "75vh" in html
    # the 3D view opens on benzene whatever the panels' order, its surface lets the atoms show through
    view = plots.probe_surface_plotly(panels[::-1])
    shown = [t for t in view.data if t.visible]
    assert [t.type for t in shown] == ["mesh3d", "scatter3d"] and shown[0].name.startswith("benzene")
    assert shown[0].opacity < 0.6 and view.layout.updatemenus[0].active == 1


def test_far_field_sentence_finds_the_bump_and_the_cutoff():
    from types import SimpleNamespace

    from atomint_helpers.report.probe_tail import far_field, far_field_sentence

    at = Atoms("C", positions=[[0, 0, 0]])
    cut = grid.plane_cut(at, spacing=0.1, half_width=6.0)
    r = np.linalg.norm(cut.points.reshape(-1, 3), axis=-1)
    for bump in (3.6, 4.4):  # a Gaussian bump of +0.5 kcal/mol, cut off at 5 Å as a model's tail is
        v = np.where(r < 5.0, 0.5 * np.exp(-((r - bump) / 0.3) ** 2), 0.0).reshape(np.shape(cut.points)[:-1])
        panel = {"model": "SchNet", "atoms": at, "cut": cut, "cut_values": v,
                 "potential": SimpleNamespace(cutoff=5.0)}
        f = far_field([panel], "SchNet")
        assert abs(f["at"] - bump) <= 0.15 and 0.4 < f["peak"] <= 0.5 and f["beyond"] == 0.0
        assert f"about {f['at']:.1f} Å" in far_field_sentence([panel], "SchNet")
