"""Glue shared by the book's notebooks: parameter checking and profile-aware data loading.

Every notebook has a ``parameters`` cell (papermill) with ``profile``, ``data_dir``, ``models_dir``,
``folds`` and ``out_dir``, and its first cell after that is::

    from atomint_helpers.notebook import check_params
    p = check_params(profile=profile, data_dir=data_dir, models_dir=models_dir, folds=folds, out_dir=out_dir)

which raises a one-line :class:`~atomint_helpers.AtomintError` naming the bad parameter and what it
accepts, or a name papermill injected that the parameters cell does not declare. Chapters that take the
reader's molecules (probe, ESP) check theirs with :func:`check_chapter`. Relative paths are resolved against the project root (the folder holding ``_toc.yml``), so a
notebook behaves the same under papermill (cwd = wherever it was started), nbval (cwd = ``notebooks/``)
and Jupyter.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import AtomintError
from .data.elements import QM9_SYMBOLS

PROFILES = ("quick", "cpu", "paper")
PROFILE_HELP = {
    "quick": "embedded real samples, seconds (tests, nbval)",
    "cpu": "full data when available, committed checkpoints",
    "paper": "full data, the paper's hyperparameters (GPU)",
}


def project_root() -> Path:
    """The folder holding ``_toc.yml`` and ``atomint_helpers/``: searched upwards from the working
    directory, then from this package's location; the working directory if neither has it."""
    here = Path(__file__).resolve().parent.parent
    for start in (Path.cwd().resolve(), here):
        for d in (start, *start.parents):
            if (d / "_toc.yml").is_file() and (d / "atomint_helpers").is_dir():
                return d
    return Path.cwd().resolve()


def resolve(path: str | os.PathLike, root: Path | None = None) -> Path:
    """``path`` itself if absolute, else relative to the project root."""
    p = Path(os.path.expandvars(os.fspath(path))).expanduser()
    return p if p.is_absolute() else (root or project_root()) / p


def _one_line(msg: str) -> AtomintError:
    """A bad parameter's error. In a notebook kernel (papermill, Jupyter, nbval) it shows as its one line,
    without a traceback through this module: IPython prints what an exception's ``_render_traceback_``
    returns, and papermill reports exactly those lines (in the executed notebook and in its own error)."""
    err = AtomintError(" ".join(msg.split()))
    err._render_traceback_ = lambda: [f"AtomintError: {err}"]
    return err


@dataclass(frozen=True)
class Params:
    """Checked notebook parameters (paths absolute)."""

    profile: str
    data_dir: Path | None
    models_dir: Path
    folds: tuple[int, ...]
    out_dir: Path

    @property
    def quick(self) -> bool:
        return self.profile == "quick"

    def qm9(self):
        """QM9 for this profile: the embedded sample for ``quick``, else ``load_qm9(data_dir)`` (the full
        set when it can be found; the sample with a visible warning when not)."""
        from .data.qm9 import load_qm9, load_sample

        return load_sample() if self.quick else load_qm9(self.data_dir)

    def crystals(self):
        """The Materials Project crystals for this profile (embedded sample for ``quick``)."""
        from .data import crystals as _c
        from .data.paths import SAMPLE_DIR

        if self.quick:
            return _c.read_npz(SAMPLE_DIR / "mp_sample.npz", "sample")
        if self.data_dir is not None:
            from .data.paths import find_file

            if find_file(self.data_dir, "mp.npz", "mp") is not None:
                return _c.load_crystals(self.data_dir)
            import warnings

            warnings.warn(f"atomint: data_dir {self.data_dir} holds no mp/mp.npz; looking for the crystals in "
                          f"ATOMINT_DATA and the cache instead", stacklevel=2)
        return _c.load_crystals()

    def context(self, **extra) -> dict:
        """Provenance for :func:`atomint_helpers.scorecard.record`."""
        return {"profile": self.profile, **extra}


def check_params(*, profile="cpu", data_dir=None, models_dir="models", folds=(0, 1, 2),
                 out_dir="_build/results", require_models: bool = True) -> Params:
    """Validate a notebook's parameters; raise a one-line ``AtomintError`` naming the bad one.

    In a notebook kernel (papermill, Jupyter, nbval) it also prepares the kernel for the book's pages
    (:func:`atomint_helpers.kernel.prepare`: warnings without source paths, sharp figures, whole table
    cells) and refuses a parameter papermill injected that the notebook does not declare."""
    from . import kernel

    if kernel.in_kernel():
        kernel.prepare()
        unknown, declared = kernel.injected_unknown()
        if unknown:
            raise _one_line(f"unknown parameter {', '.join(repr(n) for n in unknown)}: this notebook's parameters "
                            f"are {', '.join(declared)}")
    root = project_root()

    if not isinstance(profile, str) or profile not in PROFILES:
        raise _one_line(f"bad parameter profile={profile!r}: accepted values are "
                        + ", ".join(f"'{p}' ({PROFILE_HELP[p]})" for p in PROFILES))

    data_path = None
    if data_dir is not None and str(data_dir).strip() != "":
        if not isinstance(data_dir, (str, os.PathLike)):
            raise _one_line(f"bad parameter data_dir={data_dir!r}: accepted values are None or a folder holding "
                            f"qm9/qm9.npz (e.g. the ATOMINT_DATA folder)")
        from .data.paths import find_file

        data_path = resolve(data_dir, root)
        if not data_path.is_dir():
            raise _one_line(f"bad parameter data_dir={os.fspath(data_dir)!r}: folder {data_path} does not exist; "
                            f"accepted values are None (find the data automatically) or a folder holding "
                            f"qm9/qm9.npz — run `atomint data fetch` or point it at your ATOMINT_DATA folder")
        if find_file(data_path, "qm9.npz", "qm9") is None:
            raise _one_line(f"bad parameter data_dir={os.fspath(data_dir)!r}: {data_path} holds no QM9 "
                            f"(looked for qm9/qm9.npz and qm9.npz); accepted values are None or a folder holding "
                            f"qm9/qm9.npz — run `atomint data fetch`")

    if not isinstance(models_dir, (str, os.PathLike)) or not str(models_dir).strip():
        raise _one_line(f"bad parameter models_dir={models_dir!r}: accepted values are a folder of checkpoints, "
                        f"e.g. 'models' (relative to the project root {root})")
    models_path = resolve(models_dir, root)
    if require_models and not models_path.is_dir():
        raise _one_line(f"bad parameter models_dir={os.fspath(models_dir)!r}: folder {models_path} does not "
                        f"exist; accepted values are an existing folder of checkpoints, e.g. 'models'")

    try:
        fold_list = list(folds)
    except TypeError:
        fold_list = None
    if (not fold_list or any(isinstance(f, bool) or not isinstance(f, int) or f < 0 for f in fold_list)
            or len(set(fold_list)) != len(fold_list)):
        raise _one_line(f"bad parameter folds={folds!r}: accepted values are a non-empty list of distinct "
                        f"non-negative integers, e.g. [0, 1, 2]")

    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir).strip():
        raise _one_line(f"bad parameter out_dir={out_dir!r}: accepted values are a folder path for the "
                        f"results, e.g. '_build/results'")
    out_path = resolve(out_dir, root)
    if out_path.exists() and not out_path.is_dir():
        raise _one_line(f"bad parameter out_dir={os.fspath(out_dir)!r}: {out_path} is a file; accepted values "
                        f"are a folder path, e.g. '_build/results'")

    return Params(profile, data_path, models_path, tuple(int(f) for f in fold_list), out_path)


def check_choice(name: str, values, accepted) -> list:
    """Validate a list-valued notebook parameter against its accepted values (one-line error otherwise)."""
    if isinstance(values, str):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        values = None
    if not values or any(v not in accepted for v in values):
        raise _one_line(f"bad parameter {name}={values!r}: accepted values are a non-empty list of "
                        + ", ".join(repr(a) for a in accepted))
    return values


def check_smiles(name: str, value, names: dict) -> str:
    """Validate a molecule parameter that is either a key of ``names`` (name → SMILES) or a SMILES RDKit
    parses into one molecule; return the SMILES. One-line error listing the accepted names otherwise."""
    if isinstance(value, str) and value in names:
        return names[value]
    accepted = ", ".join(repr(n) for n in names)
    if isinstance(value, str) and value.strip():
        from rdkit import Chem, RDLogger

        RDLogger.DisableLog("rdApp.*")
        try:
            mol = Chem.MolFromSmiles(value)
        finally:
            RDLogger.EnableLog("rdApp.*")
        if mol is not None and len(Chem.GetMolFrags(mol)) == 1:
            return value
    raise _one_line(f"bad parameter {name}={value!r}: accepted values are a name ({accepted}) or a SMILES of "
                    f"one molecule that RDKit reads, e.g. 'CCO'")


# ------------------------------------------------------------------------------------------ chapter parameters
#: elements a probe atom may be: those every energy model has a network or embedding for (QM9's)
PROBE_ELEMENTS = QM9_SYMBOLS
#: ``model`` parameter → the checkpoint keys and labels it stands for
MODEL_CHOICES = {"both": (("schnet", "SchNet"), ("bp", "BP")), "schnet": (("schnet", "SchNet"),),
                 "bp": (("bp", "BP"),)}
#: accepted grid spacing of a cut (Å): below 0.02 Å a cut of the book's width has millions of points
SPACING_RANGE = (0.02, 1.0)


def check_names(notebook: str | os.PathLike, names) -> None:
    """Refuse parameter names that ``notebook``'s parameters cell does not declare (papermill itself only
    warns about them and runs the chapter with its defaults)."""
    import papermill as pm

    path = resolve(notebook)
    declared = list(pm.inspect_notebook(str(path)))
    unknown = [n for n in names if n not in declared]
    if unknown:
        raise _one_line(f"unknown parameter {', '.join(repr(n) for n in unknown)} for {path.name}: its parameters "
                        f"are {', '.join(declared)}")


def _as_list(value) -> list:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value) if isinstance(value, (list, tuple)) else []


def _one_molecule(item: str, root: Path):
    """``(label, ase.Atoms)`` for a name of the embedded sample's named molecules, a molecule file (xyz, sdf,
    ...: one structure) or a SMILES (3D geometry from RDKit and MMFF94)."""
    from .data.qm9 import NAMED, load_sample

    if item in NAMED:
        return item, load_sample().atoms(NAMED[item])
    path = resolve(item, root)
    if path.is_file():
        from .data.readers import read_molecules

        frames = read_molecules(path)
        if len(frames) != 1:
            raise AtomintError(f"{path.name} holds {len(frames)} structures; give a file with one molecule")
        return path.stem, frames[0]
    from .data.smiles import smiles_to_atoms

    try:
        return item, smiles_to_atoms(item)[0]
    except AtomintError:
        raise AtomintError(f"not a name ({', '.join(NAMED)}), an existing molecule file or a SMILES RDKit "
                           f"reads") from None


def check_molecules(value, default: tuple[str, ...]) -> dict:
    """``{label: ase.Atoms}`` for the ``molecules`` parameter: a list or comma-separated string of names of
    the embedded sample's named molecules, xyz paths or SMILES, each passed through the applicability check
    (QM9's elements, neutral, closed shell, no atoms closer than in QM9)."""
    from .data.applicability import check_applicability
    from .data.qm9 import NAMED

    items = _as_list(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise _one_line(f"bad parameter molecules={value!r}: accepted values are a non-empty list (or a "
                        f"comma-separated string) of names ({', '.join(NAMED)}), xyz files or SMILES, e.g. "
                        f"{', '.join(default[:2])!r}")
    root, out = project_root(), {}
    for item in items:
        try:
            label, atoms = _one_molecule(item, root)
            check_applicability(atoms, label).enforce(False)
        except AtomintError as e:
            raise _one_line(f"bad parameter molecules: {item!r}: {e}") from None
        out[label] = atoms
    return out


def check_model(value, order=("schnet", "bp")) -> dict:
    """``{label: checkpoint key}`` for the ``model`` parameter (``both``, ``schnet`` or ``bp``), in the
    chapter's ``order`` of checkpoint keys."""
    if not isinstance(value, str) or value.lower() not in MODEL_CHOICES:
        raise _one_line(f"bad parameter model={value!r}: accepted values are "
                        + ", ".join(repr(m) for m in MODEL_CHOICES))
    chosen = dict(MODEL_CHOICES[value.lower()])
    return {chosen[key]: key for key in order if key in chosen}


def check_fold(value, p: Params, keys, target: str):
    """The checkpoint fold for the ``fold`` parameter: None (the first of ``folds`` found) or a fold whose
    checkpoints of every model in ``keys`` exist in ``models_dir``."""
    if value is None:
        return None
    from .store import is_checkpoint, run_name

    names = {d.name for d in p.models_dir.glob(f"*-{target}-{p.profile}-fold*")}
    found = sorted(k for k in {int(n.rsplit("fold", 1)[1]) for n in names if n.rsplit("fold", 1)[1].isdigit()}
                   if all(is_checkpoint(p.models_dir / run_name(m, target, p.profile, k)) for m in keys))
    if isinstance(value, bool) or not isinstance(value, int) or value not in found:
        have = ", ".join(map(str, found)) or f"none: no {target} checkpoints of the {p.profile} profile"
        raise _one_line(f"bad parameter fold={value!r}: accepted values are None (the first of folds found) or a "
                        f"fold with {'/'.join(keys)} {target} checkpoints in {p.models_dir} ({have})")
    return value


def check_element(value) -> str:
    """The probe element's symbol for the ``probe_element`` parameter (one of :data:`PROBE_ELEMENTS`)."""
    if not isinstance(value, str) or value.strip().capitalize() not in PROBE_ELEMENTS:
        raise _one_line(f"bad parameter probe_element={value!r}: accepted values are the elements the models "
                        f"know, {', '.join(repr(e) for e in PROBE_ELEMENTS)}")
    return value.strip().capitalize()


def check_spacing(value):
    """The cut's grid spacing in Å for the ``spacing`` parameter: None (the profile's default) or a number
    in :data:`SPACING_RANGE`."""
    if value is None:
        return None
    lo, hi = SPACING_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise _one_line(f"bad parameter spacing={value!r}: accepted values are None (the profile's default) or a "
                        f"grid spacing in Å from {lo} to {hi}")
    return float(value)


@dataclass(frozen=True)
class Chapter:
    """A chapter's checked input: its molecules (``{label: ase.Atoms}``), models (``{label: checkpoint
    key}``), checkpoint fold (None: the first of ``folds`` found), probe element, cut spacing (Å; None: the
    profile's default) and ``paper``: True when all of them are the paper figure's own, the only input on
    which the chapter decides the paper's claims."""

    molecules: dict
    models: dict
    fold: int | None
    probe: str
    spacing: float | None
    paper: bool

    def load(self, p: Params, target: str) -> dict:
        """``{label: model}``: the first checkpoint found of :meth:`folds` for each chosen model."""
        from .store import load_first

        folds = p.folds if self.fold is None else (self.fold,)
        return {label: load_first(p.models_dir, key, target, p.profile, folds)
                for label, key in self.models.items()}


def check_chapter(p: Params, *, molecules, default: tuple[str, ...], target: str, model="both", fold=None,
                  probe_element="C", spacing=None, order=("schnet", "bp")) -> Chapter:
    """Validate the input parameters of a chapter that takes the reader's molecules (probe, ESP); one-line
    ``AtomintError`` naming the bad one. ``default``: the molecules of the paper's figure."""
    models = check_model(model, order)
    fold = check_fold(fold, p, tuple(models.values()), target)
    probe, spacing = check_element(probe_element), check_spacing(spacing)
    mols = check_molecules(molecules, default)
    paper = set(mols) == set(default) and probe == "C" and len(models) == len(MODEL_CHOICES["both"])
    return Chapter(mols, models, fold, probe, spacing, paper)
