"""Charges against energies (Fig. 4): the measures of interpret/charges.py and the verdicts of
report/charges.py on constructed tables where the answer is known, both ways; the dipole head's seed switch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from atomint_helpers import AtomintError
from atomint_helpers.interpret import charges as ich
from atomint_helpers.interpret.latent_stats import fold_distance
from atomint_helpers.interpret.latent_study import Study
from atomint_helpers.report import charges as rc
from atomint_helpers.report import scorecard
from atomint_helpers.store import FoldSet

ELEMENTS = np.array(["H", "C", "N", "O"])


def _table(values, symbols, column):
    n = len(values)
    df = pd.DataFrame({"molecule": np.arange(n) // 5, "atom": np.arange(n) % 5,
                       "symbol": pd.Categorical(symbols), column: np.asarray(values, dtype=np.float64)})
    df.attrs.update(column=column)
    return df


def _symbols(n, seed=0):
    return ELEMENTS[np.random.default_rng(seed).integers(0, 4, n)]


def _study(target, frames):
    column = "charge" if target == "dipole" else "atomic_energy"
    fs = FoldSet(target, "cpu", {m: {k: Path(f"{m}-{target}-cpu-fold{k}") for k in by} for m, by in frames.items()}, [])
    tabs = {m: {k: _table(v, s, column) for k, (v, s) in by.items()} for m, by in frames.items()}
    return Study(fs, tabs, {m: {k: np.array([]) for k in by} for m, by in frames.items()}, 100, "constructed")


# ------------------------------------------------------------------------------------------ measures
def test_energy_charge_correlation_both_ways():
    rng = np.random.default_rng(1)
    n = 20_000  # ~5,000 carbons: an unrelated pair gives |ρ| ~ 0.014
    sym = _symbols(n)
    q = rng.normal(size=n)
    e_par = _table(-3 * q + 0.01 * rng.normal(size=n), sym, "atomic_energy")  # same atoms, monotone
    e_ind = _table(rng.normal(size=n), sym, "atomic_energy")                    # unrelated
    qt = _table(q, sym, "charge")
    par = ich.energy_charge_correlation({0: e_par}, {0: qt}, "C")
    ind = ich.energy_charge_correlation({0: e_ind}, {0: qt}, "C")
    assert par.loc[0, "rho"] < -0.99 and par.loc[0, "atoms"] == (sym == "C").sum()
    assert abs(ind.loc[0, "rho"]) < 0.06
    assert ich.energy_charge_correlation({0: e_par}, {1: qt}).empty  # no shared fold
    with pytest.raises(AtomintError, match="share no atom"):
        ich._joined(e_par, qt.assign(molecule=qt["molecule"] + 10_000), "atomic_energy", "charge")


def test_scaled_distance_removes_only_a_global_factor():
    rng = np.random.default_rng(2)
    sym = _symbols(4000)
    x = rng.normal(size=4000) + (sym == "O") * -1.0
    a = _table(x, sym, "charge")
    s, d = ich.scaled_distance(a, _table(2.0 * x, sym, "charge"), "charge")
    assert s == pytest.approx(2.0, rel=0.02) and max(d.values()) < 0.02
    assert fold_distance(x[sym == "H"], 2 * x[sym == "H"]) > 0.3  # unscaled, the factor shows
    # a different split between elements is not a global factor: it stays
    y = x.copy()
    y[sym == "O"] += 1.5
    _, d2 = ich.scaled_distance(a, _table(y, sym, "charge"), "charge")
    assert d2["O"] > 0.5
    # never worse than unscaled (the factor 1 is among those tried)
    z = rng.normal(size=4000)
    _, d3 = ich.scaled_distance(a, _table(z, sym, "charge"), "charge")
    raw = np.mean([fold_distance(x[sym == e], z[sym == e]) for e in ELEMENTS])
    assert np.mean(list(d3.values())) <= raw + 1e-9


def test_outlying_folds_and_without_folds():
    ok = pd.DataFrame({"model": ["SchNet"] * 3, "fold": [0, 1, 2], "element": ["N"] * 3, "neighbours": [1] * 3,
                       "atoms": [50] * 3, "agree": [0.95, 0.93, 0.40]})
    assert ich.outlying_folds(ok) == {"SchNet": [2]}
    assert ich.outlying_folds(ok.assign(agree=[0.95, 0.93, 0.90])) == {}
    rng = np.random.default_rng(3)
    st = _study("dipole", {m: {k: (rng.normal(size=50), _symbols(50)) for k in (0, 1, 2)} for m in ("bp", "schnet")})
    cut = ich.without_folds(st, {"SchNet": [2]})
    assert sorted(cut.frames["schnet"]) == [0, 1] and sorted(cut.frames["bp"]) == [0, 1, 2]
    assert ich.fold_names(st, {"SchNet": [2]}) == ["schnet-dipole-cpu-fold2"]


def test_seed_table_ratio():
    t = ich.seed_table({"BP": {"H": 0.07, "C": -0.1, "O": -0.356}}, {"BP": {"H": 0.1}}).set_index("element")
    assert t.loc["H", "seed / mean"] == pytest.approx(0.07 / 0.07, rel=0.01)
    assert t.loc["O", "seed / mean"] == pytest.approx(0.5, rel=0.01)
    assert t.loc["C", "seed (e)"] == 0 and t.loc["C", "seed / mean"] == 0
    assert np.isnan(t.loc["C", "trained offset (e)"])


# ------------------------------------------------------------------------------------------ verdicts
def _studies(charges_conserved: bool):
    """Two folds per model. The stable target is the same in both folds; the other one changes shape."""
    rng = np.random.default_rng(4)
    sym = _symbols(3000)
    base = rng.normal(size=3000) * 0.1 + np.select([sym == "H", sym == "O"], [0.1, -0.3], 0.0)
    moved = base + rng.normal(size=3000) * 0.2
    stable = {m: {0: (base, sym), 1: (base + 1e-4 * rng.normal(size=3000), sym)} for m in ("bp", "schnet")}
    moving = {m: {0: (base, sym), 1: (moved, sym)} for m in ("bp", "schnet")}
    q, e = (stable, moving) if charges_conserved else (moving, stable)
    return _study("dipole", q), _study("energy", e)


def _by_id(rows):
    return {(r.get("id"), r["model"]): r for r in rows}


@pytest.mark.parametrize("conserved", [True, False])
def test_conservation_claims_follow_the_numbers_pair_by_pair(conserved):
    charges, energies = _studies(conserved)
    rows = rc.claim_rows(charges, energies, quick=False)
    by = _by_id(rows)
    want = "holds" if conserved else "differs"
    for label in ("BP", "SchNet"):
        r = by[(rc.CONSERVED.id, label)]
        assert r["verdict"] == want and [t["name"] for t in r["tests"]] == ["W1/IQR ratio", "KS ratio"]
        assert r["tests"][0]["fold_labels"] == ["folds 0–1"] and r["tests"][1]["folds"] == [want]
        assert by[(rc.UNIQUE.id, label)]["verdict"] == want
    assert (rc.UNIQUE.id, "") in by
    quick = rc.claim_rows(charges, energies, quick=True)
    assert all(r["verdict"] == "not comparable" and r["note"] == rc.QUICK_NOTE for r in quick if r["tests"])
    for i, r in enumerate(rows + quick):
        scorecard.normalize_row(r, i)


def test_h_c_claim_and_carbon_claims_both_ways():
    rng = np.random.default_rng(5)
    sym = _symbols(4000)
    q = rng.normal(size=4000)
    energies = _study("energy", {m: {0: (rng.normal(size=4000), sym)} for m in ("bp", "schnet")})
    other = q + np.where(np.isin(sym, ["N", "O"]), 2.0, 0.05)   # BP vs SchNet: N, O far apart, H, C close
    charges = _study("dipole", {"bp": {0: (q, sym)}, "schnet": {0: (other, sym)}})
    hc = _by_id(rc.claim_rows(charges, energies, quick=False))[(rc.HC.id, "")]
    assert hc["verdict"] == "holds"
    swapped = q + np.where(np.isin(sym, ["H", "C"]), 2.0, 0.05)
    charges = _study("dipole", {"bp": {0: (q, sym)}, "schnet": {0: (swapped, sym)}})
    hc = _by_id(rc.claim_rows(charges, energies, quick=False))[(rc.HC.id, "")]
    assert hc["verdict"] == "differs"
    # BP's carbon energies follow its charges, SchNet's do not: both claims hold; the reverse: both differ
    follow, unrelated = (-2 * q, sym), (rng.normal(size=4000) ** 3, sym)
    for bp_e, sn_e, expect in ((follow, unrelated, "holds"), (unrelated, follow, "differs")):
        energies = _study("energy", {"bp": {0: bp_e}, "schnet": {0: sn_e}})
        charges = _study("dipole", {"bp": {0: (q, sym)}, "schnet": {0: (q, sym)}})
        by = _by_id(rc.claim_rows(charges, energies, quick=False))
        for cid, label in ((rc.BP_PARALLELS.id, "BP"), (rc.SCHNET_NO_SIMILARITY.id, "SchNet")):
            assert by[(cid, label)]["verdict"] == expect, (cid, by[(cid, label)]["tests"])


def test_ks_spread_factor_and_shape_distance_both_ways():
    rng = np.random.default_rng(6)
    x = rng.normal(size=50_000)
    assert ich.ks_distance(x, x + 0.01 * rng.normal(size=x.size)) < 0.02
    assert ich.ks_distance(x, x + 2.0) > 0.6 and np.isnan(ich.ks_distance([1.0], x))
    sym = _symbols(4000)
    y = rng.normal(size=4000) + (sym == "O") * -1.0
    s, d = ich.spread_scaled_distance(_table(y, sym, "charge"), _table(3.0 * y, sym, "charge"), "charge")
    assert s == pytest.approx(3.0, rel=1e-6) and max(d.values()) < 1e-9
    moved = y + (sym == "O") * 1.5          # a different split between elements is not a global factor
    _, d2 = ich.spread_scaled_distance(_table(y, sym, "charge"), _table(moved, sym, "charge"), "charge")
    assert d2["O"] > 0.5
    two = np.concatenate([rng.normal(-3, 0.5, 25_000), rng.normal(3, 0.5, 25_000)])
    assert ich.shape_distance(x, -7 * x + 2) < 0.01                      # same shape, other unit and sign
    assert ich.shape_distance(x, two) > rc.SHAPE_SIMILAR > ich.shape_distance(x, 5 * rng.normal(size=50_000))


def test_rows_name_the_outlying_fold_and_are_valid():
    charges, energies = _studies(True)
    signs = pd.DataFrame({"model": ["SchNet", "SchNet"], "fold": [0, 1], "element": ["N", "N"], "neighbours": [1, 1],
                          "atoms": [40, 40], "agree": [0.9, 0.1]})
    mull = pd.DataFrame({"model": ["BP", "BP"], "element": ["H", "all"], "n atoms": [10, 20], "Pearson r": [0.5, 0.7],
                         "slope": [1.0, 1.0], "mean latent (e)": [0.1, 0.0], "mean Mulliken (e)": [0.1, 0.0]})
    rows = rc.rows(charges, energies, mull, quick=False, signs=signs)
    rows = [scorecard.normalize_row(r, i) for i, r in enumerate(rows)]
    beyond = [r for r in rows if r["kind"] == "beyond" and "without" in r["claim"]]
    assert beyond and all("schnet-dipole-cpu-fold2" not in r["claim"] for r in beyond)
    assert all("schnet-dipole-cpu-fold1" in r["claim"] and r["model"] in ("SchNet", "") for r in beyond)
    assert all(r["id"].endswith(".without-outliers") for r in beyond)
    assert {r["model"] for r in beyond} == {"SchNet", ""}  # per-model fold rows and the BP-vs-SchNet rows
    assert all(r["verdict"] == "not comparable" for r in beyond if r["model"] == "SchNet")  # one fold left
    paper = [r for r in rows if r["kind"] == "paper"]
    assert {r["id"] for r in paper} == {c.id for c in rc.CLAIMS}
    assert "schnet-dipole-cpu-fold1" in rc.what_we_see(charges, energies, False, signs)
    assert not [r for r in rc.rows(charges, energies, mull, False, signs=None) if "without" in r["claim"]]
    # without energy checkpoints the comparisons are not comparable, and say why
    alone = _by_id(rc.rows(charges, None, mull, False))
    assert alone[(rc.CONSERVED.id, "BP")]["verdict"] == "not comparable"
    assert "no energy checkpoints" in alone[(rc.CONSERVED.id, "BP")]["note"]


# ------------------------------------------------------------------------------------------ the seed switch
def test_dipole_head_seed_switch():
    from atomint_helpers.models import build
    from atomint_helpers.models.heads import DipoleHead, seed_charge

    cfg = {"model": "schnet", "target": "dipole",
           "representation": {"n_atom_basis": 8, "n_interactions": 1, "n_rbf": 8, "cutoff": 4.0}}
    Z, off, mu = np.array([8, 1, 1, 6, 1, 1, 1, 1]), np.array([0, 3, 8]), np.array([1.8, 0.1])
    seeded, plain = build(cfg), build({**cfg, "head": {"charge_seed": "none"}})
    seeded.head.fit(Z, off, mu)
    plain.head.fit(Z, off, mu)
    assert seeded.head.element_charge[8].item() == pytest.approx(seed_charge(8)) and seed_charge(8) < 0
    assert seeded.head.element_charge[1].item() > 0
    assert torch.count_nonzero(plain.head.element_charge) == 0
    assert plain.config["head"] == {"charge_seed": "none"} and "head" not in seeded.config
    with pytest.raises(AtomintError, match="charge_seed"):
        DipoleHead(charge_seed="pauling")


def test_committed_checkpoints_load_unchanged():
    from atomint_helpers import store

    root = Path(__file__).resolve().parents[1] / "models"
    seeded = store.load_model(root / "bp-dipole-quick-fold0")
    plain = store.load_model(root / "bp-dipole-quick-noseed-fold0")
    assert seeded.head.charge_seed == "electronegativity" and plain.head.charge_seed == "none"
    assert abs(seeded.head.element_charge[8].item()) > 0.05  # trained from the seed, loaded as trained
