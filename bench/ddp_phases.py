"""Where the time of a data-parallel training step goes: per-step timers of batch building, forward, backward
(the gradient all-reduce included) and the optimizer, for one process against two (DDP over gloo), and the
two without the all-reduce (``no_sync``: what the communication costs), with one bucket, with one flat
all-reduce instead of DDP, and two independent processes side by side (what sharing the machine costs).

Same model, data and plan as ``bench/ddp_throughput.py`` (the ``cpu`` SchNet, compiled, fold 0 of the full
QM9, Adam); each setup in fresh processes, ``--warm`` untimed steps first, one torch thread per process.
Molecules/s are of the global batch (all processes together), except for the independent processes (each
its own). A diagnostic of one machine, run on idle cores:

    ATOMINT_DATA=<folder with qm9/qm9.npz> python bench/ddp_phases.py [--steps 200] [--warm 30]
"""
import argparse
import contextlib
import os
import time

import numpy as np
import torch

import ddp_throughput as B
from atomint_helpers.training.parallel import Ranks

def flat_allreduce(model, world):
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    i = 0
    for g in grads:
        n = g.numel(); g.copy_(flat[i:i + n].view_as(g)); i += n

def steps_timed(net, model, data, batches, ranks, opt, mode):
    """Summed seconds of [batch, forward, backward, optimizer] over ``batches``; ``mode``: "ddp" (as
    ``atomint train``), "no_sync" (no all-reduce), "one_bucket" (DDP, one 100 MB bucket) or "flat_allreduce"
    (no DDP: one all-reduce of the flattened gradients after backward)."""
    ph = np.zeros(4)
    for rows in batches:
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        rows = np.asarray(rows)
        mine = ranks.share(rows, data.n_atoms[rows] + data.pairs.ptr[rows + 1] - data.pairs.ptr[rows])
        b = data.batch(mine)
        t1 = time.perf_counter()
        ctx = net.no_sync() if (mode == "no_sync") else contextlib.nullcontext()
        with ctx:
            pred = net(b)["energy"]
            err = pred - b["energy"].to(pred.dtype)
            loss = (err ** 2).sum() * (ranks.world / len(rows))
            t2 = time.perf_counter()
            loss.backward()
            if mode == "flat_allreduce":
                flat_allreduce(model, ranks.world)
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        ph += [t1 - t0, t2 - t1, t3 - t2, t4 - t3]
    return ph

def work(rank, world, port, batch, warm, nsteps, mode, out):
    torch.set_num_threads(1); torch.set_flush_denormal(True)
    if world > 1:
        store = torch.distributed.TCPStore("127.0.0.1", port, world, is_master=False)
        torch.distributed.init_process_group("gloo", store=store, rank=rank, world_size=world)
    ranks = Ranks(rank, world)
    data, rows, prof = B.load(False)
    model = B.model_for(data, rows, prof)
    if mode == "flat_allreduce" or world == 1:
        net = model
    elif mode == "one_bucket":
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model, bucket_cap_mb=100, broadcast_buffers=False)
    else:
        net = ranks.wrap(model)
    opt = torch.optim.Adam(model.parameters(), lr=prof.lr)
    w, s = B.plan(rows, batch, nsteps, warm, 0)
    steps_timed(net, model, data, w, ranks, opt, mode)
    ranks.barrier()
    t0 = time.perf_counter()
    ph = steps_timed(net, model, data, s, ranks, opt, mode)
    ranks.barrier()
    wall = time.perf_counter() - t0
    out.put((rank, wall, (ph / nsteps * 1000).round(1).tolist(), nsteps * batch / wall))
    if world > 1:
        torch.distributed.destroy_process_group()

def launch(world, batch, warm, nsteps, mode, label, independent=False):
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    store = torch.distributed.TCPStore("127.0.0.1", 0, world + 1, is_master=True, wait_for_workers=False)
    out = ctx.Queue()
    w = 1 if independent else world
    procs = [ctx.Process(target=work, args=(0 if independent else r, w, store.port, batch, warm, nsteps, mode, out))
             for r in range(world)]
    for p in procs: p.start()
    res = [out.get() for _ in procs]
    for p in procs: p.join()
    for r in sorted(res):
        print(f"{label}: rank {r[0]} wall {r[1]:.1f}s ms/step [batch, fwd, bwd, opt] {r[2]} -> {r[3]:.0f} mol/s", flush=True)

if __name__ == "__main__":
    ap = argparse.ArgumentParser(); ap.add_argument("--steps", type=int, default=200); ap.add_argument("--warm", type=int, default=30)
    a = ap.parse_args()
    print("load", os.getloadavg(), flush=True)
    launch(1, 100, 5, a.steps, "ddp", "1 proc b100 warm5")
    launch(1, 100, a.warm, a.steps, "ddp", f"1 proc b100 warm{a.warm}")
    launch(1, 50, a.warm, a.steps, "ddp", f"1 proc b50 warm{a.warm}")
    launch(2, 100, a.warm, a.steps, "ddp", "DDP 2x50")
    launch(2, 100, a.warm, a.steps, "no_sync", "DDP 2x50 no_sync")
    launch(2, 100, a.warm, a.steps, "one_bucket", "DDP 2x50 one bucket")
    launch(2, 100, a.warm, a.steps, "flat_allreduce", "2x50 one flat all_reduce, no DDP")
    launch(2, 50, a.warm, a.steps, "ddp", "2 independent b50", independent=True)
    print("load", os.getloadavg(), flush=True)
