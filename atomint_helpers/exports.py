"""Spatial outputs for one molecule as files: Gaussian cube files of the probe potential and the ESP, plus
PNG contour cuts (what ``atomint explain mol.xyz --model CKPT [--probe C] [--esp] [--cube DIR]`` writes).

:func:`write_spatial` — for every energy model, with ``probe``: ``<name>-<model>-probe-<X>.cube`` (Ω in
kcal/mol on a box around the molecule) and ``….png`` (contours in the molecular plane, relative to the
energy head's shift b_X, negative dashed); for every dipole model, with ``esp``: ``<name>-<model>-esp.cube``
(V in eV for a +1 e probe charge, from the latent charges) and ``….png`` (positive dashed). The cube grid
is :func:`~atomint_helpers.interpret.grid.box_grid` (3 Å padding) at ``spacing`` Å; values in the file are
in the stated units (the cube format has none: the comment line says which). Every file is written to a
temporary name and renamed, so a crash never leaves a half-written file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import AtomintError
from .io import atomic_path

#: space around the outermost nuclei of a cube file's box on every side (Å)
CUBE_PADDING = 3.0
#: the longest a probe grid of ``write_spatial`` may take (s, estimated from its first chunk) before it is refused
PROBE_BUDGET_S = 600.0


def model_label(model, i: int = 0) -> str:
    """A file-name-safe name: the checkpoint folder's name, else ``<model>-<target>-<i>``."""
    ck = model.checkpoint
    name = ck.name if ck else f"{model.config['model']}-{model.config['target']}-{i}"
    return _safe(name)


def _safe(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
    return keep.strip("._") or "molecule"


def _atomic_path(path: Path, write) -> Path:
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_cube(path, atoms, grid, data, comment: str) -> Path:
    """A Gaussian cube file of ``data`` [nx, ny, nz] on ``grid`` (atomic write, via ``ase.io.write``)."""
    import ase.io

    data = np.asarray(data, dtype=np.float64)
    if data.shape != tuple(grid.shape):
        raise AtomintError(f"cube data of shape {data.shape} does not fit the grid {grid.shape}")
    at = atoms.copy()
    at.set_cell(grid.cell())
    at.pbc = False

    def write(tmp):
        with open(tmp, "w") as f:
            ase.io.write(f, at, format="cube", data=data, origin=grid.origin, comment=comment)
    return _atomic_path(Path(path), write)


def read_cube(path) -> tuple[np.ndarray, object, np.ndarray, float]:
    """``(data, atoms, origin, spacing)`` of a cube file written by :func:`write_cube` (Å)."""
    from ase.io.cube import read_cube as _read

    with open(path) as f:
        d = _read(f)
    spacing = float(np.linalg.norm(d["spacing"][0]))
    return d["data"], d["atoms"], np.asarray(d["origin"]), spacing


def _save_png(path: Path, fig) -> Path:
    import matplotlib.pyplot as plt

    def write(tmp):
        fig.savefig(tmp, format="png", dpi=150)
    try:
        return _atomic_path(path, write)
    finally:
        plt.close(fig)


def write_spatial(atoms, models: list, out_dir: Path, probe: str | None, esp: bool, spacing: float,
                  allow_outside: bool = False, max_seconds: float | None = PROBE_BUDGET_S, *,
                  checked: bool = False, outside: bool = False) -> list[Path]:
    """Cube files and PNG cuts of the probe potential (energy models, ``probe`` element) and the ESP (dipole
    models, ``esp``) of one molecule into ``out_dir``; returns the written paths (see module docstring).

    ``models`` are loaded models or checkpoint folders. Raises a one-line error when nothing applies
    (no ``probe`` and no ``esp``, or no model of the needed target), and for a structure the models cannot
    judge (the applicability check; ``allow_outside`` evaluates it anyway). A probe grid estimated (from its
    first chunk) to take longer than ``max_seconds`` is refused with the estimate; a long one shows a progress
    bar with an ETA.

    The molecule is checked once, here (:func:`~atomint_helpers.data.xyz.screen_molecule`: a public entry
    point), or, with ``checked``, by the caller before (``atomint explain`` checks every frame before any model
    sees one), which then says with ``outside`` whether its check found the molecule outside QM9 (allowed by
    ``allow_outside``): every file is marked so. The probe and ESP functions below, and the grid points made
    from the checked molecule, are trusted and not checked again."""
    from . import plots
    from .data.xyz import screen_molecule
    from .interpret import esp as esp_mod
    from .interpret.grid import box_grid, plane_cut
    from .interpret.probe import ProbePotential, probe_number
    from .store import load_model

    from .data.applicability import OUTSIDE_MARK

    if not checked:
        found = screen_molecule(atoms, atoms.info.get("name", "molecule"))
        found.enforce(allow_outside)
        outside = not found.inside
    mark = f" [{OUTSIDE_MARK}]" if outside else ""  # on every file of an allowed outsider
    loaded = [load_model(m) if isinstance(m, (str, os.PathLike)) else m for m in (models or [])]
    if not loaded:
        raise AtomintError("write_spatial: no model given (pass checkpoint folders with --model)")
    if probe is None and not esp:
        raise AtomintError("write_spatial: nothing to write — ask for a probe element (--probe C) and/or --esp")
    energy = [m for m in loaded if m.config.get("target") == "energy"]
    dipole = [m for m in loaded if m.config.get("target") == "dipole"]
    if probe is not None and not energy:
        raise AtomintError("the probe potential (--probe) needs an energy model; the given models predict "
                           + ", ".join(sorted({m.config['target'] for m in loaded})))
    if esp and not dipole:
        raise AtomintError("the ESP (--esp) needs a dipole model (latent charges); the given models predict "
                           + ", ".join(sorted({m.config['target'] for m in loaded})))
    grid = box_grid(atoms, spacing=spacing, padding=CUBE_PADDING)
    cut = plane_cut(atoms, spacing=min(0.1, float(spacing)))
    out_dir = Path(out_dir)
    name = _safe(atoms.info.get("name") or atoms.get_chemical_formula())
    written: list[Path] = []
    if probe is not None:
        z = probe_number(probe)
        from ase.data import chemical_symbols

        sym = chemical_symbols[z]
        for i, m in enumerate(energy):
            label = model_label(m, i)
            pp = ProbePotential(m, atoms, z, checked=True)
            values = pp(grid.points(), max_seconds=max_seconds, checked=True)
            stem = f"{name}-{label}-probe-{sym}"
            written.append(write_cube(out_dir / f"{stem}.cube", atoms, grid, values,
                                      f"atomint local chemical potential, {sym} probe, kcal/mol, model {label}{mark}"))
            ref = pp.reference("shift")
            fig = plots.spatial_cut(cut, pp(cut.points, checked=True) - ref, atoms, dashed="negative",
                                    label=f"Ω − b_{sym} (kcal/mol)", title=f"{name}: {sym} probe, {label}{mark}")
            written.append(_save_png(out_dir / f"{stem}.png", fig))
    if esp:
        for i, m in enumerate(dipole):
            label = model_label(m, i)
            q = esp_mod.latent_charges(m, atoms, checked=True)
            values = esp_mod.esp(atoms.positions, q, grid.points(), unit="eV", checked=True)
            stem = f"{name}-{label}-esp"
            written.append(write_cube(out_dir / f"{stem}.cube", atoms, grid, values,
                                      f"atomint ESP of the latent charges, +1 e probe, eV, model {label}{mark}"))
            fig = plots.spatial_cut(cut, esp_mod.esp(atoms.positions, q, cut.points, unit="eV", checked=True), atoms,
                                    dashed="positive", label="V (eV)", title=f"{name}: ESP, {label}{mark}")
            written.append(_save_png(out_dir / f"{stem}.png", fig))
    return written


__all__ = ["write_spatial", "write_cube", "read_cube", "model_label"]
