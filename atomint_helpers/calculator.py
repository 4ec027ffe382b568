"""An ASE calculator for atomint checkpoints: one fold, or an ensemble of folds.

::

    from atomint_helpers.calculator import AtomintCalculator
    atoms.calc = AtomintCalculator("schnet-energy-cpu")        # every schnet-energy-cpu-fold<k> found
    atoms.get_potential_energy()      # eV: the model's ATOMIZATION energy (QM9 U0 minus atom references)
    atoms.get_forces()                # eV/Å, −∂E/∂r by autograd through the model
    atoms.calc.get_potential_energies(atoms)   # eV, latent atomic energies E_i (Σ_i E_i = energy)
    atoms.calc.atom_table()           # pandas: per atom mean, std across folds, large_spread flag

ASE units throughout: energies in eV (1 kcal/mol = ``ase.units.kcal / ase.units.mol`` eV), forces in
eV/Å, charges in e, the dipole moment in e·Å (1 D = ``ase.units.Debye`` e·Å). Energy checkpoints
implement ``energy``, ``free_energy`` (the same number), ``energies`` and ``forces``; dipole checkpoints
``charges`` and ``dipole``. Any other property raises ASE's ``PropertyNotImplementedError``.

Ensembles: with several folds, ``results`` hold the fold **mean** and ``results_std`` (also stored in
``results`` as ``"<name>_std"``) the standard deviation across folds (ddof = 1); one fold has no std.

Charge sign: a dipole model is trained on |μ|, which does not change when every charge flips sign, so a
checkpoint may have learned the mirror solution. The sign is fixed when the checkpoint is loaded
(:mod:`atomint_helpers.models.charge_sign`: positive correlation with QM9's Mulliken charges on fixed sample
molecules), the same sign every chapter of the book uses; ``charge_signs`` records ±1 per folder.

What the energy models are: they learned QM9 **equilibrium** energies only (every training geometry is a
B3LYP minimum; no force, no distorted geometry was ever in the loss). Energies and latent terms of
(near-)equilibrium structures are what they can be asked for. They are **not a force field**: the forces
are the exact gradient of the model's energy (autograd), but that surface is not trained away from the
minima, so relaxations, dynamics and vibrational frequencies with it are wrong.

Geometry warning: an energy ensemble warns (``UserWarning``, once per molecule formula) when its folds
disagree on the energy by more than ``spread_limit`` eV per atom, by default the 99th percentile of that
disagreement over QM9 molecules held out from every fold at their DFT geometries
(:data:`GEOMETRY_SPREAD_EV_PER_ATOM`, per model, for the ``cpu`` checkpoints it was calibrated on;
``bench/calibrate_spread.py``): a geometry the models did not learn. ``on_spread="raise"`` turns the warning into an error, ``spread_limit=None`` turns it off;
``results["spread_warning"]`` records it.

Large spread: ``atom_table`` flags an atom whose std across folds exceeds ``SPREAD_FACTOR[model]`` × the
*typical* std of its element, defined as the median per-atom std of that element over the first
``N_REFERENCE`` (200) molecules of the embedded QM9 sample (``load_sample()``), computed once per
calculator (elements absent there use the median over all reference atoms). The factor flags about 1 % of
the atoms of held-out QM9 molecules at their DFT geometries.

Applicability: before any model sees a structure, :func:`~atomint_helpers.data.applicability.check_applicability`
runs on it (finite coordinates, known elements, no atoms closer than in QM9, no isolated atoms or fragments,
neutral and closed-shell, no periodic cell, a size budget). A structure the models cannot judge raises one
:class:`~atomint_helpers.AtomintError` line; with ``allow_outside=True`` it is evaluated, the findings are
issued as a ``UserWarning`` and kept in ``calc.applicability``, ``results["outside_qm9"]`` is True and
``atom_table`` marks every row (``outside_qm9``).

Ensembles are checked at construction: every fold of one model, target and training profile, and no
checkpoint listed twice (by folder or by weights sha256) — a duplicate would report a spread of 0.

Smoothness: SchNet energies are smooth in the positions. BP checkpoints with ``clip_features`` clamp every
symmetry function to its training range, so their energy has kinks (forces jump) where a feature reaches a
bound; finite differences across such a point agree with the forces only to ~1e-3 eV/Å even in float64.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes
from ase.units import Debye, kcal, mol

from . import AtomintError
from .store import resolve_folders

KCAL_MOL_IN_EV = kcal / mol  # 1 kcal/mol in eV
DEBYE_IN_E_ANGSTROM = Debye  # 1 D in e·Å
#: ``large_spread``: an atom's fold std over its element's typical std, per model: the 99th percentile of
#: that ratio over the 9,562 atoms of the 528 QM9 molecules held out from every cpu fold, at their DFT
#: geometries (bench/calibrate_spread.py; it flags 1.00 % of SchNet's and BP's atoms there)
SPREAD_FACTOR = {"schnet": 6.30, "bp": 3.86}
#: the geometry warning: the energy's fold std per atom (eV), per model: the 99th percentile over the same
#: held-out molecules (it warns on 1.14 % of them for either model)
GEOMETRY_SPREAD_EV_PER_ATOM = {"schnet": 0.00326, "bp": 0.00235}
N_REFERENCE = 200
#: per target: implemented ASE properties, latent per-atom ASE key, table column stem, unit
_TARGETS = {"energy": (("energy", "free_energy", "energies", "forces"), "energies", "atomic_energy", "eV"),
            "dipole": (("charges", "dipole"), "charges", "charge", "e")}


def element_references(models, numbers) -> np.ndarray:
    """``b_Z`` per atom in kcal/mol, the fold mean of the energy heads' per-element shift: the least-squares
    energy of an atom of that element over the training molecules. ``E_i − b_Z`` < 0 marks an atom more
    stable than the average atom of its element in the training data."""
    if any(m.config["target"] != "energy" for m in models):
        raise AtomintError("element references (b_Z) exist for energy checkpoints only; pass an energy model")
    return np.mean([m.head.shift.double().numpy()[np.asarray(numbers)] for m in models], axis=0)


def check_ensemble(folders) -> None:
    """Refuse an ensemble that is not one: folds trained with different profiles (``quick`` and ``cpu``
    models differ by orders of magnitude in accuracy), or one checkpoint listed twice (same folder or same
    weights sha256), which would shrink the fold spread towards 0."""
    from .store import provenance

    folders = [os.fspath(f) for f in folders]
    if len(folders) < 2:
        return
    seen: dict[str, str] = {}
    profiles: dict[str, list[str]] = {}
    for f in folders:
        real = os.path.realpath(f)
        try:
            prov = provenance(f)
        except (AtomintError, OSError, ValueError):
            prov = {}
        for key in (real, prov.get("weights_sha256")):
            if key and key in seen:
                raise AtomintError(f"ensemble lists the same checkpoint twice ({seen[key]} and {f}); a repeated "
                                   f"fold makes the spread across folds look smaller than it is: list each fold once")
            if key:
                seen[key] = f
        profiles.setdefault(str(prov.get("profile", "unknown")), []).append(os.path.basename(f))
    if len(profiles) > 1:
        which = "; ".join(f"{p}: {', '.join(n)}" for p, n in sorted(profiles.items()))
        raise AtomintError(f"ensemble mixes training profiles ({which}); average folds of one profile only")


def _device(device) -> torch.device:
    """``device`` as a torch device that exists here; one-line error otherwise."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise AtomintError(f"device {device!r} is not a torch device; use 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AtomintError(f"device {device!r}: no CUDA GPU is available here; use device='cpu'")
    return dev


def _fold_stats(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean over axis 0 and std (ddof=1) when there are ≥ 2 folds, else None."""
    return stack.mean(axis=0), (stack.std(axis=0, ddof=1) if len(stack) >= 2 else None)


class AtomintCalculator(Calculator):
    """ASE calculator of one atomint checkpoint or an ensemble of folds (see the module docstring).

    ``models``: a checkpoint folder, a list of folders (same model and target), or a name such as
    ``"schnet-energy-cpu"`` resolved to all ``<name>-fold<k>`` of the first folder holding them: ``models_dir``
    when given, else ``$ATOMINT_MODELS``, ``./models``, the repository's ``models/``
    (:func:`~atomint_helpers.store.finder.model_dirs`). ``dtype``: ``torch.float32``
    (as trained) or ``torch.float64`` (smoother finite differences and optimisations).

    The energy is the model's **atomization energy** (QM9 U0 minus B3LYP atom references) in eV, not a total
    electronic energy, learned at equilibrium geometries only: the models are not a force field (see the
    module docstring). ``spread_limit`` (eV per atom; default :data:`GEOMETRY_SPREAD_EV_PER_ATOM` of the
    model, ``None``: off) and ``on_spread`` (``"warn"`` or ``"raise"``) set the geometry warning.
    """

    default_parameters: dict = {}

    def __init__(self, models, models_dir: str | os.PathLike | None = None, dtype: torch.dtype = torch.float32,
                 allow_outside: bool = False, spread_limit: float | None | str = "calibrated",
                 on_spread: str = "warn", **kwargs):
        super().__init__(**kwargs)
        from .store import load_model

        self.folders = resolve_folders(models, models_dir)
        check_ensemble(self.folders)
        self.allow_outside = bool(allow_outside)
        self.applicability = None
        if dtype not in (torch.float32, torch.float64):
            raise AtomintError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.models = [load_model(f) for f in self.folders]
        if dtype == torch.float64:
            self.models = [m.double() for m in self.models]
        self.dtype = dtype
        kinds = {(m.config["model"], m.config["target"]) for m in self.models}
        if len(kinds) > 1:
            raise AtomintError(f"an ensemble needs checkpoints of one model and target; got "
                               f"{', '.join(sorted('-'.join(k) for k in kinds))}")
        self.model_name, self.target = kinds.pop()
        if self.target not in _TARGETS:
            raise AtomintError(f"AtomintCalculator handles energy and dipole checkpoints of molecules; "
                               f"{self.folders[0]} predicts {self.target!r}")
        self.implemented_properties = list(_TARGETS[self.target][0])
        self.charge_signs = {str(f): m.charge_sign for f, m in zip(self.folders, self.models)}
        self._typical: dict[str, float] | None = None
        if on_spread not in ("warn", "raise"):
            raise AtomintError(f"on_spread must be 'warn' or 'raise', got {on_spread!r}")
        if spread_limit == "calibrated":  # calibrated on the cpu checkpoints; other profiles have no default
            from .store import provenance

            cpu = provenance(self.folders[0]).get("profile") == "cpu"
            spread_limit = GEOMETRY_SPREAD_EV_PER_ATOM.get(self.model_name) if cpu else None
        if spread_limit is not None and not (isinstance(spread_limit, (int, float)) and spread_limit > 0):
            raise AtomintError(f"spread_limit must be a positive number of eV per atom or None, got {spread_limit!r}")
        self.spread_limit, self.on_spread = spread_limit, on_spread
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ model evaluation
    def _evaluate(self, model, atoms, forces: bool) -> dict[str, np.ndarray]:
        """One fold's outputs for ``atoms`` in ASE units (eV, eV/Å, e, e·Å)."""
        from .properties import R_KEY
        from .models import atoms_to_batch

        batch = atoms_to_batch(atoms, model.cutoff, dtype=self.dtype)
        if forces:
            batch[R_KEY].requires_grad_(True)
        with torch.set_grad_enabled(forces):
            out = model(batch)
        if self.target == "energy":
            e = out["energy"].sum()
            res = {"energy": e.detach().double().numpy() * KCAL_MOL_IN_EV,
                   "energies": out["atomic_energies"].detach().double().numpy() * KCAL_MOL_IN_EV}
            if forces:
                (g,) = torch.autograd.grad(e, batch[R_KEY])
                res["forces"] = -g.double().numpy() * KCAL_MOL_IN_EV
            return res
        return {"charges": out["partial_charges"].detach().double().numpy(),
                "dipole": out["dipole_vector"][0].detach().double().numpy() * DEBYE_IN_E_ANGSTROM}

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        """Fold mean of every property of this target into ``results`` and fold std into ``"<name>_std"``."""
        super().calculate(atoms, properties, system_changes)
        self._check(self.atoms)
        forces = self.target == "energy" and "forces" in properties
        folds = [self._evaluate(m, self.atoms, forces) for m in self.models]
        for key in folds[0]:
            mean, std = _fold_stats(np.stack([f[key] for f in folds]))
            self.results[key] = float(mean) if mean.ndim == 0 else mean
            if std is not None:
                self.results[f"{key}_std"] = float(std) if std.ndim == 0 else std
        if self.target == "energy":
            self.results["free_energy"] = self.results["energy"]
            self._check_spread(self.atoms)

    def _check_spread(self, atoms) -> None:
        """The geometry warning (see the module docstring): the folds' energy std per atom against
        ``spread_limit``."""
        std = self.results.get("energy_std")
        self.results["spread_warning"] = False
        if std is None or self.spread_limit is None:
            return
        per_atom = float(std) / max(len(atoms), 1)
        if per_atom <= self.spread_limit:
            return
        self.results["spread_warning"] = True
        msg = (f"atomint: the {len(self.models)} folds disagree on this geometry's energy by {per_atom * 1000:.1f} meV per "
               f"atom, {per_atom / self.spread_limit:.1f}x what they do on QM9 molecules at their DFT geometries: "
               f"it is outside what the energy models learned (equilibrium energies only; they are not a force "
               f"field)")
        if self.on_spread == "raise":
            raise AtomintError(msg + "; pass on_spread='warn' to evaluate it anyway")
        formula = atoms.get_chemical_formula()
        if formula not in self._warned:
            self._warned.add(formula)
            warnings.warn(msg, UserWarning, stacklevel=3)

    def _check(self, atoms) -> None:
        """The applicability check (see the module docstring) with the elements every fold knows."""
        from .data.applicability import check_applicability

        known = set.intersection(*(set(int(z) for z in m.config["elements"]) for m in self.models))
        self.applicability = check_applicability(atoms, "structure", elements=sorted(known))
        found = self.applicability.enforce(self.allow_outside)
        self.results["outside_qm9"] = not self.applicability.inside
        if found and not self.applicability.inside:
            warnings.warn("atomint: outside what the models were trained on: " + "; ".join(found), UserWarning, stacklevel=3)

    # ------------------------------------------------------------------ many molecules
    def predict_many(self, molecules, chunk_size: int = 500, device: str | torch.device = "cpu"):
        """Molecule totals of many molecules (a list of ``ase.Atoms``), one forward pass per chunk of
        ``chunk_size`` molecules and fold, on ``device`` (``"cpu"``, ``"cuda"``, ...). Every molecule first
        passes the applicability check, as in :meth:`calculate` (``allow_outside`` as set here).

        Returns a pandas DataFrame, one row per molecule in input order: ``formula``, ``n_atoms``, the
        target per fold (``energy_eV_fold<k>``: atomization energy in eV; ``dipole_eA_fold<k>``: |μ| in e·Å,
        k numbering the calculator's folds from 0), its fold mean (``energy_eV`` / ``dipole_eA``) and std
        (``energy_std_eV`` / ``dipole_std_eA``, ddof = 1; NaN for one fold), ``outside_qm9``, and for energy
        ensembles ``spread_warning`` (fold std per atom above ``spread_limit``). The dipole's fold mean is the
        mean of the folds' |μ|; ``dipole_x_eA``, ``dipole_y_eA``, ``dipole_z_eA`` are the fold mean of the
        vector, :meth:`calculate`'s ``results["dipole"]``."""
        import pandas as pd

        from .data.applicability import check_applicability
        from .data.batch import AtomsData, molecule_pairs
        from .properties import R_KEY

        molecules = list(molecules)
        if not molecules:
            raise AtomintError("predict_many needs at least one molecule")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise AtomintError(f"chunk_size must be a positive number of molecules, got {chunk_size!r}")
        periodic = [k for k, a in enumerate(molecules) if np.any(a.pbc)]
        if periodic:
            raise AtomintError(f"molecule {periodic[0]} is periodic; predict_many evaluates isolated molecules: "
                               f"pass periodic structures one at a time to calculate()")
        dev = _device(device)
        known = sorted(set.intersection(*(set(int(z) for z in m.config["elements"]) for m in self.models)))
        outside, notes, formulas = [], [], [a.get_chemical_formula() for a in molecules]
        for k, atoms in enumerate(molecules):
            found = check_applicability(atoms, f"molecule {k} ({formulas[k]})", elements=known)
            messages = found.enforce(self.allow_outside)
            outside.append(not found.inside)
            if messages and not found.inside:
                notes.append(f"molecule {k}: " + "; ".join(messages))
        if notes:
            warnings.warn(f"atomint: {len(notes)} molecule(s) outside what the models were trained on (marked outside_qm9): "
                          + " | ".join(notes[:3]) + (" | ..." if len(notes) > 3 else ""), UserWarning, stacklevel=2)
        n = np.array([len(a) for a in molecules])
        offsets = np.concatenate([[0], np.cumsum(n)])
        Z = np.concatenate([a.numbers for a in molecules]).astype(np.int64)
        R = np.concatenate([a.positions for a in molecules]).astype(np.float64)
        stem, key, unit = ("energy", "energy", "eV") if self.target == "energy" else ("dipole", "dipole_moment", "eA")
        scale = KCAL_MOL_IN_EV if self.target == "energy" else DEBYE_IN_E_ANGSTROM
        folds, vectors, datasets = [], [], {}
        with torch.no_grad():
            for model in self.models:
                if model.cutoff not in datasets:  # the folds of an ensemble share one cutoff: pairs found once
                    datasets[model.cutoff] = AtomsData(Z, R, offsets, molecule_pairs(R, offsets, model.cutoff))
                data = datasets[model.cutoff]
                model.to(dev)
                try:
                    out, vec = [], []
                    for batch in data.batches(batch_size=chunk_size):
                        batch = {k: v.to(dev) for k, v in batch.items()}
                        batch[R_KEY] = batch[R_KEY].to(self.dtype)
                        res = model(batch)
                        out.append(res[key].double().cpu().numpy())
                        if self.target == "dipole":
                            vec.append(res["dipole_vector"].double().cpu().numpy())
                finally:
                    model.to("cpu")
                folds.append(np.concatenate(out) * scale)
                vectors.append(np.concatenate(vec) * scale if vec else None)
        stack = np.stack(folds)
        mean, std = _fold_stats(stack)
        table = pd.DataFrame({"formula": formulas, "n_atoms": n})
        for k, values in enumerate(stack):
            table[f"{stem}_{unit}_fold{k}"] = values
        table[f"{stem}_{unit}"] = mean
        table[f"{stem}_std_{unit}"] = std if std is not None else np.nan
        if self.target == "dipole":  # the fold mean of the vector, as calculate()'s results["dipole"]
            for axis, values in zip("xyz", np.mean(vectors, axis=0).T):
                table[f"dipole_{axis}_eA"] = values
        table["outside_qm9"] = outside
        if self.target == "energy":
            limit = self.spread_limit
            table["spread_warning"] = (False if std is None or limit is None else std / n > limit)
        return table

    @property
    def results_std(self) -> dict:
        """Std across folds (ddof=1) of the last results, same keys and units; empty for one fold."""
        return {k[:-4]: v for k, v in self.results.items() if k.endswith("_std")}

    # ------------------------------------------------------------------ per-atom table
    def typical_std(self) -> dict[str, float]:
        """Median per-atom fold std of the latent term per element symbol (eV or e) over the first
        ``N_REFERENCE`` molecules of the embedded QM9 sample; cached. Empty for a single fold."""
        if self._typical is None:
            self._typical = {} if len(self.models) < 2 else self._reference_spread()
        return self._typical

    @torch.no_grad()
    def _reference_spread(self) -> dict[str, float]:
        from ase.data import chemical_symbols

        from .data.batch import AtomsData, molecule_pairs
        from .properties import R_KEY
        from .data.qm9 import load_sample

        ds = load_sample().subset(np.arange(N_REFERENCE))
        Z, R, off = ds.arrays["Z"].astype(np.int64), ds.arrays["R"], ds.arrays["offsets"]
        terms = []
        for model in self.models:
            batch = AtomsData(Z, R, off, molecule_pairs(R, off, model.cutoff)).batch(np.arange(len(ds)))
            batch[R_KEY] = batch[R_KEY].to(self.dtype)
            out = model(batch)
            t = out["atomic_energies"] * KCAL_MOL_IN_EV if self.target == "energy" else out["partial_charges"]
            terms.append(t.double().numpy())
        std = np.stack(terms).std(axis=0, ddof=1)
        typical = {chemical_symbols[z]: float(np.median(std[Z == z])) for z in np.unique(Z)}
        typical["*"] = float(np.median(std))
        return typical

    def atom_table(self, atoms=None):
        """One row per atom: ``index``, ``element``, ``x``, ``y``, ``z`` (Å), the latent term's fold mean and
        std (``atomic_energy_eV``/``atomic_energy_std_eV`` or ``charge_e``/``charge_std_e``), the element's
        typical std (``typical_std_<unit>``), ``large_spread`` (std > :data:`SPREAD_FACTOR` × typical; False for
        one fold) and
        ``outside_qm9`` (True on every row of a structure evaluated with ``allow_outside``)."""
        import pandas as pd

        atoms = atoms if atoms is not None else self.atoms
        if atoms is None:
            raise AtomintError("atom_table needs a molecule: pass atoms or calculate one first")
        _, key, stem, unit = _TARGETS[self.target]
        mean = np.asarray(self.get_property(key, atoms))
        std = self.results.get(f"{key}_std", np.full(len(mean), np.nan))
        symbols = atoms.get_chemical_symbols()
        typical = self.typical_std()
        ref = np.array([typical.get(s, typical.get("*", np.nan)) for s in symbols])
        pos = np.asarray(atoms.positions, dtype=np.float64)
        return pd.DataFrame({"index": np.arange(len(atoms)), "element": symbols, "x": pos[:, 0], "y": pos[:, 1],
                             "z": pos[:, 2], f"{stem}_{unit}": mean, f"{stem}_std_{unit}": std,
                             f"typical_std_{unit}": ref,
                             "large_spread": (np.nan_to_num(std, nan=0.0)
                                              > SPREAD_FACTOR[self.model_name]
                                              * np.nan_to_num(ref, nan=np.inf)),
                             "outside_qm9": bool(self.results.get("outside_qm9", False))})

    def element_reference(self, atoms=None) -> np.ndarray:
        """``b_Z`` per atom of ``atoms`` (default: the last calculated) in eV, fold mean; see
        :func:`element_references`."""
        atoms = atoms if atoms is not None else self.atoms
        if atoms is None:
            raise AtomintError("element_reference needs a molecule: pass atoms or calculate one first")
        return element_references(self.models, atoms.numbers) * KCAL_MOL_IN_EV

    def __repr__(self) -> str:
        return f"AtomintCalculator({self.model_name}-{self.target}, {len(self.folders)} fold(s))"
