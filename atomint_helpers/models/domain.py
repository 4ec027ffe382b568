"""Is a molecule inside what the models were trained on? Plain-language warnings.

:func:`domain_warnings` says where a model extrapolates beyond QM9 (B3LYP/6-31G(2df,p) equilibrium
geometries of molecules with at most 9 heavy atoms of C, N, O, F, plus H):

* elements other than H, C, N, O, F, and periodic cells;
* more than 9 heavy (non-H) atoms;
* an interatomic distance (any pair, bonded or not) shorter than the shortest distance of that element
  pair anywhere in QM9: :data:`QM9_MIN_DISTANCE`, read from the committed ``data/qm9_bounds.json``, which
  :func:`atomint_helpers.data.applicability.compute_bounds` made from the full QM9 (130,831 molecules,
  ``qm9.npz`` sha256 ``32fbcf35…``), rounded
  *down* to 0.1 mÅ, so no QM9 molecule triggers it. (The embedded 2,000-molecule sample has larger minima — a subset can only
  raise them — which would make a sample-based bound stricter than QM9 itself.)
* for Behler–Parrinello checkpoints that store their training range of every symmetry function
  (``clip_features``: buffers ``low``/``high`` of the feature standardizer): the number of atoms with a
  symmetry function outside that range (the network clamps it, i.e. extrapolates);
* a geometry from :func:`atomint_helpers.data.smiles.smiles_to_atoms` (a force-field geometry, not B3LYP);
* every other finding of :func:`atomint_helpers.data.applicability.check_applicability` (non-finite
  coordinates, isolated atoms, fragments, charges, open shells, more atoms than any QM9 molecule): the one
  applicability check that ``atomint explain``, the calculator and the exports enforce before a model runs.

The models are given loaded (a calculator, models, or a list of these): finding and loading checkpoints is
the caller's job (``store.load_model``, :class:`~atomint_helpers.calculator.AtomintCalculator`).
"""
from __future__ import annotations

import numpy as np

from .. import AtomintError
from ..data.applicability import bounds, check_applicability
from ..data.elements import QM9_ELEMENTS
from ..data.smiles import GEOMETRY_INFO_KEY

#: most heavy (non-hydrogen) atoms of any QM9 molecule
MAX_HEAVY_ATOMS = 9
#: shortest distance (Å) of every element pair over all atom pairs of the full QM9, rounded down to 1e-4 Å:
#: the committed table of :mod:`atomint_helpers.data.applicability` (``qm9_bounds.json``)
QM9_MIN_DISTANCE = {tuple(k.split("-")): v for k, v in bounds()["min_distance"].items()}
#: one past the largest atomic number of the distance tables (QM9's heaviest element is F, Z = 9)
TABLE_SIZE = 10
#: a symmetry function counts as outside its training range beyond this fraction of the range's width
#: (at least of 1): float64 recomputation of float32 training features differs by less
RANGE_TOLERANCE = 1e-5


def min_distance_table() -> np.ndarray:
    """:data:`QM9_MIN_DISTANCE` as a [TABLE_SIZE, TABLE_SIZE] table by atomic numbers (Å, symmetric; 0 where
    a pair never occurs in QM9)."""
    from ase.data import atomic_numbers

    t = np.full((TABLE_SIZE, TABLE_SIZE), 0.0)
    for (a, b), d in QM9_MIN_DISTANCE.items():
        t[atomic_numbers[a], atomic_numbers[b]] = t[atomic_numbers[b], atomic_numbers[a]] = d
    return t


def _loaded_models(models) -> list[tuple[str, object]]:
    """(label, AtomisticModel) for a calculator, a model, or a list of these."""
    from . import AtomisticModel

    if models is None:
        return []
    items = models if isinstance(models, (list, tuple)) else [models]
    out = []
    for m in items:
        if hasattr(m, "folders") and hasattr(m, "models"):  # an AtomintCalculator
            out += [(f.name, mod) for f, mod in zip(m.folders, m.models)]
        elif isinstance(m, AtomisticModel):
            out.append((m.checkpoint.name if m.checkpoint else "model", m))
        else:
            raise AtomintError(f"domain_warnings takes loaded models, not a {type(m).__name__}: pass "
                               f"AtomintCalculator(name) or store.load_model(folder)")
    return out


def _acsf_out_of_range(atoms, model) -> int | None:
    """Atoms with a symmetry function outside the BP model's stored training range (None: no range stored)."""
    import torch

    from . import atoms_to_batch

    rep = getattr(model, "representation", None)
    std = getattr(rep, "standardize", None)
    if model.config.get("model") != "bp" or std is None or not hasattr(std, "low"):
        return None
    Z = np.asarray(atoms.numbers, dtype=np.int64)
    if not np.all(model.known_elements.numpy()[np.clip(Z, 0, len(model.known_elements) - 1)]) or Z.max() > std.max_z:
        return None  # unknown elements are reported separately
    with torch.no_grad():
        batch = atoms_to_batch(atoms, model.cutoff, dtype=torch.float64)
        G = rep.descriptors(batch).double()
    Zt = torch.as_tensor(Z)
    low, high = std.low.double()[Zt], std.high.double()[Zt]
    tol = RANGE_TOLERANCE * torch.clamp((high - low).abs().nan_to_num(posinf=1.0), min=1.0)
    out = ((G < low - tol) | (G > high + tol)).any(dim=1)
    return int(out.sum())


def domain_warnings(atoms, models=None) -> list[str]:
    """Plain-language warnings (one sentence-group per string) that the models extrapolate on ``atoms``.

    ``models``: None (only the QM9 checks), an :class:`~atomint_helpers.calculator.AtomintCalculator`, an
    :class:`~atomint_helpers.models.AtomisticModel`, or a list of these (needed for the BP
    symmetry-function range check). Empty list: nothing found. See the module
    docstring for the checks and where their bounds come from."""
    from ase.data import chemical_symbols

    Z = np.asarray(atoms.numbers, dtype=np.int64)
    warn = []
    if atoms.info.get(GEOMETRY_INFO_KEY):
        warn.append(str(atoms.info[GEOMETRY_INFO_KEY]))
    other = sorted({chemical_symbols[z] for z in Z if z not in QM9_ELEMENTS})
    if other:
        warn.append(f"element(s) {', '.join(other)} do not occur in QM9 (H, C, N, O, F only): the models have "
                    f"nothing trained for them.")
    if np.any(atoms.pbc):
        warn.append("the structure is periodic; QM9 holds isolated molecules only.")
    heavy = int((Z > 1).sum())
    if heavy > MAX_HEAVY_ATOMS:
        warn.append(f"{heavy} heavy (non-hydrogen) atoms: QM9 molecules have at most {MAX_HEAVY_ATOMS}, so the "
                    f"models extrapolate to a larger molecule than any they were trained on.")
    said = {"element", "periodic"}  # worded above
    for f in check_applicability(atoms).findings:
        if f.code not in said and not (f.code == "size" and "heavy" in f.message):
            warn.append(f.message[:1].lower() + f.message[1:].rstrip(".") + ".")
    for label, model in _loaded_models(models):
        n = _acsf_out_of_range(atoms, model)
        if n:
            warn.append(f"{label}: {n} of {len(Z)} atoms have symmetry functions outside the range seen in "
                        f"training; the network clamps them, i.e. extrapolates for these atoms.")
    return warn
