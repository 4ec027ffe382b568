r"""Atom-centred symmetry functions (ACSF) and weighted ACSF (wACSF) in vectorized torch.

These are the descriptors of the Behler–Parrinello (BP) model: for every atom ``i`` a fixed-length
vector that is invariant to rotation, translation and permutation of like atoms, built from the
neighbours ``j, k`` closer than the cutoff ``r_c`` (Å).

Formulas (Behler, J. Chem. Phys. 134, 074106 (2011); Gastegger et al., J. Chem. Phys. 148, 241709
(2018)); all distances in Å, ``eta`` in Å⁻², ``mu`` in Å:

* cosine cutoff   ``fc(r) = 0.5 * (cos(pi * r / r_c) + 1)`` for ``r < r_c``, else 0;
* radial  ``G2_i[X; eta, mu] = sum_{j != i, Z_j = X} exp(-eta * (r_ij - mu)^2) * fc(r_ij)``;
* angular ``G5_i[XY; eta, zeta, lambda] = 2^(1-zeta) * sum_{j<k, {Z_j, Z_k} = {X, Y}}
  (1 + lambda * cos(theta_ijk))^zeta * exp(-eta * (r_ij^2 + r_ik^2)) * fc(r_ij) * fc(r_ik)``
  (``crossterms=False``, schnetpack 0.3's default), or Behler's
  ``G4_i[XY; eta, zeta, lambda] = 2^(1-zeta) * sum_{j<k, {Z_j, Z_k} = {X, Y}}
  (1 + lambda * cos(theta_ijk))^zeta * exp(-eta * (r_ij^2 + r_ik^2 + r_jk^2))
  * fc(r_ij) * fc(r_ik) * fc(r_jk)`` (``crossterms=True``), with ``lambda = ±1`` and
  ``cos(theta_ijk) = r_ij · r_ik / (|r_ij| |r_ik|)``;
* wACSF (``weighted=True``): the element sums are replaced by sums over all neighbours weighted by
  their atomic numbers, ``Z_j`` in the radial and ``Z_j * Z_k`` in the angular functions, so the
  number of features does not depend on the number of elements.

The angular sum runs over *unordered* neighbour pairs ``j < k`` (each pair once), as in RuNNer, dscribe
and schnetpack 0.3's ``collect_atom_triples``. With the same ``eta``, ``mu``, ``zeta``, ``lambda`` these
are exactly dscribe 2.1's ``g2_params``, ``g5_params`` (G5) and ``g4_params`` (G4, which also has
the ``fc(r_jk)`` factor); dscribe adds one G1 (``sum_j fc``) per element, which is not computed here
(``tests/test_acsf.py`` maps the columns and agrees to ~1e-14). Gaussians are evaluated with the
exponent floored at -80 (``exp(-80) = 1.8e-35``) to keep float32 ``exp`` off its slow subnormal path.

Parameter grid (schnetpack 0.3, ``schnetpack.representation.hdnn.BehlerSFBlock`` with
``GaussianSmearing``):

* radial, ``centered=False``: ``n_radial`` shifted Gaussians with centres
  ``mu = linspace(0.5, r_c - 0.5, n_radial)`` and width ``sigma`` = centre spacing,
  ``eta = 1 / (2 sigma^2)`` (22 functions at 5 Å: spacing 0.1905 Å, ``eta`` = 13.78 Å⁻²);
* radial, ``centered=True``: Gaussians centred at 0 (``mu = 0``) with widths
  ``sigma = linspace(1.0, r_c - 0.5, n_radial)``, ``eta = 1 / (2 sigma^2)``;
* angular: always centred, ``sigma = linspace(1.0, r_c - 0.5, n_angular)``, ``eta = 1 / (2 sigma^2)``;
  each ``eta`` is combined with every ``zeta`` in ``zetas`` and both ``lambda = -1, +1``
  (schnetpack 0.3 default ``zetas = {1}``).

Feature layout (``n_features``; ``E = len(elements)``, ``n_theta = 2 * len(zetas)``):

* standard ACSF: ``[G2 per neighbour element X (E blocks of n_radial, centres/widths fastest),
  G4/G5 per unordered element pair XY (E(E+1)/2 blocks in upper-triangle order
  (HH, HC, HN, …, CC, CN, …) of n_theta * n_angular, ordered (lambda, zeta, eta) with lambda = -1
  first and eta fastest)]`` — ``n_radial * E + n_angular * n_theta * E(E+1)/2`` features, 260 for
  the defaults. This equals schnetpack 0.3's "Behler" mode (one-hot elements with
  ``pairwise_elements=True``) up to the column order and one factor: schnetpack's symmetrized outer
  product counts like-element pairs (HH, CC, …) twice; here every pair counts once as in Behler,
  RuNNer and dscribe (a constant factor per column that feature standardization removes).
* wACSF: ``[n_radial weighted G2, n_theta * n_angular weighted G4/G5]`` — 32 for the defaults,
  independent of ``elements``.

Batches follow the project contract: atoms of all molecules concatenated (``Z`` [n_atoms], ``R``
[n_atoms, 3] Å) and neighbour pairs ``idx_i`` (centre/receiver), ``idx_j`` (neighbour/sender) with
both directions present, ``r_ij = R[idx_j] - R[idx_i] + offsets``. Pairs need not be sorted; pairs at
or beyond the cutoff are dropped. Only receivers get features from a pair, so one-way "probe" atoms
(``idx_i`` only) do not change the features of the atoms they look at.

Two evaluations of the angular sum give the same numbers (``angular_method``):

* ``"triples"``: angular triples ``(i; j, k)`` are built from the pair list by index arithmetic (sort
  pairs by centre, enumerate each centre's ``c (c - 1) / 2`` neighbour pairs with
  ``repeat_interleave``/``cumsum``), as torchani's ``neighbors_to_triples`` and schnetpack's
  ``collect_atom_triples`` do; cost ``O(sum_i c_i^2)``. Needed for ``crossterms=True`` (G4).
* ``"moments"`` (G5 with integer ``zetas``; the default when ``max(zetas) <= 2``): the binomial
  expansion of ``(1 + lambda cos)^zeta`` and ``cos^m = (u_ij · u_ik)^m`` written with monomials of
  the unit vectors make the double sum a product of per-neighbour sums; cost ``O(sum_i c_i)``.

Neither uses Python loops over atoms, pairs or triples.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import torch
from ase.data import chemical_symbols
from torch import Tensor, nn

__all__ = ["ACSF", "FeatureStandardizer", "cosine_cutoff", "neighbor_pairs_to_triples"]

_N_ELEMENTS_TABLE = len(chemical_symbols)  # 119: index 0 ('X') … 118 (Og)


def _symbol(z: int) -> str:
    return chemical_symbols[z] if 0 <= z < _N_ELEMENTS_TABLE else f"Z={z}"


_EXP_FLOOR = -80.0  # exp(-80) = 1.8e-35


def _gaussian(exponent: Tensor) -> Tensor:
    """``exp(exponent)`` with the exponent floored at -80: a shifted Gaussian far from ``r`` underflows
    (``exp(-200)`` in float32) into subnormals, which makes ``exp`` (and every later product) take a
    ~30x slower path on x86 CPUs. The floor changes a value by at most 1.8e-35 (its gradient there,
    at most ~1e-33, becomes 0)."""
    return torch.exp(exponent.clamp_min(_EXP_FLOOR))


def cosine_cutoff(r: Tensor, cutoff: float) -> Tensor:
    r"""Behler's cosine cutoff ``fc(r) = 0.5 (cos(pi r / r_c) + 1)`` for ``r < r_c``, 0 beyond (Å)."""
    fc = 0.5 * (torch.cos(r * (math.pi / cutoff)) + 1.0)
    return torch.where(r < cutoff, fc, torch.zeros_like(fc))


def _sorted_triples(sorted_i: Tensor, n_atoms: int) -> tuple[Tensor, Tensor]:
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

    Method: a stable sort of the pairs by centre, then :func:`_sorted_triples` (index arithmetic with
    ``repeat_interleave`` and ``cumsum``, like torchani's ``neighbors_to_triples``).
    """
    order = torch.argsort(idx_i, stable=True)
    sorted_i = idx_i.index_select(0, order)
    pos_j, pos_k = _sorted_triples(sorted_i, n_atoms)
    return sorted_i.index_select(0, pos_j), order.index_select(0, pos_j), order.index_select(0, pos_k)


def _gaussian_grid(start: float, stop: float, n: int, centered: bool) -> tuple[Tensor, Tensor]:
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


def _monomials(degree: int) -> list[tuple[int, int, int, int, float]]:
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


class ACSF(nn.Module):
    r"""Behler ACSF (``weighted=False``) or Gastegger wACSF (``weighted=True``) for a batch of atoms.

    Args:
        elements: atomic numbers the descriptor knows (sorted internally); any other element in a
            batch raises ``ValueError``.
        n_radial: number of radial functions (G2) per neighbour element (or in total for wACSF).
        n_angular: number of angular Gaussian widths; each is combined with every ``zeta`` and
            ``lambda = ±1``.
        zetas: angular exponents ``zeta`` (schnetpack 0.3 default ``(1,)``; integers >= 1 recommended,
            a non-integer ``zeta < 1`` has an infinite derivative at ``cos(theta) = ∓1``).
        cutoff: cutoff radius ``r_c`` in Å.
        centered: radial Gaussians centred at 0 with growing widths instead of shifted ones.
        weighted: wACSF — weight neighbours by atomic number instead of resolving elements.
        crossterms: include ``exp(-eta r_jk^2) fc(r_jk)`` in the angular term (Behler's G4, dscribe's
            ``g4_params``); without it the angular term is Behler's G5 (dscribe's ``g5_params``).
        angular_method: how the sum over neighbour pairs is evaluated (same values either way):
            ``"triples"`` enumerates all triples ``(i; j, k)``, ``O(sum_i c_i^2)``;
            ``"moments"`` (only ``crossterms=False`` and integer ``zetas``) expands
            ``(1 + lambda cos)^zeta`` binomially and ``cos^m = (u_ij · u_ik)^m`` into monomials of the
            unit vectors, so the double sum factorizes into per-neighbour sums, ``O(sum_i c_i)``;
            ``"auto"`` picks ``"moments"`` when allowed and ``max(zetas) <= 2``, else ``"triples"``.

    The formulas, the parameter grid and the feature layout are in the module docstring.
    ``forward`` returns [n_atoms, n_features] in the dtype of ``R``, differentiable w.r.t. ``R``.
    """

    #: pairs / triples processed per block (keeps the per-pair and per-triple intermediates cache-sized)
    pair_chunk: int = 65536
    triple_chunk: int = 131072

    def __init__(
        self,
        elements: Sequence[int] = (1, 6, 7, 8, 9),
        n_radial: int = 22,
        n_angular: int = 5,
        zetas: Sequence[int | float] = (1,),
        cutoff: float = 5.0,
        centered: bool = False,
        weighted: bool = False,
        crossterms: bool = False,
        angular_method: str = "auto",
    ):
        super().__init__()
        elements = sorted({int(z) for z in elements})
        if not elements or elements[0] < 1 or elements[-1] >= _N_ELEMENTS_TABLE:
            raise ValueError(f"elements must be atomic numbers 1…{_N_ELEMENTS_TABLE - 1}, got {elements}")
        if n_radial < 0 or n_angular < 0 or n_radial + n_angular == 0:
            raise ValueError("need n_radial >= 0, n_angular >= 0 and at least one of them > 0")
        if n_angular > 0 and not zetas:
            raise ValueError("angular functions need at least one zeta")
        if any(float(z) <= 0 for z in zetas):
            raise ValueError(f"zetas must be positive, got {tuple(zetas)}")
        if cutoff <= 0:
            raise ValueError(f"cutoff must be positive (Å), got {cutoff}")
        self.elements = tuple(elements)
        self.n_radial, self.n_angular = int(n_radial), int(n_angular)
        self.zetas = tuple(int(z) if float(z).is_integer() else float(z) for z in zetas)
        self.cutoff = float(cutoff)
        self.centered, self.weighted, self.crossterms = bool(centered), bool(weighted), bool(crossterms)
        integer_zetas = all(isinstance(z, int) for z in self.zetas)
        if angular_method == "auto":
            use_moments = not crossterms and integer_zetas and max(self.zetas, default=1) <= 2
            angular_method = "moments" if use_moments else "triples"
        elif angular_method == "moments" and (crossterms or not integer_zetas):
            raise ValueError("angular_method='moments' needs crossterms=False and integer zetas")
        elif angular_method not in ("moments", "triples"):
            raise ValueError(f"angular_method must be 'auto', 'moments' or 'triples', got {angular_method!r}")
        self.angular_method = angular_method
        n_el = len(elements)
        self.n_elements = n_el
        self.n_element_pairs = n_el * (n_el + 1) // 2

        # Z -> element slot (-1: unknown); unordered pairs of channels (elements, or the single
        # wACSF channel) in upper-triangle order
        element_index = torch.full((_N_ELEMENTS_TABLE,), -1, dtype=torch.long)
        element_index[torch.tensor(elements)] = torch.arange(n_el)
        self.register_buffer("element_index", element_index, persistent=False)
        rows, cols = torch.triu_indices(self._n_channels, self._n_channels)
        self.register_buffer("pair_rows", rows, persistent=False)
        self.register_buffer("pair_cols", cols, persistent=False)

        # parameter grid (float64; cast to the input dtype in forward)
        empty = torch.zeros(0, dtype=torch.float64)
        if n_radial:
            eta, mu = _gaussian_grid(1.0 if centered else 0.5, cutoff - 0.5, n_radial, centered)
        else:
            eta, mu = empty, empty
        self.register_buffer("radial_eta", eta, persistent=False)
        self.register_buffer("radial_mu", mu, persistent=False)
        eta_a = _gaussian_grid(1.0, cutoff - 0.5, n_angular, True)[0] if n_angular else empty
        self.register_buffer("angular_eta", eta_a, persistent=False)
        lam = torch.tensor([lm for lm in (-1.0, 1.0) for _ in self.zetas], dtype=torch.float64)
        zeta = torch.tensor([float(z) for _ in (-1.0, 1.0) for z in self.zetas], dtype=torch.float64)
        self.register_buffer("angular_lambda", lam, persistent=False)
        self.register_buffer("angular_zeta", zeta, persistent=False)
        self.register_buffer("angular_prefactor", 2.0 ** (1.0 - zeta), persistent=False)
        self._zeta_is_one = all(z == 1 for z in self.zetas)

        if self.angular_method == "moments" and self.n_angular:
            # kernel[alpha, theta] = w_alpha * 2^(1-zeta) * binom(zeta, m) * lambda^m  (m = deg alpha),
            # self_term[theta] = 2^(1-zeta) (1 + lambda)^zeta  (the j = k term, cos = 1)
            table = _monomials(max(self.zetas))
            powers = torch.tensor([row[:3] for row in table], dtype=torch.long)
            kernel = torch.tensor(
                [[w * 2.0 ** (1 - z) * math.comb(z, m) * lm**m if m <= z else 0.0
                  for lm, z in zip(lam.tolist(), [int(z) for z in zeta.tolist()])]
                 for (_, _, _, m, w) in table], dtype=torch.float64)
            self_term = self.angular_prefactor * (1.0 + lam) ** zeta
        else:
            powers = torch.zeros(0, 3, dtype=torch.long)
            kernel, self_term = torch.zeros(0, 2 * len(self.zetas), dtype=torch.float64), empty
        self.register_buffer("moment_powers", powers, persistent=False)
        self.register_buffer("moment_kernel", kernel, persistent=False)
        self.register_buffer("moment_self_term", self_term, persistent=False)

    # ------------------------------------------------------------------ sizes and names
    @property
    def n_theta(self) -> int:
        """Angular (lambda, zeta) combinations per Gaussian width: ``2 * len(zetas)``."""
        return 2 * len(self.zetas)

    @property
    def n_radial_features(self) -> int:
        return self.n_radial * (1 if self.weighted else self.n_elements)

    @property
    def n_angular_features(self) -> int:
        return self.n_angular * self.n_theta * (1 if self.weighted else self.n_element_pairs)

    @property
    def n_features(self) -> int:
        """Length of the descriptor of one atom."""
        return self.n_radial_features + self.n_angular_features

    def feature_names(self) -> list[str]:
        """Readable label of every column, e.g. ``G2[H] eta=13.78 mu=0.5``, ``G5[C-O] eta=… zeta=1 lambda=-1``."""
        sym = [chemical_symbols[z] for z in self.elements]
        radial = [f"eta={float(e):.4g} mu={float(m):.4g}" for e, m in zip(self.radial_eta, self.radial_mu)]
        angular = [
            f"eta={float(e):.4g} zeta={z:g} lambda={int(lm):+d}"
            for lm, z in zip(self.angular_lambda.tolist(), self.angular_zeta.tolist())
            for e in self.angular_eta
        ]
        ang = "G4" if self.crossterms else "G5"
        if self.weighted:
            return [f"wG2 {r}" for r in radial] + [f"w{ang} {a}" for a in angular]
        pairs = zip(self.pair_rows.tolist(), self.pair_cols.tolist())
        return [f"G2[{s}] {r}" for s in sym for r in radial] + [
            f"{ang}[{sym[a]}-{sym[b]}] {x}" for a, b in pairs for x in angular
        ]

    def extra_repr(self) -> str:
        return (
            f"elements={self.elements}, n_radial={self.n_radial}, n_angular={self.n_angular}, "
            f"zetas={self.zetas}, cutoff={self.cutoff}, centered={self.centered}, "
            f"weighted={self.weighted}, crossterms={self.crossterms}, "
            f"angular_method={self.angular_method!r}, n_features={self.n_features}"
        )

    # ------------------------------------------------------------------ computation
    def element_slots(self, Z: Tensor) -> Tensor:
        """Index of each atom's element in ``elements``; ``ValueError`` naming any unknown element."""
        Z = Z.long()
        inside = (Z >= 0) & (Z < _N_ELEMENTS_TABLE)
        slots = self.element_index.index_select(0, Z.clamp(0, _N_ELEMENTS_TABLE - 1))
        bad = (slots < 0) | ~inside
        if bool(bad.any()):
            unknown = sorted({int(z) for z in Z[bad].tolist()})
            names = ", ".join(f"{_symbol(z)} (Z={z})" for z in unknown)
            known = ", ".join(chemical_symbols[z] for z in self.elements)
            raise ValueError(f"ACSF got element(s) {names} not in its elements ({known}); "
                             f"build ACSF(elements=...) including them")
        return slots

    def forward(self, Z: Tensor, R: Tensor, idx_i: Tensor, idx_j: Tensor, offsets: Tensor | None = None) -> Tensor:
        r"""Descriptors of all atoms of a batch.

        Args:
            Z: [n_atoms] atomic numbers.
            R: [n_atoms, 3] positions in Å (float32 or float64).
            idx_i, idx_j: [n_pairs] neighbour pairs (centre i, neighbour j), both directions, any order.
            offsets: optional [n_pairs, 3] periodic shift in Å, ``r_ij = R[j] - R[i] + offsets``.

        Returns:
            [n_atoms, n_features] in the dtype of ``R``.
        """
        n_atoms = Z.shape[0]
        slots = self.element_slots(Z)
        idx_i, idx_j = idx_i.long(), idx_j.long()
        vec = R.index_select(0, idx_j) - R.index_select(0, idx_i)
        if offsets is not None:
            vec = vec + offsets.to(R.dtype)
        dist = torch.linalg.vector_norm(vec, dim=-1)
        inside = dist < self.cutoff
        if not bool(inside.all()):
            keep = inside.nonzero().squeeze(1)
            idx_i, idx_j = idx_i.index_select(0, keep), idx_j.index_select(0, keep)
            vec, dist = vec.index_select(0, keep), dist.index_select(0, keep)
        fc = cosine_cutoff(dist, self.cutoff)
        if self.weighted:  # wACSF: neighbour j weighted by Z_j, one channel
            fc = fc * Z.to(R.dtype).index_select(0, idx_j)
            channel = torch.zeros_like(idx_j)
        else:  # ACSF: one channel per element of j
            channel = slots.index_select(0, idx_j)

        parts = []
        if self.n_radial:
            parts.append(self._radial(n_atoms, idx_i, channel, dist, fc))
        if self.n_angular:
            angular = self._angular_moments if self.angular_method == "moments" else self._angular_triples
            parts.append(angular(n_atoms, idx_i, channel, vec, dist, fc))
        return torch.cat(parts, dim=-1) if len(parts) > 1 else parts[0]

    @property
    def _n_channels(self) -> int:
        return 1 if self.weighted else self.n_elements

    def _radial(self, n_atoms: int, idx_i: Tensor, channel: Tensor, dist: Tensor, wfc: Tensor) -> Tensor:
        r"""``G2_i[c] = sum_{j in c} w_j exp(-eta (r_ij - mu)^2) fc(r_ij)`` with ``wfc = w_j fc(r_ij)``:
        per-pair terms [n_pairs, n_radial] reduced with ``index_add`` on ``i * n_channels + c``."""
        eta, mu = self.radial_eta.to(dist.dtype), self.radial_mu.to(dist.dtype)

        def terms(sl: slice) -> Tensor:
            return _gaussian(-eta * (dist[sl].unsqueeze(-1) - mu) ** 2) * wfc[sl].unsqueeze(-1)

        out = dist.new_zeros(n_atoms * self._n_channels, self.n_radial)
        self._accumulate(out, idx_i * self._n_channels + channel, terms)
        return out.view(n_atoms, self.n_radial_features)

    def _accumulate(self, out: Tensor, key: Tensor, terms) -> None:
        """``out.index_add_(0, key, terms(all pairs))`` in cache-sized blocks of ``pair_chunk`` pairs."""
        for start in range(0, key.shape[0], self.pair_chunk):
            sl = slice(start, start + self.pair_chunk)
            out.index_add_(0, key[sl], terms(sl))

    def _angular_radial_factor(self, dist: Tensor, wfc: Tensor) -> Tensor:
        """``a_ij = w_j exp(-eta r_ij^2) fc(r_ij)`` [n_pairs, n_angular]: the one-neighbour factor."""
        eta = self.angular_eta.to(dist.dtype)
        return _gaussian(-eta * dist.unsqueeze(-1) ** 2) * wfc.unsqueeze(-1)

    def _fold_pairs(self, per_ordered: Tensor) -> Tensor:
        """[n_atoms, C, C, F] sums over ordered channel pairs -> [n_atoms, C(C+1)/2 * F] unordered."""
        rows, cols = self.pair_rows, self.pair_cols
        off_diagonal = (rows != cols).to(per_ordered.dtype).unsqueeze(-1)
        folded = per_ordered[:, rows, cols] + per_ordered[:, cols, rows] * off_diagonal
        return folded.reshape(per_ordered.shape[0], -1)

    def _angular_triples(self, n_atoms: int, idx_i: Tensor, channel: Tensor, vec: Tensor, dist: Tensor,
                         wfc: Tensor) -> Tensor:
        r"""Angular functions by explicit triples ``(i; j, k)``, ``j < k``.

        Pairs are sorted by centre (skipped if they already are) and triples enumerated by
        :func:`_sorted_triples`. Per pair ``[u_ij, r_ij, w_j fc(r_ij)]`` is gathered for both
        neighbours; per triple everything else is a scalar until the last step:
        ``cos = u_ij · u_ik``, ``s = r_ij^2 + r_ik^2`` and ``f = w_j w_k fc(r_ij) fc(r_ik)``; with
        ``crossterms`` also ``r_jk^2 = (r_ij - r_ik)^2 + 2 r_ij r_ik (1 - cos)`` (law of cosines,
        written without cancellation for ``r_ij ≈ r_ik``) added to ``s`` and ``fc(r_jk)`` to ``f``.
        Then ``f 2^(1-zeta) (1 + lambda cos)^zeta`` [n_triples, n_theta] times ``exp(-eta s)``
        [n_triples, n_angular] (outer product) is reduced with ``index_add`` on
        ``(i, channel_j, channel_k)`` and the ordered channel pairs are folded into unordered ones.
        """
        dtype = vec.dtype
        if idx_i.shape[0] > 1 and not bool((idx_i[1:] >= idx_i[:-1]).all()):
            order = torch.argsort(idx_i, stable=True)
            idx_i, channel = idx_i.index_select(0, order), channel.index_select(0, order)
            vec, dist, wfc = vec.index_select(0, order), dist.index_select(0, order), wfc.index_select(0, order)
        pos_j, pos_k = _sorted_triples(idx_i, n_atoms)
        per_pair = torch.cat([vec / dist.unsqueeze(-1), dist.unsqueeze(-1), wfc.unsqueeze(-1)], dim=-1)
        n_c = self._n_channels
        if n_c == 1:
            key_j, key_k = idx_i, None
        else:
            key_j, key_k = idx_i * (n_c * n_c) + channel * n_c, channel
        out = per_pair.new_zeros(n_atoms * n_c * n_c, self.n_theta * self.n_angular)
        chunk = self.triple_chunk
        for start in range(0, pos_j.shape[0], chunk):  # cache-sized blocks of triples
            p_j, p_k = pos_j[start:start + chunk], pos_k[start:start + chunk]
            terms = self._triple_terms(per_pair.index_select(0, p_j), per_pair.index_select(0, p_k))
            key = key_j.index_select(0, p_j)
            if key_k is not None:
                key = key + key_k.index_select(0, p_k)
            out.index_add_(0, key, terms)
        return self._fold_pairs(out.view(n_atoms, n_c, n_c, -1))

    def _triple_terms(self, h_j: Tensor, h_k: Tensor) -> Tensor:
        """[n, n_theta * n_angular] contributions of triples from the gathered ``[u, r, w fc]`` rows."""
        cos = (h_j[:, :3] * h_k[:, :3]).sum(-1, keepdim=True)
        r_j, r_k = h_j[:, 3:4], h_k[:, 3:4]
        s = r_j * r_j + r_k * r_k
        f = h_j[:, 4:5] * h_k[:, 4:5]
        if self.crossterms:
            r_jk2 = (r_j - r_k) ** 2 + 2.0 * r_j * r_k * (1.0 - cos)
            s = s + r_jk2
            f = f * cosine_cutoff(torch.sqrt(r_jk2), self.cutoff)
        theta = self._angular_factor(cos) * f  # [n, n_theta]
        gauss = _gaussian(s * -self.angular_eta.to(h_j.dtype))  # [n, n_angular]
        return (theta.unsqueeze(-1) * gauss.unsqueeze(-2)).reshape(-1, self.n_theta * self.n_angular)

    def _angular_factor(self, cos: Tensor) -> Tensor:
        """``2^(1-zeta) (1 + lambda cos)^zeta`` [n, n_theta] from ``cos`` [n, 1], columns (lambda, zeta).

        Integer ``zeta <= 16`` by repeated multiplication of ``1 ∓ cos`` (cheaper than ``pow`` and
        exact for a base that rounding made slightly negative); otherwise ``pow`` on the base
        clamped at 0."""
        lam = self.angular_lambda.to(cos.dtype)
        if self._zeta_is_one:  # 2^0 (1 + lambda cos)^1
            return 1.0 + lam * cos
        zetas = self.zetas
        if all(isinstance(z, int) for z in zetas) and max(zetas) <= 16:
            base = torch.cat([1.0 - cos, 1.0 + cos], dim=-1)  # lambda = -1, +1
            powers, current = {}, base
            for z in range(1, max(zetas) + 1):
                if z > 1:
                    current = current * base
                if z in zetas:
                    powers[z] = current
            stacked = torch.stack([powers[z] for z in zetas], dim=-1)  # [n, 2, n_zeta]
            return stacked.reshape(cos.shape[0], -1) * self.angular_prefactor.to(cos.dtype)
        base = (1.0 + lam * cos).clamp_min(0.0)
        return self.angular_prefactor.to(cos.dtype) * base ** self.angular_zeta.to(cos.dtype)

    def _angular_moments(self, n_atoms: int, idx_i: Tensor, channel: Tensor, vec: Tensor, dist: Tensor,
                         wfc: Tensor) -> Tensor:
        r"""Angular functions (no crossterms, integer zetas) from per-neighbour moments, no triples.

        With ``(1 + lambda c)^zeta = sum_m binom(zeta, m) lambda^m c^m`` and
        ``c^m = (u_ij · u_ik)^m = sum_{|alpha| = m} w_alpha u_ij^alpha u_ik^alpha`` (monomials
        ``x^a y^b z^c`` of the unit vectors, multinomial weights ``w_alpha``), the pair sum factorizes:

        ``sum_{j in X, k in Y} a_ij a_ik (1 + lambda c_jk)^zeta = sum_alpha K[alpha, theta]
        M_i[X, alpha] M_i[Y, alpha]`` with moments ``M_i[X, alpha] = sum_{j in X} a_ij u_ij^alpha``
        [n_atoms, channels, n_monomials, n_angular] (one ``index_add`` over pairs) and
        ``K[alpha, theta] = w_alpha 2^(1-zeta) binom(zeta, m) lambda^m``. For ``X != Y`` this is the
        sum over unordered pairs; for ``X = Y`` it counts every unordered pair twice plus the ``j = k``
        terms ``sum_j a_ij^2 2^(1-zeta) (1 + lambda)^zeta`` (``c_jj = 1``), which are subtracted
        before halving. Cost ``O(n_pairs)`` instead of ``O(n_triples)``.
        """
        n_c = self._n_channels
        degree = max(self.zetas)
        p = self.moment_powers
        n_mono, n_a = p.shape[0], self.n_angular

        def terms(sl: slice) -> Tensor:  # [u^alpha a_ij for all monomials alpha, a_ij^2] per pair
            a = self._angular_radial_factor(dist[sl], wfc[sl])  # [P, H]
            unit = vec[sl] / dist[sl].unsqueeze(-1)
            pw = [torch.ones_like(unit)]
            for _ in range(degree):  # u^0 … u^degree per component (products: no pow(0, 0) gradients)
                pw.append(pw[-1] * unit)
            pw = torch.stack(pw, dim=-1)  # [P, 3, degree + 1]
            mono = (pw[:, 0].index_select(1, p[:, 0]) * pw[:, 1].index_select(1, p[:, 1])
                    * pw[:, 2].index_select(1, p[:, 2]))  # [P, n_monomials]
            return torch.cat([(mono.unsqueeze(-1) * a.unsqueeze(-2)).reshape(-1, n_mono * n_a), a * a], dim=-1)

        sums = dist.new_zeros(n_atoms * n_c, (n_mono + 1) * n_a)
        self._accumulate(sums, idx_i * n_c + channel, terms)
        moments = sums[:, : n_mono * n_a].view(n_atoms, n_c, n_mono, n_a)
        squares = sums[:, n_mono * n_a:].view(n_atoms, n_c, n_a)
        rows, cols = self.pair_rows, self.pair_cols
        kernel = self.moment_kernel.to(vec.dtype)
        products = moments[:, rows] * moments[:, cols]  # [N, pairs, n_mono, H]
        out = torch.einsum("npmh,mt->npth", products, kernel)  # [N, pairs, n_theta, H]
        diagonal = (rows == cols).to(vec.dtype)
        scale = (1.0 - 0.5 * diagonal).view(1, -1, 1, 1)
        self_term = self.moment_self_term.to(vec.dtype).view(1, 1, -1, 1)
        self_terms = (squares[:, rows] * diagonal.view(1, -1, 1)).unsqueeze(-2) * self_term
        return ((out - self_terms) * scale).reshape(n_atoms, -1)


class FeatureStandardizer(nn.Module):
    r"""Per-element feature standardization ``(G - mean[Z]) / std[Z]``.

    ``mean`` and ``std`` are buffers of shape [max_z + 1, n_features] (saved in the ``state_dict``
    with the model). :meth:`fit` computes them in one pass over the training set from per-batch
    statistics merged in float64 (Chan et al.'s pairwise update of count, mean and sum of squared
    deviations), population std (``ddof = 0``), floored at ``eps``. Elements never seen keep
    mean 0, std 1.

    ``clip=True`` also stores each element's per-feature training range (buffers ``low``/``high``) and
    clamps features to it before standardizing. ACSF are heavy-tailed and some are (almost) constant
    over a training set, e.g. an F–F angular term around H over 1,000 molecules: a molecule where such
    a feature is nonzero then gets a standardized input of 10⁵–10⁶ (std floored at ``eps``), far outside
    anything the network saw, and an absurd output. Clamped, a feature that was constant in training
    stays at that constant (standardized 0), and no input leaves the range the network was fitted on.
    Clamping is continuous, so energies stay continuous in the positions (a clamped feature just stops
    contributing to the forces). Checkpoints written without the option load without it.
    """

    def __init__(self, n_features: int, max_z: int = 9, eps: float = 1e-6, clip: bool = False):
        super().__init__()
        self.n_features, self.max_z, self.eps, self.clip = int(n_features), int(max_z), float(eps), bool(clip)
        shape = (self.max_z + 1, self.n_features)
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("std", torch.ones(shape, dtype=torch.float64))
        if self.clip:  # unseen elements: no bounds
            self.register_buffer("low", torch.full(shape, -torch.inf, dtype=torch.float64))
            self.register_buffer("high", torch.full(shape, torch.inf, dtype=torch.float64))

    def _check_z(self, Z: Tensor) -> Tensor:
        Z = Z.long()
        bad = (Z < 0) | (Z > self.max_z)
        if bool(bad.any()):
            z = int(Z[bad][0])
            raise ValueError(f"FeatureStandardizer(max_z={self.max_z}) got element {_symbol(z)} (Z={z})")
        return Z

    @torch.no_grad()
    def fit(self, data: Iterable[tuple[Tensor, Tensor]]) -> "FeatureStandardizer":
        """Statistics per element from an iterable of ``(Z [n_atoms], G [n_atoms, n_features])``."""
        n_z = self.max_z + 1
        count = torch.zeros(n_z, dtype=torch.float64)
        mean = torch.zeros(n_z, self.n_features, dtype=torch.float64)
        m2 = torch.zeros(n_z, self.n_features, dtype=torch.float64)
        low = torch.full((n_z, self.n_features), torch.inf, dtype=torch.float64)
        high = torch.full((n_z, self.n_features), -torch.inf, dtype=torch.float64)
        for Z, G in data:
            Z = self._check_z(torch.as_tensor(Z)).cpu()
            G = torch.as_tensor(G).detach().to("cpu", torch.float64)
            if G.shape != (Z.shape[0], self.n_features):
                raise ValueError(f"expected features of shape ({Z.shape[0]}, {self.n_features}), got {tuple(G.shape)}")
            n_b = torch.bincount(Z, minlength=n_z).to(torch.float64)
            if self.clip:  # the training range, only where it is used
                index = Z.unsqueeze(-1).expand_as(G)
                low.scatter_reduce_(0, index, G, reduce="amin")
                high.scatter_reduce_(0, index, G, reduce="amax")
            sum_b = torch.zeros_like(mean).index_add_(0, Z, G)
            mean_b = sum_b / n_b.clamp_min(1).unsqueeze(-1)
            m2_b = torch.zeros_like(m2).index_add_(0, Z, (G - mean_b.index_select(0, Z)) ** 2)
            total = count + n_b
            delta = mean_b - mean
            w = (n_b / total.clamp_min(1)).unsqueeze(-1)
            mean = mean + delta * w
            m2 = m2 + m2_b + delta**2 * (count * w.squeeze(-1)).unsqueeze(-1)
            count = total
        seen = count > 0
        std = torch.sqrt(m2 / count.clamp_min(1).unsqueeze(-1)).clamp_min(self.eps)
        self.mean.copy_(torch.where(seen.unsqueeze(-1), mean, torch.zeros_like(mean)))
        self.std.copy_(torch.where(seen.unsqueeze(-1), std, torch.ones_like(std)))
        if self.clip:
            self.low.copy_(torch.where(seen.unsqueeze(-1), low, torch.full_like(low, -torch.inf)))
            self.high.copy_(torch.where(seen.unsqueeze(-1), high, torch.full_like(high, torch.inf)))
        return self

    def forward(self, Z: Tensor, G: Tensor) -> Tensor:
        """Standardized features (clamped to the training range if ``clip``), same shape and dtype as ``G``."""
        Z = Z.long()
        if self.clip:
            G = torch.clamp(G, self.low.index_select(0, Z).to(G.dtype), self.high.index_select(0, Z).to(G.dtype))
        mean = self.mean.index_select(0, Z).to(G.dtype)
        std = self.std.index_select(0, Z).to(G.dtype)
        return (G - mean) / std
