"""Training: profiles, the loop, early stopping, resume, progress bar; ``atomint train``.

``atomint train --model {bp,schnet} --target {energy,dipole} --fold K --profile {quick,cpu,paper}``

* ``quick``  — seconds on the embedded sample; what tests, CI and nbval use.
* ``cpu``    — full QM9, 100,000 training molecules, sized for a 2-core CPU (the committed checkpoints).
* ``paper``  — the paper's setting (SchNet 128×6), meant for a GPU; run through PyTorch Lightning so
  that several GPUs (DDP) work without code changes (``--devices N``).

``atomint train --model schnet --target crystals --fold K --profile {quick,cpu,paper}`` trains SchNet with
periodic boundary conditions on the Materials Project formation energies (eV/atom, Fig. 7) into
``schnet-mp-<profile>-fold<K>``; see :data:`CRYSTAL_PROFILES`. The crystal split is drawn over the
``src_index`` ids of the cleaned set (``Crystals.clean()``: the 4 unphysical entries dropped), so it is
the same whichever copy of the data is loaded.

The loss is the mean squared error in the paper's units (kcal/mol for energies, Debye for |μ|);
Adam with the learning rate halved when the validation MAE stops improving, early stopping on the
validation MAE, and the best weights kept. A run writes its folder after every epoch, atomically, so
interrupting it (Ctrl-C, kill) and re-running the same command continues from the last finished epoch
and ends with the same weights as an uninterrupted run (shuffling is seeded per epoch).
"""
from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from . import AtomintError
from . import store
from .io import atomic_path
from .data.batch import AtomsData, qm9_atoms_data
from .data.splits import save_split, split, split_hash

TARGET_KEYS = {"energy": "energy", "dipole": "dipole_moment", "crystals": "formation_energy"}
UNITS = {"energy": "kcal/mol", "dipole": "D", "crystals": "eV/atom"}


@dataclass
class Profile:
    """Everything that defines a training run besides model, target and fold."""

    name: str
    full_data: bool
    n_train: int
    n_val: int
    batch_size: int
    lr: float
    lr_factor: float = 0.5
    lr_patience: int = 5
    min_lr: float = 1e-6
    early_stop_patience: int = 15
    max_epochs: int | dict = 1000  # an int, or per model {"bp": …, "schnet": …}
    max_minutes: dict = field(default_factory=dict)  # per model: total training wall time (all resumes)
    schnet: dict = field(default_factory=dict)
    bp: dict = field(default_factory=dict)
    threads: int | None = None
    lightning: bool = False
    #: SchNet's interaction blocks through torch.compile (``SchNetAtomwise.compile_interactions``) when the
    #: run uses one torch thread: on a 2-core CPU a 64×3 training step ran 1.75× faster than eager with 1
    #: thread, but 0.59× with 2 (inductor's parallel scatter loops), so with more threads it stays eager
    compile: bool = False
    #: a second stage per model, e.g. ``{"schnet": {"from_epoch": 100, "lr": 1e-4, "ema_decay": 0.999}}``:
    #: from that epoch on the learning rate follows a cosine from ``lr`` down to ``min_lr`` at ``max_epochs``
    #: (no plateau halving, no early stopping: the schedule has a fixed end), and validation, the best
    #: weights and the test use an exponential moving average of the weights (decay per step)
    extend: dict = field(default_factory=dict)
    #: restart screening per model and target, e.g. ``{"schnet": {"dipole": {"candidates": 3, "epochs": 3}}}``:
    #: see :func:`screen_restarts`
    restarts: dict = field(default_factory=dict)


PROFILES = {
    "quick": Profile("quick", full_data=False, n_train=1000, n_val=200, batch_size=50, lr=2e-3, lr_patience=2,
                     early_stop_patience=4, max_epochs=4, max_minutes={},
                     schnet=dict(n_atom_basis=32, n_interactions=2, n_rbf=16, cutoff=5.0),
                     bp=dict(n_radial=8, n_angular=3, zetas=(1,), cutoff=5.0, hidden=(32, 32), clip_features=True)),
    # cpu: an epoch budget (not a time budget), so that every fold gets the same schedule whatever else
    # runs on the machine; about 35 min (BP) and 2 h (SchNet) on an otherwise idle 2-core CPU.
    # BP without clip_features: the committed cpu folds were trained before the option existed. On 100,000
    # training molecules the training range covers nearly every test atom: for bp-energy-cpu-fold0, 162 of
    # 374,985 test atoms (120 of 20,831 molecules) leave it, and clamping them after training changed the
    # test MAE from 0.4562 to 0.4565 kcal/mol. The quick profile (1,000 molecules) needs it.
    #
    # SchNet: 300 epochs in two stages. Epochs 1–100 are the recipe above (Adam 5e-4, halved on a
    # validation plateau of 6 epochs). It left SchNet underfit (train MAE 0.49 ≈ val 0.53 kcal/mol at epoch
    # 100 of fold 0, val still falling while the learning rate was being halved). Epochs 101–300: a cosine
    # from 2e-4 to min_lr with an exponential moving average of the weights (decay 0.999 per step), which
    # validation, the kept weights and the test use. Chosen by a pilot on fold 0 (bench/RESULTS.md): from
    # epoch 100, the weight average alone took validation from 0.580 to 0.520 kcal/mol in one epoch, and
    # with the same 35 min of training a restart at 2e-4 ended lower than a cosine from 6e-5 (the rate stage
    # 1 ended with). Dipole runs first screen three seeds for 3 epochs (lowest validation MAE wins; see
    # training.screen_restarts) against the local mirror solution one fold's charges settled in.
    "cpu": Profile("cpu", full_data=True, n_train=100_000, n_val=10_000, batch_size=100, lr=5e-4,
                   lr_patience=6, early_stop_patience=20, max_epochs={"bp": 150, "schnet": 300},
                   max_minutes={}, compile=True,
                   extend={"schnet": {"from_epoch": 100, "lr": 2e-4, "ema_decay": 0.999}},
                   restarts={"schnet": {"dipole": {"candidates": 3, "epochs": 3}}},
                   schnet=dict(n_atom_basis=64, n_interactions=3, n_rbf=20, cutoff=5.0),
                   bp=dict(n_radial=16, n_angular=2, zetas=(1, 4), cutoff=5.0, hidden=(128, 64))),
    "paper": Profile("paper", full_data=True, n_train=100_000, n_val=10_000, batch_size=32, lr=1e-4,
                     lr_factor=0.8, lr_patience=25, early_stop_patience=100, max_epochs=5000, max_minutes={},
                     schnet=dict(n_atom_basis=128, n_interactions=6, n_rbf=50, cutoff=5.0),
                     bp=dict(n_radial=22, n_angular=5, zetas=(1, 4), cutoff=5.0, hidden=(256, 256), clip_features=True),
                     lightning=True),
}


#: Materials Project crystals (target ``crystals``, SchNet only). The clean set has 36,733 structures
#: (25.8 atoms and, at 5 Å, about 900 neighbour pairs each: roughly 3× a QM9 molecule). ``cpu`` is
#: SchNet 64×3 as for QM9 on a 29,000/3,500/4,233 split, a 100-minute budget by default (first 240: with
#: compiled interactions (~60 s epochs on one thread) the committed run's learning rate had decayed from
#: 5e-4 to 3.9e-6 by epoch 85, at 96 min, and its validation MAE moved from 0.0507 to 0.0503 eV/atom over
#: the last 10 epochs, so the budget was cut to 100 minutes). Its element
#: embeddings start at 0.1·N(0, 1) instead of N(0, 1): a first cpu run from N(0, 1) moved them by only
#: ~20 % of their norm in 40 epochs, so Fig. 7 showed mostly the random start (see notebooks/embeddings).
#: ``quick`` trains a tiny SchNet on the embedded 1,500-crystal sample (1,100/200/200) for up to 30 epochs,
#: under a minute.
CRYSTAL_PROFILES = {
    "quick": Profile("quick", full_data=False, n_train=1100, n_val=200, batch_size=50, lr=2e-3, lr_patience=3,
                     early_stop_patience=6, max_epochs=30, max_minutes={},
                     schnet=dict(n_atom_basis=32, n_interactions=2, n_rbf=16, cutoff=5.0)),
    "cpu": Profile("cpu", full_data=True, n_train=29_000, n_val=3_500, batch_size=32, lr=5e-4,
                   lr_patience=4, early_stop_patience=15, max_epochs=1000, max_minutes={"schnet": 100}, compile=True,
                   schnet=dict(n_atom_basis=64, n_interactions=3, n_rbf=25, cutoff=5.0, embedding_std=0.1)),
    "paper": Profile("paper", full_data=True, n_train=29_000, n_val=3_500, batch_size=32, lr=1e-4,
                     lr_factor=0.8, lr_patience=25, early_stop_patience=100, max_epochs=5000, max_minutes={},
                     schnet=dict(n_atom_basis=128, n_interactions=6, n_rbf=50, cutoff=5.0, embedding_std=0.1),
                     lightning=True),
}
#: the 87 elements of the Materials Project set: Z = 1…94 without Ne, Ar, Po, At, Rn, Fr, Ra
CRYSTAL_ELEMENTS = tuple(z for z in range(1, 95) if z not in (10, 18, 84, 85, 86, 87, 88))


run_name = store.run_name  # where notebooks and scripts found it before store.py owned run names


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise AtomintError(f"unknown profile {name!r}; accepted: {', '.join(PROFILES)}")
    return PROFILES[name]


# ------------------------------------------------------------------------------------------ data
def load_training_data(profile: Profile, cutoff: float, data_dir=None):
    """(QM9, AtomsData) for a profile: the embedded sample for ``quick``, the full QM9 otherwise."""
    from .data.qm9 import load_qm9, load_sample

    ds = load_sample() if not profile.full_data else load_qm9(data_dir, allow_sample=False)
    return ds, qm9_atoms_data(ds, cutoff=cutoff)


def fold_split(profile: Profile, fold: int, ds) -> dict[str, np.ndarray]:
    """The fold's split, on the full 130,831 ids (so sample molecules keep their full-data split) or,
    for ``quick``, on the sample's ids."""
    universe = None if profile.full_data else ds.index
    return split(profile.n_train, profile.n_val, seed=fold, universe=universe)


def load_crystal_data(profile: Profile, cutoff: float, data_dir=None):
    """(Crystals, AtomsData) for a profile: the cleaned embedded sample for ``quick``, the cleaned full
    Materials Project set otherwise (never silently the sample)."""
    from .data import crystals as _c
    from .data.batch import crystal_atoms_data
    from .data.paths import SAMPLE_DIR

    if profile.full_data:
        cr = _c.load_crystals(data_dir, allow_sample=False)
    else:
        cr = _c.read_npz(SAMPLE_DIR / "mp_sample.npz", "sample")
    cr = cr.clean()
    return cr, crystal_atoms_data(cr, cutoff=cutoff)


def crystal_split(profile: Profile, fold: int, cr) -> dict[str, np.ndarray]:
    """The fold's split of a cleaned crystal set, as ``src_index`` ids (the source's CIF numbers)."""
    return split(profile.n_train, profile.n_val, seed=fold, universe=np.asarray(cr.arrays["src_index"]))


def crystal_rows(cr, ids) -> np.ndarray:
    """Array rows of the ``src_index`` ids in a crystal set (an error names ids it does not hold)."""
    src = np.asarray(cr.arrays["src_index"], dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(src, kind="stable")
    pos = np.clip(np.searchsorted(src[order], ids), 0, max(len(src) - 1, 0))
    found = src[order][pos] == ids if len(src) else np.zeros(len(ids), bool)
    if not np.all(found):
        raise AtomintError(f"{int((~found).sum())} crystal ids (src_index) are not in {cr.describe()}, "
                           f"e.g. {ids[~found][:5].tolist()}")
    return order[pos]


def attach_descriptors(model, data: AtomsData, batch_size: int = 1000) -> None:
    """BP: compute the (fixed) symmetry functions of every atom once and let batches slice them."""
    if model.config["model"] != "bp":
        return
    rep = model.representation
    feats = np.empty((len(data.Z), rep.acsf.n_features), dtype=np.float32)
    with torch.no_grad():
        for rows in np.array_split(np.arange(len(data)), max(1, math.ceil(len(data) / batch_size))):
            b = data.batch(rows)
            from .data.batch import ranges

            atoms = ranges(np.asarray(data.offsets)[rows], data.n_atoms[rows])
            feats[atoms] = rep.descriptors(b).numpy()
    data.atom_features = feats


# ------------------------------------------------------------------------------------------ metrics
@torch.no_grad()
def predict(model, data: AtomsData, rows, batch_size: int = 500) -> np.ndarray:
    """Model predictions of its target for ``rows`` of ``data`` (kcal/mol or Debye)."""
    was = model.training
    model.eval()
    out = [model(b)[model.target_key].double().numpy() for b in data.batches(rows, batch_size)]
    model.train(was)
    return np.concatenate(out) if out else np.zeros(0)


def metrics(pred: np.ndarray, target: np.ndarray) -> dict:
    err = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))), "n": int(len(err))}


# ------------------------------------------------------------------------------------------ stage 2
class WeightAverage:
    """Exponential moving average of a model's trainable parameters, updated after every optimizer step
    (``shadow ← decay·shadow + (1 − decay)·weights``); :meth:`applied` swaps it in for validation and saving."""

    def __init__(self, model, decay: float, shadow: list | None = None):
        self.decay = float(decay)
        self.params = [p for p in model.parameters() if p.requires_grad]
        if shadow is not None and [tuple(t.shape) for t in shadow] != [tuple(p.shape) for p in self.params]:
            raise AtomintError("the weight average in state.pt does not fit this model; delete the run folder "
                               "to train from scratch")
        self.shadow = [p.detach().clone() for p in self.params] if shadow is None else [t.clone() for t in shadow]

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - self.decay)

    @contextlib.contextmanager
    def applied(self):
        backup = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            torch._foreach_copy_(self.params, self.shadow)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, backup)


def cosine_lr(ext: dict, epoch: int, max_epochs: int, min_lr: float) -> float:
    """Learning rate of the epoch after ``epoch`` completed ones in the second stage: a cosine from
    ``ext["lr"]`` at ``ext["from_epoch"]`` down to ``min_lr`` at ``max_epochs``."""
    start = int(ext["from_epoch"])
    t = min(max((epoch - start) / max(max_epochs - start, 1), 0.0), 1.0)
    return min_lr + 0.5 * (float(ext["lr"]) - min_lr) * (1.0 + math.cos(math.pi * t))


class SignMonitor:
    """Per epoch, on up to ``n_molecules`` validation molecules: the share of atoms whose latent charge has
    the Mulliken sign, per element and number of bonded neighbours (``data.bonds.mulliken_sign_groups``),
    after fixing the global sign (|μ| cannot tell the two mirror solutions apart). A run settling in a
    mirror solution for one kind of atom (e.g. terminal N) shows up while it trains, in ``signs.csv``."""

    FIELDS = ["epoch", "element", "neighbours", "atoms", "agree"]

    def __init__(self, ds, data: AtomsData, val_rows, n_molecules: int = 3000):
        from .data.batch import ranges
        from .data.bonds import neighbour_counts

        self.rows = np.asarray(val_rows)[:n_molecules]
        off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
        atoms = ranges(off[self.rows], off[self.rows + 1] - off[self.rows])
        self.data = data
        self.mulliken = np.asarray(ds.arrays["mulliken"], dtype=np.float64)[atoms]
        self.Z = np.asarray(ds.arrays["Z"], dtype=np.int64)[atoms]
        self.nb = neighbour_counts(ds, self.rows)

    @torch.no_grad()
    def groups(self, model) -> list[tuple]:
        from .data.bonds import mulliken_sign_groups

        q = np.concatenate([model(b)["partial_charges"].double().numpy() for b in self.data.batches(self.rows, 500)])
        sign = 1.0 if float(q @ self.mulliken) >= 0 else -1.0
        return mulliken_sign_groups(sign * q, self.mulliken, self.Z, self.nb)


def _write_signs(folder: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SignMonitor.FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    store.atomic_write_bytes(folder / "signs.csv", buf.getvalue().encode())


def read_signs(folder: Path) -> list[dict]:
    """``signs.csv`` of a dipole run: one row per epoch, element and neighbour count (empty if absent)."""
    p = Path(folder) / "signs.csv"
    if not p.is_file():
        return []
    with open(p, newline="") as f:
        return [{"epoch": int(r["epoch"]), "element": r["element"], "neighbours": int(r["neighbours"]),
                 "atoms": int(r["atoms"]), "agree": float(r["agree"])} for r in csv.DictReader(f)]


# ------------------------------------------------------------------------------------------ restarts
RESTARTS = "restarts.json"


def candidate_seeds(fold: int, n: int) -> list[int]:
    """The seeds a restart screening tries for a fold: the fold's own seed first, then fold + 1000·k."""
    return [fold + 1000 * k for k in range(n)]


def screen_restarts(model_name: str, target: str, fold: int, profile: str, models_dir, data_dir=None,
                    threads: int | None = None, progress: bool = True, overrides: dict | None = None) -> dict:
    """Pick the starting seed of a run by a short screening, the same rule for every fold.

    A dipole model learns its charges from |μ| only, and |μ| is unchanged when the charges of one kind of
    atom change sign together with a compensating rearrangement elsewhere: a run can settle in such a
    local "mirror" solution and stay there (schnet-dipole-cpu-fold2 gave terminal N the non-Mulliken sign
    for all 100 epochs of its first training, and lagged from epoch 1). The rule: train
    ``candidates`` runs with the seeds :func:`candidate_seeds` for ``epochs`` epochs each and keep the
    one with the **lowest validation MAE** reached within them; test molecules are never looked at. Every
    candidate's curve is recorded in ``<run>/restarts.json``; candidates train in ``<run>/restarts/``.
    A run folder that already trained the first candidate's seed (the fold's own) for at least
    ``epochs`` epochs counts as that candidate, read from its log. Returns the record."""
    prof = replace(get_profile(profile), **(overrides or {}))
    spec = prof.restarts.get(model_name, {}).get(target)
    if not spec:
        raise AtomintError(f"the {profile} profile screens no restarts for {model_name} {target}")
    folder = Path(models_dir) / run_name(model_name, target, profile, fold)
    record_path = folder / RESTARTS
    if record_path.is_file():
        record = store.read_json(record_path)
        if record.get("chosen") is not None:
            return record
    n_ep = int(spec["epochs"])
    record = {"rule": f"lowest validation MAE within the first {n_ep} epochs, over seeds "
                      f"{candidate_seeds(fold, int(spec['candidates']))}", "epochs": n_ep, "candidates": []}
    own = read_log(folder) if (folder / store.STATE).is_file() else []
    for s in candidate_seeds(fold, int(spec["candidates"])):
        if s == fold and len(own) >= n_ep and store.read_json(folder / store.PROVENANCE).get("seed") == s:
            rows, where = own[:n_ep], str(folder.name)
        else:
            sub = train(model_name, target, fold, profile, folder / "restarts", data_dir, max_epochs=n_ep,
                        threads=threads, progress=progress, name=f"seed{s}", seed=s,
                        overrides={**(overrides or {}), "restarts": {}, "extend": {}})
            rows, where = read_log(sub)[:n_ep], f"{folder.name}/restarts/seed{s}"
        record["candidates"].append({"seed": s, "folder": where, "val_mae": [r["val_mae"] for r in rows],
                                     "best_val_mae": min(r["val_mae"] for r in rows)})
    best = min(record["candidates"], key=lambda c: c["best_val_mae"])
    record["chosen"] = best["seed"]
    store.atomic_write_json(record_path, record)
    if progress:
        print(f"atomint: {folder.name}: restart screening chose seed {best['seed']} "
              f"(best val MAE {best['best_val_mae']:.4g} within {n_ep} epochs; "
              + ", ".join(f"seed {c['seed']}: {c['best_val_mae']:.4g}" for c in record["candidates"]) + ")",
              file=sys.stderr)
    return record


def _adopt_candidate(folder: Path, record: dict) -> None:
    """Start a run from the screening's chosen candidate: copy its state, weights, log and sign log."""
    import shutil

    src = folder / "restarts" / f"seed{record['chosen']}"
    if (folder / store.STATE).is_file():
        if store.read_json(folder / store.PROVENANCE).get("seed") != record["chosen"]:
            raise AtomintError(f"the restart screening chose seed {record['chosen']} for {folder.name}, but the "
                               f"folder holds a run of another seed; move it away to train the chosen one")
        return
    for f in (store.STATE, store.WEIGHTS, store.LOG, "signs.csv"):
        if (src / f).is_file():
            with atomic_path(folder / f) as tmp:
                shutil.copyfile(src / f, tmp)


# ------------------------------------------------------------------------------------------ the loop
LOG_FIELDS = ["epoch", "wall_s", "lr", "train_loss", "train_mae", "val_mae", "val_rmse"]


def _write_log(folder: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LOG_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in LOG_FIELDS})
    store.atomic_write_bytes(folder / store.LOG, buf.getvalue().encode())


def read_log(folder: Path) -> list[dict]:
    p = Path(folder) / store.LOG
    if not p.is_file():
        return []
    with open(p, newline="") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in r.items()} for r in csv.DictReader(f)]


def train(model_name: str, target: str, fold: int = 0, profile: str = "quick", models_dir="models",
          data_dir=None, max_minutes: float | None = None, max_epochs: int | None = None, threads: int | None = None,
          progress: bool = True, name: str | None = None, seed: int | None = None,
          devices="auto", overrides: dict | None = None) -> Path:
    """Train (or resume) one model; returns its checkpoint folder. See the module docstring.

    ``overrides``: Profile fields to replace (pilots of a recipe; recorded in provenance)."""
    prof = get_profile(profile)
    if target not in TARGET_KEYS:
        raise AtomintError(f"unknown target {target!r}; accepted: {', '.join(TARGET_KEYS)}")
    if model_name not in ("bp", "schnet"):
        raise AtomintError(f"unknown model {model_name!r}; accepted: bp, schnet")
    crystals = target == "crystals"
    if crystals:
        if model_name != "schnet":
            raise AtomintError("target 'crystals' (Materials Project formation energies) is trained with SchNet "
                               "only: use --model schnet")
        prof = CRYSTAL_PROFILES[prof.name]
    if overrides:
        prof = replace(prof, **overrides)
    if threads or prof.threads:
        torch.set_num_threads(int(threads or prof.threads))
    torch.set_flush_denormal(True)  # main thread only; models.schnet.gaussians covers torch's worker threads
    screen = seed is None and name is None and bool(prof.restarts.get(model_name, {}).get(target))
    seed = fold if seed is None else seed
    if max_epochs is None:
        max_epochs = prof.max_epochs[model_name] if isinstance(prof.max_epochs, dict) else prof.max_epochs
    prof = replace(prof, max_epochs=int(max_epochs))
    budget_min = max_minutes if max_minutes is not None else prof.max_minutes.get(model_name)
    if budget_min is not None:  # provenance records the budget in effect (a --max-minutes overrides the profile's)
        prof = replace(prof, max_minutes={**prof.max_minutes, model_name: float(budget_min)})
    folder = Path(models_dir) / (name or run_name(model_name, target, profile, fold))
    folder.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temporaries(folder)  # left by a writer killed mid-write
    screening = None
    if screen:
        screening = screen_restarts(model_name, target, fold, profile, models_dir, data_dir, threads, progress,
                                    overrides)
        seed = int(screening["chosen"])

    from .models import build

    config = {"model": model_name, "target": target,
              "elements": list(CRYSTAL_ELEMENTS) if crystals else [1, 6, 7, 8, 9],
              "representation": copy.deepcopy(getattr(prof, model_name))}
    torch.manual_seed(seed)
    model = build(config)
    config = json.loads(json.dumps(model.config))  # as stored (tuples become lists)
    if (folder / store.CONFIG).is_file() and store.read_json(folder / store.CONFIG) != config:
        raise AtomintError(f"{folder} holds a run with a different config; choose another --name or delete it")
    store.atomic_write_json(folder / store.CONFIG, config)

    t_data = time.time()
    if crystals:
        ds, data = load_crystal_data(prof, model.cutoff, data_dir)
        parts = crystal_split(prof, fold, ds)
        rows = {k: crystal_rows(ds, v) for k, v in parts.items()}
    else:
        ds, data = load_training_data(prof, model.cutoff, data_dir)
        parts = fold_split(prof, fold, ds)
        rows = {k: ds.rows(v) for k, v in parts.items()}
    save_split(folder / store.SPLIT, parts, fold)  # the split's seed is the fold
    if screening is not None:
        _adopt_candidate(folder, screening)

    opt = torch.optim.Adam(model.parameters(), lr=prof.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=prof.lr_factor,
                                                       patience=prof.lr_patience, min_lr=prof.min_lr)
    state_path = folder / store.STATE
    if state_path.is_file() and prof.lightning:  # Lightning resumes from its own last.ckpt
        st = store.safe_torch_load(state_path)
        epoch, best_val, best_epoch = int(st["epoch"]), float(st["best_val"]), int(st["best_epoch"])
        wall, done, log = float(st["wall_s"]), bool(st["done"]), read_log(folder)
        if not done:
            model.fit_statistics(data, rows["train"])
    elif state_path.is_file():  # resume
        st = store.safe_torch_load(state_path)
        try:
            model.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
        except (RuntimeError, ValueError, KeyError) as e:
            raise AtomintError(f"{state_path} cannot resume this model: it was written for different parameters "
                               f"(an older atomint version?); delete {folder} to train from scratch or pass "
                               f"another --name ({type(e).__name__}: {str(e).splitlines()[0]})") from None
        sched.load_state_dict(st["scheduler"])
        epoch, best_val, best_epoch = int(st["epoch"]), float(st["best_val"]), int(st["best_epoch"])
        wall, done = float(st["wall_s"]), bool(st["done"])
        ema_state = st.get("ema")
        log = [r for r in read_log(folder) if r["epoch"] <= epoch]
        signs = [r for r in read_signs(folder) if r["epoch"] <= epoch]
        print(f"atomint: resuming {folder.name} after epoch {epoch} ({wall / 60:.1f} min trained)", file=sys.stderr)
    else:
        model.fit_statistics(data, rows["train"])
        epoch, best_val, best_epoch, wall, done, log = 0, math.inf, 0, 0.0, False, []
    if not state_path.is_file() or prof.lightning:
        ema_state, signs = None, []
    attach_descriptors(model, data)
    if prof.compile and model_name == "schnet" and not prof.lightning:
        if torch.get_num_threads() == 1:
            model.representation.compile_interactions()
        else:  # provenance records what ran
            prof = replace(prof, compile=False)
            print(f"atomint: {torch.get_num_threads()} torch threads: SchNet runs without torch.compile, whose kernels "
                  f"were slower than eager with 2 threads (0.59x) and faster with 1 (1.75x) on a 2-core CPU "
                  f"(bench/RESULTS.md); to use it, train folds side by side with --threads 1", file=sys.stderr)
    t_data = time.time() - t_data
    key = model.target_key
    y_val = np.asarray(data.targets[key])[rows["val"]]
    ext = prof.extend.get(model_name)
    ema = WeightAverage(model, ext["ema_decay"], ema_state) if ext and ema_state is not None else None
    monitor = (SignMonitor(ds, data, rows["val"]) if target == "dipole" and "mulliken" in getattr(ds, "arrays", {})
               else None)

    def in_stage2() -> bool:
        return ext is not None and epoch >= int(ext["from_epoch"])

    def stop_reason() -> str | None:
        if prof.lightning:  # Lightning decided when to stop (max_epochs, early stopping or the time budget)
            return "PyTorch Lightning fit ended (max_epochs, early stopping or time budget)"
        if epoch >= prof.max_epochs:
            return f"max_epochs={prof.max_epochs}"
        if epoch - best_epoch >= prof.early_stop_patience and best_epoch > 0 and not in_stage2():
            return f"early stopping (no improvement for {prof.early_stop_patience} epochs)"
        if budget_min is not None and wall >= budget_min * 60:
            return f"time budget {budget_min} min"
        return None

    if prof.lightning and not done:  # the paper profile: the same model and loss through PyTorch Lightning
        from .lightning import fit as lightning_fit

        left = None if budget_min is None else max(budget_min - wall / 60, 0.1)
        log, wall_l = lightning_fit(model, data, rows, prof, folder, max_minutes=left, progress=progress,
                                    seed=seed, devices=devices)
        wall += wall_l
        epoch = len(log)
        best_row = min(log, key=lambda r: r["val_mae"]) if log else None
        best_epoch = best_row["epoch"] if best_row else 0
        _write_log(folder, log)
        store.atomic_torch_save({"epoch": epoch, "best_val": best_row["val_mae"] if best_row else math.inf,
                                 "best_epoch": best_epoch, "wall_s": wall, "done": False}, state_path)

    from tqdm import tqdm

    n_batches = math.ceil(len(rows["train"]) / prof.batch_size)
    while (reason := stop_reason()) is None:
        model.train()
        t0 = time.time()
        if in_stage2():
            if ema is None:
                ema = WeightAverage(model, ext["ema_decay"])
            for g in opt.param_groups:
                g["lr"] = cosine_lr(ext, epoch, prof.max_epochs, prof.min_lr)
        tot_loss = tot_abs = 0.0
        bar = tqdm(data.batches(rows["train"], prof.batch_size, shuffle=True, seed=seed * 100_003 + epoch),
                   total=n_batches, desc=f"{folder.name} epoch {epoch + 1}", disable=not progress,
                   leave=False, mininterval=1.0 if sys.stderr.isatty() else 60.0, file=sys.stderr)
        for b in bar:
            opt.zero_grad(set_to_none=True)
            pred = model(b)[key]
            err = pred - b[key].to(pred.dtype)
            loss = (err ** 2).mean()
            loss.backward()
            opt.step()
            if ema is not None:
                ema.update()
            n = len(err)
            tot_loss += float(loss.detach()) * n
            tot_abs += float(err.detach().abs().sum())
        stage2 = in_stage2()
        epoch += 1
        with ema.applied() if ema is not None else contextlib.nullcontext():  # validate and keep the average
            val = metrics(predict(model, data, rows["val"]), y_val)
            if val["mae"] < best_val:
                best_val, best_epoch = val["mae"], epoch
                store.save_weights(folder, model)
            groups = monitor.groups(model) if monitor is not None else []
        if not stage2:
            sched.step(val["mae"])
        wall += time.time() - t0
        row = {"epoch": epoch, "wall_s": wall, "lr": opt.param_groups[0]["lr"],
               "train_loss": tot_loss / len(rows["train"]), "train_mae": tot_abs / len(rows["train"]),
               "val_mae": val["mae"], "val_rmse": val["rmse"]}
        log.append(row)
        signs += [dict(zip(SignMonitor.FIELDS, (epoch, _symbol(z), nb, n, round(a, 4)))) for z, nb, n, a in groups]
        if progress:
            worst = f", Mulliken sign {_symbol(groups[0][0])}{groups[0][1]} {groups[0][3]:.0%}" if groups else ""
            print(f"{folder.name} epoch {epoch}: train MAE {row['train_mae']:.4f}, val MAE {val['mae']:.4f} "
                  f"{UNITS[target]} (best {best_val:.4f} @ {best_epoch}), lr {row['lr']:.2e}{worst}, "
                  f"{wall / 60:.1f} min", file=sys.stderr, flush=True)
        _write_log(folder, log)
        if monitor is not None:
            _write_signs(folder, signs)
        store.atomic_torch_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                 "scheduler": sched.state_dict(), "epoch": epoch, "best_val": best_val,
                                 "best_epoch": best_epoch, "wall_s": wall, "done": False,
                                 **({"ema": ema.shadow} if ema is not None else {})}, state_path)
        _write_provenance(folder, model, ds, prof, fold, seed, parts, epoch, best_epoch, wall, log,
                          status="training", test=None)

    # final evaluation of the best weights on the held-out test split
    best = store.load_model(folder, verify=False)  # data.atom_features (fixed symmetry functions) still apply
    test = metrics(predict(best, data, rows["test"]), np.asarray(data.targets[key])[rows["test"]])
    resumable = prof.lightning or not reason.startswith(("early", "max_epochs", "finished"))
    status = f"stopped: {reason}" + (" (resumable with a larger --max-minutes)" if resumable else "")
    _write_provenance(folder, model, ds, prof, fold, seed, parts, epoch, best_epoch, wall, log,
                      status=status, test=test, data_s=t_data)
    st = store.safe_torch_load(state_path)
    st["done"] = not resumable
    store.atomic_torch_save(st, state_path)
    store.write_index(models_dir)
    if progress:
        what = "structures" if crystals else "molecules"
        print(f"atomint: {folder.name}: {status}; test MAE {test['mae']:.4f} {UNITS[target]}, "
              f"RMSE {test['rmse']:.4f} on {test['n']:,} {what}", file=sys.stderr)
    return folder


def _restart_record(folder: Path) -> dict | None:
    return store.read_json(folder / RESTARTS) if (folder / RESTARTS).is_file() else None


def _symbol(z: int) -> str:
    from ase.data import chemical_symbols

    return chemical_symbols[int(z)]


def _write_provenance(folder, model, ds, prof, fold, seed, parts, epoch, best_epoch, wall, log, status, test,
                      data_s=None):
    from .data.checksums import sha256_file

    best_row = next((r for r in log if r["epoch"] == best_epoch), None)
    prov = {
        "model": model.config["model"], "target": model.config["target"], "unit": UNITS[model.config["target"]],
        "profile": prof.name, "profile_settings": {k: v for k, v in asdict(prof).items() if k not in ("schnet", "bp")},
        "fold": fold, "seed": seed, "restarts": _restart_record(folder), "n_train": int(len(parts["train"])), "n_val": int(len(parts["val"])),
        "n_test": int(len(parts["test"])), "split_sha256": split_hash(parts),
        "data": {"source": ds.source, "sha256": ds.sha256, "n_molecules": len(ds)},
        "epochs": epoch, "best_epoch": best_epoch, "wall_time_s": round(wall, 1),
        "status": status, "git_commit": store.git_commit(), **store.environment(),
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "weights_sha256": sha256_file(folder / store.WEIGHTS) if (folder / store.WEIGHTS).is_file() else None,
        "metrics": {"val": {"mae": best_row["val_mae"], "rmse": best_row["val_rmse"]} if best_row else {}},
    }
    if model.config["target"] == "crystals":
        from .data.crystals import BAD_ENTRIES

        prov["data"] = {"source": ds.source, "sha256": ds.sha256, "n_structures": len(ds),
                        "dropped": list(BAD_ENTRIES), "cutoff": model.cutoff,
                        "split_ids": "src_index (the source's data/<i>.cif number) of the cleaned set"}
    if data_s is not None:
        prov["data_preparation_s"] = round(data_s, 1)
    if test is not None:
        prov["metrics"]["test"] = test
    store.atomic_write_json(folder / store.PROVENANCE, prov)


# ------------------------------------------------------------------------------------------ CLI
def _cli_train(args) -> int:
    train(args.model, args.target, args.fold, args.profile, args.models_dir, args.data_dir,
          max_minutes=args.max_minutes, max_epochs=args.max_epochs, threads=args.threads,
          progress=not args.quiet, name=args.name, devices=args.devices)
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("train", help="train (or resume) a model; see `atomint train -h`")
    p.add_argument("--model", required=True, choices=["bp", "schnet"])
    p.add_argument("--target", required=True, choices=list(TARGET_KEYS))
    p.add_argument("--fold", type=int, default=0, help="fold = split seed (default 0)")
    p.add_argument("--profile", default="quick", choices=list(PROFILES))
    p.add_argument("--models-dir", default="models")
    p.add_argument("--data-dir", default=None,
                   help="folder with qm9/qm9.npz or mp/mp.npz (default: ATOMINT_DATA, cache)")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="total training wall time over all resumes (default: the profile's)")
    p.add_argument("--max-epochs", type=int, default=None)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--name", default=None,
                   help="checkpoint folder name (default model-target-profile-foldK; crystals: "
                        "schnet-mp-profile-foldK)")
    p.add_argument("--devices", default="auto", help="paper profile (Lightning): GPUs/processes, e.g. 4")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cli_train)
