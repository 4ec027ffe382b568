"""Data-parallel training on several CPU processes: ``atomint train --processes N`` (PyTorch DDP, gloo).

The process the user starts is **rank 0**: it holds the run folder's lock, decides the seed (restart
screening), and alone writes the checkpoint folder. It starts ``N − 1`` helper processes (ranks 1…N−1,
fresh Python interpreters running :func:`helper_main`, so the caller's ``__main__`` is never re-imported),
which load the same data, build the same model from the same seed, wait until rank 0 has made the run's
first save, and restore from the folder (``state.pt``) as rank 0 did. A helper may not write into the run
folder at all (:func:`atomint_helpers.io.read_only`: a write there is an error), and it ends when rank 0
ends, however it ends (Linux's parent-death signal, and a watch of the parent's id).

Per optimizer step every rank takes its share of the same **global batch** (the profile's ``batch_size``,
from the epoch's seeded shuffle; shares balanced by atoms plus neighbour pairs) and computes its loss as its
part of the global batch's mean squared error (Σ err² · N / n_global, DDP averaging the gradients over the N
ranks), so a step is, in exact arithmetic, the step of one process on the whole global batch.
:class:`torch.nn.parallel.DistributedDataParallel` all-reduces the gradients; Adam, the learning-rate
schedule and the weight average (stage 2) then run identically on every rank. After every epoch the ranks
compare the sha256 of their weights and of the weight average: a difference stops the run with an error
before anything is saved. Validation is shared out the same way and the predictions gathered on every rank,
so every rank takes the same decisions (best epoch, plateau halving, early stopping); the time budget is
rank 0's clock, broadcast.

With one torch thread per process SchNet's interaction blocks are compiled (``torch.compile``) in each
process, as in a one-thread run (:func:`compile_if_one_thread`, for every run). atomint's GPU path is the ``paper`` profile
through PyTorch Lightning (``--devices N``); ``--processes`` is for the CPU profiles.
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .. import AtomintError

if TYPE_CHECKING:
    from .spec import RunSpec

#: how long a rank waits for the others in one collective (rank 0's first save and data loading included)
TIMEOUT = datetime.timedelta(minutes=30)


@dataclass
class Ranks:
    """This process's place in a run: ``rank`` of ``world`` processes (``Ranks()`` is a one-process run).
    Rank 0 keeps its helper processes in ``helpers``."""

    rank: int = 0
    world: int = 1
    helpers: list = field(default_factory=list)
    store: object = None

    @property
    def writer(self) -> bool:
        """Whether this process writes the run folder (rank 0)."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.world > 1

    def share(self, rows: np.ndarray, cost: np.ndarray | None = None) -> np.ndarray:
        """This rank's share of ``rows``, contiguous: equal numbers of rows, or, given ``cost`` (one value
        per row), equal sums of cost (a row goes to the share in which the midpoint of its cost falls)."""
        rows = np.asarray(rows)
        if not self.parallel:
            return rows
        if cost is None:
            return np.array_split(rows, self.world)[self.rank]
        c = np.cumsum(np.asarray(cost, dtype=np.float64))
        mid = c - 0.5 * np.asarray(cost, dtype=np.float64)
        cuts = np.searchsorted(mid, c[-1] * np.arange(1, self.world) / self.world)
        return np.split(rows, cuts)[self.rank]

    def sum(self, values) -> list[float]:
        """Element-wise sum over the ranks (float64)."""
        if not self.parallel:
            return [float(v) for v in values]
        t = torch.tensor([float(v) for v in values], dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def broadcast(self, value: float) -> float:
        """Rank 0's ``value`` on every rank."""
        if not self.parallel:
            return float(value)
        t = torch.tensor([float(value)], dtype=torch.float64)
        torch.distributed.broadcast(t, 0)
        return float(t.item())

    def gather(self, part: np.ndarray) -> np.ndarray:
        """The ranks' ``part`` arrays concatenated in rank order, on every rank."""
        if not self.parallel:
            return part
        parts = [None] * self.world
        torch.distributed.all_gather_object(parts, np.asarray(part))
        return np.concatenate(parts)

    def barrier(self) -> None:
        if self.parallel:
            torch.distributed.barrier()

    def check_identical(self, tensors, what: str) -> None:
        """Stop with an error unless ``tensors`` are bitwise identical on every rank."""
        if not self.parallel:
            return
        h = hashlib.sha256()
        for t in tensors:
            h.update(t.detach().contiguous().cpu().numpy().tobytes())
        digests = [None] * self.world
        torch.distributed.all_gather_object(digests, h.hexdigest())
        if len(set(digests)) > 1:
            raise AtomintError(f"the {what} differ between the {self.world} training processes (sha256 "
                               f"{', '.join(d[:12] for d in digests)}); the run stops before saving them. Re-run "
                               f"the same command to continue from the last save, or train with --processes 1")

    def wrap(self, model):
        """``model`` for the training steps: ``DistributedDataParallel`` around it when several processes
        train (its parameters are broadcast from rank 0 and checked for equal shapes), else ``model``.
        BP's network of an element that no atom of a rank's share has gets no gradient there, so for BP
        DDP looks for unused parameters in every step (SchNet uses all of its parameters in every step)."""
        if not self.parallel:
            return model
        import inspect

        from torch.nn.parallel import DistributedDataParallel

        # the buffers (fixed statistics of the heads) are equal on every rank: no sync per forward
        params = inspect.signature(DistributedDataParallel).parameters
        sync = "forward_sync_buffers" if "forward_sync_buffers" in params else "broadcast_buffers"
        return DistributedDataParallel(model, find_unused_parameters=model.config["model"] == "bp", **{sync: False})

    @contextlib.contextmanager
    def failures(self):
        """Turn a failed collective (another rank died) into a one-line error naming the process."""
        try:
            yield
        except (RuntimeError, torch.distributed.DistBackendError) as e:
            if not self.parallel or isinstance(e, AtomintError):
                raise
            ended = [f"rank {r} (exit code {p.poll()})" for r, p in enumerate(self.helpers, 1)
                     if p.poll() is not None]
            who = ", ".join(ended) if ended else "another process"
            raise AtomintError(f"a data-parallel training process ended: {who} ({str(e).splitlines()[0][:200]}); "
                               f"re-run the same command to continue from the last save") from None


def compile_if_one_thread(run) -> None:
    """SchNet's interaction blocks through ``torch.compile`` where the profile asks for it and this process
    runs one torch thread (``profiles.Profile.compile``); with more threads the run stays eager and its
    profile (hence provenance) says so."""
    from dataclasses import replace

    prof = run.prof
    if not (prof.compile and run.model_name == "schnet" and not prof.lightning):
        return
    if torch.get_num_threads() == 1:
        run.model.representation.compile_interactions()
        return
    run.prof = replace(prof, compile=False)  # provenance records what ran
    print(f"atomint: {torch.get_num_threads()} torch threads: SchNet runs without torch.compile, whose kernels "
          f"were slower than eager with 2 threads (0.59x) and faster with 1 (1.75x) on a 2-core CPU "
          f"(bench/RESULTS.md); to use it, train with --threads 1 (one run with --processes 2, or two folds side "
          f"by side)", file=sys.stderr)


def step_loss(net, data, rows: np.ndarray, ranks: Ranks, key: str):
    """This rank's part of one optimizer step on the global batch ``rows`` (molecule rows of ``data``):
    ``(loss, Σ err², Σ |err|)`` over its share, the loss scaled so that DDP's gradient average equals the
    gradient of the global batch's mean squared error whatever the shares (a rank whose share is empty
    contributes zero). The shares balance the work, atoms plus neighbour pairs, so that no rank waits long
    for another at the all-reduce."""
    rows = np.asarray(rows)
    mine, weight = ranks.share(rows, data.n_atoms[rows] + data.pairs.ptr[rows + 1] - data.pairs.ptr[rows]), 1.0
    if len(mine) == 0:
        mine, weight = np.asarray(rows)[:1], 0.0
    b = data.batch(mine)
    pred = net(b)[key]
    err = pred - b[key].to(pred.dtype)
    sq = (err ** 2).sum()
    loss = sq * (weight * ranks.world / len(rows))
    return loss, weight * float(sq.detach()), weight * float(err.detach().abs().sum())


def start(spec: "RunSpec") -> Ranks:
    """Rank 0 of the run's ``spec.processes`` processes: start the helpers (ranks 1…world−1), each given
    ``spec`` (its seed decided). The process group is joined by :func:`join_group`, so that rank 0 can
    prepare its data while the helpers start."""
    import pickle
    import subprocess

    world = spec.processes
    if world == 1:
        return Ranks()
    if spec.progress:
        print(f"atomint: {spec.folder.name}: {world} data-parallel processes (DDP, gloo), "
              f"{spec.threads} torch thread(s) each; this process writes the run folder", file=sys.stderr)
    store = torch.distributed.TCPStore("127.0.0.1", 0, world, is_master=True, timeout=TIMEOUT,
                                       wait_for_workers=False)
    ranks = Ranks(0, world, store=store)
    here = str(Path(__file__).resolve().parents[2])  # this copy of atomint_helpers, also for the helpers
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)}
    for r in range(1, world):
        p = subprocess.Popen([sys.executable, "-c", "from atomint_helpers.training.parallel import helper_main; "
                              "helper_main()"], stdin=subprocess.PIPE, env=env)
        ranks.helpers.append(p)
        p.stdin.write(pickle.dumps((r, world, store.port, os.getpid(), spec)))
        p.stdin.close()
    return ranks


def join_group(ranks: Ranks) -> None:
    """Join the process group (gloo) once this rank is ready; returns when every rank has joined."""
    if ranks.parallel and not torch.distributed.is_initialized():
        if ranks.writer:  # wait for the helpers to be ready, noticing one that ended before
            keys = [f"ready{r}" for r in range(1, ranks.world)]
            while not ranks.store.check(keys):
                ended = [f"rank {r} (exit code {p.poll()})" for r, p in enumerate(ranks.helpers, 1)
                         if p.poll() is not None]
                if ended:
                    raise AtomintError(f"data-parallel training process {', '.join(ended)} ended before training "
                                       f"began (its message is above)")
                time.sleep(0.2)
        else:
            ranks.store.set(f"ready{ranks.rank}", "1")
        with ranks.failures():
            torch.distributed.init_process_group("gloo", store=ranks.store, rank=ranks.rank,
                                                 world_size=ranks.world, timeout=TIMEOUT)


def close(ranks: Ranks, ok: bool) -> None:
    """Leave the process group; rank 0 waits for its helpers (which end after the last epoch) and, when
    the run failed (``ok`` False), stops them."""
    if not ranks.parallel:
        return
    if torch.distributed.is_initialized():
        with contextlib.suppress(Exception):
            torch.distributed.destroy_process_group()
    import subprocess

    for p in ranks.helpers:
        try:
            p.wait(timeout=60 if ok else 5)
        except subprocess.TimeoutExpired:
            p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)
    failed = [f"rank {r} (exit code {p.poll()})" for r, p in enumerate(ranks.helpers, 1) if p.poll()]
    ranks.helpers.clear()
    if ok and failed:
        raise AtomintError(f"data-parallel training process {', '.join(failed)} failed after the last epoch "
                           f"(its message is above); the checkpoint folder holds the last save")


def _end_with_parent(parent: int) -> None:
    """End this helper when rank 0 ends, however it ends: Linux's parent-death signal, and a watch of the
    parent's id elsewhere (and for the instant before the signal was armed)."""
    import signal

    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="atomint-parent-watch").start()


def train_helper(ranks: Ranks, spec: "RunSpec") -> None:
    """A helper process (rank ≥ 1) of a data-parallel run: the same steps as rank 0, no writes into the
    run folder (:func:`atomint_helpers.io.read_only`), no test evaluation; it ends when the run stops."""
    from ..io import read_only
    from .run import setup, train_epoch

    torch.set_num_threads(int(spec.threads or spec.prof.threads or 1))
    torch.set_flush_denormal(True)
    read_only(spec.folder, f"training process rank {ranks.rank}")
    run, opt, sched, net, y_val = setup(ranks, spec)
    while run.stop_reason() is None:
        train_epoch(run, opt, sched, None, y_val, False, net, ranks)


def helper_main() -> None:
    """Entry point of a helper process (rank ≥ 1): its rank, the world size, the store's port, rank 0's
    process id and the run's :class:`~.spec.RunSpec` arrive pickled on stdin from :func:`start`."""
    import pickle

    rank, world, port, parent, spec = pickle.loads(sys.stdin.buffer.read())
    _end_with_parent(parent)
    store = torch.distributed.TCPStore("127.0.0.1", port, world, is_master=False, timeout=TIMEOUT)
    ranks = Ranks(rank, world, store=store)
    try:
        train_helper(ranks, spec)
    except AtomintError as e:
        print(f"atomint: error: (training process rank {rank}) {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C reaches every process of the terminal; rank 0 reports
        sys.exit(130)
    except (RuntimeError, torch.distributed.DistBackendError) as e:  # rank 0 ended first: it reports
        print(f"atomint: training process rank {rank} ends: {str(e).splitlines()[0][:200]}", file=sys.stderr,
              flush=True)
        sys.exit(1)
    finally:
        if torch.distributed.is_initialized():
            with contextlib.suppress(Exception):
                torch.distributed.destroy_process_group()
