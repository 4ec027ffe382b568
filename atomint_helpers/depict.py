"""2D depiction of a molecule with every atom coloured by a latent per-atom term.

:func:`depict_latent` draws the molecule with RDKit (all hydrogens explicit), bonds
found from the 3D geometry (``rdDetermineBonds.DetermineConnectivity``: covalent radii × 1.3, then bond
orders by ``DetermineBondOrders`` where it succeeds, single bonds otherwise), and colours every atom by its
value on the diverging map ``RdBu_r`` centred on ``reference`` with symmetric limits
(``reference ± max |value − reference|``): red above the reference, blue below, white at it. Element
symbols are set in black or white, whichever contrasts with the atom's colour, atom indices beside the
circles in black with a white outline. A colour bar carries the unit. The PNG (200 dpi) is written
atomically (temporary file in the same folder, then ``os.replace``). :func:`draw_rings` draws Fig. 3's most stable rings (the molecules and ring atoms of
:func:`atomint_helpers.interpret.rings.ring_molecules`) in a grid, the scored ring highlighted.

A drawing module: it reads no model and imports nothing from ``atomint_helpers.interpret``.
"""
from __future__ import annotations

import io
import os
import textwrap
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


def _molecule_png(mol, colours: dict, size: tuple[int, int]):
    """RDKit drawing of ``mol`` in 2D (``size`` px) with every atom a filled circle of its colour and no text;
    returns the PNG, each atom's centre (px, y down) and the circle radius (px)."""
    from rdkit.Chem import rdDepictor
    from rdkit.Chem.Draw import rdMolDraw2D

    mol2d = type(mol)(mol)
    mol2d.RemoveAllConformers()
    rdDepictor.Compute2DCoords(mol2d, useRingTemplates=False)
    d = rdMolDraw2D.MolDraw2DCairo(*size)
    o = d.drawOptions()
    o.prepareMolsBeforeDrawing = False
    o.noAtomLabels = True  # element symbols and indices are drawn over the picture, in contrasting colours
    o.atomHighlightsAreCircles = True
    o.fillHighlights = True
    o.clearBackground = True
    o.bondLineWidth = 2
    o.padding = 0.08
    n = mol2d.GetNumAtoms()
    radius = 0.38
    d.DrawMolecule(mol2d, highlightAtoms=list(range(n)), highlightAtomColors=colours, highlightBonds=[],
                   highlightAtomRadii={i: radius for i in range(n)})
    d.FinishDrawing()
    centres = np.array([[d.GetDrawCoords(i).x, d.GetDrawCoords(i).y] for i in range(n)])
    xy = np.array([[mol2d.GetConformer().GetAtomPosition(i).x, mol2d.GetConformer().GetAtomPosition(i).y]
                   for i in range(n)])
    far = np.unravel_index(np.argmax(np.linalg.norm(xy[:, None] - xy[None], axis=-1)), (n, n)) if n > 1 else (0, 0)
    span = np.linalg.norm(xy[far[0]] - xy[far[1]])
    px_per_unit = np.linalg.norm(centres[far[0]] - centres[far[1]]) / span if span > 0 else 40.0
    return d.GetDrawingText(), centres, radius * px_per_unit


def contrasting_text_colour(rgb) -> str:
    """Black or white, whichever contrasts with a fill of colour ``rgb`` (relative luminance, WCAG)."""
    c = np.asarray(rgb[:3], dtype=np.float64)
    lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return "white" if float(lin @ [0.2126, 0.7152, 0.0722]) < 0.18 else "black"


def _index_offsets(mol, centres: np.ndarray) -> np.ndarray:
    """Unit vectors (px, y down) pointing from each atom away from its bonded neighbours: where its index goes."""
    out = np.tile([0.7071, -0.7071], (len(centres), 1))
    for a in mol.GetAtoms():
        i = a.GetIdx()
        away = sum((centres[i] - centres[b.GetIdx()]) / (np.linalg.norm(centres[i] - centres[b.GetIdx()]) + 1e-9)
                   for b in a.GetNeighbors())
        if np.linalg.norm(away) > 0.3:
            out[i] = away / np.linalg.norm(away)
        elif a.GetDegree() > 0:  # neighbours all round (or straight through): beside the first bond
            b = centres[a.GetNeighbors()[0].GetIdx()] - centres[i]
            out[i] = np.array([b[1], -b[0]]) / (np.linalg.norm(b) + 1e-9)
    return out


#: width of :func:`depict_latent`'s picture (inches; a chapter shows it at 100 CSS px per inch, so its text
#: keeps its size in points)
PICTURE_WIDTH = 6.2


def depict_latent(atoms, values, label: str, unit: str, path, reference: float = 0.0,
                  size: tuple[int, int] | None = None, bar_label: str | None = None) -> Path:
    """Write a PNG of ``atoms`` (``ase.Atoms``, Å) with atom i a circle coloured by ``values[i]`` (in ``unit``,
    e.g. atomic energies in eV or charges in e) on ``RdBu_r`` centred on ``reference`` (same unit), symmetric
    limits, its element symbol inside (black or white, whichever contrasts with the circle) and its index
    (0-based, as ``atoms``) beside it (black, white outline); ``label`` as title and a colour bar labelled ``bar_label`` (default
    ``"<label> (<unit>)"``; matplotlib mathtext such as ``$E_i - b_Z$`` is rendered). The picture is
    :data:`PICTURE_WIDTH` in wide (``size``, in inches, overrides it) with 9–10 pt text at :data:`DPI`.
    Returns the path."""
    import matplotlib
    import matplotlib.image
    from matplotlib import colors, patheffects
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

    width, height = size or (PICTURE_WIDTH, 0.72 * PICTURE_WIDTH)
    fig = Figure(figsize=(width, height), layout="constrained")  # no pyplot: no global state
    with matplotlib.rc_context({"font.size": 9, "axes.titlesize": 10}):
        ax = fig.add_subplot()
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.02, aspect=30)
        ax.set_title("\n".join(textwrap.fill(line, 75) for line in label.split("\n")), fontsize=10)
        fig.draw_without_rendering()
        box = ax.get_position()  # the molecule's share of the figure, after the title and colour bar
        px = (int(DPI * box.width * width), int(DPI * box.height * height))  # one image pixel per output pixel
        mol = rdkit_mol(atoms)
        png, centres, radius = _molecule_png(mol, {i: tuple(float(c) for c in rgba[i, :3]) for i in range(len(v))},
                                             px)
        image = matplotlib.image.imread(io.BytesIO(png), format="png")
        ax.imshow(image, interpolation="antialiased")
        ax.set_axis_off()
        outline = [patheffects.withStroke(linewidth=2.5, foreground="white")]
        away = _index_offsets(mol, centres)
        gap = radius + 0.09 * DPI  # the index sits just outside the circle (9 pt text is ~0.125 in tall)
        for i, (z, c) in enumerate(zip(atoms.get_chemical_symbols(), centres)):
            ax.text(*c, z, ha="center", va="center_baseline", fontsize=10, fontweight="bold",
                    color=contrasting_text_colour(rgba[i]), zorder=3,  # a halo of the atom's colour hides the bonds under it
                    path_effects=[patheffects.withStroke(linewidth=6, foreground=rgba[i][:3])])
            ax.text(*(c + gap * away[i]), str(i), ha="center", va="center", fontsize=9, color="black",
                    path_effects=outline, zorder=4)
        bar.set_label(bar_label or f"{label} ({unit})", fontsize=9)
        bar.ax.tick_params(labelsize=9)
        if reference != 0.0:
            bar.ax.axhline(reference, color="k", lw=0.8)
    from .io import writing

    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with writing(path):  # a read-only folder, a full disk: one line naming the picture
        try:
            fig.savefig(tmp, format="png", dpi=DPI)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


# ------------------------------------------------------------------------------------------ rings (Fig. 3)
#: a ring drawing's panel per molecule as the page shows it (CSS px): five in a row fill the 720-px figure width
PANEL_PX = (144, 125)
#: image pixels per CSS pixel of a ring drawing (the figure standard's >= 150 dpi, as the 200-dpi figures)
PICTURE_SCALE = 2
#: RDKit's legend font as shown (CSS px; 14 px = 10.5 pt). RDKit shrinks a legend line that does not fit its
#: panel, so :func:`ring_legends` keeps each line to about 16 characters.
LEGEND_PX = 14
#: the share of each panel's height RDKit keeps for its legend, at the panel's bottom
LEGEND_FRACTION = 0.3
#: the longest bond drawn (CSS px); RDKit shrinks a molecule that does not fit its panel
BOND_PX = 24


def draw_rings(molecules, legends=None, per_row: int = 5, panel=PANEL_PX, scale: int = PICTURE_SCALE) -> bytes:
    """PNG of ``molecules`` (``(mol, ring)`` pairs: an RDKit molecule and its ring's atom indices) in 2D, the
    ring's atoms and bonds highlighted, ``legends`` below each: panels of ``panel`` CSS px drawn at ``scale``
    image pixels per CSS pixel (show it with :func:`ring_picture`)."""
    from rdkit import Chem
    from rdkit.Chem import rdDepictor
    from rdkit.Chem.Draw import rdMolDraw2D

    if not molecules:
        raise AtomintError("no rings to draw")
    mols, hl_atoms, hl_bonds = [], [], []
    for mol, ring in molecules:
        mol = Chem.Mol(mol)
        prefer = rdDepictor.GetPreferCoordGen()
        rdDepictor.SetPreferCoordGen(True)  # nicer layouts of QM9's bridged polycycles
        try:
            rdDepictor.Compute2DCoords(mol)
        finally:
            rdDepictor.SetPreferCoordGen(prefer)
        rs = set(ring)
        mols.append(mol)
        hl_atoms.append(list(ring))
        hl_bonds.append([b.GetIdx() for b in mol.GetBonds() if b.GetBeginAtomIdx() in rs and b.GetEndAtomIdx() in rs])
    n_rows = (len(mols) + per_row - 1) // per_row
    cols = min(per_row, len(mols))
    w, h = panel[0] * scale, panel[1] * scale
    d = rdMolDraw2D.MolDraw2DCairo(cols * w, n_rows * h, w, h)
    opts = d.drawOptions()
    opts.legendFontSize = LEGEND_PX * scale
    opts.legendFraction = LEGEND_FRACTION
    opts.fixedBondLength = BOND_PX * scale
    d.DrawMolecules(mols, highlightAtoms=hl_atoms, highlightBonds=hl_bonds,
                    legends=[str(x) for x in legends] if legends is not None else None)
    d.FinishDrawing()
    return d.GetDrawingText()


def ring_legends(top, col: str = "score") -> list[str]:
    """Legends for :func:`draw_rings` from a table of top rings (columns ``molecule``, the QM9 id, and ``col``,
    the ring's score in kcal/mol): rank and QM9 id, then the score. Short enough to be drawn at
    :data:`LEGEND_PX`; the fold standard deviation is in the chapter's table."""
    return [f"#{i + 1}  QM9 {int(m)}\n{s:.1f} kcal/mol" for i, (m, s) in enumerate(zip(top["molecule"], top[col]))]


def ring_picture(molecules, legends=None, per_row: int = 5):
    """:func:`draw_rings` as a notebook image shown at its CSS size (``per_row`` panels of :data:`PANEL_PX`)."""
    from IPython.display import Image

    png = draw_rings(molecules, legends=legends, per_row=per_row)
    return Image(png, width=min(per_row, len(molecules)) * PANEL_PX[0])
