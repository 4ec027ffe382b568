"""The applicability check (data/applicability.py) and the readers that feed it: every structure the models
cannot judge is refused in one line, or evaluated and marked when the user allows it; real QM9 molecules pass.
Inputs are built in the tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ase")
from ase import Atoms  # noqa: E402
from ase.build import molecule  # noqa: E402

from atomint_helpers import EXIT_INPUT, AtomintError  # noqa: E402
from atomint_helpers.data.applicability import (  # noqa: E402
    BOUNDS_PATH, Applicability, Finding, check_applicability, compute_bounds,
)

from cli_run import cli, one_line_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SCHNET_E = [MODELS / f"schnet-energy-quick-fold{k}" for k in range(3)]


def explain(*args, cwd):
    return cli("explain", *args, "--model", SCHNET_E[0], cwd=cwd)


# ------------------------------------------------------------------------------------------ the bounds
def test_bounds_table_is_computed_and_holds_for_the_sample():
    """The committed table is the full QM9's (its source says so); the embedded sample, a subset, can only have
    larger shortest distances, smaller longest gaps and a narrower size range."""
    from atomint_helpers.data.qm9 import load_sample

    table = json.loads(BOUNDS_PATH.read_text())
    assert "130,831 molecules" in table["source"] and table["elements"] == ["H", "C", "N", "O", "F"]
    sample = compute_bounds(load_sample())
    for pair, d in sample["min_distance"].items():
        assert d >= table["min_distance"][pair], pair
    for el, d in sample["max_nearest"].items():
        assert d <= table["max_nearest"][el], el
    assert sample["max_gap"] <= table["max_gap"]
    assert table["n_atoms"][0] <= sample["n_atoms"][0] and sample["n_atoms"][1] <= table["n_atoms"][1]
    assert table["n_heavy"][1] == 9


def test_bounds_match_the_full_qm9(full_qm9):
    assert compute_bounds(full_qm9) | {"source": None} == json.loads(BOUNDS_PATH.read_text()) | {"source": None}


def test_every_sample_molecule_is_accepted():
    from atomint_helpers.data.qm9 import load_sample

    ds = load_sample()
    found = {int(i): check_applicability(ds.atoms(int(i))).codes() for i in ds.arrays["index"]}
    assert len(found) == 2000 and not any(found.values()), {k: v for k, v in found.items() if v}


def test_findings_are_one_record_with_codes_and_atoms():
    r = check_applicability(Atoms("CH4C", positions=[[0, 0, 0], [0.63, 0.63, 0.63], [-0.63, -0.63, 0.63],
                                                    [-0.63, 0.63, -0.63], [0.63, -0.63, -0.63], [9, 0, 0]]), "m")
    assert isinstance(r, Applicability) and all(isinstance(f, Finding) for f in r.findings)
    assert not r.inside and {"isolated", "fragments"} <= set(r.codes())
    iso = next(f for f in r.findings if f.code == "isolated")
    assert iso.atoms == (5,) and "C5" in iso.message
    with pytest.raises(AtomintError) as e:
        r.enforce()
    assert "\n" not in str(e.value) and "--allow-outside" in str(e.value)
    assert any("C5" in w for w in r.enforce(allow_outside=True))


# ------------------------------------------------------------------------------------------ class 1: structures
def _benzene(scale=1.0):
    b = molecule("C6H6")
    b.positions *= scale
    return b


@pytest.mark.parametrize("atoms, code", [
    (Atoms("C", positions=[[0, 0, 0]]), "isolated"),
    (_benzene(100.0), "isolated"),          # written in pm
    (_benzene(1.8897261), "fragments"),     # written in bohr
    (Atoms("H2", positions=[[0, 0, 0], [1e30, 0, 0]]), "far"),
    (Atoms("CH4", positions=molecule("CH4").positions + 2e4), "far"),
    (molecule("CH"), "open_shell"),
    (molecule("OH"), "open_shell"),
    (molecule("CH3"), "open_shell"),
    (Atoms("CH4", positions=molecule("CH4").positions, cell=[1.5] * 3, pbc=True), "too_close"),
    (Atoms("H2O", positions=[[0, 0, 0], [0.96, 0, 0], [np.nan, 0, 0]]), "non_finite"),
    (Atoms("CH4", positions=np.zeros((5, 3)) + np.arange(5)[:, None] * 0.3), "too_close"),
    (molecule("SiH4"), "element"),
])
def test_structures_the_models_cannot_judge_are_refused(atoms, code):
    r = check_applicability(atoms)
    assert code in r.codes() and not r.inside, r.codes()


def test_charge_from_the_input_is_refused_and_nitro_passes():
    from atomint_helpers.data.smiles import smiles_to_atoms

    ammonium, _ = smiles_to_atoms("[NH4+]")
    assert "charged" in check_applicability(ammonium).codes()
    nitro, _ = smiles_to_atoms("C[N+](=O)[O-]")  # formal charges summing to 0: a neutral molecule, as in QM9
    assert check_applicability(nitro).inside
    with pytest.raises(AtomintError, match="separate molecules"):
        smiles_to_atoms("C.C")


def test_size_outside_qm9_is_a_warning_that_says_how_far():
    from atomint_helpers.data.smiles import smiles_to_atoms

    aspirin, _ = smiles_to_atoms("CC(=O)Oc1ccccc1C(=O)O")
    r = check_applicability(aspirin)
    assert r.inside and r.codes() == ["size"] and "13 heavy" in r.findings[0].message
    with pytest.raises(AtomintError, match="beyond"):  # no number exists there: refused even when allowed
        check_applicability(Atoms("CH4", positions=molecule("CH4").positions * 1e300)).enforce(allow_outside=True)
    big = check_applicability(Atoms("H" * 30_000, positions=np.random.default_rng(0).random((30_000, 3)) * 1e3))
    with pytest.raises(AtomintError, match="budget of 2,000 atoms"):
        big.enforce(allow_outside=True)  # the budget holds even when outside is allowed


# ------------------------------------------------------------------------------------------ class 2: calculator
def test_calculator_refuses_then_allows_and_marks():
    from atomint_helpers.calculator import AtomintCalculator

    bad = Atoms("CH4", positions=np.r_[molecule("CH4").positions[:4], [[np.nan, 0, 0]]])
    bad.calc = AtomintCalculator(SCHNET_E[0])
    with pytest.raises(AtomintError, match="non-finite"):
        bad.get_potential_energy()
    lone = Atoms("C", positions=[[0, 0, 0]])
    lone.calc = AtomintCalculator(SCHNET_E[0])
    with pytest.raises(AtomintError, match="lone C atom"):
        lone.get_potential_energy()
    far = molecule("CH4")
    far.positions[1] += [5, 0, 0]
    far.calc = AtomintCalculator(SCHNET_E[0], allow_outside=True)
    with pytest.warns(UserWarning, match="H1"):
        e = far.get_potential_energy()
    assert np.isfinite(e) and far.calc.results["outside_qm9"]
    assert far.calc.atom_table()["outside_qm9"].all()
    ok = molecule("CH4")
    ok.calc = AtomintCalculator(SCHNET_E[0])
    ok.get_potential_energy()
    assert not ok.calc.results["outside_qm9"] and not ok.calc.atom_table()["outside_qm9"].any()


def test_ensemble_refuses_mixed_profiles_and_duplicate_folds(tmp_path):
    import shutil

    from atomint_helpers.calculator import AtomintCalculator

    with pytest.raises(AtomintError, match="mixes training profiles"):
        AtomintCalculator([SCHNET_E[0], MODELS / "schnet-energy-cpu-fold0"])
    with pytest.raises(AtomintError, match="twice"):
        AtomintCalculator([SCHNET_E[0], SCHNET_E[0], SCHNET_E[0]])
    copy = tmp_path / "copy-fold0"
    shutil.copytree(SCHNET_E[0], copy)
    with pytest.raises(AtomintError, match="twice"):  # same weights under another name
        AtomintCalculator([SCHNET_E[0], copy])
    assert len(AtomintCalculator(SCHNET_E).models) == 3


# ------------------------------------------------------------------------------------------ class 3: readers
SDF_RECORD = """{name}
     RDKit          3D

  5  4  0  0  0  0  0  0  0  0999 V2000
    0.0000    0.0000    0.0000 {el}   0  0  0  0  0  0  0  0  0  0  0  0
    0.6300    0.6300    0.6300 H   0  0  0  0  0  0  0  0  0  0  0  0
   -0.6300   -0.6300    0.6300 H   0  0  0  0  0  0  0  0  0  0  0  0
   -0.6300    0.6300   -0.6300 H   0  0  0  0  0  0  0  0  0  0  0  0
    0.6300   -0.6300   -0.6300 H   0  0  0  0  0  0  0  0  0  0  0  0
  1  2  1  0
  1  3  1  0
  1  4  1  0
  1  5  1  0
{chg}M  END
$$$$
"""


def test_sdf_reads_every_record_and_its_charges(tmp_path):
    from atomint_helpers.data.readers import read_molecules

    two = tmp_path / "two.sdf"
    two.write_text(SDF_RECORD.format(name="methane", el="C", chg="") + SDF_RECORD.format(name="ammonium", el="N",
                                                                                         chg="M  CHG  1   1   1\n"))
    frames = read_molecules(two)
    assert [a.get_chemical_formula() for a in frames] == ["CH4", "H4N"]
    assert frames[1].info["charge"] == 1 and check_applicability(frames[0]).inside
    assert "charged" in check_applicability(frames[1]).codes()
    out = explain(two, cwd=tmp_path)
    one_line_error(out, "molecule 2", "net charge +1", code=EXIT_INPUT)
    ok = explain(two, "--allow-outside", cwd=tmp_path)
    assert ok.returncode == 0 and "Traceback" not in ok.stderr, ok.stderr
    assert "(molecule 2 of 2)" in ok.stdout and ok.stdout.count("[outside QM9") == 2  # header and model line


def test_2d_mol_with_implicit_hydrogens_is_refused(tmp_path):
    from atomint_helpers.data.readers import read_molecules

    flat = tmp_path / "ethanol.mol"
    atom = "{:10.4f}{:10.4f}{:10.4f} {:<3} 0  0  0  0  0  0  0  0  0  0  0  0\n"
    flat.write_text("ethanol\n     RDKit          2D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
                    + atom.format(0, 0, 0, "C") + atom.format(1.299, 0.75, 0, "C") + atom.format(2.5981, 0, 0, "O")
                    + "  1  2  1  0\n  2  3  1  0\nM  END\n")
    with pytest.raises(AtomintError, match="2D coordinates"):
        read_molecules(flat)
    three = tmp_path / "ethanol3d.mol"
    three.write_text(flat.read_text().replace("2D", "3D").replace("    0.0000 O", "    0.3000 O"))
    with pytest.raises(AtomintError, match="implicit"):
        read_molecules(three)


def test_extxyz_lattice_in_an_xyz_file_is_refused_and_nan_is_caught_in_extxyz(tmp_path):
    from atomint_helpers.data.readers import read_molecules

    text = ('5\nLattice="10 0 0 0 10 0 0 0 10" Properties=species:S:1:pos:R:3 pbc="T T T"\n'
            "C 0 0 0\nH 0.63 0.63 0.63\nH -0.63 -0.63 0.63\nH -0.63 0.63 -0.63\nH 0.63 -0.63 -0.63\n")
    (tmp_path / "cell.xyz").write_text(text)
    with pytest.raises(AtomintError, match="rename the file to cell.extxyz"):
        read_molecules(tmp_path / "cell.xyz")
    (tmp_path / "cell.extxyz").write_text(text)
    assert "periodic" in check_applicability(read_molecules(tmp_path / "cell.extxyz")[0]).codes()
    (tmp_path / "nan.extxyz").write_text(text.replace("Lattice=\"10 0 0 0 10 0 0 0 10\" ", "")
                                         .replace(' pbc="T T T"', "").replace("H 0.63 0.63 0.63", "H nan 0.63 0.63"))
    one_line_error(explain(tmp_path / "nan.extxyz", "--allow-outside", cwd=tmp_path), "non-finite", code=EXIT_INPUT)


def test_cli_refuses_a_lone_atom_and_allows_it_marked(tmp_path):
    f = tmp_path / "c.xyz"
    f.write_text("1\nlone carbon\nC 0 0 0\n")
    one_line_error(explain(f, cwd=tmp_path), "lone C atom", "--allow-outside", code=EXIT_INPUT)
    csv = tmp_path / "c.csv"
    ok = explain(f, "--allow-outside", "--csv", csv, cwd=tmp_path)
    assert ok.returncode == 0 and "outside QM9" in ok.stderr and "[outside QM9]" in ok.stdout, ok.stderr
    import pandas as pd

    assert pd.read_csv(csv)["outside_qm9"].all()
    one_line_error(cli("explain", "--smiles", "C.C", "--model", SCHNET_E[0], cwd=tmp_path), "separate molecules",
                   code=EXIT_INPUT)


def test_spatial_exports_refuse_then_mark_an_outsider(tmp_path):
    from atomint_helpers.exports import write_spatial

    two = molecule("CH4")
    two += molecule("CH4")
    two.positions[5:] += [6.0, 0, 0]  # two methanes 6 Å apart: fragments
    with pytest.raises(AtomintError, match="2 fragments"):
        write_spatial(two, [SCHNET_E[0]], tmp_path / "no", "C", False, 0.5)
    assert not (tmp_path / "no").exists()
    paths = write_spatial(two, [SCHNET_E[0]], tmp_path / "yes", "C", False, 0.5, allow_outside=True)
    cube = next(p for p in paths if p.suffix == ".cube")
    assert "[outside QM9]" in cube.read_text().splitlines()[1] or "[outside QM9]" in cube.read_text()[:400]
    ok = write_spatial(molecule("CH4"), [SCHNET_E[0]], tmp_path / "ok", "C", False, 0.5)
    assert "[outside QM9]" not in next(p for p in ok if p.suffix == ".cube").read_text()[:400]
