"""Fig. 2's new metrics on constructed inputs (each both ways), the saliency of §1, and Fig. 3's ring statistics."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from atomint_helpers import AtomintError
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.interpret import energy_partition as ep
from atomint_helpers.interpret import ring_stats, saliency
from atomint_helpers.models import build


def test_eta_squared_is_the_share_explained_by_the_groups():
    rng = np.random.default_rng(0)
    g = np.repeat([2, 3, 4], 500)
    apart = np.array([-150.0, -140.0, -130.0])[g - 2] + rng.normal(scale=0.5, size=len(g))
    alike = rng.normal(scale=5.0, size=len(g))
    # on ranks, three equal groups reach at most 1 − 1/9
    assert ep.eta_squared(apart, g) > 0.98 and ep.eta_squared(apart, g, rank=True) > 0.88
    assert ep.eta_squared(alike, g) < 0.02 and ep.eta_squared(alike, g, rank=True) < 0.02
    # one extreme atom decides a plain variance, not a ranked one
    tail = apart.copy()
    tail[0] = 1e5
    assert ep.eta_squared(tail, g) < 0.01 and ep.eta_squared(tail, g, rank=True) > 0.88
    assert np.isnan(ep.eta_squared([1.0], [0])) and np.isnan(ep.eta_squared(np.ones(5), np.arange(5)))


def _frame(shift, seed, n=600):
    rng = np.random.default_rng(seed)
    sym = np.array(["H", "C", "N", "O"] * (n // 4))
    base = np.select([sym == "H", sym == "C", sym == "N"], [-60.0, -140.0, -90.0], -100.0)
    return pd.DataFrame({"symbol": sym, "atomic_energy": base + rng.normal(size=n) + shift})


def test_fold_outlier_named_only_when_one_fold_stands_apart():
    alike = {k: _frame(0.0, k) for k in range(3)}
    fold, ratio = ep.fold_outlier(ep.pair_distances(alike, column="atomic_energy"))
    assert fold is None and ratio < ep.OUTLIER_FACTOR
    odd = {0: _frame(0.0, 0), 1: _frame(0.0, 1), 2: _frame(3.0, 2)}
    fold, ratio = ep.fold_outlier(ep.pair_distances(odd, column="atomic_energy"))
    assert fold == 2 and ratio > ep.OUTLIER_FACTOR
    assert sorted(ep.without_fold(odd, 2)) == [0, 1]
    assert ep.fold_outlier(ep.pair_distances({0: alike[0], 1: alike[1]}, column="atomic_energy"))[0] is None


def test_carbon_environments_group_by_bonded_neighbours(sample):
    rows = np.arange(60)
    off = np.asarray(sample.arrays["offsets"])
    atoms = np.concatenate([np.arange(off[r], off[r + 1]) for r in rows])
    Z = np.asarray(sample.arrays["Z"])[atoms]
    sym = pd.Categorical(np.array(["", "H", "", "", "", "", "C", "N", "O", "F"])[Z])
    nb = ep.neighbour_counts(sample, rows)
    n = np.diff(off)[rows]
    by_env = pd.DataFrame({"row": np.repeat(rows, n), "symbol": sym, "atomic_energy": -100.0 - 10.0 * nb})
    noise = by_env.assign(atomic_energy=np.random.default_rng(0).normal(size=len(by_env)))
    t = ep.carbon_environments({"bp": {0: by_env}, "schnet": {0: noise}}, sample).set_index("model")
    assert t.loc["BP", "eta2"] == pytest.approx(1.0) and t.loc["SchNet", "eta2_rank"] < 0.2
    assert t.loc["BP", "mean sp3 (4 neighbours)"] == pytest.approx(-140.0)
    assert t.loc["BP", "carbons"] == int((Z == 6).sum())
    assert t.loc["BP", "eta2_fine"] >= t.loc["BP", "eta2"] - 1e-12  # a finer grouping explains at least as much
    e, g = ep.carbon_by_environment({"bp": {0: by_env}}, sample)["bp"]
    np.testing.assert_allclose(e, -100.0 - 10.0 * g)


@pytest.fixture(scope="module")
def energy_model(sample):
    torch.manual_seed(0)
    m = build({"model": "schnet", "target": "energy",
               "representation": dict(n_atom_basis=16, n_interactions=2, n_rbf=12)})
    m.fit_statistics(qm9_atoms_data(sample), np.arange(200))
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m.eval()


def test_gradient_norms_are_the_forces_of_the_model(energy_model, sample):
    """|∂E/∂R_i| from autograd against a central finite difference of the model's energy."""
    data = qm9_atoms_data(sample, cutoff=energy_model.cutoff)
    rows = np.array([3])
    g, e = saliency.gradient_norms(energy_model, data, rows)
    n = int(data.n_atoms[3])
    assert len(g) == len(e) == n and (g >= 0).all()
    k, h = int(np.argmax(g)), 1e-3
    fd = []
    for axis in range(3):
        vals = []
        for sgn in (1, -1):
            d = saliency.distorted(data, 0.0)
            d.R[int(data.offsets[3]) + k, axis] += sgn * h
            d = type(d)(d.Z, d.R, d.offsets, saliency.molecule_pairs(np.asarray(d.R), np.asarray(d.offsets),
                                                                        data.pairs.cutoff))
            with torch.no_grad():
                vals.append(float(energy_model(d.batch(rows))["energy"][0]))
        fd.append((vals[0] - vals[1]) / (2 * h))
    assert np.linalg.norm(fd) == pytest.approx(g[k], rel=0.05)


def test_distortion_and_summary(energy_model, sample):
    data = qm9_atoms_data(sample, cutoff=energy_model.cutoff)
    same = saliency.distorted(data, 0.0)
    np.testing.assert_allclose(same.R, data.R)
    moved = saliency.distorted(data, 0.1, seed=1)
    assert np.std(np.asarray(moved.R) - np.asarray(data.R)) == pytest.approx(0.1, rel=0.05)
    with pytest.raises(AtomintError):
        saliency.distorted(data, -1.0)
    s = saliency.saliency_summary(energy_model, data, np.arange(20))
    assert s["step_eq"] == pytest.approx(saliency.STEP * s["grad_eq"])
    assert s["ratio_eq"] == pytest.approx(s["step_eq"] / s["latent_iqr"])
    assert s["n_molecules"] == 20 and s["n_atoms"] == int(data.n_atoms[:20].sum())
    iqr = saliency.within_element_iqr([1, 2, 3, 4, 10, 20, 30, 40], [1] * 4 + [6] * 4)
    assert iqr == pytest.approx((1.5 + 15.0) / 2)  # median of the IQRs of H and C


def _scored(n=30, folds=3, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    base = -np.arange(n, dtype=float)[::-1] * 2.0
    t = pd.DataFrame({"molecule": np.arange(n), "row": np.arange(n)})
    for k in range(folds):
        t[f"fold{k}"] = base + rng.normal(scale=noise, size=n)
    cols = [f"fold{k}" for k in range(folds)]
    t["score"], t["std"] = t[cols].mean(axis=1), t[cols].std(axis=1, ddof=1)
    return t


def test_top_stability_tells_a_firm_ranking_from_a_noisy_one():
    firm = ring_stats.top_stability(_scored(), [0, 1, 2])
    assert firm["jaccard"] == 1.0 and firm["spearman"] == pytest.approx(1.0) and firm["in_noise"] == 0
    noisy = ring_stats.top_stability(_scored(noise=8.0), [0, 1, 2])
    assert noisy["jaccard"] < 0.8 and noisy["spearman"] < 0.9 and noisy["in_noise"] >= 3
    assert np.isnan(ring_stats.top_stability(_scored(folds=1), [0])["jaccard"])


def test_relative_scores_remove_a_global_carbon_offset():
    sym = np.array(["C"] * 6 + ["H"] * 6)
    frame = pd.DataFrame({"symbol": sym, "atomic_energy": np.r_[np.full(6, -140.0), np.full(6, -60.0)]})
    scored = _scored(n=5, folds=2)
    shifted = {k: frame.assign(atomic_energy=frame["atomic_energy"] + 5.0 * (frame["symbol"] == "C"))
               for k in (0, 1)}
    a = ring_stats.relative_scores(scored, {0: frame, 1: frame})
    b_scored = scored.assign(fold0=scored["fold0"] + 30.0, fold1=scored["fold1"] + 30.0)
    b = ring_stats.relative_scores(b_scored, shifted)
    np.testing.assert_allclose(a["rel_score"], b["rel_score"])  # an offset of every carbon cancels
    np.testing.assert_allclose(a["rel_score"], scored["score"] + 6 * 140.0)
    diff = ring_stats.fold_differences({"bp": a, "schnet": b_scored})
    assert diff == {0: pytest.approx(-30.0), 1: pytest.approx(-30.0)}
    rel = ring_stats.fold_differences({"bp": a, "schnet": b}, "rel_fold{k}")
    assert all(abs(v) < 1e-9 for v in rel.values())


def test_hydrogen_counts_of_named_molecules(sample):
    from atomint_helpers.data.bonds import hydrogen_counts
    from atomint_helpers.data.qm9 import NAMED

    row = sample.rows([NAMED["propane"]])
    Z = sample.Z[sample.atom_slice(int(row[0]))]
    nh = hydrogen_counts(sample, row)
    assert sorted(nh[Z == 6].tolist()) == [2, 3, 3] and (nh[Z == 1] == 0).all()


def _ring_study(folds=(0, 1)):
    """A stand-in for an energy study: two models, carbons at −140 kcal/mol, nothing still training."""
    from types import SimpleNamespace

    frame = pd.DataFrame({"symbol": ["C"] * 6 + ["H"] * 6, "atomic_energy": [-140.0] * 6 + [-60.0] * 6})
    fs = SimpleNamespace(in_progress=[], folds=lambda m: list(folds))
    return SimpleNamespace(fold_set=fs, frames={m: {k: frame for k in folds} for m in ("bp", "schnet")},
                           models=lambda: ["bp", "schnet"])


def _motifs(n, holds):
    """Motif flags for ``n`` ring molecules: with ``holds``, SchNet's top ten (molecules 0–9) carry six alkynes
    and a fused O-5-ring first, BP's top ten (the last ten) five OH groups; otherwise no motif at all."""
    m = {c: np.zeros(n, dtype=bool) for c in ("F", "alkyne", "OH", "NH", "fused_O5")}
    if holds:
        m["alkyne"][:6] = True
        m["fused_O5"][0] = True
        m["OH"][n - 5:] = True
    return pd.DataFrame({"molecule": np.arange(n), **m, "aromatic": True})


@pytest.mark.parametrize("holds", [True, False])
def test_ring_rows_follow_the_constructed_top_ten(holds):
    from atomint_helpers.report import rings as ring_report

    n = 50
    st = _ring_study()
    base = _motifs(n, holds)
    sn = _scored(n=n, folds=2).merge(base, on="molecule")
    bp = _scored(n=n, folds=2)
    shift = -5.0 if holds else 5.0  # BP's ring carbons more (or less) negative than SchNet's
    for c in ("fold0", "fold1", "score"):
        bp[c] = bp[c].to_numpy()[::-1] + shift  # BP ranks the other end first
    bp = bp.merge(base, on="molecule")
    tops = {m: ring_report.top_rings(t, 10) for m, t in (("bp", bp), ("schnet", sn))}
    rows = {(r["model"], r.get("id")): r for r in ring_report.rows({"bp": bp, "schnet": sn}, tops, base, st,
                                                                  quick=False)}
    want = "holds" if holds else "differs"
    for key in (("SchNet", ring_report.TOP_O5.id), ("SchNet", ring_report.ALKYNE_COUNT.id),
                ("BP", ring_report.BP_DONORS.id), ("", ring_report.MORE_ENERGY.id)):
        assert rows[key]["verdict"] == want, (key, rows[key]["tests"])
        assert all(len(t["folds"]) == 2 for t in rows[key]["tests"])  # fold by fold
    assert rows[("SchNet", ring_report.F_COMMON.id)]["verdict"] == rows[("BP", ring_report.BP_F.id)]["verdict"] == \
        "differs"
    assert {r["verdict"] for r in ring_report.rows({"bp": bp, "schnet": sn}, tops, base, st, quick=True)
            if r["kind"] == "paper"} == {"not comparable", "not testable"}
    text = ring_report.what_we_see({"bp": bp, "schnet": sn}, tops, base, st, quick=False)
    assert ("BP puts more" in text) == holds


def test_element_shifts_are_the_heads_own_and_offsets_are_in_iqr_units(tmp_path):
    """The shift confound of Fig. 2: every quick energy model's shifts come from its head, BP and SchNet
    of one fold share them (same training molecules, same least squares), and offset = (mean − b)/IQR."""
    from atomint_helpers.data.qm9 import load_sample
    from atomint_helpers.interpret import latent_study
    from atomint_helpers.interpret.energy_partition import element_shifts
    from atomint_helpers.report.energies import shift_note

    root = Path(__file__).resolve().parents[1]
    st = latent_study.study(root / "models", "energy", "quick", [0, 1], load_sample(), rows=np.arange(200))
    t = element_shifts(st)
    assert set(t["model"]) == {"BP", "SchNet"} and set(t["fold"]) == {0, 1}
    by = t.pivot_table(index=["fold", "element"], columns="model", values="shift")
    assert np.allclose(by["BP"], by["SchNet"], atol=1e-6)
    assert np.allclose(t["offset"], (t["mean"] - t["shift"]) / t["IQR"])
    note = shift_note(t)
    assert note.startswith("Design confound: both heads add the same per-element energy shift") and "IQR (SchNet)" in note
