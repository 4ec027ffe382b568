"""``atomint explain``: what trained models say about your molecules, atom by atom.

::

    atomint explain mol.sdf [--model schnet-energy-cpu] [--model models/bp-dipole-cpu-fold0] [--csv atoms.csv]
                    [--json out.json|-]
                    [--png mol.png] [--probe C] [--esp] [--cube DIR] [--spacing 0.25]
    atomint explain --smiles "CC(=O)Oc1ccccc1C(=O)O"

reads every molecule of a file ASE reads (xyz — QM9's own ``dsgdb9nsd_*.xyz`` included —, extxyz, sdf, pdb,
cif, …; several molecules give one block each) or embeds a SMILES with RDKit, and prints each model's
molecular prediction with its unit and a table with one row per atom: index, element, x, y, z (Å) and the
latent term of every model — the atomic energy E_i (kcal/mol, Σ E_i = the atomization energy) or the
partial charge q_i (e, μ = Σ q_i r_i). A ``--model`` is a checkpoint folder or a name such as
``schnet-energy-cpu``, which means every fold found: then the table shows the fold mean and its spread
(standard deviation). Before any model runs, every structure goes through the applicability check
(:mod:`atomint_helpers.data.applicability`): one the models cannot judge — non-finite coordinates, an
element they do not know, atoms closer than in QM9, isolated atoms or fragments, a net charge, an open
shell, a periodic cell — is refused in one line; ``--allow-outside`` evaluates it anyway, with a warning
and every output row marked (``outside_qm9`` in the CSV). Without ``--model``: ``schnet-energy-cpu`` and
``schnet-dipole-cpu``. Warnings say where a model extrapolates (more than nine heavy atoms, atoms closer than in QM9, BP symmetry functions
outside their training range, a force-field geometry). ``--csv`` writes the table (one row per atom, a
``frame`` column per molecule), ``--png`` a 2D depiction coloured by the first model's latent term,
``--json FILE`` (``-``: standard output, then without the text report) every molecule's predictions with
their fold spread, per-atom terms, warnings and applicability findings.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .. import AtomintError, MissingError, store
from ..calculator import check_ensemble, element_references
from ..data.applicability import ALLOW_KEY, OUTSIDE_MARK
from ..data.readers import read_molecules
from ..data.xyz import screen_molecule
from ..depict import depict_latent
from ..data.smiles import smiles_to_atoms
from ..models.domain import domain_warnings
from ..exports import write_spatial
from .args import grid_spacing
from .explain_table import explain, format_table, model_labels, prediction_line, write_csv
from .output import add_json_option, emit_json, say

DEFAULT_MODELS = ("schnet-energy-cpu", "schnet-dipole-cpu")
#: grid spacing (Å) of the spatial outputs when ``--spacing`` is not given
DEFAULT_SPACING = 0.25


def _model_sets(specs, models_dir) -> tuple[list[list[Path]], list[str]]:
    if not specs:
        specs = []
        for name in DEFAULT_MODELS:
            try:
                store.resolve_folders(name, models_dir)
            except MissingError:
                continue
            specs.append(name)
        if not specs:
            raise MissingError(f"no --model given and no {' or '.join(DEFAULT_MODELS)} checkpoints in "
                               f"{', '.join(map(str, store.model_dirs(models_dir)))}: pass --model FOLDER or a name "
                               f"like schnet-energy-quick (see `atomint models`)")
    sets = [store.resolve_folders(s, models_dir) for s in specs]
    return sets, model_labels([Path(str(s)) for s in specs])


def _cli_explain(args) -> int:
    if bool(args.structure) == bool(args.smiles):
        raise AtomintError("give a molecule file or --smiles (one of the two)")
    if args.smiles:
        atoms, _ = smiles_to_atoms(args.smiles)  # its warning comes back through domain_warnings
        frames, source = [atoms], f"SMILES {args.smiles}"
    else:
        frames, source = read_molecules(args.structure), args.structure
    sets, labels = _model_sets(args.model, args.models_dir)
    for folders in sets:
        check_ensemble(folders)
    models = [[store.load_model(f) for f in folders] for folders in sets]
    for folders, ms in zip(sets, models):
        if ms[0].config["target"] not in ("energy", "dipole"):
            raise AtomintError(f"{folders[0]} predicts {ms[0].config['target']!r}; atomint explain reads molecules "
                               f"with energy and dipole models (targets energy, dipole)")
    known = sorted(set.intersection(*(set(int(z) for z in m.config["elements"]) for ms in models for m in ms)))
    screened, outside = [], []
    for k, atoms in enumerate(frames):  # every frame is checked once, before any model sees one
        found = screen_molecule(atoms, source + (f", molecule {k + 1}" if len(frames) > 1 else ""), elements=known)
        messages = found.enforce(args.allow_outside)
        screened.append(found)
        outside.append(messages if not found.inside else [])  # refused unless allowed: then warned and marked
        if args.allow_outside:
            atoms.info[ALLOW_KEY] = True
    t, preds = explain(frames, models, labels)
    t["outside_qm9"] = [bool(outside[k]) for k in t["frame"]]
    molecules = []
    for k, atoms in enumerate(frames):
        head = source + (f" (molecule {k + 1} of {len(frames)})" if len(frames) > 1 else "")
        mark = f" [{OUTSIDE_MARK}: the models cannot judge this structure]" if outside[k] else ""
        say(args, f"{head}: {atoms.get_chemical_formula()}, {len(atoms)} atoms{mark}")
        for w in outside[k]:
            print(f"atomint: warning: {OUTSIDE_MARK}: {w}", file=sys.stderr)
        said = {w.lower().rstrip(".") for w in outside[k]}
        warned = [w for w in dict.fromkeys(domain_warnings(atoms, [m for ms in models for m in ms]))
                  if w.lower().rstrip(".") not in said]
        for w in warned:
            print(f"atomint: warning: {w}", file=sys.stderr)
        for p in preds:
            if p["frame"] == k:
                say(args, "  " + (f"[{OUTSIDE_MARK}] " if outside[k] else "") + prediction_line(p))
        say(args, format_table(t[t["frame"] == k], labels, models))
        molecules.append(_molecule_record(k, head, atoms, screened[k], outside[k], warned, preds, t, labels))
    if any(ms[0].config["target"] == "dipole" for ms in models):
        say(args, "note: dipole models are trained on |μ| only; each checkpoint's charge sign was fixed when it was "
                  "loaded (positive correlation with QM9's Mulliken charges)")
    if args.csv:
        say(args, f"wrote {write_csv(t, args.csv)}")
    if args.png:
        say(args, *(f"wrote {p}" for p in _pictures(args.png, frames, t, labels[0], models[0], outside)))
    if args.json:
        emit_json(args, {"source": source, "models": _model_records(labels, models), "molecules": molecules})
    if args.probe or args.esp or args.cube:
        if len(frames) != 1:
            raise AtomintError(f"spatial outputs (--probe/--esp/--cube) need one molecule; {source} holds "
                               f"{len(frames)}")
        spacing = DEFAULT_SPACING if args.spacing is None else args.spacing
        stem = Path(args.structure).stem if args.structure else "smiles"
        out_dir = Path(args.cube) if args.cube else Path(f"{stem}-spatial")
        for path in write_spatial(frames[0], [ms[0] for ms in models], out_dir, args.probe, bool(args.esp), spacing,
                                  allow_outside=args.allow_outside, checked=True, outside=bool(outside[0])):
            say(args, f"wrote {path}")
    return 0


#: per target: the unit of the molecular prediction, of the per-atom term, and the term's name
_UNITS = {"energy": ("kcal/mol", "kcal/mol", "atomic energy E_i; Σ_i E_i = the atomization energy"),
          "dipole": ("D", "e", "partial charge q_i; μ = Σ_i q_i (r_i − r_COM)")}


def _model_records(labels, models) -> list[dict]:
    """``--json``: per model label its target, units and the checkpoints averaged (the folds)."""
    out = []
    for label, ms in zip(labels, models):
        target = ms[0].config["target"]
        unit, term_unit, term = _UNITS[target]
        out.append({"label": label, "model": ms[0].config["model"], "target": target, "unit": unit,
                    "term": term, "term_unit": term_unit, "checkpoints": [str(m.checkpoint) for m in ms],
                    "charge_signs": [m.charge_sign for m in ms] if target == "dipole" else None})
    return out


def _molecule_record(k, name, atoms, screened, outside, warned, preds, t, labels) -> dict:
    """``--json``: one molecule: its predictions (fold mean and spread), per-atom terms, warnings and the
    applicability findings (``screened``: refusals and warnings, whether or not ``--allow-outside`` let it
    through)."""
    found = screened.findings
    rows = t[t["frame"] == k]
    atom_rows = []
    for _, r in rows.iterrows():
        terms = {label: {c.split(":", 1)[1]: r[c] for c in rows.columns if c.startswith(label + ":")}
                 for label in labels}
        atom_rows.append({"index": int(r["index"]), "element": r["element"],
                          "position_A": [r["x_A"], r["y_A"], r["z_A"]], "terms": terms})
    return {"frame": k, "name": name, "formula": atoms.get_chemical_formula(), "n_atoms": len(atoms),
            "outside_qm9": bool(outside), "warnings": list(outside) + list(warned),
            "applicability": [{"code": f.code, "message": f.message, "atoms": list(f.atoms), "refuse": f.refuse}
                              for f in found],
            "predictions": [{**{key: v for key, v in p.items() if key != "frame"}, "unit": _UNITS[p["target"]][0]}
                            for p in preds if p["frame"] == k],
            "atoms": atom_rows}


def _pictures(png: str, frames, t, label: str, models, outside) -> list[Path]:
    """One depiction per molecule, marked where it is an allowed outsider (``outside``: per molecule, the
    refusals ``--allow-outside`` let through). Energies are shown as E_i − b_Z, the atom's energy relative to its
    element's least-squares energy over the training molecules (the energy head's shift, fold mean), so
    the colours say which atoms are more (blue) or less (red) stable than their element's average in QM9;
    charges as they are, around zero."""
    target = models[0].config["target"]
    col = f"{label}:{'atomic_energy_kcal_mol' if target == 'energy' else 'charge_e'}"
    out = []
    for k, atoms in enumerate(frames):
        values = t.loc[t["frame"] == k, col].to_numpy()
        if target == "energy":
            values = values - element_references(models, atoms.numbers)
            what, unit, bar = "Latent atomic energy minus its element's reference", "kcal/mol", r"$E_i - b_Z$ (kcal/mol)"
        else:
            what, unit, bar = "Latent partial charge", "e", r"$q_i$ (e)"
        path = Path(png) if len(frames) == 1 else Path(png).with_name(f"{Path(png).stem}-{k + 1}{Path(png).suffix}")
        mark = f" [{OUTSIDE_MARK}]" if outside[k] else ""
        out.append(depict_latent(atoms, values, f"{what}\n({label}){mark}", unit, path, reference=0.0, bar_label=bar))
    return out


def add_cli(sub) -> None:
    p = sub.add_parser("explain", help="per-atom latent energies / charges of your molecules",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("structure", nargs="?", help="molecule file: xyz (Å), extxyz, sdf, pdb, cif, … (several "
                   "molecules one after another are fine)")
    p.add_argument("--smiles", help="a SMILES instead of a file (RDKit embedding + MMFF geometry, not B3LYP)")
    p.add_argument("--model", action="append", metavar="CHECKPOINT|NAME",
                   help="checkpoint folder (models/schnet-energy-cpu-fold0) or a name meaning every fold "
                        f"(schnet-energy-cpu); repeatable; default: {', '.join(DEFAULT_MODELS)}")
    p.add_argument("--models-dir", default=None, metavar="DIR",
                   help="where names are looked up (default: $ATOMINT_MODELS, ./models, the repository's models/)")
    p.add_argument("--csv", metavar="FILE", help="also write the per-atom table as CSV")
    add_json_option(p, "every molecule's predictions (fold mean and spread), per-atom terms, warnings and "
                       "applicability findings")
    p.add_argument("--png", metavar="FILE", help="a 2D depiction coloured by the first model's latent term")
    p.add_argument("--probe", metavar="SYMBOL", help="probe element for the local chemical potential (e.g. C)")
    p.add_argument("--esp", action="store_true", help="electrostatic potential of the latent charges")
    p.add_argument("--cube", metavar="DIR", help="folder for cube files and PNG cuts (default: <stem>-spatial)")
    p.add_argument("--allow-outside", action="store_true",
                   help="evaluate structures the models cannot judge (isolated atoms, fragments, charges, open "
                        "shells, atoms closer than in QM9, ...) instead of refusing them; every output row is "
                        f"marked {OUTSIDE_MARK!r}")
    p.add_argument("--spacing", type=grid_spacing, default=None, metavar="Å",
                   help=f"grid spacing of the spatial outputs in Å (default {DEFAULT_SPACING})")
    p.set_defaults(func=_cli_explain)
