"""Latent per-atom terms over data sets, fold statistics and the claims table of section 3.1."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.report import scorecard
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.data.qm9 import NAMED
from atomint_helpers.data.splits import save_split, split
from atomint_helpers.data import bonds
from atomint_helpers.interpret import atom_terms, charge_signs, latent_stats, latent_study
from atomint_helpers.report import charge_reference
from atomint_helpers.report import charges as charge_report
from atomint_helpers.report import claims
from atomint_helpers.report import energies as energy_report
from atomint_helpers.report import energies_words
from atomint_helpers.models import build
from atomint_helpers.units import E_ANGSTROM_TO_DEBYE

SMALL = {"schnet": dict(n_atom_basis=16, n_interactions=2, n_rbf=12),
         "bp": dict(n_radial=6, n_angular=2, zetas=(1, 2), hidden=(16,))}
COMBOS = [(m, t) for m in ("bp", "schnet") for t in ("energy", "dipole")]
ROWS = np.arange(120)  # the first molecules of the embedded sample: enough for every statistic


def small_model(model: str, target: str, sample, seed: int = 0):
    """A small model with data-fitted head statistics and perturbed weights (outputs depend on geometry)."""
    torch.manual_seed(seed)
    m = build({"model": model, "target": target, "representation": SMALL[model]})
    m.fit_statistics(qm9_atoms_data(sample), np.arange(200))
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return m.eval()


def write_checkpoint(folder, model, fold: int, sample) -> None:
    """A checkpoint folder as the store writes it (weights, config, provenance with sha, split)."""
    folder.mkdir(parents=True)
    sha = store.save_weights(folder, model)
    store.atomic_write_json(folder / store.CONFIG, model.config)
    store.atomic_write_json(folder / store.PROVENANCE, {"fold": fold, "weights_sha256": sha, "status": "done",
                                                        "config_sha256": store.config_sha256(model.config)})
    save_split(folder / store.SPLIT, split(60, 20, seed=fold, universe=sample.index), seed=fold)


@pytest.fixture(scope="module")
def models(sample):
    return {c: small_model(*c, sample) for c in COMBOS}


@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "-".join(c))
def test_latent_terms_sum_to_the_model_output(models, sample, combo):
    model = models[combo]
    df = atom_terms.latent_terms(model, sample, ROWS, batch_size=37)
    data = qm9_atoms_data(sample, cutoff=model.cutoff)
    with torch.no_grad():
        out = model(data.batch(ROWS))
    assert len(df) == int(out[model.head.outputs[-1]].shape[0])
    assert list(df["molecule"].unique()) == list(sample.index[ROWS])
    sums = atom_terms.molecule_sums(df).to_numpy()
    if combo[1] == "energy":
        assert df.attrs["unit"] == "kcal/mol" and "atomic_energy" in df
        np.testing.assert_allclose(sums, out["energy"].double().numpy(), rtol=0, atol=2e-3)
    else:
        assert df.attrs["unit"] == "e" and {"charge", "mulliken"} <= set(df.columns)
        np.testing.assert_allclose(sums, 0, atol=1e-5)  # every molecule is neutral
        # μ = Σ q_i (r_i − r_COM), from the table's charges alone
        m = sample.atoms(int(sample.index[ROWS[5]]))
        q = df.loc[df["molecule"] == sample.index[ROWS[5]], "charge"].to_numpy()
        com = m.get_center_of_mass()
        mu = (q[:, None] * (m.positions - com)).sum(0) * E_ANGSTROM_TO_DEBYE
        np.testing.assert_allclose(mu, out["dipole_vector"][5].double().numpy(), atol=1e-4)
    # atom index runs 0..n-1 within each molecule, Z and symbols agree with the data
    first = df[df["molecule"] == sample.index[ROWS[0]]]
    assert first["atom"].tolist() == list(range(len(first)))
    assert first["Z"].tolist() == sample.Z[sample.atom_slice(int(ROWS[0]))].tolist()


@pytest.mark.parametrize("combo", [("bp", "energy"), ("schnet", "dipole")], ids=lambda c: "-".join(c))
def test_user_molecules_give_the_same_terms(models, sample, combo):
    model = models[combo]
    ids = [NAMED["benzene"], NAMED["toluene"], NAMED["propane"]]
    col = atom_terms.latent_column(combo[1])
    from_qm9 = atom_terms.latent_terms(model, sample, sample.rows(ids))
    from_atoms = atom_terms.latent_terms(model, [sample.atoms(i) for i in ids])
    assert from_atoms["molecule"].unique().tolist() == [0, 1, 2]
    np.testing.assert_allclose(from_atoms[col].to_numpy(), from_qm9[col].to_numpy(), atol=1e-4)
    single = atom_terms.latent_terms(model, sample.atoms(NAMED["toluene"]))
    np.testing.assert_allclose(single[col].to_numpy(), from_qm9.loc[from_qm9["molecule"] == NAMED["toluene"], col],
                               atol=1e-4)


def test_unknown_element_and_bad_input(models, sample):
    from ase import Atoms

    model = models[("schnet", "energy")]
    with pytest.raises(AtomintError, match="Si"):
        atom_terms.latent_terms(model, [Atoms("SiH4", positions=np.random.default_rng(0).normal(size=(5, 3)) * 1.2)])
    with pytest.raises(AtomintError, match="latent terms need"):
        atom_terms.latent_terms(model, "not data")
    with pytest.raises(AtomintError, match="rows"):
        atom_terms.latent_terms(model, sample, [len(sample)])


def test_fold_distance_is_a_scale_free_wasserstein_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    assert latent_stats.fold_distance(a, a) == 0
    iqr = np.subtract(*np.percentile(a, [75, 25]))
    # a pure shift by d moves all mass by d: W1 = d
    assert latent_stats.fold_distance(a, a + 0.5) == pytest.approx(0.5 / iqr, rel=1e-6)
    assert latent_stats.fold_distance(a, a + 0.5, pooled_spread="std") == pytest.approx(0.5 / a.std(ddof=1), rel=1e-6)
    assert latent_stats.fold_distance(a, a + 0.5, pooled_spread=2.0) == pytest.approx(0.25)
    b = rng.normal(0.3, 1.2, size=10_000)
    d = latent_stats.fold_distance(a, b)
    assert latent_stats.fold_distance(7 * a, 7 * b) == pytest.approx(d)          # unit-free
    assert latent_stats.fold_distance(a + 100, b + 100) == pytest.approx(d)      # shift-free
    assert latent_stats.fold_distance(a, b) == pytest.approx(latent_stats.fold_distance(b, a))
    assert np.isnan(latent_stats.fold_distance([1.0], b))
    with pytest.raises(AtomintError):
        latent_stats.fold_distance(a, b, pooled_spread="mad")


def test_element_summary_and_fold_statistics():
    rng = np.random.default_rng(1)

    def frame(shift):
        sym = np.array(["H"] * 400 + ["C"] * 300 + ["O"] * 50)
        v = np.where(sym == "H", -60.0, np.where(sym == "C", -140.0, -100.0)) + rng.normal(size=len(sym)) + shift
        return pd.DataFrame({"molecule": np.arange(len(sym)) // 5, "symbol": sym, "atomic_energy": v})

    frames = {0: frame(0), 1: frame(0), 2: frame(0.5)}
    s = latent_stats.element_summary(frames[0], "atomic_energy")
    assert list(s.index) == ["H", "C", "O"]
    assert s.loc["C", "n"] == 300 and s.loc["H", "mean"] == pytest.approx(-60, abs=0.2)
    assert s.loc["O", "IQR"] == pytest.approx(s.loc["O", "q75"] - s.loc["O", "q25"])
    d = latent_stats.fold_distances(frames, ("H", "C", "O"), "atomic_energy")
    assert (d["pairs"] == 3).all() and (d["mean"] > 0).all()
    assert d.loc["H", "max"] > 0.2  # the shifted fold
    md = latent_stats.model_distances(frames, {0: frame(3.0)}, ("H",), "atomic_energy")
    assert md.loc["H", "pairs"] == 1 and md.loc["H", "mean"] > 1
    floor = latent_study.noise_floor(frames[0], ("H", "C"), "atomic_energy")
    assert (floor < d.loc[["H", "C"], "max"]).all()


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, sample):
    """Checkpoints of both models and targets, folds 0 and 1 (fold 2 missing), named like quick ones."""
    root = tmp_path_factory.mktemp("models")
    for (m, t) in COMBOS:
        for fold in (0, 1):
            write_checkpoint(root / f"{m}-{t}-quick-fold{fold}", small_model(m, t, sample, seed=fold), fold, sample)
    return root


def test_find_folds_reports_missing_and_refuses_none(models_dir):
    fs = store.find_folds(models_dir, "energy", "quick", [0, 1, 2])
    assert fs.folds("bp") == [0, 1] and fs.folds("schnet") == [0, 1]
    assert fs.missing == ["bp-energy-quick-fold2", "schnet-energy-quick-fold2"]
    assert "missing (skipped): bp-energy-quick-fold2" in fs.describe()
    assert [f.name for f in fs.checkpoints()] == ["bp-energy-quick-fold0", "bp-energy-quick-fold1",
                                                  "schnet-energy-quick-fold0", "schnet-energy-quick-fold1"]
    assert fs.names() == ", ".join(f.name for f in fs.checkpoints())
    with pytest.raises(AtomintError) as ei:
        store.find_folds(models_dir, "energy", "cpu", [0, 1])
    msg = str(ei.value)
    assert "\n" not in msg and "bp-energy-cpu-fold0" in msg and "schnet-energy-cpu-fold1" in msg


def test_claims_table_is_computed(models_dir, sample, tmp_path):
    rows = ROWS
    energies = latent_study.study(models_dir, "energy", "quick", [0, 1, 2], sample, rows=rows)
    charges = latent_study.study(models_dir, "dipole", "quick", [0, 1, 2], sample, rows=rows)
    assert energies.n_molecules == len(rows) and energies.models() == ["bp", "schnet"]
    flipped = charge_signs.flipped_checkpoints(charges)
    for by in charges.frames.values():
        for df in by.values():  # oriented: positive correlation with Mulliken
            assert np.corrcoef(df["charge"], df["mulliken"])[0, 1] >= 0
    assert set(flipped) <= {f.name for by in charges.fold_set.folders.values() for f in by.values()}

    for quick in (True, False):
        e_rows = energy_report.rows(energies, quick)
        q_rows = charge_report.claim_rows(charges, energies, quick, (charge_report.CONSERVED, charge_report.AGREE))
        # without the carbon environments: wider; minimal deviation; conserved (BP, SchNet); more pronounced;
        # O and N vary (BP, SchNet); different partitionings; saliency (not testable, BP and SchNet)
        ids = [r["id"] for r in e_rows]
        assert ids == ["fig2.bp-wider", "fig2.schnet-minimal-deviation", "fig2.conserved", "fig2.conserved",
                       "fig2.schnet-more-conserved", "fig2.o-varies-more", "fig2.o-varies-more", "fig2.n-varies-more",
                       "fig2.n-varies-more", "fig2.different-partitionings", "s1.saliency", "s1.saliency"]
        assert {r["verdict"] for r in e_rows[-2:]} == {"not testable"}
        for r in e_rows[:-2]:
            assert r["verdict"] == "not comparable" if quick else r["verdict"] in ("holds", "differs", "inconclusive")
            assert len(r["tests"]) >= 2 and any(t["folds"] for t in r["tests"])  # per fold or fold pair
            assert r["quote"] and r["section"].startswith("§3.1")
            assert (r["cause"] is None) == (r["verdict"] in ("holds", "not comparable"))
        assert [r["id"] for r in q_rows] == ["fig4.charges-more-conserved"] * 2 + ["fig4.models-agree-closer"]
        for r in q_rows:
            assert r["verdict"] == "not comparable" if quick else r["verdict"] in ("holds", "differs", "inconclusive")
            assert r["rule"] and (not quick or r["note"] == claims.QUICK_NOTE) and len(r["tests"]) >= 2
        table = claims.as_table(e_rows + q_rows)
        assert "verdict" in table.columns
        assert not table.isin([True, False]).to_numpy().any()  # never a raw True/None
    # the verdict follows the numbers: the IQR test holds iff SchNet's fold-mean IQR is smaller for all four
    w = energy_report.width_table(energies)
    assert (e_rows[0]["tests"][0]["verdict"] == "holds") <= bool((w["SchNet IQR"] < w["BP IQR"]).all())
    t = charge_report.conservation_table(charges, energies)
    ratio = q_rows[2]["tests"][0]["value"]  # the BP-vs-SchNet W1/IQR of the charges over that of the energies
    assert ratio == pytest.approx(t.loc["mean", "BP vs SchNet, charge"] / t.loc["mean", "BP vs SchNet, energy"])
    # one fold only: the fold claims cannot be measured, so they have no row
    one = latent_study.study(models_dir, "energy", "quick", [0], sample, rows=rows)
    r2 = energy_report.rows(one, quick=False)
    assert "fig2.conserved" not in {r["id"] for r in r2} and "fig2.bp-wider" in {r["id"] for r in r2}
    no_energy = charge_report.rows(charges, None, charge_signs.mulliken_table(charges), quick=False)
    cut = [r for r in no_energy if r.get("id") in (charge_report.CONSERVED.id, charge_report.AGREE.id)]
    assert len(cut) == 3 and all(r["verdict"] == "not comparable" for r in cut)
    # paragraphs and scorecard
    assert "SchNet's interquartile range" in energies_words.what_we_see(energies, quick=False)
    assert "BP and SchNet" in charge_report.what_we_see(charges, energies, quick=False)
    mt = charge_signs.mulliken_table(charges)
    assert set(mt["element"]) >= {"H", "C", "N", "O", "all"} and mt["Pearson r"].abs().max() <= 1
    assert "Mulliken" in charge_reference.mulliken_paragraph(mt, flipped)
    path = scorecard.record(tmp_path, "charges", q_rows + charge_reference.mulliken_rows(mt, quick=False))
    doc = json.loads(path.read_text())
    assert len(doc["rows"]) == 5


def test_checkpoint_terms_are_cached_by_weights(models_dir, sample):
    folder = models_dir / "schnet-energy-quick-fold0"
    a = atom_terms.checkpoint_terms(folder, sample, ROWS[:30])
    b = atom_terms.checkpoint_terms(folder, sample, ROWS[:30])  # from the cache
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["checkpoint"] == folder.name and a.attrs["fold"] == 0
    cached = list((atom_terms.terms_cache_path(folder, sample, ROWS[:30])).parent.glob(f"{folder.name}-*"))
    assert cached
    arr = atom_terms.per_atom_array(a, sample)
    assert np.isfinite(arr).sum() == len(a)


def test_neighbour_counts_match_rdkit_connectivity(sample):
    """Bonds from the geometry, vectorized, against RDKit's connect-the-dots on the same molecules."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    from atomint_helpers.interpret.rings import _xyz_block

    rows = np.arange(300)
    nb = bonds.neighbour_counts(sample, rows)
    off, Z, R = (np.asarray(sample.arrays[k]) for k in ("offsets", "Z", "R"))
    ref = []
    for i in rows:
        mol = Chem.MolFromXYZBlock(_xyz_block(Z[off[i]:off[i + 1]], R[off[i]:off[i + 1]]))
        rdDetermineBonds.DetermineConnectivity(mol)
        ref += [a.GetDegree() for a in mol.GetAtoms()]
    ref = np.array(ref)
    assert len(nb) == len(ref) == off[300]
    assert (nb == ref).mean() > 0.999  # a bond length at the threshold may round either way
    atoms = np.arange(off[300])
    assert (nb[Z[atoms] == 1] == 1).all()  # every hydrogen has one neighbour


def test_sign_agreement_finds_a_group_on_the_mirror_solution(sample):
    """Charges equal to Mulliken agree everywhere; flipping only the terminal N (nitrile-like) atoms of
    one fold shows up as that group's agreement dropping to 0, and the paragraph names it."""
    rows = np.arange(len(sample))
    off = np.asarray(sample.arrays["offsets"])
    n = np.diff(off)
    atoms = np.arange(off[-1])
    Z = np.asarray(sample.arrays["Z"])
    mull = np.asarray(sample.arrays["mulliken"], dtype=np.float64)
    base = pd.DataFrame({"row": np.repeat(rows, n), "atom": atoms - np.repeat(off[:-1], n),
                         "symbol": pd.Categorical(np.array(["", "H", "", "", "", "", "C", "N", "O", "F"])[Z]),
                         "charge": mull, "mulliken": mull})
    nb = bonds.neighbour_counts(sample)
    terminal_n = (Z == 7) & (nb == 1)
    assert terminal_n.sum() >= 20
    mirrored = base.copy()
    mirrored.loc[terminal_n, "charge"] *= -1
    tab = charge_signs.sign_agreement({"schnet": {0: base, 1: mirrored}}, sample)
    sel = np.abs(mull) >= 0.1
    per_fold = tab.groupby("fold")["atoms"].sum()
    assert (per_fold <= sel.sum()).all() and (per_fold >= 0.99 * sel.sum()).all()  # only rare groups dropped
    by = tab.set_index(["fold", "element", "neighbours"])["agree"]
    assert by.loc[(1, "N", 1)] == 0.0
    assert (by.drop(index=(1, "N", 1)) == 1.0).all()
    text = charge_reference.sign_paragraph(tab)
    assert "SchNet fold 1" in text and "N atoms with 1 bonded neighbour" in text
    assert "fold 0 gives" not in text
    with pytest.raises(AtomintError, match="Mulliken"):
        charge_signs.sign_agreement({"bp": {0: base.drop(columns="mulliken")}}, sample)


def test_latent_histograms_have_a_density_axis():
    """Each panel's y axis has ticks, and the figure names it: probability density per the terms' unit (the
    histograms' areas are 1)."""
    import matplotlib

    matplotlib.use("Agg")
    from atomint_helpers import plots

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"symbol": ["H", "C"] * 500, "e": rng.normal(-30, 4, 1000)})
    fig = plots.latent_distributions({"bp": {0: frame}, "schnet": {0: frame}}, "e", "kcal/mol",
                                     elements=("H", "C"), quantity="latent atomic energy")
    fig.canvas.draw()
    assert fig.get_supylabel() == "density (per kcal/mol)"
    for ax in fig.axes:
        ticks = [t for t in ax.get_yticklabels() if t.get_text()]
        assert len(ticks) >= 2
        patch = ax.patches[0]  # a step histogram: its area is 1
        x, y = patch.get_path().vertices.T
        assert np.isclose(np.sum(np.diff(x) * y[:-1]), 1.0, atol=0.02)
    matplotlib.pyplot.close(fig)
