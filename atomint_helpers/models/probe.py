r"""Receiver-only probe atoms through the models' own forward pass (BP and SchNet).

A probe is an extra atom appended to a one-molecule batch that appears only as a **receiver** in the
neighbour pairs (``idx_i = probe``, ``idx_j = molecule atom``, never the reverse, never probe → probe). So
it feels the molecule, the molecule's atoms are unchanged by it (nothing flows back), and probes do not
see each other: a whole grid of probes is one batch, i.e. one forward pass (per chunk of points).

:func:`probe_energies` runs the model's own modules on that batch: for SchNet the embedding, the filter
networks, the interaction blocks (:func:`.schnet.interaction_update`) and the atom-wise readout; for BP the
symmetry functions with the probes as centres only, the per-element standardizer and networks; then the
energy head. Nothing of a representation is re-implemented here, so a change to a model reaches its probes.

``method="exact"`` is the plain forward pass (``model(batch)``) on the molecule with the probes appended.
``method="table"`` (SchNet; the default for grids) changes two things that do not change the numbers beyond
float32 rounding: the filters ``W_l(d) · f_cut(d)`` of every pair are interpolated from a
:class:`.schnet.FilterTable` (the filter networks tabulated once in float64), and ``in2f`` runs only on the
molecule's atoms (probes never send). For BP both methods are the plain forward pass.

Units: positions Å, energies kcal/mol (the energy head's ``atomic_energies``).
"""
from __future__ import annotations

import torch

from ..properties import IDX_I, IDX_J, IDX_M, N_ATOMS, OFFSETS, R_KEY, Z_KEY

METHODS = ("table", "exact")

# Working memory of one probe point (:meth:`ProbeForward.bytes_per_point`), counted in numbers of the model's
# float size: the tensors one forward pass holds at once, an int64 index counting as two float32 numbers.
#: SchNet with the filter table, per pair and filter: table row (value, step), filter, gathered in2f(x_j), message
TABLE_PER_PAIR_FILTER = 5
#: SchNet with the filter table, per pair besides its filters: vector, distance, table node and fraction, indices
TABLE_PER_PAIR = 20
#: SchNet with the filter table, per probe and feature: embedding, in2f, messages, f2out, update, readout input
TABLE_PER_POINT_FEATURE = 6
#: SchNet's exact forward, per pair and filter: filter network's hidden layer, W per distance, W per pair,
#: gathered in2f(x_j), message (the pair's n_rbf Gaussians are counted apart)
EXACT_PER_PAIR_FILTER = 5
#: SchNet's exact forward, per pair besides Gaussians and filters: vector, distance, indices, torch.unique's
#: sorted copy and inverse
EXACT_PER_PAIR = 24
#: SchNet's exact forward, per probe and feature: the table path's six and the distinct-distance gather
EXACT_PER_POINT_FEATURE = 7
#: BP, per pair besides its radial and angular terms: vector, distance, cutoff, element channel, indices
BP_PER_PAIR = 16
#: BP counts each radial term, angular term, hidden unit and angular sum twice: the value and the intermediate
#: it is computed from (an exponent, a product before summing, a pre-activation)
BP_COPIES = 2
#: BP, per probe: symmetry functions raw, standardized and as the first layer's input
BP_FEATURE_COPIES = 3
#: BP by explicit triples (no ``moment_powers``): its angular terms per pair count as this many monomials
BP_DEFAULT_MONOMIALS = 4
#: per probe besides all this: its position, atomic number, molecule index and result
PER_POINT = 8


def probe_pairs(points: torch.Tensor, R: torch.Tensor, cutoff: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs (probe p, molecule atom j) with ``|R_j − r_p| < cutoff`` (Å), sorted by (p, j)."""
    d2 = ((points[:, None, :] - R[None, :, :]) ** 2).sum(-1)
    ip, jm = (d2 < cutoff * cutoff).nonzero(as_tuple=True)
    return ip, jm


def append_probes(batch: dict[str, torch.Tensor], points: torch.Tensor, z: int, cutoff: float) -> dict[str, torch.Tensor]:
    """The one-molecule ``batch`` with one probe atom of atomic number ``z`` per row of ``points`` [n, 3] (Å)
    appended: the molecule's pairs as they are, then the pairs probe → molecule atom within ``cutoff``
    (the probe receives only). All atoms belong to molecule 0. Pair offsets are kept only when the molecule's
    are not all zero (a molecule has none; the models read a missing ``_offsets`` as zeros)."""
    n_mol, n_p = len(batch[Z_KEY]), len(points)
    ip, jm = probe_pairs(points, batch[R_KEY], cutoff)
    out = {Z_KEY: torch.cat([batch[Z_KEY], torch.full((n_p,), int(z), dtype=torch.long)]),
           R_KEY: torch.cat([batch[R_KEY], points]),
           IDX_M: torch.zeros(n_mol + n_p, dtype=torch.long), N_ATOMS: torch.tensor([n_mol + n_p]),
           IDX_I: torch.cat([batch[IDX_I], ip + n_mol]), IDX_J: torch.cat([batch[IDX_J], jm])}
    if OFFSETS in batch and bool(batch[OFFSETS].any()):  # periodic shifts: none for the probes
        out[OFFSETS] = torch.cat([batch[OFFSETS].to(points.dtype), torch.zeros(len(ip), 3, dtype=points.dtype)])
    return out


class ProbeForward:
    """An energy model with a one-molecule batch, ready to evaluate receiver-only probes of element ``z``.

    ``ProbeForward(model, batch, z)(points)`` → atomic energies [n_molecule + n_points] (kcal/mol): the
    molecule's atoms first, then one probe per point. The filter table (SchNet, ``method="table"``) is built
    once here.

    Trusts its caller: ``model`` an energy model that knows every element of ``batch`` and ``z``, ``method``
    one of :data:`METHODS`. The entry points of :mod:`atomint_helpers.interpret.probe` check these once, before
    the batch is built."""

    def __init__(self, model, batch: dict[str, torch.Tensor], z: int, method: str = "table"):
        self.model, self.batch, self.z = model, batch, int(z)
        self.n_molecule = len(batch[Z_KEY])
        self.cutoff = float(model.cutoff)
        self.table = None
        if method == "table" and model.config["model"] == "schnet":
            from .schnet import FilterTable

            self.table = FilterTable(model.representation.representation, dtype=batch[R_KEY].dtype)
        self.method = method

    @property
    def n_features(self) -> int:
        """Width of the widest per-pair tensor: SchNet's filters, BP's symmetry functions."""
        rep = self.model.representation
        if self.model.config["model"] == "schnet":
            return rep.representation.interactions[0].in2f.out_features
        return rep.acsf.n_features

    def bytes_per_point(self, n_neighbours: int) -> int:
        """Estimated working memory (bytes) of one probe with ``n_neighbours`` pairs in a forward pass: the
        per-pair tensors in flight at once (counted in the model's float size) plus the probe's own rows."""
        itemsize = torch.finfo(self.batch[R_KEY].dtype).bits // 8
        rep = self.model.representation
        if self.model.config["model"] == "schnet":
            F, width = self.n_features, rep.config.n_atom_basis
            if self.table is not None:  # one interaction layer at a time
                per_pair, per_point = TABLE_PER_PAIR_FILTER * F + TABLE_PER_PAIR, TABLE_PER_POINT_FEATURE * width
            else:
                per_pair = rep.config.n_rbf + EXACT_PER_PAIR_FILTER * F + EXACT_PER_PAIR
                per_point = EXACT_PER_POINT_FEATURE * width
        else:
            acsf = rep.acsf
            n_mono = len(acsf.moment_powers) or BP_DEFAULT_MONOMIALS
            per_pair = BP_PER_PAIR + BP_COPIES * acsf.n_radial + BP_COPIES * (n_mono + 1) * acsf.n_angular
            per_point = (BP_FEATURE_COPIES * acsf.n_features + BP_COPIES * max(rep.config.hidden)
                         + BP_COPIES * acsf.n_element_pairs * n_mono * acsf.n_angular * max(acsf.n_theta, 1))
        return int((n_neighbours * per_pair + per_point + PER_POINT) * itemsize)

    def batch_with(self, points: torch.Tensor) -> dict[str, torch.Tensor]:
        """The molecule's batch with one probe per point appended (:func:`append_probes`)."""
        return append_probes(self.batch, points, self.z, self.cutoff)

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        b = self.batch_with(points)
        if self.table is None:
            return self.model(b)["atomic_energies"]
        y = self.model.representation(b, filter_table=self.table, n_senders=self.n_molecule)
        return self.model.head(b, y)["atomic_energies"]


__all__ = ["METHODS", "ProbeForward", "append_probes", "probe_pairs"]
