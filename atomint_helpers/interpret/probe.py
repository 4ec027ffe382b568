r"""Local chemical potential: the latent energy of a probe atom placed anywhere around a molecule (Fig. 5).

A probe atom of element ``probe`` (carbon in the paper) at position ``r`` *feels* the molecule but does
not act back on it: it is an extra atom that appears only as a **receiver** in the neighbour pairs
(``idx_i = probe``, ``idx_j = molecule atom``, never the reverse), and probes never see each other
(ARCHITECTURE.md). The local chemical potential is the probe's latent atomic energy

    Ω_probe(r) = E_probe(r) = shift[Z_probe] + scale · y_probe(r)      (kcal/mol)

from the model's energy head. It is exactly what the model's plain forward pass gives for the probe
appended to the batch (:func:`full_forward_potential`); the molecule's own outputs are unchanged by it.

Batched evaluation (:class:`ProbePotential`).  Because nothing flows from a probe to the molecule, the
molecule's representation is computed **once**; a whole grid of probes then only needs the
probe → molecule pairs:

* SchNet (schnetpack's ``SchNetInteraction`` submodules on the cached molecule features
  ``x_mol^(l)``): ``x_p^(0) = embedding(Z_probe)`` and, for every interaction ``l``,
  ``x_p^(l+1) = x_p^(l) + f2out( Σ_j in2f(x_mol^(l))_j ⊙ W_l(d_pj) · fc(d_pj) )``, then the atom-wise
  readout and the energy head. ``in2f(x_mol^(l))`` is computed once per layer for the molecule.
  Because a probe only receives, its messages ``m_p^(l) = Σ_j …`` do not depend on its own features:
  the messages of *all* layers are formed in one pass over the pairs, and only the cheap per-point
  updates ``x_p^(l+1) = x_p^(l) + f2out(m_p^(l))`` run layer by layer.

  ``method="exact"`` evaluates the filter network ``W_l(d) · fc(d)`` for every pair with schnetpack's
  modules — bit for bit the plain forward pass with the probes appended. ``method="table"`` (the
  default) tabulates ``W_l(d) · fc(d)`` of every layer once per model in float64 on ``[0, cutoff]``
  with ``TABLE_POINTS`` = 20,001 nodes (2.5·10⁻⁴ Å apart) and interpolates linearly: the
  interpolation error (≈ h²/8 · |W''| ≲ 10⁻⁸) is below float32 rounding, so the potential agrees with
  the exact path to float32 precision of the output (measured: ≤ 1 ulp, 1.5·10⁻⁵ kcal/mol at
  ~140 kcal/mol; tests allow 10⁻⁴ kcal/mol), and a grid is ≈ 2.5× faster (``bench/probe.py``).
* Behler–Parrinello (beyond the paper): the probe's symmetry functions from the molecule's atoms
  (pairs probe → molecule only), the model's per-element standardizer, the probe element's network and
  the energy head. Same arithmetic as the plain forward pass, but the per-element matrix products have
  a different number of rows, which can move the last float32 bit (≤ 10⁻⁴ kcal/mol in the tests).

Probes are processed in chunks whose working memory is bounded (``chunk_mb``, default 64 MB); the
chunk size comes from an estimate of bytes per probe point (``neighbours × features × itemsize`` times
the number of per-pair tensors in flight, :meth:`ProbePotential.memory_needed`). A grid whose points,
results and one chunk would exceed ``max_memory_gb`` (default 4 GB) is refused with the size it would
need — and what a single unchunked pass would need — before anything is computed.

Units: positions Å, potentials kcal/mol. :meth:`ProbePotential.reference` gives two zero points:
``"shift"`` — the energy head's per-element shift ``b_Z`` of the probe element, i.e. its mean atomic
energy in the training molecules (``Ω(r) − b_Z = scale · y_probe(r)``: negative where the probe would be
more stable than an average atom of its element in QM9; the cube and PNG exports use it); ``"isolated"`` —
``Ω(∞)``, the probe with no molecule atom within the cutoff (Fig. 5's reference; an extrapolation for BP,
whose descriptors are then all zero, a configuration never seen in training). Fig. 5's panels and the
measures on them live in :mod:`.probe_maps`.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .. import AtomintError
from ..data.batch import IDX_I, IDX_J, IDX_M, N_ATOMS, OFFSETS, R_KEY, Z_KEY
from ..models.schnet import gaussians
from .grid import check_points

DEFAULT_CHUNK_MB = 64.0
DEFAULT_MAX_MEMORY_GB = 4.0
METHODS = ("table", "exact")
#: nodes of the SchNet filter table on [0, cutoff] (method="table")
TABLE_POINTS = 20_001


def probe_number(probe) -> int:
    """Atomic number of a probe given as a symbol (``"C"``) or a number (``6``); a clear error otherwise."""
    from ase.data import atomic_numbers, chemical_symbols

    if isinstance(probe, (int, np.integer)) and not isinstance(probe, bool):
        z = int(probe)
        if 1 <= z < len(chemical_symbols):
            return z
    elif isinstance(probe, str):
        s = probe.strip()
        s = s[:1].upper() + s[1:].lower()
        if s.isdigit() and 1 <= int(s) < len(chemical_symbols):
            return int(s)
        if s in atomic_numbers and s != "X":
            return atomic_numbers[s]
    raise AtomintError(f"probe element {probe!r} is not an element symbol or atomic number (e.g. 'C' or 6)")


def _check_model(model, what: str = "the probe potential"):
    from ..models import require_target

    require_target(model, "energy", what)


def _check_probe_element(model, z: int) -> None:
    """The model's own error naming an element it does not know."""
    try:
        model.check_elements(torch.tensor([z]))
    except AtomintError as e:
        raise AtomintError(f"probe element: {e}") from None


def _check_atoms(atoms, name: str = "molecule"):
    from ..data.xyz import check_molecule

    if atoms is None or not hasattr(atoms, "numbers"):
        raise AtomintError(f"{name}: expected an ase.Atoms molecule, got {type(atoms).__name__}")
    check_molecule(atoms, name)
    if np.any(atoms.pbc):
        raise AtomintError(f"{name}: periodic structures are not supported for probes (molecules only)")


def probe_pairs(points: torch.Tensor, R: torch.Tensor, cutoff: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs (probe p, molecule atom j) with ``|R_j − r_p| < cutoff``, sorted by (p, j)."""
    d2 = ((points[:, None, :] - R[None, :, :]) ** 2).sum(-1)
    ip, jm = (d2 < cutoff * cutoff).nonzero(as_tuple=True)
    return ip, jm


def probe_batch(model, atoms, points, probe="C") -> dict[str, torch.Tensor]:
    """The plain batch of the molecule with one probe atom per point appended: molecule pairs as usual,
    probe pairs ``probe → molecule`` only (the reference for tests and the naive loop)."""
    from ..models import atoms_to_batch

    z = probe_number(probe)
    dtype = next(model.parameters()).dtype
    b = atoms_to_batch(atoms, model.cutoff, dtype=dtype)
    pts = torch.as_tensor(check_points(points).reshape(-1, 3), dtype=dtype)
    n_mol = len(b[Z_KEY])
    ip, jm = probe_pairs(pts, b[R_KEY], model.cutoff)
    n_p = len(pts)
    idx_i = torch.cat([b[IDX_I], ip + n_mol])
    idx_j = torch.cat([b[IDX_J], jm])
    return {Z_KEY: torch.cat([b[Z_KEY], torch.full((n_p,), z, dtype=torch.long)]),
            R_KEY: torch.cat([b[R_KEY], pts]),
            IDX_M: torch.zeros(n_mol + n_p, dtype=torch.long), N_ATOMS: torch.tensor([n_mol + n_p]),
            IDX_I: idx_i, IDX_J: idx_j, OFFSETS: torch.zeros(len(idx_i), 3, dtype=dtype)}


@torch.inference_mode()
def full_forward_potential(model, atoms, points, probe="C") -> np.ndarray:
    """Reference: the model's plain forward pass on the molecule with all probes appended (one pass,
    no caching, memory ∝ n_points × neighbours × features). Returns kcal/mol, shape ``points.shape[:-1]``."""
    _check_model(model)
    _check_atoms(atoms)
    z = probe_number(probe)
    _check_probe_element(model, z)
    pts = check_points(points)
    batch = probe_batch(model, atoms, pts, z)
    model.eval()
    e = model(batch)["atomic_energies"][len(atoms):]
    return e.double().numpy().reshape(pts.shape[:-1])


_LOG2 = math.log(2.0)


def _filter(inter, f: torch.Tensor, rcut: torch.Tensor) -> torch.Tensor:
    """``inter.filter_network(f) * rcut[:, None]`` with the same arithmetic, in place where possible
    (fewer passes over the [pairs, filters] tensors; bit-identical to schnetpack's modules)."""
    from schnetpack.nn.activations import shifted_softplus

    first, second = inter.filter_network
    if first.activation is shifted_softplus and isinstance(second.activation, torch.nn.Identity):
        a = torch.nn.functional.softplus(torch.nn.functional.linear(f, first.weight, first.bias))
        a.sub_(_LOG2)
        w = torch.nn.functional.linear(a, second.weight, second.bias)
    else:  # another activation: the modules themselves
        w = inter.filter_network(f)
    return w.mul_(rcut[:, None])


def _filter_table(rep, n: int = TABLE_POINTS) -> torch.Tensor | None:
    """``[W_l(d) · fc(d) for every layer l]`` at ``n`` distances ``linspace(0, cutoff, n)``: [n, L·filters],
    computed in float64 from the float32 weights. ``None`` if the model uses building blocks whose
    formula is not known here (then the exact path is used)."""
    from schnetpack.nn.activations import shifted_softplus
    from schnetpack.nn.cutoff import CosineCutoff, cosine_cutoff
    from schnetpack.nn.radial import GaussianRBF, gaussian_rbf

    if not (type(rep.radial_basis) is GaussianRBF and type(rep.cutoff_fn) is CosineCutoff):
        return None
    F = torch.nn.functional
    cutoff = float(rep.cutoff_fn.cutoff)
    d = torch.linspace(0.0, cutoff, n, dtype=torch.float64)
    f = gaussian_rbf(d, rep.radial_basis.offsets.double(), rep.radial_basis.widths.double())
    fc = cosine_cutoff(d, rep.cutoff_fn.cutoff.double())
    cols = []
    for inter in rep.interactions:
        first, second = inter.filter_network
        if not (first.activation is shifted_softplus and isinstance(second.activation, torch.nn.Identity)):
            return None
        a = F.softplus(F.linear(f, first.weight.double(), first.bias.double())) - _LOG2
        cols.append(F.linear(a, second.weight.double(), second.bias.double()) * fc[:, None])
    return torch.cat(cols, dim=1)


class ProbePotential:
    """Batched probe potential of one molecule for one model and probe element.

    ``ProbePotential(model, atoms, "C")(points)`` → kcal/mol, shape ``points.shape[:-1]``. The molecule's
    representation is computed once at construction; ``molecule_outputs`` holds its own atomic energies
    (for checks)."""

    def __init__(self, model, atoms, probe="C", *, method: str = "table", chunk_mb: float = DEFAULT_CHUNK_MB,
                 max_memory_gb: float = DEFAULT_MAX_MEMORY_GB):
        from ..models import atoms_to_batch

        if method not in METHODS:
            raise AtomintError(f"unknown probe method {method!r}; accepted: {', '.join(METHODS)}")
        self.method = method
        _check_model(model)
        _check_atoms(atoms)
        self.z = probe_number(probe)
        _check_probe_element(model, self.z)
        self.model = model.eval()
        self.kind = model.config["model"]
        self.cutoff = float(model.cutoff)
        self.dtype = next(model.parameters()).dtype
        self.itemsize = torch.finfo(self.dtype).bits // 8
        self.chunk_mb, self.max_memory_gb = float(chunk_mb), float(max_memory_gb)
        self.n_atoms = len(atoms)
        self.batch = atoms_to_batch(atoms, self.cutoff, dtype=self.dtype)
        self.R = self.batch[R_KEY]
        with torch.inference_mode():
            if self.kind == "schnet":
                self._init_schnet()
            elif self.kind == "bp":
                self._init_bp()
            else:  # pragma: no cover - build() knows only these two
                raise AtomintError(f"probe potential: unsupported model {self.kind!r}")
            self.molecule_outputs = self.model.head(self.batch, self._molecule_latent)["atomic_energies"]

    # ------------------------------------------------------------------ per model
    def _init_schnet(self):
        rep = self.model.representation.representation  # schnetpack SchNet
        self._spk = rep
        b = self.batch
        idx_i, idx_j = b[IDX_I], b[IDX_J]
        rij = self.R[idx_j] - self.R[idx_i] + b[OFFSETS].to(self.dtype)
        d = torch.norm(rij, dim=1)
        f, rcut = gaussians(rep, d), rep.cutoff_fn(d)
        x = rep.embedding(b[Z_KEY])
        self._h = []  # in2f(x_mol^(l)) per interaction layer: what the probes receive
        for inter in rep.interactions:
            self._h.append(inter.in2f(x))
            x = x + inter(x, f, idx_i, idx_j, rcut)
        self._x0 = rep.embedding(torch.tensor([self.z]))[0]
        self._molecule_latent = self.model.representation.readout(x).squeeze(-1)
        self.n_features = x.shape[1]
        self.n_rbf = rep.radial_basis.n_rbf
        self.n_filters = self._h[0].shape[1]
        self.n_layers = len(self._h)
        self._table = None
        if self.method == "table":
            table = _filter_table(rep)
            if table is None:
                self.method = "exact"
            else:
                self._table = table.to(self.dtype)
                self._table_step = self.cutoff / (len(table) - 1)
                self._h_all = torch.cat(self._h, dim=1)  # [n_mol, L·filters]

    def _init_bp(self):
        rep = self.model.representation
        self._rep = rep
        self._net = rep.nets[str(self.z)]
        self._molecule_latent = rep(self.batch)
        self.n_features = rep.acsf.n_features
        self.n_rbf = 0
        self.n_filters = max(rep.config.hidden)

    # ------------------------------------------------------------------ memory
    def bytes_per_point(self) -> int:
        """Working memory of one probe point in a chunk (all its pairs in flight at once)."""
        n_nb = self.n_atoms
        if self.kind == "schnet" and self.method == "table":
            per_pair = 5 * self.n_layers * self.n_filters + 8  # two table rows, lerp, gathered h, message
            per_point = (self.n_layers + 4) * self.n_filters
        elif self.kind == "schnet":
            per_pair = self.n_rbf + 4 * self.n_filters + 4  # rbf, filter hidden, W, gathered h, message
            per_point = 4 * self.n_features
        else:
            acsf = self._rep.acsf
            n_mono = len(acsf.moment_powers) or 4
            per_pair = 16 + 2 * acsf.n_radial + 2 * (n_mono + 1) * acsf.n_angular
            per_point = (3 * self.n_features + 2 * self.n_filters
                         + 2 * acsf.n_element_pairs * n_mono * acsf.n_angular * max(acsf.n_theta, 1))
        return int((n_nb * per_pair + per_point + 8) * self.itemsize)

    def memory_needed(self, n_points: int) -> dict:
        """Estimated bytes: ``one_pass`` (every point's pairs at once, as the plain forward pass would),
        ``chunked`` (results and points plus one chunk) and the chunk size."""
        bpp = self.bytes_per_point()
        chunk = max(1, int(self.chunk_mb * 2**20 // bpp))
        chunk = min(chunk, max(n_points, 1))
        resident = n_points * (3 * 8 + 3 * self.itemsize + 8)  # float64 points, tensor copy, result
        return {"one_pass": n_points * bpp + resident, "chunked": resident + chunk * bpp, "chunk": chunk,
                "bytes_per_point": bpp}

    def _check_memory(self, n_points: int) -> int:
        m = self.memory_needed(n_points)
        if m["chunked"] > self.max_memory_gb * 2**30:
            raise AtomintError(
                f"a probe grid of {n_points:,} points needs about {m['chunked'] / 2**30:.1f} GB "
                f"({m['one_pass'] / 2**30:.1f} GB in one pass: {n_points:,} points × {self.n_atoms} neighbours × "
                f"{self.n_filters} features), more than max_memory_gb={self.max_memory_gb:g}; use a coarser grid "
                f"or raise max_memory_gb")
        return m["chunk"]

    # ------------------------------------------------------------------ evaluation
    def _chunk_schnet(self, pts: torch.Tensor) -> torch.Tensor:
        rep = self._spk
        n = len(pts)
        ip, jm = probe_pairs(pts, self.R, self.cutoff)
        rij = self.R[jm] - pts[ip]  # r_pj = R_j − r_p, as schnetpack's R[idx_j] − R[idx_i]
        d = torch.norm(rij, dim=1)
        x = self._x0.expand(n, -1)
        if self._table is not None:
            # messages of all layers at once: interpolated W_l(d)·fc(d) ⊙ in2f(x_mol^(l))_j, summed per probe
            u = d / self._table_step
            i0 = u.floor().long().clamp_(0, len(self._table) - 2)
            frac = (u - i0)[:, None]
            msg = torch.lerp(self._table.index_select(0, i0), self._table.index_select(0, i0 + 1), frac)
            msg.mul_(self._h_all.index_select(0, jm))
            agg = torch.zeros(n, msg.shape[1], dtype=msg.dtype).index_add_(0, ip, msg)
            F = self.n_filters
            for l, inter in enumerate(rep.interactions):
                x = x + inter.f2out(agg[:, l * F:(l + 1) * F])
            return self.model.representation.readout(x).squeeze(-1)
        f, rcut = gaussians(rep, d), rep.cutoff_fn(d)
        for inter, h in zip(rep.interactions, self._h):
            msg = _filter(inter, f, rcut)       # W_l(d_pj) · fc(d_pj)        [pairs, filters]
            msg.mul_(h.index_select(0, jm))    # ⊙ in2f(x_mol^(l))_j
            agg = torch.zeros(n, msg.shape[1], dtype=msg.dtype).index_add_(0, ip, msg)
            x = x + inter.f2out(agg)
        return self.model.representation.readout(x).squeeze(-1)

    def _chunk_bp(self, pts: torch.Tensor) -> torch.Tensor:
        rep = self._rep
        n = len(pts)
        ip, jm = probe_pairs(pts, self.R, self.cutoff)
        n_mol = self.n_atoms
        Z = torch.cat([self.batch[Z_KEY], torch.full((n,), self.z, dtype=torch.long)])
        R = torch.cat([self.R, pts])
        # the molecule's own pairs ride along (its rows are dropped): they never reach a probe's row, and
        # they keep the angular terms' triple list non-empty when no probe has two neighbours
        idx_i = torch.cat([self.batch[IDX_I], ip + n_mol])
        idx_j = torch.cat([self.batch[IDX_J], jm])
        G = rep.acsf(Z, R, idx_i, idx_j)[n_mol:]
        x = rep.standardize(Z[n_mol:], G)
        return self._net(x)

    def _energies(self, y: torch.Tensor) -> torch.Tensor:
        n = len(y)
        fake = {Z_KEY: torch.full((n,), self.z, dtype=torch.long), IDX_M: torch.zeros(n, dtype=torch.long),
                N_ATOMS: torch.tensor([n])}
        return self.model.head(fake, y)["atomic_energies"]

    @torch.inference_mode()
    def __call__(self, points, chunk_size: int | None = None) -> np.ndarray:
        pts = check_points(points)
        shape = pts.shape[:-1]
        flat = pts.reshape(-1, 3)
        n = len(flat)
        chunk = self._check_memory(n)
        if chunk_size is not None:
            chunk = max(1, int(chunk_size))
        out = np.empty(n, dtype=np.float64)
        step = self._chunk_schnet if self.kind == "schnet" else self._chunk_bp
        for a in range(0, n, chunk):
            t = torch.as_tensor(flat[a:a + chunk], dtype=self.dtype)
            out[a:a + chunk] = self._energies(step(t)).double().numpy()
        return out.reshape(shape)

    @torch.inference_mode()
    def isolated(self) -> float:
        """Ω(∞): the probe with no molecule atom within the cutoff (kcal/mol)."""
        R = self.R.double()
        far = R.mean(0) + torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64) * (
            float(torch.linalg.vector_norm(R - R.mean(0), dim=1).max()) + 2 * self.cutoff)
        return float(self(far.numpy()[None])[0])

    def reference(self, kind: str = "shift") -> float:
        """The zero point of the figures (kcal/mol): ``"shift"`` (b_Z of the probe element) or ``"isolated"``."""
        if kind == "shift":
            return float(self.model.head.shift[self.z])
        if kind == "isolated":
            return self.isolated()
        raise AtomintError(f"unknown reference {kind!r}; accepted: 'shift', 'isolated'")


def probe_potential(model, atoms, points, probe="C", *, method: str = "table", chunk_mb: float = DEFAULT_CHUNK_MB,
                    max_memory_gb: float = DEFAULT_MAX_MEMORY_GB, chunk_size: int | None = None) -> np.ndarray:
    """Ω_probe at ``points`` [..., 3] (Å) for ``atoms`` and an energy model: kcal/mol, shape ``points.shape[:-1]``.
    See :class:`ProbePotential` (which keeps the molecule's features for further grids)."""
    return ProbePotential(model, atoms, probe, method=method, chunk_mb=chunk_mb, max_memory_gb=max_memory_gb)(
        points, chunk_size=chunk_size)


@torch.inference_mode()
def naive_probe_potential(model, atoms, points, probe="C") -> np.ndarray:
    """The naive loop: one forward pass of the whole model per probe point (molecule + one probe atom,
    probe → molecule pairs only; the molecule's pairs are found once). For benchmarks and checks."""
    from ..models import atoms_to_batch

    _check_model(model)
    _check_atoms(atoms)
    z = probe_number(probe)
    _check_probe_element(model, z)
    pts = check_points(points)
    flat = pts.reshape(-1, 3)
    dtype = next(model.parameters()).dtype
    model.eval()
    b = atoms_to_batch(atoms, model.cutoff, dtype=dtype)
    n_mol = len(b[Z_KEY])
    Z = torch.cat([b[Z_KEY], torch.tensor([z])])
    idx_m = torch.zeros(n_mol + 1, dtype=torch.long)
    n_atoms = torch.tensor([n_mol + 1])
    out = np.empty(len(flat))
    for k, p in enumerate(flat):
        pt = torch.as_tensor(p[None], dtype=dtype)
        ip, jm = probe_pairs(pt, b[R_KEY], model.cutoff)
        idx_i = torch.cat([b[IDX_I], ip + n_mol])
        batch = {Z_KEY: Z, R_KEY: torch.cat([b[R_KEY], pt]), IDX_M: idx_m, N_ATOMS: n_atoms,
                 IDX_I: idx_i, IDX_J: torch.cat([b[IDX_J], jm]), OFFSETS: torch.zeros(len(idx_i), 3, dtype=dtype)}
        out[k] = float(model(batch)["atomic_energies"][-1])
    return out.reshape(pts.shape[:-1])


@torch.inference_mode()
def molecule_energies_with_probes(model, atoms, points, probe="C") -> np.ndarray:
    """The molecule's own atomic energies (kcal/mol) from the plain forward pass with all probes appended —
    to compare with ``model.predict(atoms)["atomic_energies"]`` (the probes must not change them)."""
    _check_model(model)
    _check_atoms(atoms)
    model.eval()
    e = model(probe_batch(model, atoms, points, probe))["atomic_energies"][:len(atoms)]
    return e.double().numpy()


__all__ = [
    "METHODS",
    "ProbePotential",
    "full_forward_potential",
    "molecule_energies_with_probes",
    "naive_probe_potential",
    "probe_batch",
    "probe_number",
    "probe_pairs",
    "probe_potential",
]
