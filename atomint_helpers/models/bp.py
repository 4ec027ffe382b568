"""Behler–Parrinello network: one MLP per element on standardized atom-centred symmetry functions.

Behler & Parrinello, PRL 98, 146401 (2007); Behler, J. Chem. Phys. 134, 074106 (2011); with the
element-weighted wACSF of Gastegger et al., J. Chem. Phys. 148, 241709 (2018) as an option.
``forward(batch) -> y`` gives one latent scalar per atom; the head turns it into an atomic energy or
a latent charge. An atom whose element has no network raises an error naming the element.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..data.elements import QM9_ELEMENTS
from ..properties import ACSF_KEY, IDX_I, IDX_J, OFFSETS, R_KEY, Z_KEY
from ..descriptors import ACSF, FeatureStandardizer


@dataclass
class BPConfig:
    """Symmetry functions (schnetpack 0.3 ``BehlerSFBlock`` parameters) and element networks."""

    elements: tuple[int, ...] = QM9_ELEMENTS
    n_radial: int = 22
    n_angular: int = 5
    zetas: tuple[int, ...] = (1,)
    cutoff: float = 5.0  # Å
    centered: bool = False
    weighted: bool = False
    hidden: tuple[int, ...] = field(default_factory=lambda: (128, 128))
    #: clamp each feature to its training range before standardizing (``FeatureStandardizer(clip=True)``)
    clip_features: bool = False


def ssp(x: torch.Tensor) -> torch.Tensor:
    """Shifted softplus, ln(0.5 eˣ + 0.5), as in SchNet (smooth, zero at 0)."""
    return nn.functional.softplus(x) - 0.6931471805599453


class ElementNet(nn.Module):
    def __init__(self, n_in: int, hidden: tuple[int, ...]):
        super().__init__()
        sizes = (n_in, *hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = ssp(layer(x))
        return self.out(x).squeeze(-1)


class BehlerParrinello(nn.Module):
    """ACSF → per-element standardization → per-element MLP → one latent scalar per atom."""

    def __init__(self, config: BPConfig | dict | None = None):
        super().__init__()
        cfg = config if isinstance(config, BPConfig) else BPConfig(**(config or {}))
        cfg.elements, cfg.zetas, cfg.hidden = tuple(cfg.elements), tuple(cfg.zetas), tuple(cfg.hidden)
        self.config = cfg
        self.cutoff = float(cfg.cutoff)
        self.acsf = ACSF(elements=cfg.elements, n_radial=cfg.n_radial, n_angular=cfg.n_angular, zetas=cfg.zetas,
                         cutoff=cfg.cutoff, centered=cfg.centered, weighted=cfg.weighted)
        self.standardize = FeatureStandardizer(self.acsf.n_features, max_z=max(cfg.elements),
                                               clip=cfg.clip_features)
        self.nets = nn.ModuleDict({str(z): ElementNet(self.acsf.n_features, cfg.hidden) for z in cfg.elements})

    def config_dict(self) -> dict:
        return asdict(self.config)

    def descriptors(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        offsets = batch.get(OFFSETS)
        return self.acsf(batch[Z_KEY], batch[R_KEY], batch[IDX_I], batch[IDX_J], offsets)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        Z = batch[Z_KEY]
        # precomputed symmetry functions (training) or computed here (differentiable w.r.t. R)
        G = batch[ACSF_KEY] if ACSF_KEY in batch else self.descriptors(batch)
        x = self.standardize(Z, G)
        y = torch.zeros(len(Z), dtype=x.dtype, device=x.device)
        for z, net in self.nets.items():  # a handful of elements: one masked MLP call each
            idx = (Z == int(z)).nonzero().squeeze(1)
            if len(idx):
                y = y.index_put((idx,), net(x[idx]))
        return y
