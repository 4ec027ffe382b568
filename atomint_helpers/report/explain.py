"""The "explain your own molecule" chapter: the per-atom table of the two calculators, the reading of its
pictures, the comparison of a molecule outside QM9 with one inside it, its "what we see" text and the
scorecard rows (kind ``beyond``: the paper gives no per-molecule fold spread, so the rows carry no verdict)."""
from __future__ import annotations

import numpy as np

E_SPREAD, Q_SPREAD = "median fold std of E_i (eV)", "median fold std of q_i (e)"
#: the per-atom table's columns: latent energy relative to the element reference, charge, their fold std
E_COL, Q_COL, E_STD, Q_STD = "E_i − b_Z (eV)", "q_i (e)", "± E (eV)", "± q (e)"


def atom_table(energy, dipole, atoms):
    """One row per atom of ``atoms``: ``E_i − b_Z`` (eV; the latent atomic energy minus its element's
    reference, see ``AtomintCalculator.element_reference``) and ``q_i`` (e), both fold means, their fold
    standard deviations and ``large spread`` ("energy", "charge", both or "": which of the two calculators
    flag the atom). ``energy`` and ``dipole`` are the two ensembles' ``AtomintCalculator``."""
    import pandas as pd

    te, tq = energy.atom_table(atoms), dipole.atom_table(atoms)
    flags = [", ".join(w for w, flagged in (("energy", e), ("charge", c)) if flagged)
             for e, c in zip(te["large_spread"], tq["large_spread"])]
    return pd.DataFrame({"element": te["element"], E_COL: te["atomic_energy_eV"] - energy.element_reference(atoms),
                         E_STD: te["atomic_energy_std_eV"], Q_COL: tq["charge_e"], Q_STD: tq["charge_std_e"],
                         "large spread": flags})


def colour_reading(values, spread, unit: str, what: str) -> str:
    """One sentence on a depiction: the range of its colours (±max |value|) against the median atom's
    fold spread, i.e. whether the colour differences between atoms stand out of the folds' disagreement."""
    spread = np.asarray(spread, dtype=np.float64)
    span = float(np.max(np.abs(values)))
    med = float(np.nanmedian(spread)) if np.isfinite(spread).any() else np.nan
    if not np.isfinite(med):
        return f"The {what} span ±{span:.2f} {unit}; one fold gives no spread to read them against."
    if span == 0:
        return f"The {what} are all zero, with a median fold spread of {med:.2f} {unit}."
    verdict = ("so most differences in colour between atoms lie within the folds' disagreement: read each "
               "colour together with its ± column" if med > span / 2 else
               "so the strongest colours stand out of the folds' disagreement, while the paler ones do not")
    return (f"The {what} span ±{span:.2f} {unit}, and the median atom's fold spread is {med:.2f} {unit}, "
            f"{med / span:.0%} of that range, {verdict}.")


def pictures_what_we_see(table) -> str:
    """"What we see" under the two depictions of :func:`atom_table`'s values."""
    return ("**What we see.** " + colour_reading(table[E_COL], table[E_STD], "eV", "energies") + " "
            + colour_reading(table[Q_COL], table[Q_STD], "e", "charges"))


def summary(name: str, atoms, table, n_warnings: int, energy_std: float) -> dict:
    """One molecule's row: heavy atoms, domain warnings, the fold spread of its energy (eV), the median
    fold spread of its atomic energies (eV) and charges (e), and its atoms flagged for a large spread;
    ``table`` is :func:`atom_table`'s."""
    return {"molecule": name, "heavy atoms": int((atoms.numbers > 1).sum()), "domain warnings": n_warnings,
            "fold std of E (eV)": energy_std, E_SPREAD: table[E_STD].median(),
            Q_SPREAD: table[Q_STD].median(), "atoms flagged": int((table["large spread"] != "").sum())}


def compare_table(outside: dict, inside: dict):
    """The two molecules' :func:`summary` rows as a table indexed by molecule."""
    import pandas as pd

    return pd.DataFrame([outside, inside]).set_index("molecule")


def what_we_see(compare, *, n_folds: int, n_atoms: tuple[int, int], spread_factor: float,
                quick_train: int | None = None) -> str:
    """How much more the folds disagree on the molecule outside QM9 (first row) than inside (second row);
    ``quick_train``: the quick checkpoints' training-set size (adds the caveat), ``None`` otherwise."""
    out, ins = compare.iloc[0], compare.iloc[1]
    r_e, r_q = out[E_SPREAD] / ins[E_SPREAD], out[Q_SPREAD] / ins[Q_SPREAD]
    reading = ("the folds disagree more about the atomic energies of the molecule they were not trained on"
               if r_e > 1.25 else
               "by this measure the folds are no less sure of the atomic energies outside QM9 than inside it: the "
               "spread alone does not reveal the extrapolation, the warnings above do" if r_e >= 0.8 else
               "the folds disagree less on the atomic energies of the molecule outside QM9; a small spread is no "
               "proof of accuracy, since all folds can extrapolate in the same way, and the warnings above still apply")
    caveat = (f" These are `quick` checkpoints, trained for seconds on {quick_train:,} molecules: their spreads are "
              "far larger than those of the trained models and say nothing about the paper's."
              if quick_train is not None else "")
    return (f"**What we see.** Across {n_folds} folds, the median atom of {out.name} has an energy spread of "
            f"{out[E_SPREAD]:.3f} eV and a charge spread of {out[Q_SPREAD]:.3f} e; for {ins.name}, inside QM9, "
            f"{ins[E_SPREAD]:.3f} eV and {ins[Q_SPREAD]:.3f} e. That is {r_e:.1f}× and {r_q:.1f}× the inside "
            f"molecule's, so {reading}. {int(out['atoms flagged'])} of {n_atoms[0]} atoms of {out.name} and "
            f"{int(ins['atoms flagged'])} of {n_atoms[1]} of {ins.name} have a spread above {spread_factor:g}× "
            f"their element's typical one." + caveat)


def rows(compare, *, n_folds: int, profile: str) -> list[dict]:
    """Beyond-the-paper rows: the median fold spread of the atomic energies and charges of both molecules."""
    note = f"{n_folds} folds, {profile} profile; median over the atoms of the fold standard deviation"
    where = dict(zip(compare.index, ("outside QM9", "inside QM9")))
    return [{"claim": f"median fold spread of the {what} of {name} ({where[name]})", "kind": "beyond",
             "paper": None, "atomint": round(float(r[col]), 4), "unit": unit, "holds": None, "note": note}
            for name, r in compare.iterrows()
            for what, col, unit in (("atomic energies", E_SPREAD, "eV"), ("charges", Q_SPREAD, "e"))]
