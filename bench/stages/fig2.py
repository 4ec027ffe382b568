"""The Fig. 2 claims on earlier training stages of the committed energy runs -> bench/stages/fig2.json.

    ATOMINT_DATA=... python bench/stages/fig2.py [--only STAGE ...]

Stages: :data:`atomint_helpers.interpret.stages.STAGE_EPOCHS` by the rule of that module (the commit nearest
to each epoch count, per architecture and fold). Per stage: every checkpoint (commit, epochs, weights sha256,
test MAE on its fold's test split, kcal/mol), each architecture's mean test MAE, and every Fig. 2 claim of
the registry decided on a latent study of that stage's checkpoints (values pooled and per fold, verdicts).
The file is rewritten after every stage; the budget rule (:mod:`atomint_helpers.report.budget`) reads it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from atomint_helpers import AtomintError
from atomint_helpers.data.qm9 import load_qm9
from atomint_helpers.interpret import energy_partition, latent_study
from atomint_helpers.interpret import stages as S
from atomint_helpers.report import budget, energies

REPO = Path(__file__).resolve().parents[2]
FOLDS = (0, 1, 2)


def _evidence(study, ds):
    """The chapter's evidence for one study: the carbon environments, and the descriptor retention where
    this version of the package measures it."""
    try:
        from atomint_helpers.interpret import descriptor_retention
    except ImportError:
        descriptor_retention = None
    env = energy_partition.carbon_environments(study.frames, ds)
    if descriptor_retention is None:
        return energies.evidence(study, env)
    return energies.evidence(study, env, descriptor_retention.study_retention(study, ds))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(budget.FIG2_RESULTS))
    ap.add_argument("--only", type=int, nargs="*", help="stage indices to compute (default: all)")
    ap.add_argument("--check", action="store_true", help="only compare the last stage with today's models/")
    ap.add_argument("--repo", default=str(REPO), help="the git repository whose history holds the runs")
    args = ap.parse_args(argv)
    if args.check:
        return check(args.out, Path(args.repo))
    chosen = S.choose(args.repo, folds=FOLDS)
    dirs = S.stage_dirs(chosen, args.repo, "energy-cpu")
    ds = load_qm9()
    old = budget.read_results(args.out) or {}
    done = {s["stage"]: s for s in old.get("stages", [])}
    results = {"rule": S.__doc__.split("\n\n")[1].replace("\n", " "), "stage_epochs": S.STAGE_EPOCHS,
               "paper_mae": S.PAPER_MAE, "data": {"sha256": ds.sha256, "n_molecules": len(ds)}, "stages": []}
    for i, d in enumerate(dirs):
        if args.only is not None and i not in args.only:
            if i in done:
                results["stages"].append(done[i])
            continue
        t0 = time.time()
        ckpts, maes = {}, {}
        for m, by in chosen.items():
            ckpts[m] = {}
            for k, st in by.items():
                folder = d / st[i].run
                ckpts[m][str(k)] = {**S.describe(st[i], folder), **S.checkpoint_mae(folder, ds)}
                print(f"stage {i} {st[i].label}: test MAE {ckpts[m][str(k)]['mae']:.4f}", flush=True)
            maes[m] = float(np.mean([c["mae"] for c in ckpts[m].values()]))
        study = latent_study.study(d, "energy", "cpu", list(FOLDS), ds)
        ev = _evidence(study, ds)
        claims = budget.stage_verdicts(energies.CLAIMS + (energies.CARBON_PEAKS_SCHNET,), ev)
        results["stages"].append({"stage": i, "test_mae": maes, "checkpoints": ckpts, "claims": claims,
                                  "n_molecules": study.n_molecules, "molecules": study.data})
        results["stages"].sort(key=lambda s: s["stage"])
        budget.write_results(args.out, results)
        print(f"stage {i} done in {time.time() - t0:.0f} s: mean test MAE {maes}", flush=True)
    budget.write_results(args.out, results)  # also when every stage was kept from the file
    return 0


def check(out, repo: Path = REPO) -> int:
    """The last stage must reproduce today's values: the Fig. 2 claims decided on ``models/`` (the same
    weights) give the same values and verdicts as the last stage of the results file; writes
    ``final_check`` into it."""
    results = budget.read_results(out)
    ds = load_qm9()
    study = latent_study.study(repo / "models", "energy", "cpu", list(FOLDS), ds)
    today = budget.stage_verdicts(energies.CLAIMS + (energies.CARBON_PEAKS_SCHNET,), _evidence(study, ds))
    last = results["stages"][-1]["claims"]
    key = {(c["id"], c["model"]): c for c in last}
    diffs = []
    for c in today:
        old = key.get((c["id"], c["model"]))
        if old is None or old["verdict"] != c["verdict"]:
            diffs.append(f"{c['id']} {c['model']}: verdict {old and old['verdict']} vs today {c['verdict']}")
            continue
        for name, t in c["tests"].items():
            a, b = old["tests"][name]["value"], t["value"]
            if not (a == b or (a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b)))):
                diffs.append(f"{c['id']} {c['model']} {name}: {a} vs today {b}")
    results["final_check"] = {"claims_compared": len(today), "matches_today": not diffs, "differences": diffs}
    budget.write_results(out, results)
    print(f"last stage vs today's models/: {len(today)} claims, {len(diffs)} differences", *diffs, sep="\n")
    return 0 if not diffs else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        sys.exit(2)
