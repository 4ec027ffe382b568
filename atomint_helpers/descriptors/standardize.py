"""Per-element standardization of descriptor features (BP's input layer): :class:`FeatureStandardizer`."""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .primitives import element_symbol

__all__ = ["FeatureStandardizer"]


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
            raise ValueError(f"FeatureStandardizer(max_z={self.max_z}) got element {element_symbol(z)} (Z={z})")
        return Z

    @torch.no_grad()
    def fit(self, data: Iterable[tuple[Tensor, Tensor]]) -> FeatureStandardizer:
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
