"""Featurization throughput (atoms/s): our ACSF vs dscribe ACSF vs torchani AEVs, side by side.

Data: the 2,000 real QM9 molecules of the embedded sample (36,227 atoms, H C N O F).

* ours: ``atomint_helpers.descriptors.ACSF`` with the default grid (22 G2 per element, 5 widths x
  lambda = ±1 G5 per element pair, zeta = 1, 5 Å; 260 features), float32, batches of 500 molecules,
  under ``torch.no_grad()``. Timed twice: with the neighbour pairs precomputed outside the timed region
  (as in training, where pairs are built once per dataset), and with the pair building (vectorized
  numpy, below) inside it. Also the G4 variant (``crossterms=True``, explicit triples) and wACSF.
* dscribe: ``dscribe.descriptors.ACSF`` with the very same G2/G5 (or G4) parameters (its output adds
  one G1 per element: 265 features), ``create(list_of_atoms, n_jobs=1 | 2)``, float64 (its default).
* torchani: ``AEVComputer.like_2x()`` (ANI-2x: 1008 features, radial 5.1 Å, angular 3.5 Å; species
  H C N O S F Cl, so the F molecules stay in), float32 padded batches of 100 molecules; its own
  all-pairs neighbour list runs inside the timed call.

Every method is repeated ``--repeats`` times, interleaved, and the best time is kept.
Run: ``.venv/bin/python bench/acsf.py``.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

SAMPLE = Path(__file__).parents[1] / "atomint_helpers/data/sample/qm9_sample.npz"
CUTOFF = 5.0


def molecule_pairs(R: np.ndarray, offsets: np.ndarray, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (i != j) of atoms of the same molecule closer than ``cutoff`` (Å), brute force.

    Molecules of equal size are handled together as one [m, n, n] distance tensor (a loop over the
    few distinct sizes only). ``offsets[m]:offsets[m + 1]`` are molecule ``m``'s atoms; the returned
    indices are global atom indices (not sorted).
    """
    sizes = np.diff(offsets)
    out_i, out_j = [], []
    for n in np.unique(sizes):
        mols = np.nonzero(sizes == n)[0]
        atoms = offsets[mols][:, None] + np.arange(n)  # [m, n]
        pos = R[atoms]
        d2 = ((pos[:, :, None, :] - pos[:, None, :, :]) ** 2).sum(-1)
        mask = (d2 < cutoff * cutoff) & ~np.eye(n, dtype=bool)
        m, a, b = np.nonzero(mask)
        out_i.append(atoms[m, a])
        out_j.append(atoms[m, b])
    return np.concatenate(out_i), np.concatenate(out_j)


def best_of(times: list[float]) -> float:
    return min(times)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=500, help="molecules per batch (ours)")
    parser.add_argument("--skip-g4", action="store_true", help="skip the G4 (crossterms) comparison")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import ase
    import torchani
    from ase import Atoms
    from dscribe.descriptors import ACSF as DscribeACSF

    from atomint_helpers.descriptors import ACSF

    data = np.load(SAMPLE)
    Z_all, R_all, offsets = data["Z"].astype(np.int64), data["R"], data["offsets"].astype(np.int64)
    n_mol, n_atoms = len(offsets) - 1, len(Z_all)

    print(f"date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"dscribe {_version('dscribe')}, "
          f"torchani {_version('torchani')}, ase {ase.__version__}")
    print(f"CPU: {platform.processor() or platform.machine()}, nproc {len(os.sched_getaffinity(0))}, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f} (1 min) at start")
    print(f"data: {n_mol} QM9 molecules, {n_atoms} atoms (embedded sample); best of {args.repeats} interleaved runs\n")

    # ---- ours: batches with precomputed pairs (outside the timed region)
    batches, raw = [], []
    for lo in range(0, n_mol, args.batch):
        hi = min(lo + args.batch, n_mol)
        a, b = offsets[lo], offsets[hi]
        local = offsets[lo:hi + 1] - a
        R = R_all[a:b]
        i, j = molecule_pairs(R.astype(np.float64), local, CUTOFF)
        raw.append((Z_all[a:b], R, local))
        batches.append((torch.from_numpy(Z_all[a:b]), torch.from_numpy(R), torch.from_numpy(i), torch.from_numpy(j)))
    n_pairs = sum(len(b[2]) for b in batches)

    ours = {"G5": ACSF(), "G4": ACSF(crossterms=True), "wACSF": ACSF(weighted=True)}

    def run_ours(model):
        with torch.no_grad():
            for b in batches:
                model(*b)

    def run_ours_with_pairs(model):
        with torch.no_grad():
            for Z, R, local in raw:
                i, j = molecule_pairs(R.astype(np.float64), local, CUTOFF)
                model(torch.from_numpy(Z), torch.from_numpy(R), torch.from_numpy(i), torch.from_numpy(j))

    # ---- dscribe with the same parameters
    atoms = [Atoms(numbers=Z_all[offsets[m]:offsets[m + 1]], positions=R_all[offsets[m]:offsets[m + 1]])
             for m in range(n_mol)]

    def dscribe_for(model: ACSF) -> DscribeACSF:
        g2 = np.stack([model.radial_eta.numpy(), model.radial_mu.numpy()], axis=1)
        ang = np.array([[eta, zeta, lam]
                        for lam, zeta in zip(model.angular_lambda.tolist(), model.angular_zeta.tolist())
                        for eta in model.angular_eta.tolist()])
        key = "g4_params" if model.crossterms else "g5_params"
        return DscribeACSF(r_cut=model.cutoff, g2_params=g2, species=list(model.elements), **{key: ang})

    theirs = {"G5": dscribe_for(ours["G5"]), "G4": dscribe_for(ours["G4"])}

    # ---- torchani ANI-2x AEVs, padded batches of 100
    aev = torchani.AEVComputer.like_2x()
    species_of = {1: 0, 6: 1, 7: 2, 8: 3, 16: 4, 9: 5, 17: 6}  # ANI-2x order H C N O S F Cl
    lut = np.full(119, -1, dtype=np.int64)
    for z, k in species_of.items():
        lut[z] = k
    ani_batches = []
    for lo in range(0, n_mol, 100):
        hi = min(lo + 100, n_mol)
        sizes = np.diff(offsets[lo:hi + 1])
        species = np.full((hi - lo, sizes.max()), -1, dtype=np.int64)
        coords = np.zeros((hi - lo, sizes.max(), 3), dtype=np.float32)
        for k, m in enumerate(range(lo, hi)):  # setup only, outside the timed region
            species[k, : sizes[k]] = lut[Z_all[offsets[m]:offsets[m + 1]]]
            coords[k, : sizes[k]] = R_all[offsets[m]:offsets[m + 1]]
        ani_batches.append((torch.from_numpy(species), torch.from_numpy(coords)))

    def run_ani():
        with torch.no_grad():
            for s, c in ani_batches:
                aev(s, c)

    methods = {
        "ours ACSF G5 (260 f), pairs precomputed": lambda: run_ours(ours["G5"]),
        "ours ACSF G5 (260 f), pairs built inside": lambda: run_ours_with_pairs(ours["G5"]),
        "ours wACSF (32 f), pairs precomputed": lambda: run_ours(ours["wACSF"]),
        "dscribe ACSF G5 (265 f), n_jobs=1": lambda: theirs["G5"].create(atoms, n_jobs=1),
        "dscribe ACSF G5 (265 f), n_jobs=2": lambda: theirs["G5"].create(atoms, n_jobs=2),
        "torchani like_2x AEV (1008 f)": run_ani,
    }
    if not args.skip_g4:
        methods.update({
            "ours ACSF G4 (260 f, triples), pairs precomputed": lambda: run_ours(ours["G4"]),
            "dscribe ACSF G4 (265 f), n_jobs=1": lambda: theirs["G4"].create(atoms, n_jobs=1),
        })
    for fn in methods.values():  # warm-up (imports, joblib pool, allocator)
        fn()
    times = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)

    rate = {name: n_atoms / best_of(t) for name, t in times.items()}
    print(f"ours: {n_pairs} neighbour pairs (5 Å), batches of {args.batch} molecules, float32\n")
    print(f"| method | best s | atoms/s |")
    print(f"|---|---|---|")
    for name in methods:
        print(f"| {name} | {best_of(times[name]):.3f} | {rate[name]:,.0f} |")
    ours_pre = rate["ours ACSF G5 (260 f), pairs precomputed"]
    ours_in = rate["ours ACSF G5 (260 f), pairs built inside"]
    print("\nratios (atoms/s over atoms/s):")
    print(f"  ours G5 / dscribe G5 n_jobs=1: {ours_pre / rate['dscribe ACSF G5 (265 f), n_jobs=1']:.1f}x"
          f"  (pairs inside: {ours_in / rate['dscribe ACSF G5 (265 f), n_jobs=1']:.1f}x)")
    print(f"  ours G5 / dscribe G5 n_jobs=2: {ours_pre / rate['dscribe ACSF G5 (265 f), n_jobs=2']:.1f}x"
          f"  (pairs inside: {ours_in / rate['dscribe ACSF G5 (265 f), n_jobs=2']:.1f}x)")
    print(f"  ours G5 / torchani like_2x:    {ours_pre / rate['torchani like_2x AEV (1008 f)']:.1f}x"
          f"  (pairs inside: {ours_in / rate['torchani like_2x AEV (1008 f)']:.1f}x)")
    if not args.skip_g4:
        g4 = rate["ours ACSF G4 (260 f, triples), pairs precomputed"] / rate["dscribe ACSF G4 (265 f), n_jobs=1"]
        print(f"  ours G4 / dscribe G4 n_jobs=1: {g4:.1f}x")
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) at end")


if __name__ == "__main__":
    main()
