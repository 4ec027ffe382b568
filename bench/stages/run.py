"""The paper's claims on earlier training stages of the committed runs -> bench/stages/<chapter>.json.

    ATOMINT_DATA=... python bench/stages/run.py --chapter table1|fig2|fig3|fig4|fig5|fig6|fig7 [--only STAGE ...]
        [--check]

Stages: :data:`atomint_helpers.interpret.stages.STAGE_EPOCHS` by the rule of that module (the commit nearest
to each epoch count, per architecture and fold), for every target the chapter reads. Per stage: every
checkpoint (commit, epochs, weights sha256, test MAE and RMSE on its fold's test split, in the target's
unit), each architecture's mean test MAE, and every claim of the chapter decided on that stage's
checkpoints as the chapter decides it today (values pooled and per fold, verdicts). The chapters:

``table1``  Table 1's numbers (each model's test MAE and RMSE against the paper's) and the ordering of the
            two models, from the stage checkpoints' test errors; energy and dipole runs.
``fig2``    Fig. 2's claims on a latent study of the energy checkpoints (10,000 molecules).
``fig3``    Fig. 3's ring claims on a latent study of the energy checkpoints over the ring molecules.
``fig4``    Fig. 4's charge claims on latent studies of the dipole and the energy checkpoints (10,000
            molecules; set against the dipole models' test MAE).
``fig5``    Fig. 5's probe claims (SchNet's rows of the paper, BP's beside them) on the energy checkpoints:
            the maps of the first fold found, the site values of every fold, as the chapter computes them.
``fig6``    Fig. 6's ESP claims on the dipole checkpoints (the pair claims on the first fold found, the sign
            claims on every fold), set against the dipole models' test MAE.
``fig7``    Fig. 7's embedding claims on the crystal SchNet (one run, fold 0: its stages by
            :data:`~atomint_helpers.interpret.stages.CRYSTAL_EPOCHS`), set against its formation-energy test
            MAE (eV/atom) beside the published model's.

The paper's §1 saliency remark has no stage results: its claim is declared untestable (a remark about a
method, no number of the models decides it), so its rows stay ``untested`` whatever the stages.

The file is rewritten after every stage and a stage already in it is kept (``--only`` recomputes the
stages named). A recomputed last stage whose checkpoints are other weights than before (the final models were
replaced, e.g. an extension adopted) keeps the stage it replaces under ``superseded``. The budget rule
(:mod:`atomint_helpers.report.budget`) reads the file. ``--check``: the last stage must give today's values,
decided on ``models/`` (the same weights); writes ``final_check`` into the file.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from atomint_helpers import AtomintError
from atomint_helpers.interpret import stages as S
from atomint_helpers.report import budget, budget_rule

REPO = Path(__file__).resolve().parents[2]
FOLDS = (0, 1, 2)
#: per chapter: the target whose test MAE the claims are set against, then the other targets it reads
TARGETS = {"table1": ("energy", "dipole"), "fig2": ("energy",), "fig3": ("energy",), "fig4": ("dipole", "energy"),
           "fig5": ("energy",), "fig6": ("dipole",), "fig7": ("crystals",)}
#: the folds of each chapter's runs (Fig. 7 reads the one crystal run)
CHAPTER_FOLDS = {"fig7": (0,)}
#: values of the last stage and of today's models/ agree within this (relative): Table 1 reads today's test
#: errors from the provenance written at the end of training, the stages recompute them
CHECK_REL = {"table1": 1e-4}


def paper_mae(target: str) -> dict:
    """The paper's test MAE per architecture for ``target`` (Table 1, kcal/mol or D; for the crystals the
    published SchNet's formation-energy MAE, eV/atom)."""
    from atomint_helpers.interpret.evaluation import PAPER_TABLE1

    if target == "crystals":
        from atomint_helpers.report.embeddings import PUBLISHED_MP_MAE

        return {"schnet": PUBLISHED_MP_MAE}

    return {m: PAPER_TABLE1[(m, target)][0] for m in ("bp", "schnet")}


# ------------------------------------------------------------------------------------------ the chapters
def table1_claims(errors: dict) -> list[dict]:
    """Table 1's claims from test errors ``{target: {model: {fold: {"mae", "rmse"}}}}`` (as the chapter:
    a number pooled as the mean over folds, to 4 decimals; the ordering's ratios pooled as the largest
    over the folds)."""
    from atomint_helpers.report import table1
    from atomint_helpers.report.registry import Measurement

    ev, target_of = {}, {}
    for c in table1.NUMBERS:
        _, m, t, metric = c.id.split(".")
        by = errors.get(t, {}).get(m, {})
        vals = [float(by[k][metric]) for k in sorted(by)]
        ev[(c.id, c.models[0])] = {"value": Measurement(round(float(np.mean(vals)), 4) if vals else None,
                                                        tuple(vals), tuple(f"fold {k}" for k in sorted(by)))}
        target_of[c.id] = t
    for c in table1.ORDER:
        t = c.id.rsplit(".", 1)[1]
        bp, sn = errors.get(t, {}).get("bp", {}), errors.get(t, {}).get("schnet", {})
        both = sorted(set(bp) & set(sn))

        def ratio(metric):
            vals = tuple(float(sn[k][metric] / bp[k][metric]) for k in both)
            return Measurement(max(vals) if vals else None, vals, tuple(f"fold {k}" for k in both))

        ev[(c.id, "")] = {"MAE ratio": ratio("mae"), "RMSE ratio": ratio("rmse")}
        target_of[c.id] = t
    return [{**e, "target": target_of[e["id"]]} for e in budget_rule.stage_verdicts(table1.CLAIMS, ev)]


def measure(chapter: str, dirs: dict, ds, errors: dict) -> tuple[list[dict], dict]:
    """``(claims, extra)`` of ``chapter`` on one set of checkpoints: ``dirs`` the folder of each target's
    checkpoints (a stage's, or ``models/``), ``errors`` their test errors (see :func:`table1_claims`)."""
    from atomint_helpers.interpret import latent_study

    if chapter == "table1":
        return table1_claims(errors), {}
    if chapter == "fig2":
        from atomint_helpers.interpret import energy_partition
        from atomint_helpers.report import energies

        study = latent_study.study(dirs["energy"], "energy", "cpu", list(FOLDS), ds)
        env = energy_partition.carbon_environments(study.frames, ds)
        try:
            from atomint_helpers.interpret import descriptor_retention

            ev = energies.evidence(study, env, descriptor_retention.study_retention(study, ds))
        except ImportError:  # a version of the package without the descriptor retention
            ev = energies.evidence(study, env)
        claims = budget_rule.stage_verdicts(energies.CLAIMS + (energies.CARBON_PEAKS_SCHNET,), ev)
        return claims, {"n_molecules": study.n_molecules, "molecules": study.data}
    if chapter == "fig3":
        from atomint_helpers.interpret import rings
        from atomint_helpers.report import rings as report

        table = rings.rings_cached(ds)
        study = latent_study.study(dirs["energy"], "energy", "cpu", list(FOLDS), ds, rows=rings.ring_rows(table))
        scored = {m: rings.scores_by_fold(table, study.frames[m], ds) for m in study.models()}
        claims = budget_rule.stage_verdicts(report.CLAIMS, report.evidence(scored, table, study, ds))
        return claims, {"n_molecules": study.n_molecules, "molecules": study.data}
    if chapter == "fig4":
        from atomint_helpers.interpret import charge_signs
        from atomint_helpers.report import charges as report

        charges = latent_study.study(dirs["dipole"], "dipole", "cpu", list(FOLDS), ds)
        flipped = charge_signs.flipped_checkpoints(charges)
        energies = latent_study.study(dirs["energy"], "energy", "cpu", list(FOLDS), ds)
        claims = budget_rule.stage_verdicts(report.CLAIMS, report.evidence(charges, energies))
        return claims, {"n_molecules": charges.n_molecules, "molecules": charges.data, "flipped": list(flipped)}
    if chapter in MAPS:
        return MAPS[chapter](dirs)
    raise AtomintError(f"no chapter {chapter!r}: choose one of {', '.join(TARGETS)}")


def _keyed(ev: dict, label: str, rename=None) -> dict:
    """A chapter's ``{claim: {test: Measurement}}`` as :func:`budget_rule.stage_verdicts` reads it."""
    return {((rename or {}).get(c.id, c.id), label): tests for c, tests in ev.items()}


def fig5_claims(dirs: dict) -> tuple[list[dict], dict]:
    """Fig. 5's claims as the probe chapter decides them (its molecules, carbon probe, cut and surface
    resolution of the cpu profile)."""
    from atomint_helpers.interpret import probe_maps
    from atomint_helpers.notebook import check_molecules
    from atomint_helpers.report import probe as report
    from atomint_helpers.store import load_first

    d = dirs["energy"]
    models = {"SchNet": load_first(d, "schnet", "energy", "cpu", FOLDS), "BP": load_first(d, "bp", "energy", "cpu", FOLDS)}
    mols = check_molecules(list(report.FIG5_MOLECULES), report.FIG5_MOLECULES)
    panels = probe_maps.figure_panels(models, mols, "C", cut_spacing=0.08, surface_resolution=(48, 96))
    measures = probe_maps.map_measures(panels)
    sites = probe_maps.fold_sites(d, "cpu", FOLDS, mols)
    ev = {}
    for label in models:
        by = report.map_evidence(measures[label])
        by.update(report.site_evidence(sites[label]))
        ev.update(_keyed(by, label, None if label == "SchNet" else {c: b.id for c, b in report.BP_CLAIMS.items()}))
    claims = budget_rule.stage_verdicts(report.CLAIMS + tuple(report.BP_CLAIMS.values()), ev)
    return claims, {"maps_of": {k: m.checkpoint.name for k, m in models.items()}}


def fig6_claims(dirs: dict) -> tuple[list[dict], dict]:
    """Fig. 6's claims as the ESP chapter decides them (its six molecules, grid spacing of the cpu profile)."""
    from atomint_helpers.interpret import esp
    from atomint_helpers.notebook import check_molecules
    from atomint_helpers.report import esp as report
    from atomint_helpers.store import load_first

    d = dirs["dipole"]
    models = {"BP": load_first(d, "bp", "dipole", "cpu", FOLDS), "SchNet": load_first(d, "schnet", "dipole", "cpu", FOLDS)}
    mols = check_molecules(list(report.FIG6_MOLECULES), report.FIG6_MOLECULES)
    q = {label: {mol: esp.latent_charges(m, at) for mol, at in mols.items()} for label, m in models.items()}
    similarity = esp.pooled_similarity(q["BP"], q["SchNet"], mols, spacing=0.25)
    pairs = esp.pair_measures(q["BP"], q["SchNet"], mols, spacing=0.25)
    signs = esp.fold_signs(esp.fold_charges(d, "cpu", FOLDS, mols), mols)
    ev = _keyed(report.pair_evidence(pairs, similarity), "")
    ev.update({(c.id, label): tests for (c, label), tests in report.sign_evidence(signs).items()})
    return budget_rule.stage_verdicts(report.CLAIMS, ev), {"pairs_of": {k: m.checkpoint.name for k, m in models.items()}}


def fig7_claims(dirs: dict) -> tuple[list[dict], dict]:
    """Fig. 7's claims as the embeddings chapter decides them, on the crystal checkpoint of ``dirs``."""
    from atomint_helpers.interpret import embedding_study as es, embeddings as em
    from atomint_helpers.report import embeddings as report
    from atomint_helpers.report.registry import Measurement

    model, prov = em.load_checkpoint(dirs["crystals"], "cpu", 0)
    f = es.fig7(model, prov["seed"])
    ev = _keyed(report.evidence(f), "SchNet")
    ev[(report.EXPLAINED.id, "SchNet")] = {"value": Measurement(round(f.pca.explained_percent, 1))}
    return budget_rule.stage_verdicts(report.CLAIMS, ev), {"elements": [int(z) for z in f.Z]}


#: the chapters measured by one function of their checkpoint folders
MAPS = {"fig5": fig5_claims, "fig6": fig6_claims, "fig7": fig7_claims}


# ------------------------------------------------------------------------------------------ the runner
def stage_checkpoints(chosen: dict, i: int, d: Path, ds) -> tuple[dict, dict]:
    """``(checkpoints, mean test MAE per model)`` of stage ``i`` of one target (folder ``d``)."""
    ckpts, maes = {}, {}
    for m, by in chosen.items():
        ckpts[m] = {}
        for k, st in by.items():
            folder = d / st[i].run
            ckpts[m][str(k)] = {**S.describe(st[i], folder), **S.checkpoint_mae(folder, ds)}
            print(f"stage {i} {st[i].label}: test MAE {ckpts[m][str(k)]['mae']:.4f}", flush=True)
        maes[m] = float(np.mean([c["mae"] for c in ckpts[m].values()]))
    return ckpts, maes


def weights_of(stage: dict) -> set:
    """The weights' sha256 of every checkpoint of a stage, every target."""
    by_target = budget.checkpoints_by_target(stage, "own").values()
    return {c.get("weights_sha256") for ck in by_target for by in ck.values() for c in by.values()}


def errors_of(ckpts_by_target: dict) -> dict:
    """``{target: {model: {fold: {"mae", "rmse"}}}}`` from the checkpoints of each target."""
    return {t: {m: {int(k): {"mae": c["mae"], "rmse": c["rmse"]} for k, c in by.items()} for m, by in ck.items()}
            for t, ck in ckpts_by_target.items()}


def header(chapter: str, ds) -> dict:
    """The results file's fields besides its stages."""
    own, *others = TARGETS[chapter]
    return {"chapter": chapter, "target": own, "rule": S.__doc__.split("\n\n")[1].replace("\n", " "),
            "stage_epochs": S.STAGE_EPOCHS, "paper_mae": paper_mae(own),
            "target_paper_mae": {t: paper_mae(t) for t in others},
            "data": {"sha256": ds.sha256, "n_molecules": len(ds)} if ds is not None else {"crystals": "Materials Project"},
            "folds": list(CHAPTER_FOLDS.get(chapter, FOLDS)), "stages": []}


def run(chapter: str, out: Path, repo: Path, only=None) -> dict:
    """Every stage of ``chapter`` not yet in ``out`` (or those of ``only``), written after each stage."""
    from atomint_helpers.data.qm9 import load_qm9

    targets = TARGETS[chapter]
    chosen = {t: S.choose_crystals(repo) if t == "crystals" else S.choose(repo, t, folds=FOLDS) for t in targets}
    dirs = {t: S.stage_dirs(chosen[t], repo, f"{t}-cpu") for t in targets}
    ds = None if chapter == "fig7" else load_qm9()
    old = budget.read_results(out) or {}
    done = {s["stage"]: s for s in old.get("stages", [])}
    results = {**old, **header(chapter, ds), "stages": []}
    last = len(dirs[targets[0]]) - 1
    for i in range(last + 1):
        if i in done and (only is None or i not in only):
            results["stages"].append(done[i])
            continue
        t0 = time.time()
        ckpts, maes = {}, {}
        for t in targets:
            ckpts[t], maes[t] = stage_checkpoints(chosen[t], i, dirs[t][i], ds)
        claims, extra = measure(chapter, {t: dirs[t][i] for t in targets}, ds, errors_of(ckpts))
        own = targets[0]
        new = {"stage": i, "test_mae": maes[own], "checkpoints": ckpts[own], "claims": claims,
               "targets": {t: {"test_mae": maes[t], "checkpoints": ckpts[t]} for t in targets[1:]}, **extra}
        if i == last and i in done and weights_of(done[i]) != weights_of(new):
            # the final models were replaced (an extension adopted): the verdicts on the ones the book read
            # before stay in the results (budget.claim_budget reads them)
            results["superseded"] = [*old.get("superseded", []), {k: v for k, v in done[i].items() if k != "stage"}]
        results["stages"].append(new)
        results["stages"].sort(key=lambda s: s["stage"])
        results.pop("final_check", None)  # a recomputed stage is checked again
        budget.write_results(out, results)
        print(f"stage {i} done in {time.time() - t0:.0f} s: mean test MAE {maes}", flush=True)
    budget.write_results(out, results)
    return results


def today_errors(repo: Path, targets) -> dict:
    """Today's test errors as the chapters read them: each checkpoint's provenance (``metrics.test``)."""
    from atomint_helpers.store import provenance, run_name

    out = {}
    for t in targets:
        out[t] = {}
        for m in ("bp", "schnet") if t != "crystals" else ():
            out[t][m] = {}
            for k in FOLDS:
                test = provenance(repo / "models" / run_name(m, t, "cpu", k)).get("metrics", {}).get("test") or {}
                out[t][m][k] = {"mae": test.get("mae"), "rmse": test.get("rmse")}
    return out


def differences(last: list[dict], today: list[dict], rel: float = 1e-9) -> list[str]:
    """Where the claims of the last stage and today's differ: a verdict, or a test value beyond ``rel``."""
    key = {(c["id"], c["model"]): c for c in last}
    diffs = []
    for c in today:
        old = key.get((c["id"], c["model"]))
        if old is None or old["verdict"] != c["verdict"]:
            diffs.append(f"{c['id']} {c['model']}: verdict {old and old['verdict']} vs today {c['verdict']}")
            continue
        for name, t in c["tests"].items():
            a, b = old["tests"][name]["value"], t["value"]
            if not (a == b or (a is not None and b is not None and abs(a - b) <= rel * max(1.0, abs(b)))):
                diffs.append(f"{c['id']} {c['model']} {name}: {a} vs today {b}")
    return diffs


def check(chapter: str, out: Path, repo: Path = REPO) -> int:
    """The last stage must reproduce today's values: the chapter's claims decided on ``models/`` (the same
    weights) give the same values and verdicts as the last stage of the results file; writes
    ``final_check`` into it."""
    from atomint_helpers.data.qm9 import load_qm9

    results = budget.read_results(out)
    if not results or not results.get("stages"):
        raise AtomintError(f"{out} has no stages to check: run bench/stages/run.py --chapter {chapter} first")
    targets = TARGETS[chapter]
    ds = load_qm9() if chapter not in ("table1", "fig7") else None
    today, _ = measure(chapter, {t: repo / "models" for t in targets}, ds, today_errors(repo, targets))
    diffs = differences(results["stages"][-1]["claims"], today, CHECK_REL.get(chapter, 1e-9))
    results["final_check"] = {"claims_compared": len(today), "matches_today": not diffs, "differences": diffs}
    budget.write_results(out, results)
    print(f"last stage vs today's models/: {len(today)} claims, {len(diffs)} differences", *diffs, sep="\n")
    return 0 if not diffs else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chapter", required=True, choices=tuple(TARGETS))
    ap.add_argument("--out", help="the results file (default: bench/stages/<chapter>.json)")
    ap.add_argument("--only", type=int, nargs="*", help="stage indices to (re)compute (default: those not in the file)")
    ap.add_argument("--check", action="store_true", help="only compare the last stage with today's models/")
    ap.add_argument("--repo", default=str(REPO), help="the git repository whose history holds the runs")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else budget.results_path(args.chapter)
    if args.check:
        return check(args.chapter, out, Path(args.repo))
    run(args.chapter, out, Path(args.repo), args.only)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        sys.exit(2)
