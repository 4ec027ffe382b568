r"""Electrostatic potential (ESP) from the latent partial charges of the dipole models (Fig. 6).

The dipole models write ``μ = Σ_i q_i r_i`` with latent charges ``q_i`` (e, exactly neutral per
molecule, see :mod:`atomint_helpers.models.heads`). Treating them as point charges gives the potential
a positive probe charge ``q_probe`` (default +1 e) feels at ``r``:

    V(r) = k_e Σ_i q_i q_probe / |r − r_i|,     k_e = 14.399645 eV·Å/e²  (``units.COULOMB_EV_ANGSTROM``)

in eV (``unit="eV"``) or kcal/mol (``unit="kcal/mol"``). The sum is vectorized over points (chunks of
``chunk`` points × atoms at a time, float64). ``V`` diverges at the nuclei: comparisons use points
outside the van der Waals surface (:func:`atomint_helpers.interpret.grid.outside_vdw`).

Fig. 6 compares BP and SchNet. The two models' charges need not have the same scale (only their
dipole moments are trained), so the figure normalizes each molecule's charges by their largest
magnitude, ``q_i / max_k |q_k|`` (:func:`normalize_charges`), which makes the two panels of a molecule
directly comparable. We could not confirm the paper's exact normalization, hence this explicit choice.
The agreement between the models is measured by :func:`esp_correlation`, the Pearson correlation of
``V`` over the points outside the van der Waals surface (invariant to the charge scale).

Section 3.2's other readings, as numbers: :func:`pooled_similarity` (the two models' charges against
their ESPs, pooled over molecules: does the 1/r sum make them more alike?), :func:`negative_area` (the
ESP on each O atom's patch of the van der Waals surface, :func:`surface_patches`), and
:func:`seed_control` (the sign checks of quick models trained with and without the dipole head's
electronegativity start). Verdicts on them live in :mod:`atomint_helpers.report.esp`.
"""
from __future__ import annotations

import numpy as np

from .. import AtomintError
from ..units import COULOMB_EV_ANGSTROM, EV_TO_KCAL_MOL
from .grid import check_points, outside_vdw

UNITS = {"eV": 1.0, "kcal/mol": EV_TO_KCAL_MOL}


def latent_charges(model, atoms, *, checked: bool = False) -> np.ndarray:
    """The dipole model's latent partial charges of ``atoms`` (e, float64, sum 0). A public entry point: the
    molecule is checked here (:func:`~atomint_helpers.data.xyz.check_molecule`) unless ``checked`` says the
    caller, an entry point above (:func:`atomint_helpers.exports.write_spatial`), has checked it."""
    from ..data.xyz import check_molecule

    from ..models import require_target

    require_target(model, "dipole", "the ESP (latent charges)")
    if not checked:
        check_molecule(atoms, "molecule")
    return np.asarray(model.predict(atoms)["partial_charges"], dtype=np.float64)


def normalize_charges(q) -> np.ndarray:
    """``q / max|q|`` (all zeros stay zeros)."""
    q = np.asarray(q, dtype=np.float64)
    m = float(np.abs(q).max()) if q.size else 0.0
    return q / m if m > 0 else q.copy()


def esp(positions, charges, points, *, probe_charge: float = 1.0, unit: str = "eV",
        chunk: int = 200_000, checked: bool = False) -> np.ndarray:
    """``V(r) = k_e Σ_i q_i q_probe / |r − r_i|`` at ``points`` [..., 3] (Å) for point charges ``charges`` (e)
    at ``positions`` [n, 3] (Å); shape ``points.shape[:-1]``, in ``unit`` (``"eV"`` or ``"kcal/mol"``).
    A point on a nucleus gives ±inf. ``checked``: the points come from an entry point that made them from the
    checked molecule (a grid of :mod:`.grid`) and are not checked again."""
    if unit not in UNITS:
        raise AtomintError(f"unknown ESP unit {unit!r}; accepted: {', '.join(UNITS)}")
    pos = np.asarray(positions, dtype=np.float64)
    q = np.asarray(charges, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or len(q) != len(pos):
        raise AtomintError(f"ESP: {len(q)} charges for positions of shape {pos.shape}")
    pts = np.asarray(points, dtype=np.float64) if checked else check_points(points)
    flat = pts.reshape(-1, 3)
    out = np.empty(len(flat))
    k = COULOMB_EV_ANGSTROM * float(probe_charge) * UNITS[unit]
    step = max(1, int(chunk // max(len(pos), 1)))
    with np.errstate(divide="ignore", invalid="ignore"):  # a point on a nucleus: ±inf (nan for a zero charge)
        for a in range(0, len(flat), step):
            d = np.sqrt(((flat[a:a + step, None, :] - pos[None]) ** 2).sum(-1))  # [chunk, n_atoms]
            out[a:a + step] = k * (q / d).sum(-1)
    return out.reshape(pts.shape[:-1])


def model_esp(model, atoms, points, *, normalize: bool = False, unit: str = "eV", **kw) -> np.ndarray:
    """The ESP of ``atoms`` from ``model``'s latent charges (normalized to max |q| = 1 if ``normalize``)."""
    q = latent_charges(model, atoms)
    return esp(atoms.positions, normalize_charges(q) if normalize else q, points, unit=unit, **kw)


def esp_correlation(v1, v2, mask=None) -> float:
    """Pearson correlation of two ESPs over the points where ``mask`` is True (default: all finite)."""
    a, b = np.asarray(v1, dtype=np.float64).ravel(), np.asarray(v2, dtype=np.float64).ravel()
    keep = np.isfinite(a) & np.isfinite(b)
    if mask is not None:
        keep &= np.asarray(mask, dtype=bool).ravel()
    if keep.sum() < 3 or a[keep].std() == 0 or b[keep].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[keep], b[keep])[0, 1])


def esp_agreement(models: dict, atoms, points, vdw_scale: float = 1.0) -> float:
    """Pearson r between the ESPs of two models (``{"BP": m1, "SchNet": m2}``) over ``points`` outside the
    van der Waals surface (radii × ``vdw_scale``)."""
    if len(models) != 2:
        raise AtomintError("esp_agreement compares exactly two models")
    v1, v2 = (model_esp(m, atoms, points) for m in models.values())
    return esp_correlation(v1, v2, outside_vdw(points, atoms, vdw_scale))


# ------------------------------------------------------------------------------------------ chemistry checks
def sign_checks(charges: dict[str, np.ndarray], atoms_by_name: dict, hydrocarbons=("methane", "propane", "benzene",
                                                                                   "toluene")) -> dict:
    """The paper's chemical reading of the charges, as numbers.

    ``charges[name]`` are one model's charges of ``atoms_by_name[name]``. Returns per check:
    ``hc``: in every hydrocarbon the mean H charge is positive and the mean C charge negative (with the
    counts of H > 0 and C < 0 atoms); ``o``: every O of phloroglucinol is negative."""
    res = {"hc_holds": True, "h_pos": 0, "h_total": 0, "c_neg": 0, "c_total": 0, "per_molecule": {}}
    for name in hydrocarbons:
        if name not in charges:
            continue
        q, Z = np.asarray(charges[name]), atoms_by_name[name].numbers
        qh, qc = q[Z == 1], q[Z == 6]
        ok = bool(qh.mean() > 0 and qc.mean() < 0)
        res["hc_holds"] &= ok
        res["h_pos"] += int((qh > 0).sum())
        res["h_total"] += len(qh)
        res["c_neg"] += int((qc < 0).sum())
        res["c_total"] += len(qc)
        res["per_molecule"][name] = {"mean_qH": float(qh.mean()), "mean_qC": float(qc.mean()), "holds": ok}
    if "phloroglucinol" in charges:
        q, Z = np.asarray(charges["phloroglucinol"]), atoms_by_name["phloroglucinol"].numbers
        qo = q[Z == 8]
        res["o_neg"], res["o_total"] = int((qo < 0).sum()), len(qo)
        res["o_holds"] = bool((qo < 0).all())
        res["o_mean"] = float(qo.mean())
    return res




# ------------------------------------------------------------------------------------------ Fig. 6 data
def figure_panels(models: dict, molecules: dict, *, cut_spacing: float = 0.05, normalize: bool = True,
                  unit: str = "eV", vdw_scale: float = 1.0) -> list[dict]:
    """What Fig. 6 draws: per molecule (``{name: atoms}``) and model (``{label: dipole model}``) the ESP
    in the cut through the molecular plane (charges normalized to max |q| = 1 if ``normalize``), with the
    mask of points outside the van der Waals surface and the raw charges."""
    from .grid import plane_cut

    panels = []
    for mol, atoms in molecules.items():
        cut = plane_cut(atoms, spacing=cut_spacing)
        mask = outside_vdw(cut.points, atoms, vdw_scale)
        for label, model in models.items():
            q = latent_charges(model, atoms)
            panels.append(dict(molecule=mol, model=label, atoms=atoms, cut=cut, mask=mask, charges=q,
                               values=esp(atoms.positions, normalize_charges(q) if normalize else q, cut.points,
                                          unit=unit)))
    return panels


def agreement_table(models: dict, molecules: dict, *, spacing: float = 0.25, padding: float = 3.0,
                    vdw_scale: float = 1.0):
    """Per molecule: Pearson r between the two models' ESPs over a 3D box grid (``spacing`` Å, ``padding``
    Å around the atoms) outside the van der Waals surface, the number of such points, and each model's
    ESP range there (eV, raw charges)."""
    import pandas as pd

    from .grid import box_grid

    if len(models) != 2:
        raise AtomintError("agreement_table compares exactly two models")
    (la, ma), (lb, mb) = models.items()
    rows = []
    for mol, atoms in molecules.items():
        pts = box_grid(atoms, spacing=spacing, padding=padding).points()
        mask = outside_vdw(pts, atoms, vdw_scale)
        va, vb = model_esp(ma, atoms, pts), model_esp(mb, atoms, pts)
        rows.append({"molecule": mol, "points outside vdW": int(mask.sum()),
                     f"r({la}, {lb})": esp_correlation(va, vb, mask),
                     f"{la} V range (eV)": f"{va[mask].min():.3f} … {va[mask].max():.3f}",
                     f"{lb} V range (eV)": f"{vb[mask].min():.3f} … {vb[mask].max():.3f}"})
    return pd.DataFrame(rows).set_index("molecule")


def charge_table(panels: list[dict]):
    """Mean latent charge per element (e), per molecule and model, from :func:`figure_panels`' panels."""
    import pandas as pd
    from ase.data import chemical_symbols

    rows = []
    for p in panels:
        Z, q = p["atoms"].numbers, p["charges"]
        row = {"molecule": p["molecule"], "model": p["model"]}
        for z in sorted(set(Z.tolist())):
            row[f"q({chemical_symbols[z]})"] = float(q[Z == z].mean())
        row["max |q|"] = float(np.abs(q).max())
        rows.append(row)
    return pd.DataFrame(rows).set_index(["molecule", "model"])


# ------------------------------------------------------------------------------------------ §3.2's readings
def surface_patches(atoms, vdw_scale: float = 1.0, n_dirs: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Points on the exposed van der Waals surface (radii × ``vdw_scale``, ``n_dirs`` per atom before the
    buried ones are dropped) and the atom each lies on (the sphere it was sampled from): ``(points [n, 3]
    Å, owner [n])``. The points owned by an atom are the surface closest to it."""
    from .grid import vdw_radii, vdw_sample

    pts = vdw_sample(atoms, vdw_scale, n_dirs)
    d = np.linalg.norm(pts[:, None, :] - atoms.positions[None], axis=-1)
    owner = np.argmin(d - vdw_radii(atoms.numbers)[None] * vdw_scale, axis=1)
    return pts, owner


def negative_area(atoms, charges, element: int = 8, vdw_scale: float = 1.0, n_dirs: int = 600):
    """The ESP on the van der Waals surface patch of each atom of ``element`` (default O): per such atom
    its index, the number of surface points, the mean V (eV, raw charges) and the share of points with
    V < 0. "A negative area around the O atoms" holds for an atom when its patch's mean V < 0."""
    import pandas as pd

    pts, owner = surface_patches(atoms, vdw_scale, n_dirs)
    v = esp(atoms.positions, charges, pts)
    rows = []
    for i in np.flatnonzero(np.asarray(atoms.numbers) == element):
        sel = owner == i
        rows.append({"atom": int(i), "points": int(sel.sum()),
                     "mean V (eV)": float(v[sel].mean()) if sel.any() else np.nan,
                     "share V < 0": float((v[sel] < 0).mean()) if sel.any() else np.nan})
    return pd.DataFrame(rows, columns=["atom", "points", "mean V (eV)", "share V < 0"])


def pooled_similarity(charges_a: dict, charges_b: dict, molecules: dict, *, spacing: float = 0.25,
                      padding: float = 3.0, vdw_scale: float = 1.0) -> dict:
    """How similar two models' charges are against how similar their ESPs are, over the same molecules.

    Each molecule's charges are normalized to max |q| = 1 (:func:`normalize_charges`, the figure's
    choice, so that no molecule dominates by its scale). ``charge_r``: Pearson r of the two models'
    normalized charges pooled over every atom of ``molecules``; ``esp_r``: Pearson r of the ESPs of those
    normalized charges pooled over every box-grid point (``spacing``, ``padding`` Å) outside the van der
    Waals surface of every molecule; plus the atom, point and molecule counts."""
    from .grid import box_grid

    qa, qb, va, vb = [], [], [], []
    for name, atoms in molecules.items():
        a, b = normalize_charges(charges_a[name]), normalize_charges(charges_b[name])
        pts = box_grid(atoms, spacing=spacing, padding=padding).points().reshape(-1, 3)
        pts = pts[outside_vdw(pts, atoms, vdw_scale)]
        qa.append(a)
        qb.append(b)
        va.append(esp(atoms.positions, a, pts))
        vb.append(esp(atoms.positions, b, pts))
    qa, qb, va, vb = (np.concatenate(x) for x in (qa, qb, va, vb))
    return {"charge_r": esp_correlation(qa, qb), "esp_r": esp_correlation(va, vb), "atoms": len(qa),
            "points": len(va), "molecules": len(molecules), "charge_diff": relative_difference(qa, qb), "esp_diff": relative_difference(va, vb)}


def panel_charges(panels: list[dict]) -> dict:
    """``{model: {molecule: charges}}`` from :func:`figure_panels`' panels."""
    out: dict = {}
    for p in panels:
        out.setdefault(p["model"], {})[p["molecule"]] = p["charges"]
    return out


def seed_control(models_dir, molecules: dict, folds=(0, 1, 2)) -> dict:
    """The sign checks (:func:`sign_checks`) of the quick-profile dipole models trained with the
    electronegativity seed (``<model>-dipole-quick-fold<k>``) and without it
    (``<model>-dipole-quick-noseed-fold<k>``, ``head.charge_seed = "none"``), per model label and fold:
    ``{label: {"seeded": {fold: checks}, "unseeded": {fold: checks}}}``. Folds whose checkpoint is missing
    are skipped. The unseeded runs were trained with ``atomint_helpers.training.train(model, "dipole", k,
    "quick", name=f"{model}-dipole-quick-noseed-fold{k}", threads=1, head={"charge_seed": "none"})``."""
    from pathlib import Path

    from .. import store

    out: dict = {}
    for key, label in (("bp", "BP"), ("schnet", "SchNet")):
        out[label] = {"seeded": {}, "unseeded": {}}
        for which, tag in (("seeded", ""), ("unseeded", "-noseed")):
            for k in folds:
                folder = Path(models_dir) / f"{key}-dipole-quick{tag}-fold{k}"
                if not store.is_checkpoint(folder):
                    continue
                model = store.load_model(folder)
                q = {name: latent_charges(model, at) for name, at in molecules.items()}
                out[label][which][int(k)] = sign_checks(q, molecules)
    return out


def element_means(model, ds) -> dict[str, float]:
    """Mean latent charge (e) per element of ``model`` over every molecule of ``ds`` (a QM9 data set)."""
    from .atom_terms import latent_terms

    df = latent_terms(model, ds)
    return {str(k): float(v) for k, v in df.groupby("symbol", observed=True)["charge"].mean().items()}


# ------------------------------------------------------------------------------------------ per molecule, per fold (#33)
def relative_difference(a, b) -> float:
    """``rms(a − b) / sqrt(mean((a² + b²) / 2))``: 0 for equal arrays, √2 for opposite ones, about 1 for
    unrelated ones of the same scale (dimensionless)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    scale = float(np.sqrt(np.mean((a ** 2 + b ** 2) / 2)))
    return float(np.sqrt(np.mean((a - b) ** 2)) / scale) if scale > 0 else float("nan")


def pair_measures(charges_a: dict, charges_b: dict, molecules: dict, *, spacing: float = 0.25,
                  padding: float = 3.0, vdw_scale: float = 1.0) -> dict:
    """Per molecule, two models' charges against their ESPs (box-grid points outside the van der Waals
    surface, as :func:`pooled_similarity`): ``esp_r_raw`` (Pearson r of the raw ESPs, as
    :func:`agreement_table`), and with each molecule's charges normalized to max |q| = 1: ``charge_r``,
    ``esp_r`` (Pearson r), ``charge_diff``, ``esp_diff`` (:func:`relative_difference`)."""
    from .grid import box_grid

    out = {}
    for name, atoms in molecules.items():
        qa, qb = np.asarray(charges_a[name]), np.asarray(charges_b[name])
        a, b = normalize_charges(qa), normalize_charges(qb)
        pts = box_grid(atoms, spacing=spacing, padding=padding).points().reshape(-1, 3)
        pts = pts[outside_vdw(pts, atoms, vdw_scale)]
        va, vb = esp(atoms.positions, a, pts), esp(atoms.positions, b, pts)
        out[name] = {"esp_r_raw": esp_correlation(esp(atoms.positions, qa, pts), esp(atoms.positions, qb, pts)),
                     "charge_r": esp_correlation(a, b), "esp_r": esp_correlation(va, vb),
                     "charge_diff": relative_difference(a, b), "esp_diff": relative_difference(va, vb)}
    return out


def element_patch_means(atoms, charges, element: int, vdw_scale: float = 1.0, n_dirs: int = 600) -> np.ndarray:
    """The mean ESP (eV, raw charges) over each ``element`` atom's exposed patch of the van der Waals
    surface (:func:`surface_patches`); NaN for an atom with no exposed point."""
    pts, owner = surface_patches(atoms, vdw_scale, n_dirs)
    v = esp(atoms.positions, charges, pts)
    return np.array([float(v[owner == i].mean()) if (owner == i).any() else np.nan
                     for i in np.flatnonzero(np.asarray(atoms.numbers) == element)])


def sign_measures(charges: dict, molecules: dict, hydrocarbons=("methane", "propane", "benzene", "toluene"),
                  oxygen: str = "phloroglucinol") -> dict:
    """One model's §3.2 sign readings as numbers (signed so that > 0 agrees with the paper where noted):

    ``hc_charge``  smallest over the hydrocarbons of min(mean q_H, −mean q_C) (e; > 0: H +, C −);
    ``hc_esp``     smallest over the hydrocarbons of min(mean V over the H patches, −mean V over the exposed
                   C patches) (eV, raw charges; > 0: the map is positive at H, negative at C);
    ``o_max``      the largest O charge of ``oxygen`` (e; < 0: every O negative);
    ``o_minus_c``  mean q_O − mean q_C of ``oxygen`` (e; < 0: O withdraws charge from the carbons);
    ``o_patch``    the largest over the O atoms of the mean V on its patch (eV; < 0: negative area at each);
    ``o_share``    the smallest over the O atoms of the share of its patch with V < 0."""
    hc, hc_v = [], []
    for name in hydrocarbons:
        if name not in charges:
            continue
        q, Z = np.asarray(charges[name]), molecules[name].numbers
        hc.append(min(q[Z == 1].mean(), -q[Z == 6].mean()))
        h = element_patch_means(molecules[name], q, 1)
        c = element_patch_means(molecules[name], q, 6)
        hc_v.append(min(np.nanmean(h), -np.nanmean(c)) if np.isfinite(c).any() else float(np.nanmean(h)))
    out = {"hc_charge": float(min(hc)) if hc else float("nan"), "hc_esp": float(min(hc_v)) if hc_v else float("nan")}
    if oxygen in charges:
        q, Z, at = np.asarray(charges[oxygen]), molecules[oxygen].numbers, molecules[oxygen]
        t = negative_area(at, q)
        out.update({"o_max": float(q[Z == 8].max()), "o_minus_c": float(q[Z == 8].mean() - q[Z == 6].mean()),
                    "o_patch": float(t["mean V (eV)"].max()), "o_share": float(t["share V < 0"].min())})
    return out


def fold_charges(models_dir, profile: str, folds, molecules: dict, models=(("bp", "BP"), ("schnet", "SchNet"))) -> dict:
    """``{label: {fold: {molecule: charges}}}``: the latent charges of every dipole checkpoint of ``folds``
    that exists (missing folds are skipped)."""
    from pathlib import Path

    from .. import store

    out: dict = {}
    for key, label in models:
        out[label] = {}
        for k in folds:
            folder = Path(models_dir) / store.run_name(key, "dipole", profile, k)
            if store.is_checkpoint(folder):
                model = store.load_model(folder)
                out[label][int(k)] = {name: latent_charges(model, at) for name, at in molecules.items()}
    return out


def fold_signs(fold_q: dict, molecules: dict) -> dict:
    """:func:`sign_measures` per model label and fold of :func:`fold_charges`' ``fold_q``, and ``"pooled"``:
    on the charges averaged over the folds."""
    out = {}
    for label, by in fold_q.items():
        if not by:
            continue
        mean = {name: np.mean([q[name] for q in by.values()], axis=0) for name in molecules}
        out[label] = {"pooled": sign_measures(mean, molecules), **{k: sign_measures(q, molecules) for k, q in by.items()}}
    return out


__all__ = ["esp", "model_esp", "latent_charges", "normalize_charges", "esp_correlation", "esp_agreement",
           "sign_checks", "figure_panels", "agreement_table", "charge_table", "surface_patches", "negative_area",
           "pooled_similarity", "panel_charges", "seed_control", "element_means", "relative_difference",
           "pair_measures", "element_patch_means", "sign_measures", "fold_charges", "fold_signs", "UNITS"]
