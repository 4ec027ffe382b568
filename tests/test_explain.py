"""``atomint explain``: per-atom table of a molecule from an xyz file, CSV output, one-line errors."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from atomint_helpers import EXIT_INPUT, EXIT_MISSING, EXIT_USAGE, store
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.data.qm9 import NAMED, SYMBOLS
from atomint_helpers.models import build

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"schnet": dict(n_atom_basis=16, n_interactions=2, n_rbf=12),
         "bp": dict(n_radial=6, n_angular=2, zetas=(1, 2), hidden=(16,))}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, sample):
    """Two small checkpoints (SchNet energy, BP dipole) written as the store writes them."""
    root = tmp_path_factory.mktemp("ckpt")
    out = {}
    for m, t in (("schnet", "energy"), ("bp", "dipole")):
        torch.manual_seed(0)
        model = build({"model": m, "target": t, "representation": SMALL[m]})
        model.fit_statistics(qm9_atoms_data(sample), np.arange(200))
        folder = root / f"{m}-{t}-test"
        folder.mkdir()
        sha = store.save_weights(folder, model)
        store.atomic_write_json(folder / store.CONFIG, model.config)
        store.atomic_write_json(folder / store.PROVENANCE, {"fold": 0, "weights_sha256": sha,
                                                            "config_sha256": store.config_sha256(model.config)})
        out[(m, t)] = folder
    return out


@pytest.fixture(scope="module")
def toluene_xyz(tmp_path_factory, sample):
    at = sample.atoms(NAMED["toluene"])
    path = tmp_path_factory.mktemp("xyz") / "toluene.xyz"
    lines = [str(len(at)), "toluene, QM9 930"]
    lines += [f"{s} {x:.6f} {y:.6f} {z:.6f}" for s, (x, y, z) in zip(at.get_chemical_symbols(), at.positions)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(*args, cwd=None):
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "atomint_helpers.cli", "explain", *map(str, args)],
                          cwd=cwd or ROOT, env=env, text=True, capture_output=True, timeout=300)


def test_explain_prints_one_row_per_atom_and_writes_csv(checkpoints, toluene_xyz, sample, tmp_path):
    csv = tmp_path / "toluene.csv"
    p = run_cli(toluene_xyz, "--model", checkpoints[("schnet", "energy")], "--model", checkpoints[("bp", "dipole")],
                "--csv", csv)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert "C7H8, 15 atoms" in out[0]
    assert any("atomization energy" in line and "kcal/mol" in line for line in out)
    assert any("dipole moment |μ| =" in line and " D" in line for line in out)
    header = next(i for i, line in enumerate(out) if line.lstrip().startswith("atom"))
    assert "(kcal/mol)" in out[header] and "(e)" in out[header] and "x (Å)" in out[header]
    rows = out[header + 1: header + 16]
    assert [int(r.split()[0]) for r in rows] == list(range(15))
    assert [r.split()[1] for r in rows] == sample.atoms(NAMED["toluene"]).get_chemical_symbols()

    t = pd.read_csv(csv)
    assert len(t) == 15
    e_col = "schnet-energy-test:atomic_energy_kcal_mol"
    q_col = "bp-dipole-test:charge_e"
    assert list(t.columns) == ["frame", "index", "element", "x_A", "y_A", "z_A", e_col, q_col, "outside_qm9"]
    assert not t["outside_qm9"].any()
    np.testing.assert_allclose(t[["x_A", "y_A", "z_A"]].to_numpy(), sample.atoms(NAMED["toluene"]).positions, atol=1e-5)
    assert abs(t[q_col].sum()) < 1e-4
    # the per-atom energies add up to the printed molecular energy
    model = store.load_model(checkpoints[("schnet", "energy")])
    e = model.predict(sample.atoms(NAMED["toluene"]))["energy"]
    assert t[e_col].sum() == pytest.approx(e, abs=1e-2)
    printed = next(line for line in out if "atomization energy" in line)
    assert f"{e:,.2f}" in printed


def test_explain_function_handles_several_molecules(checkpoints, sample):
    from atomint_helpers.cli.explain_table import explain

    model = store.load_model(checkpoints[("schnet", "energy")])
    frames = [sample.atoms(NAMED["benzene"]), sample.atoms(NAMED["propane"])]
    t, preds = explain(frames, [model], ["m"])
    assert t.groupby("frame").size().tolist() == [12, 11]
    assert [p["frame"] for p in preds] == [0, 1]
    assert t[t["frame"] == 1]["m:atomic_energy_kcal_mol"].sum() == pytest.approx(preds[1]["energy"], abs=1e-2)


def _one_line_error(p, *words, code=EXIT_INPUT):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    err = p.stderr.strip()
    assert "\n" not in err and err.startswith("atomint: error: "), err
    assert "Traceback" not in p.stderr
    for w in words:
        assert w in err, (w, err)


def test_bad_inputs_give_one_line_errors(checkpoints, toluene_xyz, tmp_path):
    model = checkpoints[("schnet", "energy")]
    si = tmp_path / "silane.xyz"
    si.write_text("5\nsilane\nSi 0 0 0\nH 0.86 0.86 0.86\nH -0.86 -0.86 0.86\nH -0.86 0.86 -0.86\nH 0.86 -0.86 -0.86\n")
    _one_line_error(run_cli(si, "--model", model), "Si")
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\nwater\nO 0 0 0\nH 0.96 0 zero\n")
    _one_line_error(run_cli(bad, "--model", model), "line")
    weird = tmp_path / "weird.xyz"
    weird.write_text("1\n\nXq 0 0 0\n")
    _one_line_error(run_cli(weird, "--model", model), "unknown element 'Xq'")
    _one_line_error(run_cli(toluene_xyz, "--model", tmp_path / "no-such-checkpoint"), "no-such-checkpoint",
                    code=EXIT_MISSING)
    _one_line_error(run_cli(tmp_path / "missing.xyz", "--model", model), "missing.xyz")


def test_spatial_outputs_from_the_command_line(checkpoints, toluene_xyz, tmp_path):
    """``--esp --cube DIR --spacing`` writes the ESP cube and PNG of the dipole model; what can go wrong with
    these options (a non-positive spacing, a file of several molecules) ends in one line."""
    from atomint_helpers.exports import read_cube

    dipole = checkpoints[("bp", "dipole")]
    out = tmp_path / "cube"
    p = run_cli(toluene_xyz, "--model", dipole, "--esp", "--cube", out, "--spacing", "0.8", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    cubes, pngs = sorted(out.glob("*.cube")), sorted(out.glob("*.png"))
    assert len(cubes) == 1 and len(pngs) == 1 and cubes[0].name.endswith("-esp.cube")
    assert f"wrote {cubes[0]}" in p.stdout and f"wrote {pngs[0]}" in p.stdout
    data, atoms, _, spacing = read_cube(cubes[0])
    assert len(atoms) == 15 and spacing == pytest.approx(0.8, abs=1e-6) and np.isfinite(data).all()
    assert not list(out.glob(".*tmp*"))  # atomic writes leave no temporaries

    _one_line_error(run_cli(toluene_xyz, "--model", dipole, "--esp", "--cube", tmp_path / "c0", "--spacing", "0",
                            cwd=tmp_path), "--spacing", "0.01–2 Å", code=EXIT_USAGE)
    two = tmp_path / "two.xyz"
    two.write_text(toluene_xyz.read_text() * 2)
    _one_line_error(run_cli(two, "--model", dipole, "--esp", "--cube", tmp_path / "c2", cwd=tmp_path),
                    "one molecule", "holds 2")
    assert not (tmp_path / "c0").exists() and not (tmp_path / "c2").exists()


def _fortran(x: float) -> str:
    m, e = f"{x:.8e}".split("e")
    return f"{m}*^{int(e)}"


def test_explain_reads_qm9s_own_xyz_file(checkpoints, sample, tmp_path):
    """A ``dsgdb9nsd_*.xyz`` file as QM9 ships it (property line, Mulliken column, ``*^`` exponents,
    frequency / SMILES / InChI lines after the atoms) is explained like a plain xyz file of that molecule."""
    from atomint_helpers.data.convert import SCALARS

    idx = NAMED["toluene"]
    row = int(sample.rows([idx])[0])
    s = sample.atom_slice(row)
    props = "\t".join(_fortran(float(sample.arrays[name][row])) for name, *_ in SCALARS)
    lines = [str(s.stop - s.start), f"gdb {idx}\t{props}\t"]
    for k, (z, r, q) in enumerate(zip(sample.Z[s], sample.R[s], sample.mulliken[s])):
        x = _fortran(float(r[0])) if k == 0 else f"{float(r[0]):.10f}"
        lines.append(f"{SYMBOLS[int(z)]}\t{x}\t{float(r[1]):.10f}\t{float(r[2]):.10f}\t"
                     f"{_fortran(float(q))}")
    lines += ["\t".join(f"{f:.4f}" for f in np.linspace(50.0, 3200.0, 39)),
              "Cc1ccccc1\tCc1ccccc1", "InChI=1S/C7H8/c1-7-5-3-2-4-6-7/h2-6H,1H3\tInChI=1S/C7H8/c1-7-5-3-2-4-6-7/h2-6H,1H3"]
    path = tmp_path / f"dsgdb9nsd_{idx:06d}.xyz"
    path.write_text("\n".join(lines) + "\n")

    csv = tmp_path / "qm9.csv"
    p = run_cli(path, "--model", checkpoints[("schnet", "energy")], "--csv", csv)
    assert p.returncode == 0, p.stderr
    assert "C7H8, 15 atoms" in p.stdout.splitlines()[0]
    t = pd.read_csv(csv)
    np.testing.assert_allclose(t[["x_A", "y_A", "z_A"]].to_numpy(), sample.R[s], rtol=0, atol=1e-6)
    model = store.load_model(checkpoints[("schnet", "energy")])
    e = model.predict(sample.atoms(idx))["energy"]
    assert t["schnet-energy-test:atomic_energy_kcal_mol"].sum() == pytest.approx(e, abs=1e-2)
