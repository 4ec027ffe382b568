"""One run: train or resume a model into its checkpoint folder (``atomint train``); the profiles and what
they mean are described in :mod:`atomint_helpers.training`.

The loss is the mean squared error in the paper's units (kcal/mol for energies, Debye for |μ|). Stage 1:
Adam with the learning rate halved when the validation MAE stops improving, early stopping on it, the
best weights kept; stage 2 (where the profile has one): see :mod:`.stage2`. A run with a wall-time budget
follows :mod:`.budget` instead. A run holds a lock on its
folder and saves it after every epoch as one unit (weights, log, state and provenance together:
:mod:`atomint_helpers.store.commit`), so a kill at any instant leaves the previous epoch's checkpoint or the
new one, and re-running the same command continues from the last saved epoch and ends with the same weights
as an uninterrupted run (shuffling is seeded per epoch).
"""
from __future__ import annotations

import contextlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .. import AtomintError, store
from ..data.splits import save_split, split_hash
from ..io import atomic_path, folder_lock
from ..properties import TARGETS
from ..store.migrate import MIGRATED_FROM
from .lightning import fit_run
from .inputs import attach_descriptors, load_run_data
from .loop import epoch_rows, read_log, write_log
from ..models.predict import metrics, predict
from . import budget, parallel
from .parallel import Ranks, step_loss
from .profiles import Profile
from .restarts import RESTARTS, adopt_candidate, screen_restarts
from .spec import RunSpec, profile_settings
from .stage2 import SignMonitor, WeightAverage, cosine_lr, read_signs, write_signs

if TYPE_CHECKING:
    from ..data.batch import AtomsData
    from ..data.crystals import Crystals
    from ..data.qm9 import QM9
    from ..models import AtomisticModel

@dataclass
class Run:
    """One run's state between epochs: what ``state.pt``, ``log.csv`` and ``provenance.json`` hold."""

    folder: Path
    prof: Profile
    model: AtomisticModel
    ds: QM9 | Crystals                # the data set, as loaded (its source and sha256 go into provenance)
    data: AtomsData                   # its batchable arrays
    parts: dict[str, np.ndarray]      # the split's ids: train, val, test
    rows: dict[str, np.ndarray]       # the same as array rows of ``data``
    fold: int
    seed: int
    epoch: int = 0
    best_val: float = math.inf
    best_epoch: int = 0
    wall: float = 0.0
    done: bool = False
    log: list = field(default_factory=list)
    signs: list = field(default_factory=list)
    ema: WeightAverage | None = None
    data_s: float | None = None
    processes: int = 1
    schedule: budget.Schedule | None = None  # a wall-time budget's (:mod:`.budget`)
    migrated_from: dict | None = None  # the former hashes of a migrated run's folder, kept in every save

    @property
    def model_name(self) -> str:
        return self.model.config["model"]

    @property
    def target(self) -> str:
        return self.model.config["target"]

    @property
    def stage2(self) -> dict | None:
        return self.prof.extend.get(self.model_name)

    def in_stage2(self) -> bool:
        return self.stage2 is not None and self.epoch >= int(self.stage2["from_epoch"])

    def stop_reason(self) -> str | None:
        prof = self.prof
        if prof.lightning:  # Lightning decided when to stop (max_epochs, early stopping or the time budget)
            return "PyTorch Lightning fit ended (max_epochs, early stopping or time budget)"
        if prof.budget and self.epoch < prof.max_epochs:  # its own end; no early stopping
            return budget.stop_reason(self.wall, self.epoch, prof.budget)
        if self.epoch > prof.max_epochs:  # resumed with a smaller --max-epochs: epochs are never undone
            return f"max_epochs={prof.max_epochs} asked at resume, but {self.epoch} epochs were already trained"
        if self.epoch == prof.max_epochs:
            return f"max_epochs={prof.max_epochs}"
        if (self.epoch - self.best_epoch >= prof.early_stop_patience and self.best_epoch > 0
                and not self.in_stage2()):
            return f"early stopping (no improvement for {prof.early_stop_patience} epochs)"
        limit = prof.max_minutes.get(self.model_name)
        if limit is not None and self.wall >= limit * 60:
            return f"time budget {limit} min"
        return None

    def save_state(self, opt, sched, save) -> None:
        """``state.pt`` into the :class:`~atomint_helpers.store.commit.Save` ``save``."""
        store.atomic_torch_save({"model": self.model.state_dict(), "optimizer": opt.state_dict(),
                                 "scheduler": sched.state_dict(), "epoch": self.epoch, "best_val": self.best_val,
                                 "best_epoch": self.best_epoch, "wall_s": self.wall, "done": False,
                                 **({"ema": self.ema.shadow} if self.ema is not None else {}),
                                 **(self.schedule.state() if self.schedule is not None else {})},
                                save.dir / store.STATE)

    def write_provenance(self, status: str, save, test: dict | None = None) -> None:
        """``provenance.json`` into ``save``, with the sha256 of the weights and the config that ``save``
        commits (see :func:`atomint_helpers.store.load_model`)."""
        folder, model, prof, parts, ds = self.folder, self.model, self.prof, self.parts, self.ds
        weights = save.path(store.WEIGHTS)
        best_row = next((r for r in self.log if r["epoch"] == self.best_epoch), None)
        restarts = store.read_json(folder / RESTARTS) if (folder / RESTARTS).is_file() else None
        prov = {
            "model": self.model_name, "target": self.target, "unit": TARGETS[self.target].unit,
            "profile": prof.name,
            "profile_settings": profile_settings(prof),
            "fold": self.fold, "seed": self.seed, "restarts": restarts, "n_train": int(len(parts["train"])),
            "n_val": int(len(parts["val"])), "n_test": int(len(parts["test"])), "split_sha256": split_hash(parts),
            "data": {"source": ds.source, "sha256": ds.sha256, "n_molecules": len(ds)},
            "epochs": self.epoch, "best_epoch": self.best_epoch, "wall_time_s": round(self.wall, 1),
            "status": status, "git_commit": store.git_commit(), **store.environment(),
            "processes": self.processes,
            "n_parameters": int(sum(p.numel() for p in model.parameters())),
            "weights_sha256": store.sha256_file(weights) if weights.is_file() else None,
            "config_sha256": store.config_sha256(store.read_json(save.path(store.CONFIG))),
            "metrics": {"val": {"mae": best_row["val_mae"], "rmse": best_row["val_rmse"]} if best_row else {}},
        }
        if self.target == "crystals":
            from ..data.crystals import BAD_ENTRIES

            prov["data"] = {"source": ds.source, "sha256": ds.sha256, "n_structures": len(ds),
                            "dropped": list(BAD_ENTRIES), "cutoff": model.cutoff,
                            "split_ids": "src_index (the source's data/<i>.cif number) of the cleaned set"}
        if self.data_s is not None:
            prov["data_preparation_s"] = round(self.data_s, 1)
        if test is not None:
            prov["metrics"]["test"] = test
        if self.migrated_from is not None:
            prov[MIGRATED_FROM] = self.migrated_from
        store.atomic_write_json(save.dir / store.PROVENANCE, prov)


def _build_model(spec: RunSpec):
    """The model of a run, freshly initialised with the spec's seed, and its config as stored (checked against
    the folder's; written by the run's first save)."""
    from ..models import build

    torch.manual_seed(spec.seed)
    model = build(spec.requested_config())
    config = json.loads(json.dumps(model.config))  # as stored (tuples become lists)
    if (spec.folder / store.CONFIG).is_file() and store.read_json(spec.folder / store.CONFIG) != config:
        raise AtomintError(f"{spec.folder} holds a run with a different config; choose another --name or delete it")
    return model, config


def _restore(run: Run, opt, sched, source: Path, announce: bool = True) -> None:
    """Continue from ``source``'s ``state.pt`` when there is one (the run folder, or the restart candidate
    the run adopts), else fit the heads' statistics on the training set."""
    path = source / store.STATE
    if not path.is_file():
        run.model.fit_statistics(run.data, run.rows["train"])
        return
    st = store.safe_torch_load(path)
    if (run.folder / store.PROVENANCE).is_file():  # read once: every save of the run writes it back
        run.migrated_from = store.read_json(run.folder / store.PROVENANCE).get(MIGRATED_FROM)
    run.epoch, run.best_val, run.best_epoch = int(st["epoch"]), float(st["best_val"]), int(st["best_epoch"])
    run.wall, run.done = float(st["wall_s"]), bool(st["done"])
    if run.prof.lightning:  # Lightning resumes from its own last.ckpt
        run.log = read_log(source)
        if not run.done:
            run.model.fit_statistics(run.data, run.rows["train"])
        return
    try:
        run.model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
    except (RuntimeError, ValueError, KeyError) as e:
        raise AtomintError(f"{path} cannot resume this model: it was written for different parameters "
                           f"(an older atomint version?); delete {run.folder} to train from scratch or pass "
                           f"another --name ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    sched.load_state_dict(st["scheduler"])
    if (run.stage2 or run.prof.budget) and st.get("ema") is not None:
        run.ema = WeightAverage(run.model, (run.stage2 or run.prof.budget)["ema_decay"], st["ema"])
    if run.schedule is not None:
        run.schedule.restore(st)
    run.log = [r for r in read_log(source) if r["epoch"] <= run.epoch]
    run.signs = [r for r in read_signs(source) if r["epoch"] <= run.epoch]
    if source != run.folder or not announce:
        return
    print(f"atomint: resuming {run.folder.name} after epoch {run.epoch} ({run.wall / 60:.1f} min trained)",
          file=sys.stderr)


def train_epoch(run: Run, opt, sched, monitor, y_val, progress: bool, net=None, ranks: Ranks = Ranks()) -> None:
    """One epoch: the optimizer steps, validation (on the weight average in stage 2), then one save of the
    best weights, the logs, the state and the provenance. With several processes (``ranks``, ``net`` the
    model inside DistributedDataParallel) each takes its share of every global batch and of validation,
    and rank 0 alone saves (:mod:`.parallel`)."""
    from tqdm import tqdm

    model, prof, rows, key = run.model, run.prof, run.rows, run.model.target_key
    net = model if net is None else net
    model.train()
    t0 = budget.clock()
    stage2 = run.in_stage2()
    if stage2:
        if run.ema is None:
            run.ema = WeightAverage(model, run.stage2["ema_decay"])
        for g in opt.param_groups:
            g["lr"] = cosine_lr(run.stage2, run.epoch, prof.max_epochs, prof.min_lr)
    if run.schedule is not None:
        run.schedule.begin_epoch(run)
    tot_loss = tot_abs = 0.0
    train_rows, shuffle = epoch_rows(run.rows["train"], run.seed, run.epoch, prof.epoch_molecules)
    bar = tqdm(run.data.batch_rows(train_rows, prof.batch_size, **shuffle) if ranks.parallel
               else run.data.batches(train_rows, prof.batch_size, **shuffle),
               total=math.ceil(len(train_rows) / prof.batch_size), desc=f"{run.folder.name} epoch {run.epoch + 1}",
               disable=not progress, leave=False, mininterval=1.0 if sys.stderr.isatty() else 60.0, file=sys.stderr)
    for b in bar:
        opt.zero_grad(set_to_none=True)
        if run.schedule is not None:
            run.schedule.before_step(opt)
        if ranks.parallel:  # b: the global batch's rows
            loss, sq, ab = step_loss(net, run.data, b, ranks, key)
            loss.backward()
        else:
            pred = model(b)[key]
            err = pred - b[key].to(pred.dtype)
            loss = (err ** 2).mean()
            loss.backward()
            sq, ab = float(loss.detach()) * len(err), float(err.detach().abs().sum())
        opt.step()
        if run.ema is not None:
            run.ema.update()
        tot_loss += sq
        tot_abs += ab
    tot_loss, tot_abs = ranks.sum([tot_loss, tot_abs])
    ranks.check_identical([*model.parameters(), *(run.ema.shadow if run.ema is not None else [])],
                          "weights (and their average)")
    run.epoch += 1
    # one unit: weights (if better), logs, state, provenance; written by rank 0 alone
    with store.saving(run.folder) if ranks.writer else contextlib.nullcontext() as save:
        with run.ema.applied() if run.ema is not None else contextlib.nullcontext():  # validate and keep the average
            val = metrics(ranks.gather(predict(model, run.data, ranks.share(rows["val"]))), y_val)
            if val["mae"] < run.best_val:
                run.best_val, run.best_epoch = val["mae"], run.epoch
                if save is not None:
                    store.save_weights(save.dir, model)
            groups = monitor.groups(model) if monitor is not None else []
        if not stage2 and run.schedule is None:
            sched.step(val["mae"])
        run.wall += budget.clock() - t0
        row = {"epoch": run.epoch, "wall_s": run.wall, "lr": opt.param_groups[0]["lr"],
               "train_loss": tot_loss / len(train_rows), "train_mae": tot_abs / len(train_rows),
               "val_mae": val["mae"], "val_rmse": val["rmse"]}
        run.log.append(row)
        run.signs += [dict(zip(SignMonitor.FIELDS, (run.epoch, _symbol(z), nb, n, round(a, 4)))) for z, nb, n, a in groups]
        if progress:
            worst = f", Mulliken sign {_symbol(groups[0][0])}{groups[0][1]} {groups[0][3]:.0%}" if groups else ""
            print(f"{run.folder.name} epoch {run.epoch}: train MAE {row['train_mae']:.4f}, val MAE {val['mae']:.4f} "
                  f"{TARGETS[run.target].unit} (best {run.best_val:.4f} @ {run.best_epoch}), lr {row['lr']:.2e}{worst}, "
                  f"{run.wall / 60:.1f} min", file=sys.stderr, flush=True)
        if save is not None:
            write_log(save.dir, run.log)
            if monitor is not None:
                write_signs(save.dir, run.signs)
            run.save_state(opt, sched, save)
            run.write_provenance("training", save)
    run.wall = ranks.broadcast(run.wall)  # the time budget is rank 0's clock


def _finish(run: Run, reason: str, models_dir, progress: bool) -> None:
    """Evaluate the best weights on the held-out test split; record the stop and whether it can resume."""
    best = store.load_model(run.folder, verify=False)  # data.atom_features (fixed symmetry functions) still apply
    key = best.target_key
    test = metrics(predict(best, run.data, run.rows["test"]), np.asarray(run.data.targets[key])[run.rows["test"]])
    resumable = run.prof.lightning or not reason.startswith(("early", "max_epochs", "finished"))
    status = f"stopped: {reason}" + (" (resumable with a larger --max-minutes)" if resumable else "")
    st = store.safe_torch_load(run.folder / store.STATE)
    st["done"] = not resumable
    with store.saving(run.folder) as save:
        run.write_provenance(status, save, test)
        store.atomic_torch_save(st, save.dir / store.STATE)
    store.write_index(models_dir)
    if progress:
        what = "structures" if run.target == "crystals" else "molecules"
        print(f"atomint: {run.folder.name}: {status}; test MAE {test['mae']:.4f} {TARGETS[run.target].unit}, "
              f"RMSE {test['rmse']:.4f} on {test['n']:,} {what}", file=sys.stderr)


def train(model_name: str, target: str, fold: int = 0, profile: str = "quick", models_dir="models",
          data_dir=None, max_minutes: float | None = None, max_epochs: int | None = None, threads: int | None = None,
          progress: bool = True, name: str | None = None, seed: int | None = None,
          devices="auto", overrides: dict | None = None, head: dict | None = None, processes: int = 1,
          budget_minutes: float | None = None) -> Path:
    """Train (or resume) one model; returns its checkpoint folder. See the module docstring.

    The entry point of every run (the CLI, the learning curve, the book's quick runs): its arguments are
    checked here, once, into a :class:`~.spec.RunSpec` that everything below trusts. ``overrides``: Profile
    fields to replace (pilots of a recipe; recorded in provenance); ``head``: options of the output head,
    stored in the model config (e.g. ``{"charge_seed": "none"}``); ``processes``: data-parallel CPU processes
    (DDP, gloo; :mod:`.parallel`), each with ``threads`` torch threads (default 1). The result is that of
    one process training on the same global batches, to float rounding, so a run may resume with another
    number of processes. ``budget_minutes``: train to a wall-time budget (:mod:`.budget`). A dipole run of a
    profile that screens restarts, with no seed and no name given, first screens its candidates
    (:func:`.restarts.screen_restarts`), then trains the chosen seed."""
    spec = RunSpec.build(model_name, target, fold, profile, models_dir, data_dir, max_minutes, max_epochs, threads,
                         progress, name, seed, devices, overrides, head, processes, budget_minutes)
    with _locked(spec):
        screening = screen_restarts(spec, train_candidate) if spec.screens_restarts else None
        return _train_locked(spec.seeded(screening["chosen"] if screening else None), screening)


def train_candidate(spec: RunSpec) -> Path:
    """Train one restart-screening candidate (``spec``: :meth:`.RunSpec.candidate`, which screens nothing)."""
    with _locked(spec):
        return _train_locked(spec.seeded())


@contextlib.contextmanager
def _locked(spec: RunSpec):
    """The run folder created and locked for this process, torch's threads set, and the folder cleaned of
    what a killed writer left."""
    if spec.threads or spec.prof.threads:
        torch.set_num_threads(int(spec.threads or spec.prof.threads))
    torch.set_flush_denormal(True)  # main thread only; models.schnet.gaussians covers torch's worker threads
    try:
        spec.folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AtomintError(f"cannot create the run folder {spec.folder}: {e.strerror}") from None
    with folder_lock(spec.folder, "training run"):
        store.remove_stale_temporaries(spec.folder)  # left by a writer killed mid-write
        store.recover(spec.folder)  # a save killed after its commit point is completed, one killed before it discarded
        yield


def _train_locked(spec: RunSpec, screening: dict | None = None) -> Path:
    """Train the run of ``spec`` (its seed decided) in its locked folder, to its stop; evaluate it on the test
    split. ``screening``: the restart screening record whose chosen candidate a new run starts from."""
    ranks = parallel.start(spec)
    ok = False
    try:
        with ranks.failures():
            run, opt, sched, net, y_val = setup(ranks, spec, screening)
            monitor = (SignMonitor(run.ds, run.data, run.rows["val"])
                       if spec.target == "dipole" and "mulliken" in getattr(run.ds, "arrays", {}) else None)
            if spec.prof.lightning and not run.done:
                fit_run(run, spec.progress, spec.devices)
            while (reason := run.stop_reason()) is None:
                train_epoch(run, opt, sched, monitor, y_val, spec.progress, net, ranks)
        ok = True
    finally:
        parallel.close(ranks, ok)
    _finish(run, reason, spec.models_dir, spec.progress)
    return spec.folder


def setup(ranks: Ranks, spec: RunSpec, screening: dict | None = None):
    """``(run, optimizer, scheduler, net, validation targets)`` of this process, restored from the run folder;
    rank 0 makes the run's first save before the others restore from it (they join the process group after
    it). ``net`` is the model the steps go through (DistributedDataParallel around it with several
    processes)."""
    model, config = _build_model(spec)
    prof = spec.prof
    t_data = time.time()
    ds, data, parts, rows = load_run_data(prof, spec.fold, spec.target, model.cutoff, spec.data_dir)
    run = Run(spec.folder, prof, model, ds, data, parts, rows, spec.fold, spec.seed, processes=ranks.world,
              schedule=budget.Schedule(prof.budget, ranks) if prof.budget else None)
    opt = torch.optim.Adam(model.parameters(), lr=prof.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=prof.lr_factor,
                                                       patience=prof.lr_patience, min_lr=prof.min_lr)
    if ranks.writer:
        budget.check_resume(spec.folder, prof.budget)
        adopted = adopt_candidate(spec.folder, screening) if screening is not None else None
        _restore(run, opt, sched, adopted or spec.folder)
        _first_save(run, config, adopted)
    parallel.join_group(ranks)
    if not ranks.writer:
        _restore(run, opt, sched, spec.folder, announce=False)
    attach_descriptors(model, data, rows=np.concatenate(list(rows.values())))
    parallel.compile_if_one_thread(run)
    run.data_s = time.time() - t_data
    y_val = np.asarray(data.targets[model.target_key])[rows["val"]]
    return run, opt, sched, ranks.wrap(model), y_val


def _first_save(run: Run, config: dict, adopted: Path | None) -> None:
    """The run's config and split, and when it starts from an adopted restart candidate, that candidate's
    weights, state and logs with this run's provenance: one save."""
    with store.saving(run.folder) as save:
        if not (run.folder / store.CONFIG).is_file():
            store.atomic_write_json(save.dir / store.CONFIG, config)
        save_split(save.dir / store.SPLIT, run.parts, run.fold)  # the split's seed is the fold
        if adopted is not None:
            for name in (store.WEIGHTS, store.STATE):
                with atomic_path(save.dir / name) as tmp:
                    shutil.copyfile(adopted / name, tmp)
            write_log(save.dir, run.log)
            if run.signs:
                write_signs(save.dir, run.signs)
            run.write_provenance("training", save)


def _symbol(z: int) -> str:
    from ase.data import chemical_symbols

    return chemical_symbols[int(z)]
