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
from atomint_helpers.interpret.latent import Study, fold_distance
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


@pytest.mark.parametrize("conserved", [True, False])
def test_conserved_rows_follow_the_numbers(conserved):
    charges, energies = _studies(conserved)
    rows = rc.conserved_rows(charges, energies, quick=False)
    assert [r["model"] for r in rows] == ["BP", "SchNet"]
    assert all(r["holds"] is conserved for r in rows)
    scaled = rc.scaled_rows(charges, energies, quick=False)
    assert [r["model"] for r in scaled] == ["BP", "SchNet", ""]
    assert all(r["holds"] is conserved for r in scaled[:2])
    assert all(r["holds"] is None and r["note"] == rc.QUICK_NOTE for r in rc.conserved_rows(charges, energies, True))


def test_pronounced_and_parallel_rows_both_ways():
    rng = np.random.default_rng(5)
    sym = _symbols(4000)
    q = rng.normal(size=4000)
    other = q + np.where(np.isin(sym, ["N", "O"]), 2.0, 0.0)   # BP vs SchNet: N, O far apart, H, C identical
    charges = _study("dipole", {"bp": {0: (q, sym)}, "schnet": {0: (other, sym)}})
    assert rc.pronounced_row(charges, quick=False)["holds"] is True
    swapped = q + np.where(np.isin(sym, ["H", "C"]), 2.0, 0.0)
    assert rc.pronounced_row(_study("dipole", {"bp": {0: (q, sym)}, "schnet": {0: (swapped, sym)}}),
                             quick=False)["holds"] is False
    # BP's carbon energies follow its charges, SchNet's do not: both rows hold; the reverse: both differ
    follow, unrelated = (-2 * q, sym), (rng.normal(size=4000), sym)
    for bp_e, sn_e, expect in ((follow, unrelated, True), (unrelated, follow, False)):
        energies = _study("energy", {"bp": {0: bp_e}, "schnet": {0: sn_e}})
        charges = _study("dipole", {"bp": {0: (q, sym)}, "schnet": {0: (q, sym)}})
        rows = rc.parallel_rows(charges, energies, quick=False)
        assert [r["model"] for r in rows] == ["BP", "SchNet"] and all(r["holds"] is expect for r in rows)


def test_rows_name_the_outlying_fold_and_are_valid():
    charges, energies = _studies(True)
    signs = pd.DataFrame({"model": ["SchNet", "SchNet"], "fold": [0, 1], "element": ["N", "N"], "neighbours": [1, 1],
                          "atoms": [40, 40], "agree": [0.9, 0.1]})
    mull = pd.DataFrame({"model": ["BP", "BP"], "element": ["H", "all"], "n atoms": [10, 20], "Pearson r": [0.5, 0.7],
                         "slope": [1.0, 1.0], "mean latent (e)": [0.1, 0.0], "mean Mulliken (e)": [0.1, 0.0]})
    rows = rc.rows(charges, energies, mull, quick=False, signs=signs)
    for i, r in enumerate(rows):
        scorecard.normalize_row(r, i)
    beyond = [r for r in rows if r["kind"] == "beyond" and "without" in r["claim"]]
    assert beyond and all("schnet-dipole-cpu-fold2" not in r["claim"] for r in beyond)
    assert all("schnet-dipole-cpu-fold1" in r["claim"] and r["model"] in ("SchNet", "") for r in beyond)
    assert {r["model"] for r in beyond} == {"SchNet", ""}  # per-model fold rows and the BP-vs-SchNet rows
    assert all(r["holds"] is None for r in beyond if r["model"] == "SchNet")  # one SchNet fold left: undecided
    assert "schnet-dipole-cpu-fold1" in rc.what_we_see(charges, energies, False, signs)
    assert not [r for r in rc.rows(charges, energies, mull, False, signs=None) if "without" in r["claim"]]


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
