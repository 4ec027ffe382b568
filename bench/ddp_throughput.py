"""Training throughput on both cores: one process with one torch thread vs N processes with one thread each
(PyTorch DDP, gloo), same model, same global batch, same steps, in one run.

The model is the ``cpu`` profile's SchNet (64 features × 3 interactions, 20 Gaussians, 5 Å, energy head)
with its interaction blocks compiled (``torch.compile``) in every process, as ``atomint train --profile cpu``
trains; Adam at the profile's learning rate. Each step takes one global batch of ``--batch`` molecules from
a seeded shuffle of fold 0's training split (full QM9), built by slicing the precomputed arrays; with DDP
each process takes its share of that batch and the gradients are all-reduced — the code of ``atomint train
--processes N`` (``training.parallel.step_loss``). Warm-up steps (compilation included) are not timed. The
two setups alternate ``--rounds`` times; molecules/s = steps × batch / wall time of the timed steps
(rank 0's clock between two barriers for DDP).

    ATOMINT_DATA=<folder with qm9/qm9.npz> python bench/ddp_throughput.py [--steps 300] [--rounds 2]

``--sample`` runs on the embedded 2,000-molecule sample instead (a check that the script works, not a
measurement).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

import atomint_helpers  # noqa: F401  (applies the schnetpack shim)
from atomint_helpers.training import fold_split, get_profile
from atomint_helpers.training.parallel import Ranks, step_loss


def load(sample: bool):
    """(data, training rows, profile) for fold 0 of the ``cpu`` profile (or the sample's quick split)."""
    from atomint_helpers.data.batch import qm9_atoms_data
    from atomint_helpers.data.qm9 import load_qm9, load_sample

    prof = get_profile("quick" if sample else "cpu")
    ds = load_sample() if sample else load_qm9(allow_sample=False)
    cpu = get_profile("cpu")
    data = qm9_atoms_data(ds, cutoff=cpu.schnet["cutoff"])
    return data, ds.rows(fold_split(prof, 0, ds)["train"]), cpu


def model_for(data, rows, prof):
    from atomint_helpers.models import build

    torch.manual_seed(0)
    model = build({"model": "schnet", "target": "energy", "elements": [1, 6, 7, 8, 9],
                   "representation": dict(prof.schnet)})
    model.fit_statistics(data, rows)
    model.representation.compile_interactions()
    return model


def run_steps(net, data, batches, ranks: Ranks, opt) -> None:
    for rows in batches:
        opt.zero_grad(set_to_none=True)
        loss, _, _ = step_loss(net, data, rows, ranks, "energy")
        loss.backward()
        opt.step()


def plan(rows, batch: int, steps: int, warmup: int, seed: int):
    """The warm-up and the timed global batches (rows), from seeded shuffles of the training rows."""
    out = []
    rng = np.random.default_rng(seed)
    while len(out) < warmup + steps:
        perm = rows[rng.permutation(len(rows))]
        out += [perm[i:i + batch] for i in range(0, len(perm) - batch + 1, batch)]
    return out[:warmup], out[warmup:warmup + steps]


def timed(net, data, warm, steps, ranks: Ranks, opt) -> float:
    run_steps(net, data, warm, ranks, opt)
    ranks.barrier()
    t0 = time.perf_counter()
    run_steps(net, data, steps, ranks, opt)
    ranks.barrier()
    return time.perf_counter() - t0


def one_process(a, data, rows, prof, seed: int) -> float:
    torch.set_num_threads(1)
    model = model_for(data, rows, prof)
    opt = torch.optim.Adam(model.parameters(), lr=prof.lr)
    warm, steps = plan(rows, a.batch, a.steps, a.warmup, seed)
    return a.steps * a.batch / timed(model, data, warm, steps, Ranks(), opt)


def _rank(rank: int, world: int, port: int, a, seed: int, out) -> None:
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    store = torch.distributed.TCPStore("127.0.0.1", port, world, is_master=False)
    torch.distributed.init_process_group("gloo", store=store, rank=rank, world_size=world)
    ranks = Ranks(rank, world)
    data, rows, prof = load(a.sample)
    model = model_for(data, rows, prof)
    net = ranks.wrap(model)
    opt = torch.optim.Adam(model.parameters(), lr=prof.lr)
    warm, steps = plan(rows, a.batch, a.steps, a.warmup, seed)
    wall = timed(net, data, warm, steps, ranks, opt)
    if rank == 0:
        out.put(a.steps * a.batch / wall)
    torch.distributed.destroy_process_group()


def processes(a, seed: int) -> float:
    """N one-thread processes with DDP; this process only waits (its cores stay free)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    store = torch.distributed.TCPStore("127.0.0.1", 0, a.processes + 1, is_master=True, wait_for_workers=False)
    out = ctx.Queue()
    procs = [ctx.Process(target=_rank, args=(r, a.processes, store.port, a, seed, out)) for r in range(a.processes)]
    for p in procs:
        p.start()
    rate = out.get()
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"DDP process ended with exit code {p.exitcode}")
    return rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300, help="timed optimizer steps per setup and round")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation)")
    ap.add_argument("--batch", type=int, default=100, help="global batch (molecules per step)")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sample", action="store_true", help="embedded sample: a check, not a measurement")
    a = ap.parse_args()
    torch.set_flush_denormal(True)  # as atomint train sets it
    print(f"python {platform.python_version()}, torch {torch.__version__}, nproc {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} at the start")
    data, rows, prof = load(a.sample)
    print(f"SchNet {prof.schnet} compiled, Adam lr {prof.lr}, global batch {a.batch}, {a.steps} timed steps "
          f"after {a.warmup} warm-up steps, {len(rows):,} training molecules "
          f"({'embedded sample' if a.sample else 'full QM9, fold 0'}); 1 torch thread per process")
    res = {"1 process": [], f"{a.processes} processes (DDP, gloo)": []}
    for r in range(a.rounds):
        for name in res:
            t0 = time.time()
            rate = (one_process(a, data, rows, prof, seed=r) if name == "1 process" else processes(a, seed=r))
            res[name].append(rate)
            print(f"round {r + 1}: {name:26s} {rate:8.1f} molecules/s ({time.time() - t0:.0f} s with set-up)",
                  flush=True)
    one, many = (np.mean(v) for v in res.values())
    print(f"mean molecules/s: 1 process {one:.1f}, {a.processes} processes {many:.1f}; ratio {many / one:.2f}x "
          f"(per round: {', '.join(f'{m / o:.2f}x' for o, m in zip(*res.values()))})")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
