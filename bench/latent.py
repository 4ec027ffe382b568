"""Latent terms over all of QM9: wall time of ``atomint_helpers.interpret.atom_terms.latent_terms``.

For each model (BP and SchNet, energy target): the per-atom atomic energies of every molecule of the
full QM9 (130,831 molecules) in batches of ``--batch-size`` molecules (default 250: on this CPU smaller
batches are faster than 1,000 — less memory traffic in SchNet's gathers and scatters), one forward pass
per batch, BP's symmetry functions computed inside the timed region. Wall time and the process's CPU
time are both reported: on a machine shared with other jobs the CPU time is the better estimate of the
wall time the same run takes on idle cores. The neighbour pairs are loaded from (or first
written to) atomint's cache before the clock starts; their one-off cost is printed separately.

Peer: the obvious per-molecule loop — ``model.predict(ase.Atoms)`` for one molecule at a time — timed
on ``--loop-molecules`` molecules and extrapolated linearly to the whole set; the ratio is reported.

Checkpoint: ``models/<model>-energy-cpu-fold0`` if it exists (possibly still training: the best weights
so far, which does not change the cost), else ``models/<model>-energy-quick-fold0`` (a smaller network,
so faster; the output says which).

Run: ``ATOMINT_DATA=<folder holding qm9/qm9.npz> .venv/bin/python bench/latent.py``.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _busy() -> str:
    try:
        out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    except Exception:
        return "unknown"
    n = sum(1 for line in out.splitlines() if "atomint train" in line and "grep" not in line)
    return f"{n} `atomint train` process(es) running" if n else "no training running"


def main(argv=None) -> int:
    from atomint_helpers import store
    from atomint_helpers.data.batch import cached_pairs
    from atomint_helpers.data.qm9 import load_qm9
    from atomint_helpers.interpret.atom_terms import latent_terms

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["bp", "schnet"])
    ap.add_argument("--models-dir", default=str(ROOT / "models"))
    ap.add_argument("--batch-size", type=int, default=250)
    ap.add_argument("--loop-molecules", type=int, default=300)
    ap.add_argument("--limit", type=int, default=None, help="only the first N molecules (smoke test)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    ds = load_qm9(allow_sample=False)
    rows = np.arange(len(ds)) if args.limit is None else np.arange(min(args.limit, len(ds)))
    print(f"# latent terms over QM9 — {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"{ds.describe()}; timing {len(rows):,} molecules, {int(np.diff(ds.offsets)[rows].sum()):,} atoms")
    print(f"machine: {platform.machine()}, nproc {os.cpu_count()}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), python {platform.python_version()}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; {_busy()}")
    results = []
    for name in args.models:
        folder = Path(args.models_dir) / f"{name}-energy-cpu-fold0"
        if not (folder / store.CONFIG).is_file():
            folder = Path(args.models_dir) / f"{name}-energy-quick-fold0"
        model = store.load_model(folder)
        status = store.provenance(folder).get("status", "?")
        t0 = time.perf_counter()
        cached_pairs(ds.arrays["R"], ds.arrays["offsets"], model.cutoff)
        t_pairs = time.perf_counter() - t0
        from atomint_helpers.interpret.atom_terms import cached_qm9_data

        data = cached_qm9_data(ds, model.cutoff)  # pairs now come from the cache
        t0, c0 = time.perf_counter(), time.process_time()
        df = latent_terms(model, data, rows, batch_size=args.batch_size)
        t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
        assert len(df) == int(data.n_atoms[rows].sum())
        # peer: one molecule at a time
        loop_ids = ds.arrays["index"][rows[:: max(1, len(rows) // args.loop_molecules)][: args.loop_molecules]]
        t0 = time.perf_counter()
        for q in loop_ids:
            model.predict(ds.atoms(int(q)))
        t_loop = (time.perf_counter() - t0) / len(loop_ids) * len(rows)
        results.append((name, folder.name, status, t_all, t_loop, t_pairs, c_all))
        print(f"{folder.name} [{status}]: latent_terms {t_all:.1f} s wall, {c_all:.1f} s CPU for {len(rows):,} molecules "
              f"({len(rows) / t_all:,.0f} molecules/s, {len(df) / t_all:,.0f} atoms/s); per-molecule loop "
              f"≈ {t_loop:.0f} s (extrapolated from {len(loop_ids)}): ratio {t_loop / t_all:.1f}×; "
              f"pairs from cache/compute {t_pairs:.1f} s", flush=True)
    print()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}; batch size {args.batch_size}")
    print("| checkpoint | molecules | latent_terms wall (s) | its CPU time (s) | per-molecule loop, extrapolated wall (s) | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, folder, status, t_all, t_loop, _, c_all in results:
        print(f"| `{folder}` ({status}) | {len(rows):,} | {t_all:.1f} | {c_all:.1f} | {t_loop:.0f} | {t_loop / t_all:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
