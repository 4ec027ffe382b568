"""Reference charges (Gasteiger, Mulliken's dipole) and the sign of latent charges judged against them."""
import numpy as np
import pandas as pd
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.data.bonds import neighbour_counts
from atomint_helpers.interpret import charge_signs
from atomint_helpers.interpret import reference_charges as rc
from atomint_helpers.interpret.rings import _geometry_mol
from atomint_helpers.report import charge_reference as report

ROWS = np.arange(300)


@pytest.fixture(scope="module")
def gasteiger(sample):
    return rc.gasteiger_charges(sample, ROWS, cache=False)


def _frame(ds, rows, charge, gasteiger=None):
    off = np.asarray(ds.arrays["offsets"])
    n = off[rows + 1] - off[rows]
    atoms = np.concatenate([np.arange(off[r], off[r + 1]) for r in rows])
    Z = np.asarray(ds.arrays["Z"])[atoms]
    df = pd.DataFrame({"row": np.repeat(rows, n), "atom": atoms - np.repeat(off[rows], n),
                       "symbol": np.array(["", "H", "", "", "", "", "C", "N", "O", "F"])[Z],
                       "charge": charge, "mulliken": np.asarray(ds.arrays["mulliken"], dtype=np.float64)[atoms]})
    if gasteiger is not None:
        df["gasteiger"] = gasteiger
    return df


def test_gasteiger_charges_are_neutral_and_follow_electronegativity(sample, gasteiger):
    off = np.asarray(sample.arrays["offsets"])
    n = np.diff(off)[ROWS]
    assert not np.isnan(gasteiger).any()
    sums = np.add.reduceat(gasteiger, np.concatenate([[0], np.cumsum(n)[:-1]]))
    np.testing.assert_allclose(sums, 0.0, atol=1e-9)  # Gasteiger conserves the total charge of neutral molecules
    Z = np.asarray(sample.arrays["Z"])[: off[ROWS[-1] + 1]]
    assert (gasteiger[Z == 8] < 0).all() and (gasteiger[Z == 1] > 0).mean() > 0.99
    smiles = list(sample.smiles[ROWS])
    methane = smiles.index("C")
    q = gasteiger[off[methane]:off[methane + 1]]
    assert q[0] < 0 and np.ptp(q[1:]) < 1e-12 and q[1] > 0  # four equivalent hydrogens
    nitrile = [k for k, s in enumerate(smiles) if s.endswith("C#N")][0]
    z, q = Z[off[nitrile]:off[nitrile + 1]], gasteiger[off[nitrile]:off[nitrile + 1]]
    nb = neighbour_counts(sample, np.array([nitrile]))
    assert q[(z == 7) & (nb == 1)][0] < 0 < q[(z == 6) & (nb == 2)][0]  # C(δ+)≡N(δ−)


def test_hydrogens_placed_by_the_geometry_match_rdkit_on_explicit_hydrogens(sample, gasteiger):
    """The SMILES route (heavy atoms, hydrogens added and mapped back through the geometry's bonds) gives
    what RDKit computes on the explicit-hydrogen molecule read from the geometry, atom by atom."""
    from rdkit.Chem import rdPartialCharges

    off = np.asarray(sample.arrays["offsets"])
    checked = 0
    for r in ROWS[::15]:
        Z, R = sample.arrays["Z"][off[r]:off[r + 1]], sample.arrays["R"][off[r]:off[r + 1]]
        mol = _geometry_mol(Z, R)
        rdPartialCharges.ComputeGasteigerCharges(mol)
        ref = np.array([a.GetDoubleProp("_GasteigerCharge") for a in mol.GetAtoms()])
        if np.isnan(ref).any():  # RDKit could not assign bond orders from the geometry alone
            continue
        start = int(np.diff(off)[ROWS[ROWS < r]].sum())
        np.testing.assert_allclose(gasteiger[start:start + len(Z)], ref, atol=1e-6)
        checked += 1
    assert checked >= 15


def test_mulliken_dipoles_match_the_definition_and_ignore_translation(sample):
    from ase.units import Debye

    class Two:  # +0.3 e and −0.3 e, 1.5 Å apart: |μ| = 0.45 e·Å
        arrays = {"offsets": np.array([0, 2]), "Z": np.array([6, 8]), "R": np.array([[0, 0, 0], [1.5, 0, 0.0]]),
                  "mulliken": np.array([0.3, -0.3])}

    np.testing.assert_allclose(rc.mulliken_dipoles(Two), 0.45 / Debye, rtol=1e-12)
    mu = rc.mulliken_dipoles(sample, ROWS)

    class Moved:
        arrays = {**sample.arrays, "R": np.asarray(sample.arrays["R"]) + np.array([3.0, -7.0, 11.0])}

    np.testing.assert_allclose(rc.mulliken_dipoles(Moved, ROWS), mu, rtol=1e-6, atol=1e-6)
    off = np.asarray(sample.arrays["offsets"])
    r = 17
    q, R = sample.arrays["mulliken"][off[r]:off[r + 1]], sample.arrays["R"][off[r]:off[r + 1]]
    np.testing.assert_allclose(mu[r], np.linalg.norm((q[:, None] * R).sum(0)) / Debye, rtol=1e-3, atol=1e-4)

    class NoCharges:
        arrays = {k: v for k, v in sample.arrays.items() if k != "mulliken"}

    with pytest.raises(AtomintError, match="Mulliken"):
        rc.mulliken_dipoles(NoCharges)


def test_sign_tables_against_two_references(sample, gasteiger):
    """Charges equal to Gasteiger's meet Gasteiger's sign everywhere; their Mulliken agreement is the
    references' agreement with each other; the environment labels name each atom's neighbours."""
    df = _frame(sample, ROWS, gasteiger, gasteiger)
    frames = {"bp": {0: df}, "schnet": {0: df.assign(charge=-df["charge"])}}
    g = charge_signs.sign_agreement(frames, sample, reference="gasteiger").set_index(["model", "element", "neighbours"])
    assert (g.loc["BP", "agree"] == 1.0).all() and (g.loc["SchNet", "agree"] == 0.0).all()
    table = charge_signs.reference_table({"bp": {0: df}}, sample).set_index(["element", "neighbours"])
    np.testing.assert_allclose(table["Mulliken sign, lowest"], table["Mulliken vs Gasteiger"])
    assert (table["Gasteiger sign, lowest"] == 1.0).all()
    with pytest.raises(AtomintError, match="gasteiger"):
        charge_signs.sign_agreement({"bp": {0: df.drop(columns="gasteiger")}}, sample, reference="gasteiger")
    labels, nb = charge_signs._environment_labels(sample, ROWS)
    np.testing.assert_array_equal(nb, neighbour_counts(sample, ROWS))
    methane = list(sample.smiles[ROWS]).index("C")
    start = int(np.diff(np.asarray(sample.arrays["offsets"]))[:methane].sum())
    assert labels[start] == "H[1] H[1] H[1] H[1]" and labels[start + 1] == "C[4]"
    env = charge_signs.environment_table({"bp": {0: df}}, sample, "C", [2, 3, 4], top=10_000)
    nb = neighbour_counts(sample, ROWS)
    assert env["atoms"].sum() == ((df["symbol"] == "C") & (df["mulliken"].abs() >= 0.1) & np.isin(nb, [2, 3, 4])).sum()
    w = env["atoms"] * (1 - env["BP Mulliken sign"])
    assert (np.diff(w.to_numpy()) <= 1e-9).all()  # most atoms of the wrong sign first


def _table(rows):
    cols = ["element", "neighbours", "atoms", "Mulliken sign, lowest", "Mulliken sign, highest",
            "Gasteiger sign, lowest", "Gasteiger sign, highest", "Mulliken vs Gasteiger"]
    return pd.DataFrame(rows, columns=cols)


def test_reference_paragraph_separates_explained_from_open_groups():
    table = _table([("C", 2, 4000, 0.68, 0.70, 0.96, 0.97, 0.65), ("C", 3, 9000, 0.88, 0.90, 0.84, 0.86, 0.87),
                    ("H", 1, 70000, 1.0, 1.0, 1.0, 1.0, 1.0), ("N", 1, 1300, 0.27, 1.0, 0.27, 1.0, 1.0)])
    text = report.reference_paragraph(table, 0.56, {"a": 0.040, "b": 0.048, "c": float("nan")})
    assert "C with 2 neighbours (68.0%–70.0% of 4,000 atoms)" in text and "N with 1" not in text
    assert "for C with 2 neighbours (96.0%–97.0%)" in text and "disagree on 35%" in text
    assert "Neither reference is met for C with 3 neighbours (Gasteiger 84.0%–86.0%)" in text
    assert "0.040–0.048 D. That is at least 12 times smaller" in text
    worse = report.reference_paragraph(table, 0.56, {"a": 0.54, "b": 0.95})
    assert "times smaller" not in worse and "cannot say which" in worse
    assert report.below_goal(table) == {"C": [2, 3]}
    ok = report.reference_paragraph(_table([("H", 1, 10, 1.0, 1.0, 1.0, 1.0, 1.0)]), 0.5, {})
    assert ok.startswith("In every group")


def test_sign_rows_and_environment_paragraph():
    class Pending:  # a finished study: no checkpoint in progress
        class fold_set:
            in_progress = []

    signs = pd.DataFrame({"model": ["BP", "BP", "SchNet", "SchNet"], "fold": [0, 1, 0, 0],
                          "element": ["C", "C", "C", "H"], "neighbours": [2, 2, 2, 1], "atoms": [50, 50, 50, 90],
                          "agree": [0.96, 0.97, 0.7, 1.0]})
    rows = {r["model"]: r for r in report.sign_rows(signs, Pending, quick=False)}
    assert rows["BP"]["holds"] is True and rows["SchNet"]["holds"] is False
    assert rows["SchNet"]["atomint"] == "lowest C with 2 neighbours: 70.0%" and "C with 2 neighbours 70.0%" in rows["SchNet"]["note"]
    assert all(r["kind"] == "beyond" for r in rows.values())
    assert report.sign_rows(signs, Pending, quick=True)[0]["holds"] is None
    env = pd.DataFrame({"atoms": [100, 50, 30], "Mulliken (e)": [0.28, 0.2, -0.3], "Gasteiger (e)": [-0.09, -0.001, -0.2],
                        "BP (e)": [-0.03, -0.02, -0.2], "BP Mulliken sign": [0.05, 0.3, 1.0],
                        "SchNet (e)": [-0.04, 0.01, -0.2], "SchNet Mulliken sign": [0.1, 0.4, 1.0]},
                       index=pd.MultiIndex.from_tuples([(2, "C[2] C[4]"), (3, "C[3] C[4] C[4]"), (2, "C[2] H[1]")]))
    text = report.environment_paragraph(env)
    assert "C[2] C[4] (100 atoms: Mulliken +0.28 e, Gasteiger −0.09 e, models −0.040 to −0.030 e)" in text
    assert "Gasteiger +0.00 e" in text  # −0.001 rounds to zero without a sign flip
    assert "C[2] H[1]" not in text and "hold 83% of the atoms" in text and "within ±0.05 e of zero" in text
    env.loc[(2, "C[2] C[4]"), "BP (e)"] = -0.2
    assert "within ±0.05 e" not in report.environment_paragraph(env)
