"""Many molecules at once: ``AtomintCalculator.predict_many`` against one calculator call per molecule.

Data: the first ``--n`` (default 1,000) QM9 molecules of the embedded sample (``load_sample()``), at their DFT
geometries. Both paths load the same ensemble (``--model``, default every fold of ``schnet-energy-cpu``) and
run the same applicability check on every molecule; the one-call path is ``calc.calculate(atoms)`` per
molecule (what ``atoms.get_potential_energy()`` runs: one forward pass per molecule and fold), the batched
path ``calc.predict_many(molecules)`` (one forward pass per chunk of ``--chunk`` molecules and fold). They
run side by side in one process, interleaved ``--repeats`` times, best time kept; the two results are
checked to agree (1e-4 relative) before any time is reported.

Run: ``python bench/predict_many.py [--model schnet-energy-cpu] [--n 1000] [--device cpu]``.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import numpy as np
import torch


def one_call_per_molecule(calc, molecules) -> np.ndarray:
    key = "energy" if calc.target == "energy" else "dipole"
    out = []
    for atoms in molecules:
        calc.calculate(atoms.copy(), [key])
        out.append(calc.results[key] if key == "energy" else np.linalg.norm(calc.results[key]))
    return np.asarray(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="schnet-energy-cpu", help="ensemble name or checkpoint folder")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--n", type=int, default=1000, help="molecules of the embedded sample")
    ap.add_argument("--chunk", type=int, default=500, help="molecules per forward pass of predict_many")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)

    from atomint_helpers.calculator import AtomintCalculator
    from atomint_helpers.data.qm9 import load_sample

    ds = load_sample()
    molecules = [ds.atoms(int(i)) for i in ds.arrays["index"][:args.n]]
    calc = AtomintCalculator(args.model, models_dir=args.models_dir, spread_limit=None)
    stem = "energy_eV" if calc.target == "energy" else "dipole_eA"
    one_s, many_s = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        single = one_call_per_molecule(calc, molecules)
        one_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        table = calc.predict_many(molecules, chunk_size=args.chunk, device=args.device)
        many_s.append(time.perf_counter() - t0)
    many = (table[stem] if calc.target == "energy"  # |mean vector|, what the one-call path returns
            else np.linalg.norm(table[["dipole_x_eA", "dipole_y_eA", "dipole_z_eA"]].to_numpy(), axis=1))
    np.testing.assert_allclose(many, single, rtol=1e-4, atol=1e-5)
    from atomint_helpers.data.applicability import check_applicability

    t0 = time.perf_counter()
    for atoms in molecules:
        check_applicability(atoms)
    check_s = time.perf_counter() - t0
    n_atoms = int(sum(len(a) for a in molecules))
    one, batched = min(one_s), min(many_s)
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, nproc "
          f"{os.cpu_count()}, torch {torch.__version__} ({torch.get_num_threads()} threads), load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; device {args.device}")
    print(f"# {calc!r}: {len(molecules)} molecules, {n_atoms} atoms, best of {args.repeats}; results agree "
          f"(max |difference| {np.max(np.abs(many - single)):.1e} {stem.split('_')[1]})")
    print("| method | best s | molecules/s |\n|---|---:|---:|")
    print(f"| one calculator call per molecule | {one:.2f} | {len(molecules) / one:,.0f} |")
    print(f"| predict_many (chunks of {args.chunk}) | {batched:.2f} | {len(molecules) / batched:,.0f} |")
    print(f"ratio: {one / batched:.1f}x; the applicability check, part of both paths, takes {check_s:.2f} s on its own "
          f"(without it: {(one - check_s) / max(batched - check_s, 1e-9):.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
