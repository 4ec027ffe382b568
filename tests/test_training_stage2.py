"""The cpu profile's second stage (cosine schedule + weight average), the restart screening of dipole runs,
the per-epoch Mulliken sign log, and resuming a finished run with more epochs."""

import numpy as np
import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.data.bonds import mulliken_sign_groups
from atomint_helpers.training import (RunSpec, WeightAverage, adopt_candidate, cosine_lr, read_log, read_screening,
                                      read_signs, screen_restarts, train, write_signs)

EXT = {"schnet": {"from_epoch": 2, "lr": 1e-3, "ema_decay": 0.9}}


def test_cosine_lr_runs_from_the_stage_lr_to_min_lr():
    ext = {"from_epoch": 100, "lr": 2e-4}
    assert cosine_lr(ext, 100, 300, 1e-6) == pytest.approx(2e-4)
    assert cosine_lr(ext, 200, 300, 1e-6) == pytest.approx(1e-6 + 0.5 * (2e-4 - 1e-6))
    assert cosine_lr(ext, 300, 300, 1e-6) == pytest.approx(1e-6)
    lrs = [cosine_lr(ext, e, 300, 1e-6) for e in range(100, 301)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))  # never rises


def test_weight_average_is_the_exponential_moving_average():
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    w0 = [p.detach().clone() for p in lin.parameters()]
    ema = WeightAverage(lin, decay=0.75)
    with torch.no_grad():
        for p in lin.parameters():
            p.add_(1.0)
    ema.update()  # shadow = 0.75 w0 + 0.25 (w0 + 1) = w0 + 0.25
    for s, w in zip(ema.shadow, w0):
        assert torch.allclose(s, w + 0.25)
    with ema.applied():
        for p, w in zip(lin.parameters(), w0):
            assert torch.allclose(p, w + 0.25)
    for p, w in zip(lin.parameters(), w0):  # the trained weights come back
        assert torch.allclose(p, w + 1.0)
    with pytest.raises(AtomintError, match="does not fit"):
        WeightAverage(torch.nn.Linear(4, 2), 0.9, ema.shadow)


def test_stage2_resumed_equals_uninterrupted_and_keeps_the_average(tmp_path):
    """Epochs 1–2 as stage 1, 3–4 in stage 2; killing after epoch 3 and resuming gives the same weights,
    the learning rate follows the cosine, and the saved best weights are the weight average."""
    kw = dict(fold=0, profile="quick", progress=False, threads=1, overrides={"extend": EXT})
    a = train("schnet", "energy", models_dir=tmp_path / "a", max_epochs=4, **kw)
    train("schnet", "energy", models_dir=tmp_path / "b", max_epochs=3, **kw)
    b = train("schnet", "energy", models_dir=tmp_path / "b", max_epochs=4, **kw)
    wa = torch.load(a / store.WEIGHTS, weights_only=True)
    wb = torch.load(b / store.WEIGHTS, weights_only=True)
    for k in wa:  # one code path run twice: identical
        assert torch.equal(wa[k], wb[k]), k
    log = read_log(a)
    assert [r["lr"] for r in log[2:]] == pytest.approx([cosine_lr(EXT["schnet"], e, 4, 1e-6) for e in (2, 3)])
    st = store.safe_torch_load(a / store.STATE)
    assert "ema" in st
    best = store.provenance(a)["best_epoch"]
    if best == 4:  # the saved weights are the average, not the raw weights of the last step
        trained = [v for k, v in st["model"].items() if k in dict(store.load_model(a).named_parameters())]
        assert any(not torch.equal(s, t) for s, t in zip(st["ema"], trained))


def test_finished_run_trains_the_extra_epochs_when_resumed_with_more(tmp_path):
    f = train("bp", "energy", 0, "quick", tmp_path, max_epochs=2, progress=False)
    assert len(read_log(f)) == 2
    train("bp", "energy", 0, "quick", tmp_path, max_epochs=3, progress=False)
    assert [r["epoch"] for r in read_log(f)] == [1, 2, 3]
    assert store.provenance(f)["epochs"] == 3


def test_mulliken_sign_groups_find_a_flipped_group():
    rng = np.random.default_rng(0)
    Z = np.array([7] * 40 + [7] * 40 + [6] * 50 + [1] * 5)
    nb = np.array([1] * 40 + [3] * 40 + [4] * 50 + [1] * 5)
    mull = rng.uniform(0.15, 0.5, len(Z)) * np.where(Z == 7, -1, 1)
    q = mull.copy()
    assert all(g[3] == 1.0 for g in mulliken_sign_groups(q, mull, Z, nb))
    q[:40] *= -1  # only the terminal N on the mirror solution
    groups = mulliken_sign_groups(q, mull, Z, nb)
    assert groups[0][:3] == (7, 1, 40) and groups[0][3] == 0.0
    assert all(g[3] == 1.0 for g in groups[1:])
    assert (1, 1) not in {g[:2] for g in groups}  # fewer than min_atoms H: left out


def test_restart_screening_chooses_the_lowest_validation_and_records_every_candidate(tmp_path):
    ov = {"restarts": {"schnet": {"dipole": {"candidates": 2, "epochs": 1}}}}
    f = train("schnet", "dipole", 1, "quick", tmp_path, max_epochs=2, progress=False, threads=1, overrides=ov)
    rec = store.read_json(f / "restarts.json")
    assert [c["seed"] for c in rec["candidates"]] == [1, 1001]
    best = min(rec["candidates"], key=lambda c: c["best_val_mae"])
    assert rec["chosen"] == best["seed"] and store.provenance(f)["seed"] == best["seed"]
    assert store.provenance(f)["restarts"]["chosen"] == rec["chosen"]
    # the run continues the chosen candidate: its first epoch is the candidate's
    assert read_log(f)[0]["val_mae"] == pytest.approx(best["val_mae"][0])
    assert {r["epoch"] for r in read_signs(f)} == {1, 2}
    # a screening already recorded is not run again
    assert screen_restarts(RunSpec.build("schnet", "dipole", 1, "quick", tmp_path, overrides=ov)) == rec
    # its record, read back for the book, carries each candidate's Mulliken signs at the screening's last epoch
    read = read_screening(f)
    assert [c["seed"] for c in read["candidates"]] == [1, 1001]
    for c in read["candidates"]:
        logged = {(r["element"], r["neighbours"]): r["agree"] for r in read_signs(tmp_path / c["folder"])
                  if r["epoch"] == 1}
        assert logged and c["signs"] == logged


def test_a_run_of_another_seed_is_not_silently_continued(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / store.STATE).write_bytes(b"x")
    store.atomic_write_json(folder / store.PROVENANCE, {"seed": 2})
    with pytest.raises(AtomintError, match="chose seed 1002"):
        adopt_candidate(folder, {"chosen": 1002})


def _screened_run(root, name, seed, record, signs_by_seed):
    """A run folder holding ``seed``'s run, its screening ``record`` and candidate folders with sign logs."""
    folder = root / name
    for c in record["candidates"]:
        where = root / c["folder"]
        where.mkdir(parents=True, exist_ok=True)
        if where != folder:
            store.atomic_write_json(where / store.PROVENANCE, {"seed": c["seed"]})
            write_signs(where, signs_by_seed.get(c["seed"], []))
    store.atomic_write_json(folder / store.PROVENANCE, {"seed": seed})
    write_signs(folder, signs_by_seed.get(seed, []))
    store.atomic_write_json(folder / "restarts.json", record)
    return folder


def _signs(epoch, agree):
    return [{"epoch": e, "element": el, "neighbours": nb, "atoms": 10, "agree": a if e == epoch else 1.0}
            for e in (1, epoch) for (el, nb), a in agree.items()]


def test_screening_record_signs_and_what_we_see(tmp_path):
    from atomint_helpers.report import training as report

    name = "schnet-dipole-cpu-fold2"
    cands = [{"seed": 2, "folder": name, "val_mae": [0.53, 0.40, 0.33], "best_val_mae": 0.33},
             {"seed": 1002, "folder": f"{name}/restarts/seed1002", "val_mae": [0.29, 0.25, 0.23], "best_val_mae": 0.23},
             {"seed": 2002, "folder": f"{name}/restarts/seed2002", "val_mae": [0.29, 0.25, 0.20], "best_val_mae": 0.20}]
    record = {"candidates": cands, "chosen": 2002, "epochs": 3, "rule": "lowest"}
    # the run folder now holds the chosen seed's run (it replaced seed 2's): seed 2 shows no signs, not 2002's
    folder = _screened_run(tmp_path, name, 2002, record,
                           {1002: _signs(3, {("C", 2): 0.71, ("N", 1): 1.0}),
                            2002: _signs(3, {("C", 2): 0.82, ("N", 1): 0.90})})
    read = read_screening(folder)
    signs = {c["seed"]: c["signs"] for c in read["candidates"]}
    assert signs == {2: None, 1002: {("C", 2): 0.71, ("N", 1): 1.0}, 2002: {("C", 2): 0.82, ("N", 1): 0.90}}
    assert read_screening(tmp_path / "no-such-run") is None

    kept = {"candidates": [{"seed": 1, "folder": "schnet-dipole-cpu-fold1", "val_mae": [0.3, 0.18],
                            "best_val_mae": 0.18},
                           {"seed": 1001, "folder": "schnet-dipole-cpu-fold1/restarts/seed1001",
                            "val_mae": [0.3, 0.22], "best_val_mae": 0.22}], "chosen": 1, "epochs": 2, "rule": "lowest"}
    records = {name: read, "schnet-dipole-cpu-fold1": kept}
    table = report.restart_table(records, {"dipole": "D"}.get)
    assert list(table.index) == [("schnet-dipole-cpu-fold1", 1), ("schnet-dipole-cpu-fold1", 1001),
                                 (name, 2), (name, 1002), (name, 2002)]
    assert table["chosen"].tolist() == ["✓", "", "", "", "✓"]
    low = table["lowest Mulliken-sign group, epoch 3"]
    assert low[(name, 2)] == "—" and low[(name, 1002)] == "C with 2 neighbours: 71%"
    assert low[(name, 2002)] == "C with 2 neighbours: 82%"
    assert not table.astype(str).isin(["None", "nan", "NaN"]).any().any()
    text = report.restart_what_we_see(records, {"dipole": "D"}.get)
    assert "5 candidates over 2 runs" in text
    assert f"{name} starts from seed 2002: 0.2 D within 3 epochs, against 0.33 D for its own seed 2 (1.65 times" in text
    assert "schnet-dipole-cpu-fold1 kept its own seed 1: 0.18 D within 2 epochs, against 0.22 D for the next best " \
           "(seed 1001)" in text
    assert "No run of this build screened restarts" in report.restart_what_we_see({})


def test_cosine_cycles_keep_the_first_cycle_and_restart_at_each_start():
    one = {"from_epoch": 100, "lr": 2e-4}
    two = {**one, "cycles": [[300, 1e-4]]}
    # epochs before the restart follow the schedule they were trained with (max_epochs 300 then)
    for e in (100, 150, 299):
        assert cosine_lr(two, e, 400, 1e-6) == pytest.approx(cosine_lr(one, e, 300, 1e-6))
    assert cosine_lr(two, 300, 400, 1e-6) == pytest.approx(1e-4)
    assert cosine_lr(two, 350, 400, 1e-6) == pytest.approx(1e-6 + 0.5 * (1e-4 - 1e-6))
    assert cosine_lr(two, 400, 400, 1e-6) == pytest.approx(1e-6)
    with pytest.raises(AtomintError, match="increasing epochs"):
        cosine_lr({**one, "cycles": [[50, 1e-4]]}, 60, 400, 1e-6)


def test_an_extension_continues_a_finished_run_in_next_and_leaves_it_untouched(tmp_path):
    """A finished 4-epoch run with a stage 2 is extended by 2 epochs of a second cycle: the copy in next/
    resumes from epoch 4, follows the restart's cosine, records the recipe, and the source is unchanged;
    planning again after a kill continues the same extension instead of adding another cycle."""
    from atomint_helpers.training import extension

    kw = dict(fold=0, profile="quick", progress=False, threads=1)
    src = train("schnet", "energy", models_dir=tmp_path, max_epochs=4, overrides={"extend": EXT}, **kw)
    before = store.sha256_file(src / store.WEIGHTS)
    ext = extension.Extension("t", "schnet", "quick", epochs=2, lr=5e-4, why="test")
    with pytest.raises(AtomintError, match="is for schnet runs"):
        extension.plan(train("bp", "energy", models_dir=tmp_path, max_epochs=1, **kw), ext)
    plan = extension.plan(src, ext)
    assert plan.folder == tmp_path / "next" / src.name and plan.max_epochs == 6
    train("schnet", "energy", models_dir=plan.folder.parent, name=plan.folder.name, max_epochs=5,
          overrides=plan.overrides, **kw)  # killed after epoch 5
    again = extension.plan(src, ext)
    assert again.overrides == plan.overrides and again.max_epochs == 6
    out = train("schnet", "energy", models_dir=again.folder.parent, name=again.folder.name,
                max_epochs=again.max_epochs, overrides=again.overrides, **kw)
    log = read_log(out)
    assert [r["epoch"] for r in log] == [1, 2, 3, 4, 5, 6]
    stage2 = {**EXT["schnet"], "cycles": [[4, 5e-4]]}
    assert [r["lr"] for r in log[4:]] == pytest.approx([cosine_lr(stage2, e, 6, 1e-6) for e in (4, 5)])
    prov = store.provenance(out)
    assert prov["profile_settings"]["extension"] == "t" and prov["epochs"] == 6
    assert store.sha256_file(src / store.WEIGHTS) == before
    store.load_model(out)  # weights and config verified against provenance


def test_adopting_an_extension_moves_all_finished_folds_or_none(tmp_path):
    """Two folds extended by one epoch: adoption is refused while one is not extended or unfinished (nothing
    moves), then moves both over their committed folders (the index lists the extended epochs, the old
    weights are gone), and a kill between a folder's two renames is completed by the next call."""
    from atomint_helpers.training import extension

    kw = dict(profile="quick", progress=False, threads=1)
    ext = extension.Extension("t", "schnet", "quick", epochs=1, lr=5e-4, why="test")
    srcs = [train("schnet", "energy", fold=k, models_dir=tmp_path, max_epochs=3, overrides={"extend": EXT}, **kw)
            for k in (0, 1)]
    old = [store.sha256_file(s / store.WEIGHTS) for s in srcs]
    with pytest.raises(AtomintError, match="no run extended"):
        extension.adopt(tmp_path, ext)
    plans = [extension.plan(srcs[0], ext)]
    done = train("schnet", "energy", fold=0, models_dir=plans[0].folder.parent, name=plans[0].folder.name,
                 max_epochs=plans[0].max_epochs, overrides=plans[0].overrides, **kw)
    with pytest.raises(AtomintError, match=f"{srcs[1].name} has not been extended with 't'"):
        extension.adopt(tmp_path, ext)
    plans.append(extension.plan(srcs[1], ext))
    with pytest.raises(AtomintError, match=f"{srcs[1].name} has not finished extension 't'"):
        extension.adopt(tmp_path, ext)
    assert store.sha256_file(srcs[0] / store.WEIGHTS) == old[0] and done.is_dir()
    train("schnet", "energy", fold=1, models_dir=plans[1].folder.parent, name=plans[1].folder.name,
          max_epochs=plans[1].max_epochs, overrides=plans[1].overrides, **kw)
    new = [store.sha256_file(p.folder / store.WEIGHTS) for p in plans]
    old_test = [store.provenance(s)["metrics"]["test"]["mae"] for s in srcs]
    # a kill after fold 0's committed folder was recorded and set aside, before its successor moved in
    extension._record_source(plans[0].folder, srcs[0])
    srcs[0].rename(tmp_path / extension.REPLACED.format(srcs[0].name))
    adopted = extension.adopt(tmp_path, ext)
    assert adopted == srcs and not (tmp_path / extension.NEXT).exists()  # emptied, its index with it
    assert not list(tmp_path.glob(".*.replaced"))
    for s, before, after, test in zip(srcs, old, new, old_test):
        prov = store.provenance(s)
        assert prov["epochs"] == 4 and prov["profile_settings"]["extension"] == "t"
        source = prov[store.EXTENDED_FROM]  # what the adopted run replaced
        assert source["epochs"] == 3 and source["weights_sha256"] == before
        assert source["metrics"]["test"]["mae"] == test != prov["metrics"]["test"]["mae"]
        assert store.sha256_file(s / store.WEIGHTS) == after != before
        store.load_model(s)
    index = (tmp_path / "INDEX.md").read_text()
    assert all(f"`{s.name}` | schnet | energy | quick | {k} | 1,000 | 4 |" in index for k, s in enumerate(srcs))
