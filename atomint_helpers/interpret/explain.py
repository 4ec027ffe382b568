"""``atomint explain``: what trained models say about one molecule, atom by atom.

::

    atomint explain mol.xyz --model models/schnet-energy-cpu-fold0 [--model models/bp-dipole-cpu-fold0]
                    [--csv atoms.csv] [--probe C] [--esp] [--cube DIR] [--spacing 0.25]

reads the molecule(s) of an xyz file (Å), prints each model's molecular prediction with its unit and a
table with one row per atom — index, element, x, y, z (Å) and every model's latent term: the atomic
energy E_i (kcal/mol, energy models; Σ E_i = the predicted atomization energy) or the partial charge
q_i (e, dipole models; μ = Σ q_i r_i). ``--csv`` writes that table (atomically).

``--probe SYMBOL``, ``--esp``, ``--cube DIR`` and ``--spacing`` ask for spatial outputs (the local
chemical potential of a probe atom, the electrostatic potential of the latent charges, cube files and
PNG cuts); they are handed to :func:`atomint_helpers.interpret.spatial.write_spatial`.

Bad input — a missing or malformed file, an element a model was not trained on, a missing checkpoint —
ends with one line ``atomint: error: …`` and exit status 2.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .. import AtomintError

DEFAULT_SPACING = 0.25
_HEADERS = {"energy": ("E_i", "kcal/mol", "atomic_energy_kcal_mol"),
            "dipole": ("q_i", "e", "charge_e")}


def _labels(folders: list[Path]) -> list[str]:
    names = [f.name for f in folders]
    if len(set(names)) == len(names):
        return names
    return [str(f) for f in folders]


def explain(frames: list, models: list, labels: list[str] | None = None):
    """``(table, predictions)`` for molecules (``ase.Atoms``) under models.

    ``table``: one row per atom — ``frame`` (molecule number in the file), ``index``, ``element``,
    ``x_A``, ``y_A``, ``z_A`` and per model ``<label>:atomic_energy_kcal_mol`` or ``<label>:charge_e``.
    ``predictions``: one dict per (frame, model) with the molecular output."""
    import pandas as pd
    from ase.data import chemical_symbols

    labels = labels or [f"model{i}" for i in range(len(models))]
    parts, preds = [], []
    for k, atoms in enumerate(frames):
        pos = np.asarray(atoms.positions, dtype=np.float64)
        t = pd.DataFrame({"frame": k, "index": np.arange(len(atoms)),
                          "element": [chemical_symbols[int(z)] for z in atoms.numbers],
                          "x_A": pos[:, 0], "y_A": pos[:, 1], "z_A": pos[:, 2]})
        for label, model in zip(labels, models):
            out = model.predict(atoms)
            target = model.config["target"]
            if target == "energy":
                t[f"{label}:{_HEADERS[target][2]}"] = out["atomic_energies"]
                preds.append({"frame": k, "model": label, "target": target, "energy": out["energy"],
                              "n_atoms": len(atoms)})
            else:
                t[f"{label}:{_HEADERS[target][2]}"] = out["partial_charges"]
                preds.append({"frame": k, "model": label, "target": target, "dipole_moment": out["dipole_moment"],
                              "dipole_vector": np.asarray(out["dipole_vector"]).tolist(), "n_atoms": len(atoms)})
        parts.append(t)
    return pd.concat(parts, ignore_index=True), preds


def _prediction_line(p: dict) -> str:
    from ..units import EV_TO_KCAL_MOL

    if p["target"] == "energy":
        e = p["energy"]
        return (f"{p['model']}: atomization energy {e:,.2f} kcal/mol ({e / EV_TO_KCAL_MOL:,.3f} eV) "
                f"= Σ of {p['n_atoms']} atomic energies E_i")
    x, y, z = p["dipole_vector"]
    return (f"{p['model']}: dipole moment |μ| = {p['dipole_moment']:.3f} D, μ = ({x:+.3f}, {y:+.3f}, {z:+.3f}) D "
            f"(centre of mass) = Σ q_i r_i over {p['n_atoms']} partial charges q_i")


def format_table(t, labels: list[str], models: list) -> str:
    """The per-atom table as aligned text (one header line with units)."""
    cols = ["index", "element", "x_A", "y_A", "z_A"]
    heads = ["atom", "el", "x (Å)", "y (Å)", "z (Å)"]
    for label, m in zip(labels, models):
        sym, unit, col = _HEADERS[m.config["target"]]
        cols.append(f"{label}:{col}")
        heads.append(f"{sym} {label} ({unit})")
    fmt = {"x_A": "{:.4f}", "y_A": "{:.4f}", "z_A": "{:.4f}"}
    for c in cols[5:]:
        fmt[c] = "{:.3f}" if c.endswith("kcal_mol") else "{:+.4f}"
    body = [[str(v) if c not in fmt else fmt[c].format(v) for c, v in zip(cols, row)]
            for row in t[cols].itertuples(index=False)]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(heads, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in body]
    return "\n".join(lines)


def write_csv(t, path) -> Path:
    """Write the table as CSV atomically (temporary file, then rename)."""
    from ..store import atomic_write_bytes

    path = Path(path)
    if path.parent and not path.parent.is_dir():
        raise AtomintError(f"cannot write {path}: folder {path.parent} does not exist")
    buf = io.StringIO()
    t.to_csv(buf, index=False, float_format="%.6f")
    atomic_write_bytes(path, buf.getvalue().encode("utf-8"))
    return path


def _spatial_writer():
    """``write_spatial`` of :mod:`atomint_helpers.interpret.spatial`, imported only when asked for."""
    try:
        from .spatial import write_spatial
    except ImportError as e:
        if isinstance(e, ModuleNotFoundError) and not (e.name or "").endswith("interpret.spatial"):
            raise
        raise AtomintError("spatial outputs (--probe/--esp/--cube) need atomint_helpers.interpret.spatial") from None
    return write_spatial


def _spatial(args, write_spatial, frames, models) -> list[Path]:
    if len(frames) != 1:
        raise AtomintError(f"spatial outputs (--probe/--esp/--cube) need an xyz file with one molecule; "
                           f"{args.xyz} holds {len(frames)}")
    spacing = DEFAULT_SPACING if args.spacing is None else float(args.spacing)
    if not spacing > 0:
        raise AtomintError(f"--spacing must be a positive length in Å, got {args.spacing}")
    out_dir = Path(args.cube) if args.cube else Path(f"{Path(args.xyz).stem}-spatial")
    return list(write_spatial(frames[0], models, out_dir, args.probe, bool(args.esp), spacing))


def _cli_explain(args) -> int:
    from .. import store
    from ..data.xyz import check_molecule, read_xyz

    spatial = bool(args.probe or args.esp or args.cube)
    write_spatial = _spatial_writer() if spatial else None
    frames = read_xyz(args.xyz)
    for k, atoms in enumerate(frames):
        check_molecule(atoms, f"{args.xyz}" + (f", molecule {k + 1}" if len(frames) > 1 else ""))
    folders = [Path(m) for m in args.model]
    models = [store.load_model(f) for f in folders]
    labels = _labels(folders)
    t, preds = explain(frames, models, labels)
    for k, atoms in enumerate(frames):
        head = f"{args.xyz}" + (f" (molecule {k + 1} of {len(frames)})" if len(frames) > 1 else "")
        print(f"{head}: {atoms.get_chemical_formula()}, {len(atoms)} atoms")
        for p in preds:
            if p["frame"] == k:
                print("  " + _prediction_line(p))
        print(format_table(t[t["frame"] == k], labels, models))
    if any(m.config["target"] == "dipole" for m in models):
        print("note: dipole models are trained on |μ| only, so the overall sign of their charges (and of μ) is "
              "the model's convention")
    if args.csv:
        print(f"wrote {write_csv(t, args.csv)}")
    if spatial:
        for path in _spatial(args, write_spatial, frames, models):
            print(f"wrote {path}")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("explain", help="per-atom latent energies / charges of a molecule (xyz file)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("xyz", help="xyz file (Å); several molecules one after another are fine")
    p.add_argument("--model", action="append", required=True, metavar="CHECKPOINT",
                   help="checkpoint folder, e.g. models/schnet-energy-cpu-fold0 (repeatable)")
    p.add_argument("--csv", metavar="FILE", help="also write the per-atom table as CSV")
    p.add_argument("--probe", metavar="SYMBOL", help="probe element for the local chemical potential (e.g. C)")
    p.add_argument("--esp", action="store_true", help="electrostatic potential of the latent charges")
    p.add_argument("--cube", metavar="DIR", help="folder for cube files and PNG cuts (default: <xyz stem>-spatial)")
    p.add_argument("--spacing", type=float, default=None, metavar="Å",
                   help=f"grid spacing of the spatial outputs in Å (default {DEFAULT_SPACING})")
    p.set_defaults(func=_cli_explain)
