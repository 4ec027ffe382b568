"""SchNet from schnetpack 2.1.1, built from a config; outputs one latent scalar per atom.

We do not re-implement SchNet: the representation is ``schnetpack.representation.SchNet`` with a
``GaussianRBF`` distance expansion and a ``CosineCutoff``; the per-atom readout is schnetpack's
``build_mlp`` (n_atom_basis → n_atom_basis/2 → 1, shifted softplus), as in schnetpack's ``Atomwise``.

Messages flow from ``_idx_j`` to ``_idx_i`` (aggregation over ``_idx_i``): an atom that appears only as
a receiver (a *probe*) feels the molecule but never acts back on it.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..properties import IDX_I, IDX_J, OFFSETS, R_KEY, Z_KEY


def _schnetpack():
    from .. import require

    return require("schnetpack", "build or load a SchNet model")


@dataclass
class SchNetConfig:
    """Hyper-parameters (the SchNet papers' QM9 models: 128 features, 6 interactions, 5 Å cutoff)."""

    n_atom_basis: int = 64
    n_interactions: int = 3
    cutoff: float = 5.0  # Å
    n_rbf: int = 20
    n_filters: int | None = None
    max_z: int = 100
    #: standard deviation of the initial element embeddings; None = torch's N(0, 1) (schnetpack's default).
    #: A small value (e.g. 0.1, the scale of a linear layer on one-hot element vectors) lets what training
    #: learns dominate the embeddings sooner than the random start.
    embedding_std: float | None = None


def gaussians(rep, d: torch.Tensor) -> torch.Tensor:
    """SchNet's Gaussian expansion of distances ``d`` (Å), ``rep.radial_basis(d)``, flushed to zero.

    Far Gaussians give exp(-γ (d - μ_k)²) below float32's smallest normal number (1.2e-38): denormals, on
    which x86 arithmetic is about 100× slower. Zeroing them is what a flush-to-zero CPU computes, done here
    because the CPU's flag (``torch.set_flush_denormal``) is per thread and does not reach torch's worker
    threads. float64 has no denormals at these distances.
    """
    f = rep.radial_basis(d)
    return f.masked_fill(f < torch.finfo(f.dtype).tiny, 0.0)


def interaction_blocks(interactions, x: torch.Tensor, f: torch.Tensor, rcut: torch.Tensor, pair_of: torch.Tensor,
                       idx_i: torch.Tensor, idx_j: torch.Tensor) -> torch.Tensor:
    """schnetpack's ``SchNetInteraction`` updates ``x += f2out(Σ_j in2f(x)_j · W(d_ij) f_cut(d_ij))`` with the filter
    network evaluated on the distinct distances ``f`` [n_distances, n_rbf] (cutoff ``rcut`` [n_distances, 1]) and
    gathered to the pairs by ``pair_of`` [n_pairs]; messages flow from ``idx_j`` to ``idx_i``."""
    for inter in interactions:
        w = (inter.filter_network(f) * rcut).index_select(0, pair_of)  # backward: index_add, not index_put
        x = interaction_update(inter, x, w, idx_i, idx_j)
    return x


def interaction_update(inter, x: torch.Tensor, w: torch.Tensor, idx_i: torch.Tensor, idx_j: torch.Tensor,
                       n_senders: int | None = None) -> torch.Tensor:
    """One ``SchNetInteraction``: ``x + f2out(Σ_j in2f(x)_j · w_ij)`` with the pair filters ``w`` [n_pairs, n_filters]
    (``W(d_ij) · f_cut(d_ij)``); messages flow from ``idx_j`` to ``idx_i``. ``n_senders``: only atoms
    ``0 … n_senders − 1`` appear in ``idx_j`` (receiver-only probe atoms follow them), so ``in2f`` runs on those
    rows alone — the same numbers, less work."""
    h = inter.in2f(x if n_senders is None else x[:n_senders])
    m = h.new_zeros(x.shape[0], h.shape[1]).index_add_(0, idx_i, h.index_select(0, idx_j) * w)
    return x + inter.f2out(m)


class FilterTable:
    """Every interaction's filter ``W_l(d) · f_cut(d)`` tabulated once at ``n`` distances ``linspace(0, cutoff, n)``
    and interpolated linearly; for grids of probe atoms, whose distances are all different.

    The table is computed in float64 by the representation's own modules (radial basis, cutoff function,
    filter networks, copied to float64) and stored in the model's dtype as rows ``[W(d_k), W(d_k+1) − W(d_k)]``
    (one gather per layer). With the default 20,001 nodes (2.5·10⁻⁴ Å apart at 5 Å) the interpolation
    error, ≈ h²/8 · |W''| ≲ 10⁻⁸, is below float32 rounding."""

    def __init__(self, representation, n: int = 20_001, dtype=torch.float32):
        import copy

        rep = representation
        cutoff = float(rep.cutoff_fn.cutoff)
        d = torch.linspace(0.0, cutoff, n, dtype=torch.float64)
        self.rows = []  # per layer [n, 2 · n_filters]: value and step to the next node
        with torch.no_grad():
            f = copy.deepcopy(rep.radial_basis).double()(d)  # float64: no subnormals to flush
            fc = copy.deepcopy(rep.cutoff_fn).double()(d)[:, None]
            for inter in rep.interactions:
                w = copy.deepcopy(inter.filter_network).double()(f) * fc
                step = torch.cat([w[1:] - w[:-1], torch.zeros_like(w[:1])])
                self.rows.append(torch.cat([w, step], dim=1).to(dtype))
        self.n, self.step = n, cutoff / (n - 1)

    def nodes(self, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The lower table node of every distance ``d`` (Å) and the fraction towards the next one."""
        u = d / self.step
        i0 = u.floor().long().clamp_(0, self.n - 2)
        return i0, (u - i0)[:, None]

    def filters(self, layer: int, i0: torch.Tensor, frac: torch.Tensor) -> torch.Tensor:
        """``W_layer(d) · f_cut(d)`` [n_pairs, n_filters] at the distances located by :meth:`nodes`."""
        rows = self.rows[layer].index_select(0, i0)
        value, step = rows.chunk(2, dim=1)
        return torch.addcmul(value, step, frac)


class SchNetAtomwise(nn.Module):
    """schnetpack SchNet + atom-wise MLP: ``forward(batch) -> y`` with ``y`` [n_atoms], one latent scalar per
    atom (before the head's per-element shift/scale or charge correction).

    One arithmetic, three ways to evaluate the filters ``W_l(d_ij) · f_cut(d_ij)``:

    * positions that need a gradient (forces, saliency) run schnetpack's own forward, filters per pair
      (``torch.unique`` has no derivative);
    * every other forward evaluates each filter network once per distinct distance
      (:meth:`_features_by_unique_distance`): every molecular pair (i, j) has its mirror (j, i) at a
      bit-identical distance, so this halves the filter-network work, which dominates a SchNet training step
      on a CPU. The interaction blocks are :func:`interaction_blocks`, or their compiled form from
      :meth:`compile_interactions` on;
    * probe grids pass a :class:`FilterTable` (``filter_table=``), whose distances are all different.
    """

    #: filters once per distinct distance for forwards without position gradients; False runs schnetpack's
    #: forward for every call (the reference the tests compare with)
    share_filters_by_distance: bool = True

    def __init__(self, config: SchNetConfig | dict | None = None):
        super().__init__()
        spk = _schnetpack()
        cfg = config if isinstance(config, SchNetConfig) else SchNetConfig(**(config or {}))
        self.config = cfg
        self.cutoff = float(cfg.cutoff)
        self.representation = spk.representation.SchNet(
            n_atom_basis=cfg.n_atom_basis,
            n_interactions=cfg.n_interactions,
            radial_basis=spk.nn.GaussianRBF(n_rbf=cfg.n_rbf, cutoff=cfg.cutoff),
            cutoff_fn=spk.nn.CosineCutoff(cfg.cutoff),
            n_filters=cfg.n_filters,
            nuclear_embedding=nn.Embedding(cfg.max_z, cfg.n_atom_basis),
        )
        if cfg.embedding_std is not None:
            if not cfg.embedding_std > 0:
                from .. import AtomintError

                raise AtomintError(f"embedding_std must be positive, got {cfg.embedding_std!r}")
            with torch.no_grad():  # rescale the N(0, 1) draw: no extra random numbers, the rest of the init unchanged
                self.representation.embedding.weight.mul_(float(cfg.embedding_std))
        self.readout = spk.nn.build_mlp(n_in=cfg.n_atom_basis, n_out=1, n_layers=2,
                                        activation=spk.nn.shifted_softplus)
        #: the interaction blocks of the distinct-distance path: eager until :meth:`compile_interactions`
        self.blocks = interaction_blocks

    def config_dict(self) -> dict:
        return asdict(self.config)

    @property
    def embedding(self) -> nn.Embedding:
        """Element embeddings (row Z is the embedding of atomic number Z)."""
        return self.representation.embedding

    def atom_features(self, batch: dict[str, torch.Tensor], filter_table: FilterTable | None = None,
                      n_senders: int | None = None) -> torch.Tensor:
        """The learned atom-wise representation x_i [n_atoms, n_atom_basis].

        ``filter_table`` (probe grids): the filters ``W_l(d) · f_cut(d)`` of every pair interpolated from a
        :class:`FilterTable` instead of the filter networks, and with it ``n_senders``: only the first
        ``n_senders`` atoms send messages (receiver-only probe atoms follow them; :func:`interaction_update`)."""
        R = batch[R_KEY]
        idx_i, idx_j = batch[IDX_I], batch[IDX_J]
        rij = R[idx_j] - R[idx_i]
        if OFFSETS in batch:
            rij = rij + batch[OFFSETS].to(R.dtype)
        rep = self.representation
        if filter_table is not None:
            i0, frac = filter_table.nodes(torch.linalg.vector_norm(rij, dim=1))
            x = rep.embedding(batch[Z_KEY])
            for layer, inter in enumerate(rep.interactions):
                x = interaction_update(inter, x, filter_table.filters(layer, i0, frac), idx_i, idx_j, n_senders)
            return x
        if rij.requires_grad or not self.share_filters_by_distance:
            inputs = {Z_KEY: batch[Z_KEY], "_Rij": rij, IDX_I: idx_i, IDX_J: idx_j}
            return rep(inputs)["scalar_representation"]
        return self._features_by_unique_distance(batch[Z_KEY], rij, idx_i, idx_j)

    def _features_by_unique_distance(self, Z, rij, idx_i, idx_j) -> torch.Tensor:
        """schnetpack's ``SchNet.forward`` and ``SchNetInteraction.forward`` with the same modules and
        arithmetic, except that the filters ``W(d) · f_cut(d)`` — a function of the distance only — are
        computed once per distinct distance and gathered to the pairs; Gaussians below the smallest normal
        float are zeroed (:func:`gaussians`)."""
        rep = self.representation
        d = torch.linalg.vector_norm(rij, dim=1)
        d_unique, pair_of = torch.unique(d, return_inverse=True)
        f = gaussians(rep, d_unique)
        rcut = rep.cutoff_fn(d_unique)[:, None]
        return self.blocks(rep.interactions, rep.embedding(Z), f, rcut, pair_of, idx_i, idx_j)

    def compile_interactions(self) -> bool:
        """Run :func:`interaction_blocks` through ``torch.compile`` (inductor, dynamic shapes) from now on.

        A SchNet step on a CPU is memory-bound on the [n_pairs × n_filters] tensors of the gather → filter
        product → scatter chain; inductor fuses it into loops that never write them out. Whether that pays
        depends on the threads (``training.profiles.Profile.compile``, bench/RESULTS.md). The compilation
        happens here, on a forward and backward pass over a synthetic batch (:meth:`_compile_check`;
        minutes on 2 cores, once per process, graphs cached on disk), so a failure to compile (torch.compile
        raises RuntimeErrors: no C++ compiler, an operator inductor cannot lower) warns here and the model
        stays eager. The check uses no random numbers and leaves every gradient as it was. Results agree
        with the eager forward to float rounding, not bit for bit. Returns whether the compiled blocks run."""
        if not hasattr(torch, "compile"):
            return False
        compiled = torch.compile(interaction_blocks, dynamic=True)
        try:
            self._compile_check(compiled)
        except RuntimeError as e:
            first = str(e).splitlines()[0][:200] if str(e) else ""
            warnings.warn(f"torch.compile failed ({type(e).__name__}: {first}); SchNet continues without compiling",
                          RuntimeWarning, stacklevel=2)
            return False
        self.blocks = compiled
        return True

    def _compile_check(self, blocks) -> None:
        """One forward and backward of ``blocks`` on a synthetic batch in the model's dtype and device, the
        gradient taken for the features only (no parameter's ``.grad`` changes). Its sizes (atoms, distinct
        distances, pairs) differ from each other, from 0 and 1 and from the layer widths: torch.compile
        specialises sizes 0 and 1 and gives equal sizes one symbol, which a training batch would not match."""
        rep, cfg = self.representation, self.config
        widths = {cfg.n_rbf, cfg.n_atom_basis, cfg.n_filters or cfg.n_atom_basis}
        n_atoms, n_dist, n_pairs = [n for n in range(7, 7 + 2 * (len(widths) + 3), 2) if n not in widths][:3]
        w = rep.embedding.weight
        with torch.enable_grad():
            d = torch.linspace(0.7, 0.9 * self.cutoff, n_dist, dtype=w.dtype, device=w.device)  # Å
            pair = torch.arange(n_pairs, device=w.device)
            idx_i = pair % n_atoms
            idx_j = (idx_i + 1 + pair // n_atoms) % n_atoms  # a different atom of the same batch
            x = rep.embedding(1 + pair[:n_atoms] % 9)  # atomic numbers 1 … 9
            out = blocks(rep.interactions, x, gaussians(rep, d), rep.cutoff_fn(d)[:, None], pair % n_dist, idx_i, idx_j)
            torch.autograd.grad(out.sum(), x)

    def forward(self, batch: dict[str, torch.Tensor], filter_table: FilterTable | None = None,
                n_senders: int | None = None) -> torch.Tensor:
        return self.readout(self.atom_features(batch, filter_table, n_senders)).squeeze(-1)
