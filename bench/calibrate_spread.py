"""Calibrate the calculator's two spread thresholds on QM9 molecules at their DFT geometries.

    python bench/calibrate_spread.py [--models schnet-energy-cpu bp-energy-cpu] [--max-molecules 600]

Rule (fixed before the numbers): the molecules are those in none of the three folds' training or
validation sets (held out from every fold); for each committed cpu energy ensemble,
* ``large_spread``: the ratio of an atom's latent-energy std across folds to its element's typical std
  (``AtomintCalculator.typical_std``) — the factor is the 99th percentile of that ratio, so that about 1 %
  of held-out atoms are flagged;
* the geometry warning: the molecule's energy std across folds per atom (eV) — the threshold is the 99th
  percentile over the held-out molecules.
Both per model (a first reading with one factor for both models, the larger, flagged 1.00 % of SchNet's
atoms but 0.03 % of BP's). Prints both, with the flag rates, versions and nproc.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def held_out_ids(models_dir: Path, name: str) -> np.ndarray:
    from atomint_helpers.data.splits import load_split

    ids = None
    for k in range(3):
        parts = load_split(models_dir / f"{name}-fold{k}" / "split.npz")
        test = np.asarray(parts["test"])
        ids = test if ids is None else np.intersect1d(ids, test)
    return ids


def main() -> None:
    import torch
    from ase import Atoms

    from atomint_helpers.calculator import AtomintCalculator
    from atomint_helpers.data.qm9 import load_qm9

    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["schnet-energy-cpu", "bp-energy-cpu"])
    ap.add_argument("--max-molecules", type=int, default=600)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, nproc {os.cpu_count()}")
    ds = load_qm9()
    models_dir = ROOT / "models"
    out = {}
    for name in args.models:
        ids = held_out_ids(models_dir, name)[: args.max_molecules]
        rows = ds.rows(ids)
        calc = AtomintCalculator(name, models_dir=models_dir)
        typical = calc.typical_std()
        ratios, mol_std = [], []
        Z, R, off = ds.arrays["Z"], ds.arrays["R"], ds.arrays["offsets"]
        for r in rows:
            atoms = Atoms(numbers=Z[off[r]:off[r + 1]], positions=R[off[r]:off[r + 1]])
            atoms.calc = calc
            atoms.get_potential_energy()
            t = calc.atom_table()
            ratios.append((t["atomic_energy_std_eV"] / t["typical_std_eV"]).to_numpy())
            mol_std.append(calc.results["energy_std"] / len(atoms))
        ratios, mol_std = np.concatenate(ratios), np.asarray(mol_std)
        out[name] = (float(np.percentile(ratios, 99)), float(np.percentile(mol_std, 99)), ratios, mol_std)
        print(f"{name}: {len(rows)} held-out molecules, {len(ratios)} atoms; atoms over 3x typical: "
              f"{np.mean(ratios > 3):.1%}; 99th percentile ratio {out[name][0]:.2f}; energy std per atom: "
              f"median {np.median(mol_std) * 1000:.2f} meV, 99th percentile {out[name][1] * 1000:.2f} meV")
    for name, (factor, per_atom, ratios, mol_std) in out.items():
        print(f"{name}: SPREAD_FACTOR {factor:.2f} flags {np.mean(ratios > factor):.2%} of atoms; "
              f"GEOMETRY_SPREAD_EV_PER_ATOM {per_atom:.5f} warns on {np.mean(mol_std > per_atom):.2%} of molecules")


if __name__ == "__main__":
    main()
