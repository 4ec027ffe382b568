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
from collections.abc import Sequence

import torch
from ase.data import chemical_symbols
from torch import Tensor, nn

from ..data.elements import QM9_ELEMENTS
from .angular import AngularTerms
from .primitives import N_ELEMENTS_TABLE, cosine_cutoff, element_symbol, gaussian, gaussian_grid, monomials

__all__ = ["ACSF"]


class ACSF(AngularTerms, nn.Module):
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
        elements: Sequence[int] = QM9_ELEMENTS,
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
        if not elements or elements[0] < 1 or elements[-1] >= N_ELEMENTS_TABLE:
            raise ValueError(f"elements must be atomic numbers 1…{N_ELEMENTS_TABLE - 1}, got {elements}")
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
        element_index = torch.full((N_ELEMENTS_TABLE,), -1, dtype=torch.long)
        element_index[torch.tensor(elements)] = torch.arange(n_el)
        self.register_buffer("element_index", element_index, persistent=False)
        rows, cols = torch.triu_indices(self._n_channels, self._n_channels)
        self.register_buffer("pair_rows", rows, persistent=False)
        self.register_buffer("pair_cols", cols, persistent=False)

        # parameter grid (float64; cast to the input dtype in forward)
        empty = torch.zeros(0, dtype=torch.float64)
        if n_radial:
            eta, mu = gaussian_grid(1.0 if centered else 0.5, cutoff - 0.5, n_radial, centered)
        else:
            eta, mu = empty, empty
        self.register_buffer("radial_eta", eta, persistent=False)
        self.register_buffer("radial_mu", mu, persistent=False)
        eta_a = gaussian_grid(1.0, cutoff - 0.5, n_angular, True)[0] if n_angular else empty
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
            table = monomials(max(self.zetas))
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
        inside = (Z >= 0) & (Z < N_ELEMENTS_TABLE)
        slots = self.element_index.index_select(0, Z.clamp(0, N_ELEMENTS_TABLE - 1))
        bad = (slots < 0) | ~inside
        if bool(bad.any()):
            unknown = sorted({int(z) for z in Z[bad].tolist()})
            names = ", ".join(f"{element_symbol(z)} (Z={z})" for z in unknown)
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
            return gaussian(-eta * (dist[sl].unsqueeze(-1) - mu) ** 2) * wfc[sl].unsqueeze(-1)

        out = dist.new_zeros(n_atoms * self._n_channels, self.n_radial)
        self._accumulate(out, idx_i * self._n_channels + channel, terms)
        return out.view(n_atoms, self.n_radial_features)

    def _accumulate(self, out: Tensor, key: Tensor, terms) -> None:
        """``out.index_add_(0, key, terms(all pairs))`` in cache-sized blocks of ``pair_chunk`` pairs."""
        for start in range(0, key.shape[0], self.pair_chunk):
            sl = slice(start, start + self.pair_chunk)
            out.index_add_(0, key[sl], terms(sl))
