"""Six-membered carbon rings (RDKit): perception, atom order, scores, motifs, drawing."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("rdkit")

from atomint_helpers.data.qm9 import NAMED  # noqa: E402
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

    pic = rings.picture(top, sample, legends=rings.legends(top))
    assert pic.width == 5 * rings.PANEL_PX[0] <= COLUMN_PX
    k = rings.PICTURE_SCALE
    img = Image.open(io.BytesIO(pic.data))
    w, h = rings.PANEL_PX[0] * k, rings.PANEL_PX[1] * k
    assert img.size == (5 * w, 2 * h)
    last = np.asarray(img.convert("L"))[h:, 4 * w:]  # the panel of #10
    legend_area = last[int((1 - rings.LEGEND_FRACTION) * h):]  # the panel's bottom, where RDKit writes legends
    ink = np.flatnonzero((legend_area < 128).any(axis=1))
    assert (ink[-1] - ink[0] + 1) / k >= 1.6 * 12


def test_ring_table_cache_roundtrip(sample):
    a = rings.rings_cached(sample)
    b = rings.rings_cached(sample)  # read back from the cache
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
    counts = rings.ring_counts(a, sample)["count"]
    assert counts["6-membered carbon rings"] == len(a)
    assert counts["molecules with a 6-membered carbon ring"] == a["molecule"].nunique()
