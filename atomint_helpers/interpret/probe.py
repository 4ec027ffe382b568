r"""Local chemical potential: the latent energy of a probe atom placed anywhere around a molecule (Fig. 5).

A probe atom of element ``probe`` (carbon in the paper) at position ``r`` *feels* the molecule but does
not act back on it: it is an extra atom that appears only as a **receiver** in the neighbour pairs
(``idx_i = probe``, ``idx_j = molecule atom``, never the reverse), and probes never see each other
(ARCHITECTURE.md). The local chemical potential is the probe's latent atomic energy

    Ω_probe(r) = E_probe(r) = shift[Z_probe] + scale · y_probe(r)      (kcal/mol)

from the model's energy head. It is exactly what the model's plain forward pass gives for the probe
appended to the batch (:func:`full_forward_potential`); the molecule's own outputs are unchanged by it.

Batched evaluation (:class:`ProbePotential`).  Because nothing flows from a probe to the molecule and probes
do not see each other, a whole grid is one batch: the molecule plus one probe atom per point, with the
pairs probe → molecule only. It runs through the model's own forward pass (:mod:`atomint_helpers.models.probe`:
SchNet's embedding, filter networks, interaction blocks and readout; BP's symmetry functions with the
probes as centres only, standardizer and element networks; then the energy head); nothing of a model is
re-implemented here.

* ``method="exact"``: the plain forward pass with the probes appended — bit for bit
  :func:`full_forward_potential`.
* ``method="table"`` (the default): for SchNet the filters ``W_l(d) · fc(d)`` of every layer are tabulated
  once per model in float64 on ``[0, cutoff]`` with 20,001 nodes (2.5·10⁻⁴ Å apart) and interpolated
  linearly (:class:`atomint_helpers.models.schnet.FilterTable`; interpolation error ≈ h²/8 · |W''| ≲ 10⁻⁸,
  below float32 rounding), and ``in2f`` runs on the molecule's atoms only (probes never send): the
  potential agrees with the exact path to float32 precision of the output (tests allow 10⁻⁴ kcal/mol), and
  a grid is faster (``bench/probe.py``). For BP both methods are the plain forward pass; its per-element
  matrix products have a different number of rows than the molecule's alone, which can move the last
  float32 bit of the molecule's energies (≤ 10⁻⁴ kcal/mol in the tests).

Probes are processed in chunks whose working memory is bounded (``chunk_mb``, default 32 MB: on a 2-core CPU
the SchNet table path ran fastest there, and BP ran faster than with 64 MB chunks; ``bench/RESULTS.md``); the chunk size comes
from an estimate of bytes per probe point (``neighbours × features × itemsize`` times
the number of per-pair tensors in flight, :meth:`ProbePotential.memory_needed`). A grid whose points,
results and one chunk would exceed ``max_memory_gb`` (default 4 GB) is refused with the size it would
need — and what a single unchunked pass would need — before anything is computed. Time: the first chunk is
timed and the grid's time estimated from it; a grid over ``max_seconds`` is refused with that estimate, one
over :data:`PROGRESS_AFTER_S` shows a progress bar with an ETA.

Units: positions Å, potentials kcal/mol. :meth:`ProbePotential.reference` gives two zero points:
``"shift"`` — the energy head's per-element shift ``b_Z`` of the probe element, i.e. its mean atomic
energy in the training molecules (``Ω(r) − b_Z = scale · y_probe(r)``: negative where the probe would be
more stable than an average atom of its element in QM9; the cube and PNG exports use it); ``"isolated"`` —
``Ω(∞)``, the probe with no molecule atom within the cutoff (Fig. 5's reference; an extrapolation for BP,
whose descriptors are then all zero, a configuration never seen in training). Fig. 5's panels and the
measures on them live in :mod:`.probe_maps`.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import AtomintError
from ..models.probe import METHODS, ProbeForward, append_probes, probe_pairs
from ..properties import R_KEY
from .grid import check_points

#: working memory of one chunk of probe points (MB): a chunk holds as many points as fit
DEFAULT_CHUNK_MB = 32.0
#: a grid whose chunked evaluation needs more than this (GB) is refused
DEFAULT_MAX_MEMORY_GB = 4.0
#: a grid estimated to take longer than this (s) shows a progress bar with an ETA
PROGRESS_AFTER_S = 3.0
#: bytes of a float64 number: a grid point's position and its result are held in float64 for the whole grid
FLOAT64_BYTES = 8
#: bytes in a MB and a GB as ``chunk_mb`` and ``max_memory_gb`` count them (binary: 2^20, 2^30)
MB, GB = 2**20, 2**30


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


def _check_atoms(atoms, name: str = "molecule", checked: bool = False):
    """A molecule the probe functions can take; ``checked``: it already passed
    :func:`~atomint_helpers.data.xyz.check_molecule` at the entry point that called (not run again)."""
    from ..data.xyz import check_molecule

    if atoms is None or not hasattr(atoms, "numbers"):
        raise AtomintError(f"{name}: expected an ase.Atoms molecule, got {type(atoms).__name__}")
    if not checked:
        check_molecule(atoms, name)
    if np.any(atoms.pbc):
        raise AtomintError(f"{name}: periodic structures are not supported for probes (molecules only)")


def _molecule_batch(model, atoms):
    from ..models import atoms_to_batch

    return atoms_to_batch(atoms, model.cutoff, dtype=next(model.parameters()).dtype)


def _checked(model, atoms, probe, checked: bool = False) -> int:
    """The probe's atomic number, once the model, the molecule and the probe element have passed every check
    the probe functions need (:class:`~atomint_helpers.models.probe.ProbeForward` trusts them)."""
    _check_model(model)
    _check_atoms(atoms, checked=checked)
    z = probe_number(probe)
    _check_probe_element(model, z)
    model.check_elements(torch.as_tensor(np.asarray(atoms.numbers, dtype=np.int64)))  # an allowed outsider's too
    return z


def probe_batch(model, atoms, points, probe="C") -> dict[str, torch.Tensor]:
    """The plain batch of the molecule with one probe atom per point appended: molecule pairs as usual,
    probe pairs ``probe → molecule`` only (:func:`atomint_helpers.models.probe.append_probes`)."""
    b = _molecule_batch(model, atoms)
    pts = torch.as_tensor(check_points(points).reshape(-1, 3), dtype=b[R_KEY].dtype)
    return append_probes(b, pts, probe_number(probe), model.cutoff)


@torch.inference_mode()
def full_forward_potential(model, atoms, points, probe="C") -> np.ndarray:
    """Reference: the model's plain forward pass on the molecule with all probes appended (one pass,
    no chunks, memory ∝ n_points × neighbours × features). Returns kcal/mol, shape ``points.shape[:-1]``."""
    z = _checked(model, atoms, probe)
    pts = check_points(points)
    model.eval()
    e = model(probe_batch(model, atoms, pts, z))["atomic_energies"][len(atoms):]
    return e.double().numpy().reshape(pts.shape[:-1])


class ProbePotential:
    """Batched probe potential of one molecule for one model and probe element.

    ``ProbePotential(model, atoms, "C")(points)`` → kcal/mol, shape ``points.shape[:-1]``. ``molecule_outputs``
    holds the molecule's own atomic energies from the probe forward pass without probes, and
    ``molecule_change`` the largest |change| of them (kcal/mol) in any chunk evaluated so far (0 up to float
    rounding: the probes do not act back).

    A public entry point: it checks the model, the probe element, the method and the molecule
    (:func:`~atomint_helpers.data.xyz.check_molecule`) itself, unless ``checked`` says that the caller, an
    entry point above (:func:`atomint_helpers.exports.write_spatial`), has already checked the molecule."""

    def __init__(self, model, atoms, probe="C", *, method: str = "table", chunk_mb: float = DEFAULT_CHUNK_MB,
                 max_memory_gb: float = DEFAULT_MAX_MEMORY_GB, checked: bool = False):
        if method not in METHODS:
            raise AtomintError(f"unknown probe method {method!r}; accepted: {', '.join(METHODS)}")
        self.z = _checked(model, atoms, probe, checked)
        self.model = model.eval()
        self.kind = model.config["model"]
        self.cutoff = float(model.cutoff)
        self.dtype = next(model.parameters()).dtype
        self.itemsize = torch.finfo(self.dtype).bits // 8
        self.chunk_mb, self.max_memory_gb = float(chunk_mb), float(max_memory_gb)
        self.n_atoms = len(atoms)
        self.batch = _molecule_batch(model, atoms)
        self.R = self.batch[R_KEY]
        self.method = method
        with torch.inference_mode():
            self.forward = ProbeForward(self.model, self.batch, self.z, method)
            self.molecule_outputs = self.forward(self.R[:0])
        self.molecule_change = 0.0
        self.n_features = self.forward.n_features

    # ------------------------------------------------------------------ memory
    def bytes_per_point(self) -> int:
        """Working memory of one probe point in a chunk (all its pairs in flight at once; every molecule atom
        counted as a neighbour)."""
        return self.forward.bytes_per_point(self.n_atoms)

    def memory_needed(self, n_points: int) -> dict:
        """Estimated bytes: ``one_pass`` (every point's pairs at once, as the plain forward pass would),
        ``chunked`` (results and points plus one chunk) and the chunk size."""
        bpp = self.bytes_per_point()
        chunk = max(1, int(self.chunk_mb * MB // bpp))
        chunk = min(chunk, max(n_points, 1))
        # held for the whole grid: each point's x, y, z in float64 and in the model's float, its float64 result
        resident = n_points * (3 * FLOAT64_BYTES + 3 * self.itemsize + FLOAT64_BYTES)
        return {"one_pass": n_points * bpp + resident, "chunked": resident + chunk * bpp, "chunk": chunk,
                "bytes_per_point": bpp}

    def _check_memory(self, n_points: int) -> int:
        m = self.memory_needed(n_points)
        if m["chunked"] > self.max_memory_gb * GB:
            raise AtomintError(
                f"a probe grid of {n_points:,} points needs about {m['chunked'] / GB:.1f} GB "
                f"({m['one_pass'] / GB:.1f} GB in one pass: {n_points:,} points × {self.n_atoms} neighbours × "
                f"{self.n_features} features), more than max_memory_gb={self.max_memory_gb:g}; use a coarser grid "
                f"or raise max_memory_gb")
        return m["chunk"]

    # ------------------------------------------------------------------ evaluation
    @torch.inference_mode()
    def __call__(self, points, chunk_size: int | None = None, max_seconds: float | None = None,
                 progress: bool | None = None, *, checked: bool = False) -> np.ndarray:
        """Ω at ``points`` (kcal/mol). The first chunk is timed and the whole grid's time estimated from it:
        above ``max_seconds`` the grid is refused with the estimate (before the rest is computed); above
        :data:`PROGRESS_AFTER_S` seconds (or with ``progress=True``) a progress bar with an ETA runs on stderr
        when stderr is a terminal: never on a notebook's page or in a log (``progress=False``: never).
        ``checked``: the points come from an entry point that made them from the checked molecule (a grid of
        :mod:`.grid`) and are not checked again."""
        import time

        pts = np.asarray(points, dtype=np.float64) if checked else check_points(points)
        shape = pts.shape[:-1]
        flat = pts.reshape(-1, 3)
        n = len(flat)
        chunk = self._check_memory(n)
        if chunk_size is not None:
            chunk = max(1, int(chunk_size))
        out = np.empty(n, dtype=np.float64)
        n_mol = self.n_atoms
        starts = list(range(0, n, chunk))
        bar = None
        t0 = time.perf_counter()
        try:
            for k, a in enumerate(starts):
                e = self.forward(torch.as_tensor(flat[a:a + chunk], dtype=self.dtype))
                self.molecule_change = max(self.molecule_change,
                                           float((e[:n_mol] - self.molecule_outputs).abs().max()))
                out[a:a + chunk] = e[n_mol:].double().numpy()
                if k == 0 and len(starts) > 1:
                    estimate = (time.perf_counter() - t0) * n / min(chunk, n)
                    self.estimated_seconds = estimate
                    if max_seconds is not None and estimate > max_seconds:
                        raise AtomintError(
                            f"a probe grid of {n:,} points around {n_mol:,} atoms would take about "
                            f"{estimate / 60:,.1f} min here (timed on its first {min(chunk, n):,} points), above the "
                            f"budget of {max_seconds / 60:,.1f} min; use a coarser grid (a larger spacing: the time "
                            f"falls with its cube) or a smaller molecule")
                    if progress or (progress is None and estimate > PROGRESS_AFTER_S and _terminal()):
                        from tqdm import tqdm

                        bar = tqdm(total=n, initial=min(chunk, n), unit="point", desc="probe grid", leave=False,
                                   mininterval=1.0, dynamic_ncols=True)
                elif bar is not None:
                    bar.update(min(chunk, n - a))
        finally:
            if bar is not None:
                bar.close()
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
    See :class:`ProbePotential` (which keeps the molecule's batch and the filter table for further grids)."""
    return ProbePotential(model, atoms, probe, method=method, chunk_mb=chunk_mb, max_memory_gb=max_memory_gb)(
        points, chunk_size=chunk_size)


@torch.inference_mode()
def naive_probe_potential(model, atoms, points, probe="C") -> np.ndarray:
    """The naive loop: one plain forward pass of the whole model per probe point (molecule + one probe atom,
    probe → molecule pairs only; the molecule's pairs are found once). For benchmarks and checks."""
    z = _checked(model, atoms, probe)
    pts = check_points(points)
    flat = pts.reshape(-1, 3)
    model.eval()
    b = _molecule_batch(model, atoms)
    out = np.empty(len(flat))
    for k, p in enumerate(flat):
        batch = append_probes(b, torch.as_tensor(p[None], dtype=b[R_KEY].dtype), z, model.cutoff)
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


def _terminal() -> bool:
    """stderr is a terminal (a person watching), not a notebook's output or a log file."""
    import sys

    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False
