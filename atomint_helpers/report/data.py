"""The data chapter's "what we see" text and scorecard rows (kind ``setup``: what the data of this run are,
against what the paper used).

Rules: the molecules used are exactly QM9's consistency-checked set (130,831 ids); the 3,054 molecules that
fail QM9's consistency check are absent; the elements are H, C, N, O, F; no molecule has more than nine
heavy atoms. The crystal count is reported, not compared (Materials Project snapshots differ).
"""
from __future__ import annotations

import numpy as np

from ..data.overview import chemical_symbol, heavy_atoms
from ..data.qm9 import MAX_INDEX, N_MOLECULES_FULL, N_UNCHARACTERIZED, all_indices, uncharacterized_indices
from ..units import EV_TO_KCAL_MOL

#: What the paper (and QM9's own description, which the paper relies on) states about the data.
PAPER_QM9_MOLECULES = N_MOLECULES_FULL          # the consistency-checked molecules used for training
PAPER_QM9_EXCLUDED = N_UNCHARACTERIZED          # molecules failing QM9's consistency check, left out
PAPER_QM9_ELEMENTS = "H, C, N, O, F"
PAPER_QM9_MAX_HEAVY_ATOMS = 9


def qm9_what_we_see(qm9, freq) -> str:
    """The QM9 paragraph: size, element shares, heavy atoms, energy range and extensivity, dipoles."""
    energy = qm9.atomization_energy("kcal/mol")
    r_size = np.corrcoef(energy, np.diff(qm9.offsets))[0, 1]
    heavy = heavy_atoms(qm9)
    which = ("the embedded sample — a real subset, not the paper's full set" if qm9.is_sample
             else f"{len(qm9) / PAPER_QM9_MOLECULES:.1%} of the {PAPER_QM9_MOLECULES:,} molecules the paper uses")
    return (f"**What we see.** This run holds {len(qm9):,} molecules ({which}). "
            f"Hydrogen makes up {freq.loc['H', '% of atoms']:.1f} % of all atoms and carbon "
            f"{freq.loc['C', '% of atoms']:.1f} %; fluorine is rare ({freq.loc['F', 'atoms']:,} atoms in "
            f"{freq.loc['F', 'molecules']:,} molecules, {freq.loc['F', '% of molecules']:.2f} % of them). "
            f"{(heavy == heavy.max()).mean():.0%} of the molecules have the maximum of {heavy.max()} heavy atoms. "
            f"Atomization energies range from {energy.min():,.0f} to {energy.max():,.0f} kcal/mol "
            f"(mean {energy.mean():,.0f} kcal/mol, {energy.mean() / EV_TO_KCAL_MOL:.2f} eV). Their correlation with "
            f"the number of atoms is r = {r_size:.3f}: the energy is close to extensive, which is what lets both "
            f"models write it as a sum of atomic contributions. The median dipole moment is {np.median(qm9.mu):.2f} D, "
            f"{(qm9.mu < 0.05).mean():.2%} of the molecules are (nearly) non-polar (|μ| < 0.05 D), and the largest "
            f"is {qm9.mu.max():.1f} D.")


def crystals_what_we_see(crystals, clean, cfreq) -> str:
    """The crystals paragraph: size, common and rare elements, formation energies."""
    top = cfreq.sort_values("structures", ascending=False)
    rare = cfreq[cfreq["structures"] < 10]
    return (f"**What we see.** {len(clean):,} structures over {len(cfreq)} elements"
            f"{' (the embedded sample)' if crystals.is_sample else ''}. "
            f"The most common elements are {', '.join(top.index[:3])} "
            f"(oxygen is in {cfreq.loc['O', '% of structures']:.0f} % of the structures); "
            f"{len(rare)} elements appear in fewer than 10 structures ({', '.join(rare.index) or 'none'}), so their "
            f"learned embeddings in Fig. 7 rest on little data. Formation energies run from "
            f"{clean.e_form.min():.2f} to {clean.e_form.max():.2f} eV/atom with mean {clean.e_form.mean():.2f} eV/atom; "
            f"{(clean.e_form < 0).mean():.0%} of the structures are stable against their elements (negative formation "
            f"energy).")


def context(p, qm9, crystals) -> dict:
    """The chapter's scorecard context: which data files this run read."""
    return p.context(qm9=f"{len(qm9):,} molecules ({qm9.source}, sha256 {qm9.sha256[:12]})",
                     crystals=f"{len(crystals):,} structures ({crystals.source}, sha256 {crystals.sha256[:12]})")


def rows(ds, cr) -> list[dict]:
    """Scorecard rows of the data chapter: what the data in this run are, against what the paper used."""

    idx = np.asarray(ds.arrays["index"], dtype=np.int64)
    excluded = uncharacterized_indices()
    n_excluded_present = int(np.isin(idx, excluded).sum())
    symbols = ", ".join(chemical_symbol(z) for z in np.unique(ds.arrays["Z"]))
    max_heavy = int(heavy_atoms(ds).max())
    if ds.is_sample:
        holds_n, note_n = None, "the embedded sample stands in; build with the full data to compare"
    else:
        same = bool(len(idx) == N_MOLECULES_FULL and np.array_equal(np.sort(idx), all_indices()))
        holds_n = same
        note_n = (f"{ds.path.name}: ids are exactly QM9's 1…{MAX_INDEX:,} minus the excluded list" if same
                  else f"{ds.path.name}: the ids differ from QM9's consistency-checked set")
    rows = [
        dict(kind="setup", claim="QM9 molecules used (consistency-checked set)", paper=PAPER_QM9_MOLECULES, atomint=len(ds),
             unit="molecules", holds=holds_n, note=note_n),
        dict(kind="setup", claim="QM9 molecules excluded (failed QM9's consistency check)", paper=PAPER_QM9_EXCLUDED,
             atomint=len(excluded), unit="molecules",
             holds=bool(len(excluded) == PAPER_QM9_EXCLUDED and n_excluded_present == 0),
             note=f"the list ships with atomint; {n_excluded_present} of them are in this run's data"),
        dict(kind="setup", claim="elements in QM9", paper=PAPER_QM9_ELEMENTS, atomint=symbols, unit="",
             holds=symbols == PAPER_QM9_ELEMENTS, note="atomic numbers in this run's data"),
        dict(kind="setup", claim="at most nine heavy atoms per molecule", paper=PAPER_QM9_MAX_HEAVY_ATOMS, atomint=max_heavy,
             unit="heavy atoms", holds=max_heavy == PAPER_QM9_MAX_HEAVY_ATOMS,
             note="most non-hydrogen atoms in one molecule"),
        dict(kind="setup", claim="Materials Project crystals with formation energy (for Fig. 7)", paper=None, atomint=len(cr),
             unit="structures", holds=None,
             note=(f"{len(cr.elements)} elements; " + (
                 "the embedded sample" if cr.is_sample else
                 "CGCNN's MP formation-energy set (MP of about 2018)")
                 + "; no paper count is compared (MP snapshots differ)")),
    ]
    return rows


def what_we_find(rows: list[dict]) -> str:
    """The chapter's finding from its set-up rows (:func:`rows`): whether this run's QM9 is the paper's, the
    checks that hold and those that do not, the crystals counted but not compared."""
    from .scorecard import verdict

    def word(r):
        return r.get("verdict") or verdict(r.get("holds"))

    qm9 = [r for r in rows if r["claim"].startswith(("QM9", "elements in QM9", "at most nine"))]
    ok = [r for r in qm9 if word(r) == "holds"]
    off = [r for r in qm9 if word(r) == "differs"]
    open_ = [r for r in qm9 if word(r) == "not comparable"]
    n = len(qm9)
    if not off and not open_:
        lead = f"This run's QM9 is the paper's: all {n} set-up checks hold"
    elif off:
        lead = (f"This run's QM9 differs from the paper's: {len(off)} of {n} set-up checks fail ("
                + "; ".join(f"{r['claim']}: {r['atomint']} against {r['paper']}" for r in off) + ")")
    else:
        lead = (f"This run's QM9 is not the paper's full set ({open_[0]['note']}): {len(ok)} of {n} set-up checks "
                "hold")
    facts = "; ".join(f"{r['claim']}: {r['atomint']:,}" if isinstance(r["atomint"], int) else
                      f"{r['claim']}: {r['atomint']}" for r in ok)
    crystals = next((r for r in rows if r["claim"].startswith("Materials Project")), None)
    text = f"**What we find.** {lead}" + (f" ({facts})." if facts else ".")
    if crystals is not None:
        text += (f" The {crystals['atomint']:,} Materials Project crystals loaded for Fig. 7 are counted, not compared: "
                 "the paper gives no count and Materials Project snapshots differ.")
    return text
