"""Training throughput: atomint's pipeline vs schnetpack's stock pipeline, same SchNet, one run.

atomint: neighbour pairs precomputed once for the whole dataset, batches built by slicing arrays
(``atomint_helpers.data.batch``), SchNet from schnetpack, energy head.
schnetpack stock: ``ASEAtomsData`` (ASE database) with the ``ASENeighborList`` and ``CastTo32`` transforms
applied per molecule, ``AtomsLoader`` (its collate), ``PairwiseDistances`` + ``SchNet`` + ``Atomwise``
inside a ``NeuralNetworkPotential`` — what schnetpack's QM9 recipe does. Each pipeline runs with the CPU's
default denormal handling (what schnetpack gets) and with denormals flushed to zero (what atomint sets);
atomint also runs with its interaction blocks through torch.compile, as the ``cpu`` profile trains
(``SchNetAtomwise.compile_interactions``; the one-off compilation is timed apart).

Both train the same SchNet size with Adam on the same 2,000 embedded QM9 molecules (atomization energy,
kcal/mol) for the same number of steps; molecules per second over whole epochs (data loading included).

    python bench/train_throughput.py [--epochs 2] [--batch 100] [--threads 2]

``--crystals``: instead, atomint's crystal SchNet (``cpu`` profile size) on 320 random structures of the
embedded Materials Project sample, batches of 32, with schnetpack's own forward vs atomint's filters once
per distinct distance (``SchNetAtomwise.share_filters_by_distance``) vs the same compiled, alternated twice
in one process.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np
import torch

import atomint_helpers  # noqa: F401  (applies the schnetpack shim)
import schnetpack as spk
import schnetpack.transform as trn
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.data.qm9 import load_sample
from atomint_helpers.models import build

SIZE = dict(n_atom_basis=64, n_interactions=3, n_rbf=20, cutoff=5.0)


def compile_and_warm_up(model, batch: dict, key: str) -> None:
    """Compile ``model``'s interaction blocks and run one training step, so that the one-off compilation
    (printed, in s) stays out of the timed rates."""
    t0 = time.perf_counter()
    model.representation.compile_interactions()
    ((model(batch)[key] - batch[key].float()) ** 2).mean().backward()
    print(f"torch.compile of the interaction blocks (and the first step): {time.perf_counter() - t0:.0f} s")


def ours(ds, epochs, batch, seed=0, compiled=False):
    data = qm9_atoms_data(ds, cutoff=SIZE["cutoff"])
    torch.manual_seed(seed)
    model = build({"model": "schnet", "target": "energy", "representation": SIZE})
    model.fit_statistics(data, np.arange(len(ds)))
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    if compiled:  # as the cpu profile trains; the one-off compilation is timed apart, not in the rate
        compile_and_warm_up(model, data.batch(np.arange(batch)), "energy")
    n = 0
    t0 = time.perf_counter()
    for ep in range(epochs):
        for b in data.batches(batch_size=batch, shuffle=True, seed=ep):
            opt.zero_grad()
            loss = ((model(b)["energy"] - b["energy"].float()) ** 2).mean()
            loss.backward()
            opt.step()
            n += len(b["energy"])
    return n / (time.perf_counter() - t0)


def stock(ds, epochs, batch, workdir, seed=0):
    energy = ds.atomization_energy("kcal/mol")
    db = os.path.join(workdir, "qm9_sample.db")
    data = spk.data.ASEAtomsData.create(db, distance_unit="Ang", property_unit_dict={"energy": "kcal/mol"})
    atoms = [ds.atoms(int(i)) for i in ds.index]
    data.add_systems([{"energy": np.array([e], dtype=np.float64)} for e in energy], atoms)
    data = spk.data.ASEAtomsData(db, transforms=[trn.ASENeighborList(cutoff=SIZE["cutoff"]), trn.CastTo32()])
    loader = spk.data.AtomsLoader(data, batch_size=batch, shuffle=True, num_workers=0)
    torch.manual_seed(seed)
    rep = spk.representation.SchNet(n_atom_basis=SIZE["n_atom_basis"], n_interactions=SIZE["n_interactions"],
                                    radial_basis=spk.nn.GaussianRBF(n_rbf=SIZE["n_rbf"], cutoff=SIZE["cutoff"]),
                                    cutoff_fn=spk.nn.CosineCutoff(SIZE["cutoff"]))
    model = spk.model.NeuralNetworkPotential(
        representation=rep, input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[spk.atomistic.Atomwise(n_in=SIZE["n_atom_basis"], output_key="energy")])
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    n = 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        for b in loader:
            opt.zero_grad()
            loss = ((model(b)["energy"] - b["energy"]) ** 2).mean()
            loss.backward()
            opt.step()
            n += len(b["energy"])
    return n / (time.perf_counter() - t0)


def crystals(epochs: int, seed: int = 0) -> None:
    from atomint_helpers.data.batch import crystal_atoms_data
    from atomint_helpers.data.crystals import read_npz
    from atomint_helpers.data.paths import SAMPLE_DIR
    from atomint_helpers.models.schnet import SchNetAtomwise
    from atomint_helpers.training import CRYSTAL_ELEMENTS, CRYSTAL_PROFILES

    cr = read_npz(SAMPLE_DIR / "mp_sample.npz", "sample").clean()
    rows = np.random.default_rng(seed).choice(len(cr), 320, replace=False)
    size = CRYSTAL_PROFILES["cpu"].schnet
    data = crystal_atoms_data(cr.subset(rows), cutoff=size["cutoff"])
    torch.manual_seed(seed)
    model = build({"model": "schnet", "target": "crystals", "elements": list(CRYSTAL_ELEMENTS), "representation": size})
    model.fit_statistics(data, np.arange(len(rows)))
    batches = [data.batch(np.arange(i, min(i + 32, len(rows)))) for i in range(0, len(rows), 32)]
    print(f"crystal SchNet {size}, {len(rows)} structures, {len(batches[0]['_idx_i']) / 32:.0f} pairs per structure")
    compiled = build({"model": "schnet", "target": "crystals", "elements": list(CRYSTAL_ELEMENTS),
                      "representation": size})
    compiled.load_state_dict(model.state_dict())
    compile_and_warm_up(compiled, batches[0], "formation_energy")
    for mode in ("schnetpack forward", "filters per distinct distance", "the same, compiled") * 2:
        SchNetAtomwise.share_filters_by_distance = mode != "schnetpack forward"
        net = compiled if mode == "the same, compiled" else model
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        t0 = time.perf_counter()
        for _ in range(epochs):
            for b in batches:
                opt.zero_grad()
                loss = ((net(b)["formation_energy"] - b["formation_energy"].float()) ** 2).mean()
                loss.backward()
                opt.step()
        rate = epochs * len(rows) / (time.perf_counter() - t0)
        print(f"{mode:30s} {rate:8.1f} structures/s")
    SchNetAtomwise.share_filters_by_distance = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--crystals", action="store_true", help="crystal SchNet: per-distance filters vs schnetpack's forward")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.crystals:
        return crystals(a.epochs)
    ds = load_sample()
    print(f"python {platform.python_version()}, torch {torch.__version__}, schnetpack {spk.__version__}, "
          f"nproc {os.cpu_count()}, torch threads {torch.get_num_threads()}")
    print(f"SchNet {SIZE}, batch {a.batch}, {a.epochs} epochs over {len(ds):,} QM9 molecules (embedded sample)")
    # `atomint train` flushes denormal floats to zero in its main thread (training.train); schnetpack leaves
    # the CPU's default. Each pipeline runs both ways, so the ratio of the pipelines as users run them (stock: default
    # denormals; atomint: flushed) and the ratio at equal settings are both measured, in one run.
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for flush in (False, True):
            torch.set_flush_denormal(flush)
            os.makedirs(work := os.path.join(tmp, f"flush{int(flush)}"))
            rates["stock", flush] = stock(ds, a.epochs, a.batch, work)
            rates["atomint", flush] = ours(ds, a.epochs, a.batch)
        rates["atomint compiled", True] = ours(ds, a.epochs, a.batch, compiled=True)  # the cpu profile's setting
    torch.set_flush_denormal(False)
    for (name, flush), r in rates.items():
        print(f"{name + ' pipeline,':18s} denormals {'flushed' if flush else 'default'}: {r:8.0f} molecules/s")
    print(f"ratio atomint compiled (flushed, as the cpu profile trains) / stock (default, as schnetpack runs): "
          f"{rates['atomint compiled', True] / rates['stock', False]:5.2f}x")
    print(f"ratio atomint compiled / atomint eager, both flushed: "
          f"{rates['atomint compiled', True] / rates['atomint', True]:5.2f}x")
    print(f"ratio atomint eager (flushed) / stock (default): {rates['atomint', True] / rates['stock', False]:5.2f}x")
    print(f"ratio atomint / stock, both flushed:  {rates['atomint', True] / rates['stock', True]:5.2f}x")
    print(f"ratio atomint / stock, both default:  {rates['atomint', False] / rates['stock', False]:5.2f}x")

if __name__ == "__main__":
    main()
