"""A molecule from SMILES: RDKit's 3D embedding, with the warning that its geometry is a force field's.

:func:`smiles_to_atoms` builds a molecule from SMILES with RDKit (explicit H, ETKDG embedding with a fixed
seed, MMFF94 optimisation) and returns it with that force-field warning, also stored in
``atoms.info[GEOMETRY_INFO_KEY]`` so that :func:`atomint_helpers.models.domain.domain_warnings` repeats it.
A SMILES RDKit cannot read, or one holding several molecules, is refused in one line.
"""
from __future__ import annotations

from .. import AtomintError

#: the key of ``atoms.info`` holding the force-field warning of a SMILES geometry
GEOMETRY_INFO_KEY = "geometry_warning"
#: RDKit's random seed for the 3D embedding: the same SMILES always gives the same geometry
SMILES_SEED = 20190101


def smiles_to_atoms(smiles: str, seed: int = SMILES_SEED):
    """``(atoms, warning)``: a 3D molecule (Å, explicit hydrogens) from SMILES — RDKit parse, ETKDGv3 embedding
    with a fixed ``seed``, MMFF94 optimisation (UFF if MMFF94 lacks parameters) — and the plain-language
    warning that this is a force-field geometry, not the B3LYP geometry the models were trained on (also
    stored in ``atoms.info['geometry_warning']``, which :func:`atomint_helpers.models.domain.domain_warnings` repeats)."""
    from ase import Atoms

    from .. import require

    require("rdkit", "turn SMILES into 3D molecules")
    from rdkit import Chem, RDLogger
    from rdkit.Chem import AllChem

    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(str(smiles)) if str(smiles).strip() else None
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None:
        raise AtomintError(f"RDKit cannot parse the SMILES {smiles!r}")
    parts = Chem.GetMolFrags(mol)
    if len(parts) > 1:
        raise AtomintError(f"the SMILES {smiles!r} holds {len(parts)} separate molecules (parts joined by '.'); "
                           f"give one molecule per SMILES")
    radicals = sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms())
    formal = [a.GetFormalCharge() for a in mol.GetAtoms()]
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    if AllChem.EmbedMolecule(mol, params) != 0:
        params.useRandomCoords = True
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise AtomintError(f"RDKit could not embed the SMILES {smiles!r} in 3D")
    if AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
        ff = "MMFF94"
    else:
        AllChem.UFFOptimizeMolecule(mol, maxIters=2000)
        ff = "UFF"
    atoms = Atoms(numbers=[a.GetAtomicNum() for a in mol.GetAtoms()],
                  positions=mol.GetConformer().GetPositions())
    charge = Chem.GetFormalCharge(mol)
    atoms.info["charge"] = int(charge)
    atoms.info["formal_charges"] = formal + [0] * (len(atoms) - len(formal))  # AddHs appends the hydrogens
    if radicals:
        atoms.info["radical_electrons"] = int(radicals)
    warning = (f"the geometry of {smiles} is a force-field ({ff}) geometry from RDKit, not a B3LYP/6-31G(2df,p) "
               f"geometry like those the models were trained on: bond lengths and angles differ slightly, which "
               f"shifts the predicted energies and charges beyond the models' test errors.")
    if charge:
        warning += f" Its net formal charge is {charge:+d}; QM9 holds neutral molecules only."
    atoms.info[GEOMETRY_INFO_KEY] = warning
    atoms.info["smiles"] = str(smiles)
    return atoms, warning
