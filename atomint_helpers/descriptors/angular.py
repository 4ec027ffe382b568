r"""The angular symmetry functions (G4/G5) of :class:`~atomint_helpers.descriptors.acsf.ACSF`: the sum
over neighbour pairs ``j < k`` evaluated by explicit triples or by per-neighbour moments.

:class:`AngularTerms` is a mixin of ACSF; it reads ACSF's parameter buffers (``angular_eta``,
``angular_lambda``, ``angular_zeta``, ``angular_prefactor``, ``moment_*``, ``pair_rows``/``pair_cols``),
settings (``zetas``, ``crossterms``, ``cutoff``, ``n_angular``, ``triple_chunk``) and helpers
(``_n_channels``, ``_accumulate``). The equations are in the docstring of
:mod:`atomint_helpers.descriptors.acsf`; distances in Å, ``eta`` in Å⁻².
"""
from __future__ import annotations

import torch
from torch import Tensor

from .primitives import cosine_cutoff, gaussian, sorted_triples

__all__ = ["AngularTerms"]


class AngularTerms:
    """Angular part of ACSF (mixin): ``_angular_triples`` and ``_angular_moments`` give the same values."""

    def _angular_radial_factor(self, dist: Tensor, wfc: Tensor) -> Tensor:
        """``a_ij = w_j exp(-eta r_ij^2) fc(r_ij)`` [n_pairs, n_angular]: the one-neighbour factor."""
        eta = self.angular_eta.to(dist.dtype)
        return gaussian(-eta * dist.unsqueeze(-1) ** 2) * wfc.unsqueeze(-1)

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
        :func:`sorted_triples`. Per pair ``[u_ij, r_ij, w_j fc(r_ij)]`` is gathered for both
        neighbours; per triple everything else is a scalar until the last step:
        ``cos = u_ij · u_ik``, ``s = r_ij^2 + r_ik^2`` and ``f = w_j w_k fc(r_ij) fc(r_ik)``; with
        ``crossterms`` also ``r_jk^2 = (r_ij - r_ik)^2 + 2 r_ij r_ik (1 - cos)`` (law of cosines,
        written without cancellation for ``r_ij ≈ r_ik``) added to ``s`` and ``fc(r_jk)`` to ``f``.
        Then ``f 2^(1-zeta) (1 + lambda cos)^zeta`` [n_triples, n_theta] times ``exp(-eta s)``
        [n_triples, n_angular] (outer product) is reduced with ``index_add`` on
        ``(i, channel_j, channel_k)`` and the ordered channel pairs are folded into unordered ones.
        """
        if idx_i.shape[0] > 1 and not bool((idx_i[1:] >= idx_i[:-1]).all()):
            order = torch.argsort(idx_i, stable=True)
            idx_i, channel = idx_i.index_select(0, order), channel.index_select(0, order)
            vec, dist, wfc = vec.index_select(0, order), dist.index_select(0, order), wfc.index_select(0, order)
        pos_j, pos_k = sorted_triples(idx_i, n_atoms)
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
        gauss = gaussian(s * -self.angular_eta.to(h_j.dtype))  # [n, n_angular]
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
