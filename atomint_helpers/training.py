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
    "cpu": Profile("cpu", full_data=True, n_train=100_000, n_val=10_000, batch_size=100, lr=5e-4,
                   lr_patience=6, early_stop_patience=20, max_epochs={"bp": 150, "schnet": 100},
                   max_minutes={}, compile=True,
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


def run_name(model: str, target: str, profile: str, fold: int) -> str:
    if target == "crystals":
        return f"{model}-mp-{profile}-fold{fold}"
    return f"{model}-{target}-{profile}-fold{fold}"


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
          devices="auto") -> Path:
    """Train (or resume) one model; returns its checkpoint folder. See the module docstring."""
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
    if threads or prof.threads:
        torch.set_num_threads(int(threads or prof.threads))
    torch.set_flush_denormal(True)  # main thread only; models.schnet.gaussians covers torch's worker threads
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
    save_split(folder / store.SPLIT, parts, seed)

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
        log = [r for r in read_log(folder) if r["epoch"] <= epoch]
        print(f"atomint: resuming {folder.name} after epoch {epoch} ({wall / 60:.1f} min trained)", file=sys.stderr)
    else:
        model.fit_statistics(data, rows["train"])
        epoch, best_val, best_epoch, wall, done, log = 0, math.inf, 0, 0.0, False, []
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

    def stop_reason() -> str | None:
        if prof.lightning:  # Lightning decided when to stop (max_epochs, early stopping or the time budget)
            return "PyTorch Lightning fit ended (max_epochs, early stopping or time budget)"
        if done:
            return "finished"
        if epoch >= prof.max_epochs:
            return f"max_epochs={prof.max_epochs}"
        if epoch - best_epoch >= prof.early_stop_patience and best_epoch > 0:
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
            n = len(err)
            tot_loss += float(loss.detach()) * n
            tot_abs += float(err.detach().abs().sum())
        epoch += 1
        val = metrics(predict(model, data, rows["val"]), y_val)
        sched.step(val["mae"])
        wall += time.time() - t0
        row = {"epoch": epoch, "wall_s": wall, "lr": opt.param_groups[0]["lr"],
               "train_loss": tot_loss / len(rows["train"]), "train_mae": tot_abs / len(rows["train"]),
               "val_mae": val["mae"], "val_rmse": val["rmse"]}
        log.append(row)
        if val["mae"] < best_val:
            best_val, best_epoch = val["mae"], epoch
            weights_sha = store.save_weights(folder, model)
        if progress:
            print(f"{folder.name} epoch {epoch}: train MAE {row['train_mae']:.4f}, val MAE {val['mae']:.4f} "
                  f"{UNITS[target]} (best {best_val:.4f} @ {best_epoch}), lr {row['lr']:.2e}, "
                  f"{wall / 60:.1f} min", file=sys.stderr, flush=True)
        _write_log(folder, log)
        store.atomic_torch_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                                 "scheduler": sched.state_dict(), "epoch": epoch, "best_val": best_val,
                                 "best_epoch": best_epoch, "wall_s": wall, "done": False}, state_path)
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


def _write_provenance(folder, model, ds, prof, fold, seed, parts, epoch, best_epoch, wall, log, status, test,
                      data_s=None):
    from .data.checksums import sha256_file

    best_row = next((r for r in log if r["epoch"] == best_epoch), None)
    prov = {
        "model": model.config["model"], "target": model.config["target"], "unit": UNITS[model.config["target"]],
        "profile": prof.name, "profile_settings": {k: v for k, v in asdict(prof).items() if k not in ("schnet", "bp")},
        "fold": fold, "seed": seed, "n_train": int(len(parts["train"])), "n_val": int(len(parts["val"])),
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
