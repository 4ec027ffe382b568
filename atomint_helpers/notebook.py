"""Glue shared by the book's notebooks: parameter checking and profile-aware data loading.

Every notebook has a ``parameters`` cell (papermill) with ``profile``, ``data_dir``, ``models_dir``,
``folds`` and ``out_dir``, and its first cell after that is::

    from atomint_helpers.notebook import check_params
    p = check_params(profile=profile, data_dir=data_dir, models_dir=models_dir, folds=folds, out_dir=out_dir)

which raises a one-line :class:`~atomint_helpers.AtomintError` naming the bad parameter and what it
accepts. Relative paths are resolved against the project root (the folder holding ``_toc.yml``), so a
notebook behaves the same under papermill (cwd = wherever it was started), nbval (cwd = ``notebooks/``)
and Jupyter.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import AtomintError

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


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as a reader of the book should see it: the message, without the source file and line
    that Python prints by default (a path of the machine that built the book). atomint's own warnings
    start with ``atomint:`` and need no category in front."""
    text = str(message)
    return f"{text}\n" if text.startswith("atomint:") else f"{category.__name__}: {text}\n"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _sharp_figures() -> None:
    """Inline figures as PNG at twice ``figure.dpi`` (200 dpi), shown at their size in inches: the figure
    standard's >= 150 dpi, with text at its point size on the page (``plots.style``)."""
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # no inline backend (a plain IPython shell): nothing to set
        return
    set_matplotlib_formats("retina")


def check_params(*, profile="cpu", data_dir=None, models_dir="models", folds=(0, 1, 2),
                 out_dir="_build/results", require_models: bool = True) -> Params:
    """Validate a notebook's parameters; raise a one-line ``AtomintError`` naming the bad one.

    In a notebook kernel (papermill, Jupyter, nbval) it also makes warnings print without their source
    file and line (:func:`_format_warning`) and figures render at 200 dpi (:func:`_sharp_figures`): the
    executed notebooks become pages of the book."""
    if _in_kernel():
        import warnings

        warnings.formatwarning = _format_warning
        _sharp_figures()
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
