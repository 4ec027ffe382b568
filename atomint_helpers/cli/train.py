"""``atomint train``: train (or resume) one model into its checkpoint folder."""
from __future__ import annotations

from pathlib import Path

from ..properties import TARGETS
from ..training import PROFILES, budget, extension, run_name, train
from .args import fold_number, positive_int, positive_minutes


def _cli_train(args) -> int:
    models_dir, name, max_epochs, overrides = args.models_dir, args.name, args.max_epochs, None
    if args.extend:
        ext = extension.get_extension(args.extend)
        source = Path(args.models_dir) / (args.name or run_name(args.model, args.target, args.profile, args.fold))
        plan = extension.plan(source, ext)
        overrides, max_epochs = plan.overrides, plan.max_epochs
        models_dir, name = plan.folder.parent, plan.folder.name
    train(args.model, args.target, args.fold, args.profile, models_dir, args.data_dir,
          max_minutes=args.max_minutes, max_epochs=max_epochs, threads=args.threads,
          progress=not args.quiet, name=name, devices=args.devices, overrides=overrides,
          processes=args.processes, budget_minutes=args.budget_minutes)
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("train", help="train (or resume) a model; see `atomint train -h`")
    p.add_argument("--model", required=True, choices=["bp", "schnet"],
                   help="bp: Behler–Parrinello (wACSF symmetry functions); schnet: SchNet (continuous filters)")
    p.add_argument("--target", required=True, choices=list(TARGETS),
                   help="energy: QM9 atomization energy (kcal/mol); dipole: QM9 |μ| (D) through partial charges; "
                        "crystals: Materials Project formation energy (eV/atom, SchNet only)")
    p.add_argument("--fold", type=fold_number, default=0, help="fold = split seed (default 0)")
    p.add_argument("--profile", default="quick", choices=list(PROFILES),
                   help="quick: the embedded sample, seconds; cpu: full QM9, 100,000 training molecules, hours on "
                        "a CPU; paper: the paper's SchNet recipe (PyTorch Lightning, GPUs) (default quick)")
    p.add_argument("--models-dir", default="models", metavar="DIR",
                   help="folder the checkpoint folder is written into (default: models)")
    p.add_argument("--data-dir", default=None,
                   help="folder with qm9/qm9.npz or mp/mp.npz (default: ATOMINT_DATA, cache)")
    p.add_argument("--max-minutes", type=positive_minutes, default=None,
                   help="total training wall time over all resumes (default: the profile's)")
    p.add_argument("--budget-minutes", type=float, default=None, metavar="M",
                   help="train to a wall-time budget of M minutes (all resumes together): learning rate per step "
                        "from the time used (warm-up, then a cosine to the budget's end), weight average from the "
                        "first step, no early stopping; quick/cpu profiles, not with --max-minutes; the run's "
                        "folder is named after its budget (e.g. schnet-energy-cpu-fold0-60min). Its recipe, chosen "
                        f"by pilots: peak lr {budget.DEFAULT_RECIPE['peak_lr']:g}, warm-up "
                        f"{budget.DEFAULT_RECIPE['warmup']:g} of the budget, weight-average decay "
                        f"{budget.DEFAULT_RECIPE['ema_decay']:g}, the profile's batch size")
    p.add_argument("--max-epochs", type=positive_int, default=None,
                   help="stop after this many epochs in total, over all resumes (default: the profile's)")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--name", default=None,
                   help="checkpoint folder name (default model-target-profile-foldK; crystals: "
                        "schnet-mp-profile-foldK)")
    p.add_argument("--devices", default="auto", help="paper profile (Lightning): GPUs/processes, e.g. 4")
    p.add_argument("--processes", type=positive_int, default=1,
                   help="quick/cpu profiles: data-parallel CPU processes (DDP), one torch thread each by default")
    p.add_argument("--extend", default=None, choices=list(extension.EXTENSIONS),
                   help="continue the finished run with a declared extension recipe, in <models-dir>/next/ "
                        "(cycle2: a second cosine cycle, 100 more epochs)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    p.set_defaults(func=_cli_train)
