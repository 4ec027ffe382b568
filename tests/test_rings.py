"""Six-membered carbon rings (RDKit): perception, atom order, scores, motifs, drawing."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("rdkit")

from atomint_helpers.data.qm9 import NAMED  # noqa: E402
from atomint_helpers import depict  # noqa: E402
from atomint_helpers.interpret import rings  # noqa: E402


def _rings_of(sample, qm9_id):
    return rings.find_rings(sample, sample.rows([qm9_id]))


@pytest.mark.parametrize("name, n", [("benzene", 1), ("toluene", 1), ("pyrazine", 0), ("propane", 0),
                                     ("phloroglucinol", 1)])
def test_ring_counts_of_named_molecules(sample, name, n):
    found = _rings_of(sample, NAMED[name])
    assert len(found) == n
    if n:
        r = found.iloc[0]
        atoms = [int(r[c]) for c in rings.RING_COLUMNS]
        Z = sample.Z[sample.atom_slice(int(r["row"]))]
        assert (Z[atoms] == 6).all() and len(set(atoms)) == 6  # six distinct carbons, xyz numbering
        assert bool(r["aromatic"]) and r["bonds_from"] == "smiles"


def test_toluene_ring_excludes_the_methyl_carbon(sample):
    r = _rings_of(sample, NAMED["toluene"]).iloc[0]
    s = sample.atom_slice(int(sample.rows([NAMED["toluene"]])[0]))
    R, Z = sample.R[s], sample.Z[s]
    ring = [int(r[c]) for c in rings.RING_COLUMNS]
    methyl = [i for i in np.flatnonzero(Z == 6) if i not in ring]
    assert len(methyl) == 1
    # the ring atoms are bonded in a cycle: each has exactly two ring neighbours within 1.6 Å
    d = np.linalg.norm(R[ring][:, None] - R[ring][None], axis=-1)
    assert (((d > 0.5) & (d < 1.6)).sum(1) == 2).all()


def test_geometry_fallback_keeps_the_xyz_order(sample):
    row = int(sample.rows([NAMED["toluene"]])[0])
    s = sample.atom_slice(row)
    Z, R = sample.Z[s], sample.R[s]
    from_smiles, xyz_s, how_s = rings.molecule_graph(Z, R, sample.smiles[row])
    assert how_s == "smiles"
    # a SMILES with the methyl written last: same elements, but its bonds do not fit the geometry
    mol, xyz_of, how = rings.molecule_graph(Z, R, "c1ccccc1C")
    assert how == "geometry"
    ring_g = sorted(int(xyz_of[a]) for a in rings.six_carbon_rings(mol)[0])
    ring_s = sorted(int(xyz_s[a]) for a in rings.six_carbon_rings(from_smiles)[0])
    assert ring_g == ring_s
    assert rings.molecule_graph(Z, R, None)[2] == "geometry"


def test_scores_ranking_and_motifs(sample):
    ids = [NAMED["benzene"], NAMED["toluene"], NAMED["phloroglucinol"]]
    found = rings.find_rings(sample, sample.rows(ids))
    assert found["molecule"].tolist() == sorted(ids)
    # fake latent terms: every atom gets −1 per unit of its atom index, so scores are known exactly
    rows = rings.ring_rows(found)
    n = np.diff(sample.offsets)[rows]
    terms = pd.DataFrame({"row": np.repeat(rows, n), "atom": np.concatenate([np.arange(k) for k in n])})
    terms["atomic_energy"] = -terms["atom"].astype(float)
    scores = rings.ring_scores(found, terms, sample)
    expected = [-sum(int(r[c]) for c in rings.RING_COLUMNS) for _, r in found.iterrows()]
    np.testing.assert_allclose(scores, expected)
    scored = rings.scores_by_fold(found, {0: terms, 3: terms}, sample)
    assert rings.score_columns(scored) == ["score", "fold0", "fold3"]
    top = rings.top_rings(scored, 2)
    assert len(top) == 2 and top["score"].is_monotonic_increasing
    assert rings.top_overlap(scored, [0, 3]) == 1.0
    flags = found.set_index("molecule")
    assert flags.loc[NAMED["phloroglucinol"], "OH"] and not flags.loc[NAMED["benzene"], "OH"]
    assert not flags[["F", "alkyne", "NH", "fused_O5"]].to_numpy().any()
    t = rings.motif_table({"a": top, "b": top}, found)
    assert t.loc["OH", "% of all ring molecules"] == pytest.approx(100 / 3, abs=0.1)
    with pytest.raises(Exception, match="lack"):
        rings.ring_scores(found, terms[terms["row"] != rows[0]], sample)


def test_fused_oxygen_ring_and_alkyne_motifs():
    Chem = rings._chem()
    benzofuran = Chem.MolFromSmiles("c1ccc2occc2c1")
    ring = rings.six_carbon_rings(benzofuran)[0]
    assert rings.motif_flags(benzofuran, ring)["fused_O5"]
    m = Chem.MolFromSmiles("C#CC1=CC=C(F)C=C1N")
    f = rings.motif_flags(m, rings.six_carbon_rings(m)[0])
    assert f["alkyne"] and f["F"] and f["NH"] and not f["OH"] and not f["fused_O5"]


def test_ring_drawing_shows_its_legends_at_9_pt_or_more(sample):
    """Ten rings are drawn at PICTURE_SCALE image px per CSS px and shown 720 CSS px wide (the book's
    column), and RDKit does not shrink even the longest legend (#10, a six-digit QM9 id, a four-digit
    score) below 9 pt (12 CSS px): at RDKit's legend font of F px, a two-line legend's ink spans about
    1.6 F (27 px at F = 17), so the span must be at least 1.6 × 12 CSS px."""
    import io

    import pandas as pd
    from PIL import Image

    found = rings.find_rings(sample, sample.rows([NAMED["benzene"], NAMED["toluene"]]))
    top = pd.concat([found] * 5, ignore_index=True)
    top["score"], top["molecule"] = -1234.5, 133885
    from atomint_helpers.plots.style import COLUMN_PX

    pic = depict.ring_picture(rings.ring_molecules(top, sample), legends=depict.ring_legends(top))
    assert pic.width == 5 * depict.PANEL_PX[0] <= COLUMN_PX
    k = depict.PICTURE_SCALE
    img = Image.open(io.BytesIO(pic.data))
    w, h = depict.PANEL_PX[0] * k, depict.PANEL_PX[1] * k
    assert img.size == (5 * w, 2 * h)
    last = np.asarray(img.convert("L"))[h:, 4 * w:]  # the panel of #10
    legend_area = last[int((1 - depict.LEGEND_FRACTION) * h):]  # the panel's bottom, where RDKit writes legends
    ink = np.flatnonzero((legend_area < 128).any(axis=1))
    assert (ink[-1] - ink[0] + 1) / k >= 1.6 * 12


def test_ring_table_cache_roundtrip(sample):
    a = rings.rings_cached(sample)
    b = rings.rings_cached(sample)  # read back from the cache
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
    counts = rings.ring_counts(a, sample)["count"]
    assert counts["6-membered carbon rings"] == len(a)
    assert counts["molecules with a 6-membered carbon ring"] == a["molecule"].nunique()


# ------------------------------------------------------------------------------------------ substituents and claims
@pytest.mark.parametrize("smiles, expect", [
    ("c1ccccc1F", {"F": 1, "H": 5}), ("c1ccccc1O", {"donor": 1, "H": 5}), ("c1ccccc1N", {"donor": 1, "H": 5}),
    ("c1ccccc1OC", {"other": 1, "H": 5}), ("c1ccccc1C#C", {"alkyne": 1, "H": 5}),
    ("c1ccccc1C=O", {"conjugated": 1, "H": 5}), ("c1ccccc1C", {"other": 1, "H": 5}),
    ("c1ccc2ccccc2c1", {"conjugated": 2, "H": 4})])
def test_substituent_counts_of_known_rings(smiles, expect):
    from atomint_helpers.interpret.ring_stats import SUBSTITUENTS, substituent_counts

    Chem = rings._chem()
    mol = Chem.MolFromSmiles(smiles)
    got = substituent_counts(mol, rings.six_carbon_rings(mol)[0])
    assert got == {c: expect.get(c, 0) for c in SUBSTITUENTS}
    # the same with explicit hydrogens (the geometry's graph)
    molh = Chem.AddHs(mol)
    assert substituent_counts(molh, rings.six_carbon_rings(molh)[0]) == got


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_substituent_shift_and_median_shift_find_a_known_shift_both_ways(sign):
    from atomint_helpers.interpret.ring_stats import SUBSTITUENTS, median_shift, substituent_shift

    rng = np.random.default_rng(0)
    n = 400
    t = pd.DataFrame({f"n_{c}": 0 for c in SUBSTITUENTS}, index=range(n))
    t["n_F"] = rng.integers(0, 3, n)
    t["n_other"] = rng.integers(0, 2, n)
    t["n_H"] = 6 - t["n_F"] - t["n_other"]
    # each F in place of an H moves the score by 3·sign, each saturated substituent by +10 (a confounder)
    t["score"] = -500 + 3 * sign * t["n_F"] + 10 * t["n_other"] + rng.normal(0, 0.1, n)
    assert substituent_shift(t, "score", "F") == pytest.approx(3 * sign, abs=0.05)
    assert np.sign(median_shift(t, "score", "F")) == sign
    assert np.isnan(substituent_shift(t, "score", "donor"))  # no ring carries a donor: no shift
    assert np.isnan(substituent_shift(t.head(15), "score", "F", min_rings=20))


def test_enrichment_p_both_ways():
    from atomint_helpers.interpret.ring_stats import enrichment_p

    assert enrichment_p(6, 10, 0.05) < 1e-5           # six of ten at a 5 % base rate: not chance
    assert enrichment_p(6, 10, 0.68) > 0.5            # six of ten at a 68 % base rate: chance
    assert enrichment_p(0, 10, 0.3) == 1.0 and np.isnan(enrichment_p(1, 0, 0.3))


def _fake_ring_study(fold0_top_has_o5=True):
    """Three folds, six rings in six molecules; fold 0 ranks a fused-O5 ring first, folds 1 and 2 do not."""
    from types import SimpleNamespace

    base = pd.DataFrame({"molecule": np.arange(6), "row": np.arange(6), "aromatic": True,
                         "F": [False, False, True, False, False, False], "alkyne": False,
                         "OH": [True, True, False, False, False, False], "NH": False,
                         "fused_O5": [False, True, False, False, False, False], "smiles": ""})
    for c in rings.RING_COLUMNS:
        base[c] = 0
    frames = {k: pd.DataFrame({"symbol": ["C"] * 6, "atomic_energy": [-10.0] * 6}) for k in (0, 1, 2)}
    scored = {}
    for m, shift in (("schnet", 0.0), ("bp", -5.0)):
        t = base.copy()
        t["fold0"] = [-1.0, -3.0 if fold0_top_has_o5 else 0.0, -2, 0, 0, 0]
        t["fold1"] = t["fold2"] = [-3.0, -1.0, -2, 0, 0, 0]
        for k in (0, 1, 2):
            t[f"fold{k}"] = t[f"fold{k}"] + shift
        t["score"] = t[["fold0", "fold1", "fold2"]].mean(axis=1)
        scored[m] = t
    fold_set = SimpleNamespace(in_progress=[], folds=lambda m: [0, 1, 2])
    study = SimpleNamespace(frames={"bp": frames, "schnet": frames}, fold_set=fold_set, models=lambda: ["bp", "schnet"])
    return scored, base, study


def test_ring_claims_are_judged_fold_by_fold():
    from atomint_helpers.report import rings as report
    from atomint_helpers.report import scorecard

    scored, table, study = _fake_ring_study()
    ev = report.evidence(scored, table, study)
    top = ev[(report.TOP_O5.id, "SchNet")]["top ring"]
    assert top.folds == (1.0, 0.0, 0.0) and top.labels == ("fold 0", "fold 1", "fold 2")
    more = ev[(report.MORE_ENERGY.id, "")]
    assert more["mean score"].pooled == pytest.approx(-5.0) and more["ring by ring"].pooled == 1.0
    rows = report.rows(scored, {}, table, study, quick=False)
    by = {(r.get("id"), r["model"]): r for r in rows}
    o5 = by[(report.TOP_O5.id, "SchNet")]
    assert o5["tests"][0]["folds"] == ["holds", "differs", "differs"] and o5["tests"][0]["verdict"] == "differs"
    # the fused ring stays among the top three in every fold: the looser reading holds, the claim is inconclusive
    assert o5["tests"][1]["verdict"] == "holds" and o5["verdict"] == "inconclusive"
    assert o5["cause"].startswith("several readings")
    top10 = report.top_rings(scored["schnet"], report.TOP_N)  # the note names the molecules that carry the motif
    carriers = top10["molecule"][top10["fused_O5"].astype(bool)].astype(int).tolist()
    assert carriers and f"carry it (QM9 ids {', '.join(map(str, carriers[:5]))})" in o5["note"]
    assert by[(report.MORE_ENERGY.id, "")]["verdict"] == "holds"
    assert by[(report.MESOMERIC.id, "SchNet")]["verdict"] == "not comparable"  # no data set: no substituents
    assert by[(report.CHEMISTRY.id, "SchNet")]["verdict"] == "not testable"
    quick = report.rows(scored, {}, table, study, quick=True)
    assert all(r["verdict"] in ("not comparable", "not testable") for r in quick if r.get("id"))
    for i, r in enumerate(rows + quick):
        scorecard.normalize_row(r, i)
    # the shares are taken among the comparable (aromatic) rings only
    assert report.base_rates(table.assign(aromatic=[True] * 3 + [False] * 3))["donor"] == pytest.approx(2 / 3)
