"""Probe-potential throughput (probe points/s): batched grid evaluation vs a naive one-probe-per-forward loop.

Model: SchNet of the committed ``cpu`` size (64 features, 3 interactions, 20 Gaussians, 5 Å cutoff),
float32; built untrained with a fixed seed (the speed does not depend on the weights), or loaded from
``--checkpoint``. Molecule: toluene (QM9 930, 15 atoms) from the embedded sample. Carbon probe.

* batched: :class:`atomint_helpers.interpret.probe.ProbePotential` on a cubic grid of ``--grid``³ points
  (default 80³ = 512,000) spanning the molecule plus 3 Å on every side: per chunk of points, the molecule
  plus one receiver-only probe per point (pairs probe → molecule only) through the model's own forward pass
  (:mod:`atomint_helpers.models.probe`). Timed for both methods: ``table`` (the default: the filter
  networks tabulated once in float64 and interpolated, ``in2f`` on the molecule's atoms only) and ``exact``
  (the model's plain forward pass with the probes appended). The molecule's batch and the filter table are
  built inside the timed region.
* naive: :func:`atomint_helpers.interpret.probe.naive_probe_potential`, one full forward pass of the
  model per point on the molecule plus that one probe atom (the molecule's pairs are found once, outside
  the loop, which favours the naive loop). Timed on ``--naive-points`` random grid points (default 300)
  and extrapolated as a rate; its values are compared with the batched ones on the same points.

Each timing is the best of ``--repeats``. Run: ``.venv/bin/python bench/probe.py``.
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

ROOT = Path(__file__).resolve().parents[1]
CPU_SCHNET = {"model": "schnet", "target": "energy",
              "representation": {"n_atom_basis": 64, "n_interactions": 3, "n_rbf": 20, "cutoff": 5.0}}


def _version(name: str) -> str:
    try:
        return __import__(name).__version__
    except Exception:
        return "—"


def training_jobs() -> int:
    """How many ``atomint train`` processes are running on this machine (read from /proc)."""
    n = 0
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"atomint train" in cmd and b"python" in cmd:
                n += 1
    return n


def best_time(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--grid", type=int, default=80, help="points per axis of the cubic grid (default 80)")
    ap.add_argument("--naive-points", type=int, default=300, help="points timed in the naive loop")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--checkpoint", default=None, help="load this SchNet energy checkpoint instead")
    args = ap.parse_args(argv)

    from atomint_helpers.data.qm9 import NAMED, load_sample
    from atomint_helpers.interpret.grid import Grid
    from atomint_helpers.interpret.probe import ProbePotential, naive_probe_potential
    from atomint_helpers.models import build
    from atomint_helpers.store import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.checkpoint:
        model = load_model(args.checkpoint)
        what = f"checkpoint {args.checkpoint}"
    else:
        torch.manual_seed(0)
        model = build(CPU_SCHNET).eval()
        what = "untrained, seed 0"
    rep = model.config["representation"]
    atoms = load_sample().atoms(NAMED["toluene"])

    pos = atoms.positions
    lo, hi = pos.min(0) - 3.0, pos.max(0) + 3.0
    spacing = float((hi - lo).max() / (args.grid - 1))
    centre = (lo + hi) / 2
    g = Grid(origin=centre - spacing * (args.grid - 1) / 2, spacing=spacing, shape=(args.grid,) * 3)
    pts = g.points()

    jobs = training_jobs()
    print(f"probe bench — {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"host: {platform.processor() or platform.machine()}, nproc {os.cpu_count()}, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}, "
          f"atomint train jobs running: {jobs}")
    print(f"versions: python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"schnetpack {_version('schnetpack')}, ase {_version('ase')}")
    print(f"model: SchNet {rep['n_atom_basis']} features, {rep['n_interactions']} interactions, {rep['n_rbf']} rbf, "
          f"{rep['cutoff']} Å ({what}); molecule: toluene ({len(atoms)} atoms); carbon probe")
    print(f"grid: {args.grid}³ = {g.n_points:,} points, spacing {spacing:.3f} Å")

    rates, values = {}, {}
    for method in ("table", "exact"):
        def run(method=method):
            return ProbePotential(model, atoms, "C", method=method)(pts)
        t, v = best_time(run, args.repeats)
        rates[method], values[method] = g.n_points / t, v
        print(f"batched ({method:5s}): {t:8.2f} s  {g.n_points / t:12,.0f} points/s  "
              f"{60 * g.n_points / t:14,.0f} points/min")
    diff = float(np.abs(values["table"] - values["exact"]).max())
    print(f"table vs exact: max |ΔΩ| = {diff:.2e} kcal/mol over the grid")

    rng = np.random.default_rng(0)
    flat = pts.reshape(-1, 3)
    sub = flat[rng.choice(len(flat), size=min(args.naive_points, len(flat)), replace=False)]
    t, naive = best_time(lambda: naive_probe_potential(model, atoms, sub, "C"), args.repeats)
    rates["naive"] = len(sub) / t
    ref = ProbePotential(model, atoms, "C", method="exact")(sub)
    print(f"naive loop:      {t:8.2f} s for {len(sub)} points  {rates['naive']:12,.1f} points/s "
          f"(extrapolated: {g.n_points / rates['naive'] / 60:,.1f} min for the grid); "
          f"max |naive − batched exact| = {float(np.abs(naive - ref).max()):.2e} kcal/mol")
    for method in ("table", "exact"):
        print(f"ratio batched ({method}) / naive: {rates[method] / rates['naive']:,.0f}×")
    ok = rates["table"] / rates["naive"] >= 100 and 60 * rates["table"] >= 250_000
    print(f"targets (≥ 100× naive, ≥ 250,000 points/min): {'met' if ok else 'NOT met'}"
          + (f" — note: {jobs} training job(s) were running on this machine" if jobs else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
