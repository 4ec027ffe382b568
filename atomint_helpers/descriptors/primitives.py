"""Building blocks of the symmetry functions: the cosine cutoff, floored Gaussians, neighbour pairs
turned into triples, the Gaussian parameter grids and the monomials of the moment expansion.

Distances in Å, Gaussian exponents ``eta`` in Å⁻², centres ``mu`` in Å. The equations that use them are
in :mod:`atomint_helpers.descriptors.acsf`.
"""
from __future__ import annotations

import math

import torch
from ase.data import chemical_symbols
from torch import Tensor

__all__ = ["cosine_cutoff", "neighbor_pairs_to_triples"]

#: rows of a per-element table indexed by atomic number: ase's 119 symbols, index 0 ('X') … 118 (Og)
N_ELEMENTS_TABLE = len(chemical_symbols)


def element_symbol(z: int) -> str:
    """The chemical symbol of atomic number ``z`` (``"Z=<z>"`` outside ase's table)."""
    return chemical_symbols[z] if 0 <= z < N_ELEMENTS_TABLE else f"Z={z}"


_EXP_FLOOR = -80.0  # exp(-80) = 1.8e-35


def gaussian(exponent: Tensor) -> Tensor:
    """``exp(exponent)`` with the exponent floored at -80: a shifted Gaussian far from ``r`` underflows
    (``exp(-200)`` in float32) into subnormals, which makes ``exp`` (and every later product) take a
    ~30x slower path on x86 CPUs. The floor changes a value by at most 1.8e-35 (its gradient there,
    at most ~1e-33, becomes 0)."""
    return torch.exp(exponent.clamp_min(_EXP_FLOOR))


def cosine_cutoff(r: Tensor, cutoff: float) -> Tensor:
    r"""Behler's cosine cutoff ``fc(r) = 0.5 (cos(pi r / r_c) + 1)`` for ``r < r_c``, 0 beyond (Å)."""
    fc = 0.5 * (torch.cos(r * (math.pi / cutoff)) + 1.0)
    return torch.where(r < cutoff, fc, torch.zeros_like(fc))


def sorted_triples(sorted_i: Tensor, n_atoms: int) -> tuple[Tensor, Tensor]:
    r"""Triples in the space of pairs already sorted by centre: returns ``(pos_j, pos_k)``.

    Centre ``a`` owns the sorted slots ``start[a] … start[a] + c_a - 1``; the pair in slot
    ``start[a] + m`` (its *rank* ``m``) is combined with the ``m`` earlier slots ``start[a] + n``,
    ``n < m``. So ``pos_j`` repeats every slot ``rank`` times (``repeat_interleave``) and
    ``pos_k = t - first[pos_j] + start``: a flat triple counter ``t`` minus the first triple of that
    slot, shifted to the centre's first slot. Every unordered neighbour pair appears once.
    """
    n_pairs = sorted_i.shape[0]
    device = sorted_i.device
    counts = torch.bincount(sorted_i, minlength=n_atoms)
    pair_start = torch.cumsum(counts, 0) - counts
    slot = torch.arange(n_pairs, device=device)
    rank = slot - pair_start.index_select(0, sorted_i)
    first = torch.cumsum(rank, 0) - rank  # first triple of each slot
    pos_j = torch.repeat_interleave(slot, rank)
    shift = slot - rank - first  # centre start - first triple, per slot
    pos_k = torch.arange(pos_j.shape[0], device=device) + shift.index_select(0, pos_j)
    return pos_j, pos_k


def neighbor_pairs_to_triples(idx_i: Tensor, n_atoms: int) -> tuple[Tensor, Tensor, Tensor]:
    r"""All unordered neighbour pairs ``{j, k}`` around each centre, from a pair list.

    Args:
        idx_i: [n_pairs] centre of each pair (any order).
        n_atoms: number of atoms (``idx_i < n_atoms``).

    Returns:
        ``(centre, p_j, p_k)``, each [n_triples]: the centre atom and the *pair indices* (rows of the
        pair list) of its two neighbours, ``p_j != p_k``, every unordered pair once, grouped by centre
        (``sum_a c_a (c_a - 1) / 2`` triples for ``c_a`` neighbours of atom ``a``).

    Method: a stable sort of the pairs by centre, then :func:`sorted_triples` (index arithmetic with
    ``repeat_interleave`` and ``cumsum``, like torchani's ``neighbors_to_triples``).
    """
    order = torch.argsort(idx_i, stable=True)
    sorted_i = idx_i.index_select(0, order)
    pos_j, pos_k = sorted_triples(sorted_i, n_atoms)
    return sorted_i.index_select(0, pos_j), order.index_select(0, pos_j), order.index_select(0, pos_k)


def gaussian_grid(start: float, stop: float, n: int, centered: bool) -> tuple[Tensor, Tensor]:
    """(eta [Å⁻²], mu [Å]) of schnetpack 0.3's ``GaussianSmearing(start, stop, n, centered)``."""
    points = torch.linspace(start, stop, n, dtype=torch.float64)
    if centered:  # exp(-r^2 / (2 sigma^2)) with sigma = points
        sigma, mu = points, torch.zeros_like(points)
    else:  # exp(-(r - mu)^2 / (2 sigma^2)), sigma = spacing of the centres
        if n < 2:
            raise ValueError("shifted (centered=False) radial Gaussians need n_radial >= 2")
        sigma, mu = torch.full_like(points, float(points[1] - points[0])), points
    if not bool((sigma > 0).all()):
        raise ValueError(f"Gaussian widths must be positive; got start={start}, stop={stop}, n={n}")
    return 0.5 / sigma**2, mu


def monomials(degree: int) -> list[tuple[int, int, int, int, float]]:
    """Exponents ``(a, b, c)`` of ``x^a y^b z^c`` for every total degree ``m <= degree``, with ``m``
    and the multinomial weight ``m! / (a! b! c!)``, so ``(u · v)^m = sum_{a+b+c=m} w u^abc v^abc``."""
    table = []
    for m in range(degree + 1):
        for a in range(m, -1, -1):
            for b in range(m - a, -1, -1):
                c = m - a - b
                w = math.factorial(m) / (math.factorial(a) * math.factorial(b) * math.factorial(c))
                table.append((a, b, c, m, w))
    return table
