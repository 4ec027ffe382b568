"""2D depiction of a molecule with every atom coloured by a latent per-atom term.

:func:`depict_latent` draws the molecule with RDKit (all hydrogens explicit, atom indices shown), bonds
found from the 3D geometry (``rdDetermineBonds.DetermineConnectivity``: covalent radii × 1.3, then bond
orders by ``DetermineBondOrders`` where it succeeds, single bonds otherwise), and colours every atom by its
value on the diverging map ``RdBu_r`` centred on ``reference`` with symmetric limits
(``reference ± max |value − reference|``): red above the reference, blue below, white at it. A colour bar
carries the unit. The PNG (200 dpi) is written atomically (temporary file in the same folder, then
``os.replace``). A drawing module: it reads no model and imports nothing from ``atomint_helpers.interpret``.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from . import AtomintError

CMAP = "RdBu_r"
DPI = 200


def rdkit_mol(atoms):
    """An RDKit molecule (explicit H, 3D conformer in Å, bonds from the geometry) for ``ase.Atoms``."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds
    from rdkit.Geometry import Point3D

    rw = Chem.RWMol()
    for z in atoms.numbers:
        a = Chem.Atom(int(z))
        a.SetNoImplicit(True)
        rw.AddAtom(a)
    conf = Chem.Conformer(len(atoms))
    for i, (x, y, z) in enumerate(np.asarray(atoms.positions, dtype=np.float64)):
        conf.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))
    rw.AddConformer(conf, assignId=True)
    mol = rw.GetMol()
    rdDetermineBonds.DetermineConnectivity(mol)
    try:  # bond orders make rings readable; odd geometries keep single bonds
        withorders = Chem.Mol(mol)
        rdDetermineBonds.DetermineBondOrders(withorders, charge=0)
        mol = withorders
    except Exception:
        pass
    mol.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(mol)
    return mol


def _molecule_png(mol, colours: dict, size: tuple[int, int]) -> bytes:
    from rdkit.Chem import rdDepictor
    from rdkit.Chem.Draw import rdMolDraw2D

    mol2d = type(mol)(mol)
    mol2d.RemoveAllConformers()
    rdDepictor.Compute2DCoords(mol2d, useRingTemplates=False)
    d = rdMolDraw2D.MolDraw2DCairo(*size)
    o = d.drawOptions()
    o.prepareMolsBeforeDrawing = False
    o.addAtomIndices = True
    o.atomHighlightsAreCircles = True
    o.fillHighlights = True
    o.clearBackground = True
    n = mol2d.GetNumAtoms()
    d.DrawMolecule(mol2d, highlightAtoms=list(range(n)), highlightAtomColors=colours, highlightBonds=[],
                   highlightAtomRadii={i: 0.38 for i in range(n)})
    d.FinishDrawing()
    return d.GetDrawingText()


def depict_latent(atoms, values, label: str, unit: str, path, reference: float = 0.0,
                  size: tuple[int, int] = (700, 560)) -> Path:
    """Write a PNG of ``atoms`` (``ase.Atoms``, Å) with atom i coloured by ``values[i]`` (in ``unit``, e.g.
    atomic energies in eV or charges in e) on ``RdBu_r`` centred on ``reference`` (same unit), symmetric
    limits, a colour bar labelled ``"<label> (<unit>)"`` and ``label`` as title. Returns the path."""
    import matplotlib
    import matplotlib.image
    from matplotlib import colors
    from matplotlib.cm import ScalarMappable
    from matplotlib.figure import Figure

    v = np.asarray(values, dtype=np.float64).ravel()
    if len(v) != len(atoms):
        raise AtomintError(f"depict_latent: {len(v)} values for {len(atoms)} atoms")
    if not np.all(np.isfinite(v)):
        raise AtomintError(f"depict_latent: {int((~np.isfinite(v)).sum())} value(s) are not finite")
    path = Path(path)
    if not path.parent.is_dir():
        raise AtomintError(f"cannot write {path}: folder {path.parent} does not exist")
    span = float(np.max(np.abs(v - reference))) if len(v) else 0.0
    span = span if span > 0 else 1e-12
    norm = colors.Normalize(vmin=reference - span, vmax=reference + span)
    cmap = matplotlib.colormaps[CMAP]
    rgba = cmap(norm(v))
    png = _molecule_png(rdkit_mol(atoms), {i: tuple(float(c) for c in rgba[i, :3]) for i in range(len(v))},
                        (2 * size[0], 2 * size[1]))  # drawn at twice the size: sharp at DPI
    image = matplotlib.image.imread(io.BytesIO(png), format="png")

    fig = Figure(figsize=(size[0] / 100 + 1.6, size[1] / 100 + 0.6))  # no pyplot: no global state
    ax = fig.add_subplot()
    ax.imshow(image)
    ax.set_axis_off()
    ax.set_title(label)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.046, pad=0.02)
    bar.set_label(f"{label} ({unit})")
    if reference != 0.0:
        bar.ax.axhline(reference, color="k", lw=0.8)
    from .io import writing

    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with writing(path):  # a read-only folder, a full disk: one line naming the picture
        try:
            fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path
