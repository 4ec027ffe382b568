"""The ``atomint`` command as a whole: its version, help for every flag, one error prefix and an exit status
per kind of error, the JSON of ``explain`` and ``evaluate``, ``atomint models``, checkpoint names resolved
from any working directory, the download progress bar."""
import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase.units import Debye

from atomint_helpers import EXIT_INPUT, EXIT_MISSING, EXIT_USAGE, MissingError, __version__, store
from atomint_helpers.store.finder import MODELS_ENV, REPOSITORY_MODELS

from cli_run import cli, one_line_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: a SMILES of a QM9-like molecule with C, N, O and H: every term of the sum is different
SMILES = "CC(=O)NC"


# ------------------------------------------------------------------------------------------ the command line
def test_version_is_the_package_version():
    p = cli("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"atomint {__version__}", (p.stdout, p.stderr)


def test_every_flag_of_every_subcommand_has_help():
    from atomint_helpers.cli import build_parser

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(build_parser(), "atomint")
    assert not missing, missing


@pytest.mark.parametrize("argv, words", [
    (("nosuch",), ("invalid choice", "`atomint -h`")),
    (("explain", "--smiles", "C", "--spacing", "x"), ("explain: argument --spacing", "`atomint explain -h`")),
    (("data", "fetch", "--nosuch"), ("unrecognized arguments: --nosuch",)),
])
def test_usage_errors_exit_2_with_one_prefix(argv, words):
    p = cli(*argv)
    one_line_error(p, *words, code=EXIT_USAGE)
    assert p.stderr.count("atomint:") == 1, p.stderr


def test_bad_input_exits_3_and_a_missing_model_exits_4_naming_where_it_looked(tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\nwater\nO 0 0 0\nH 0.96 0 zero\n")
    one_line_error(cli("explain", bad, "--model", "schnet-energy-quick", cwd=tmp_path), "line", code=EXIT_INPUT)
    p = cli("explain", "--smiles", "C", "--model", "schnet-energy-nosuchprofile", cwd=tmp_path)
    one_line_error(p, "schnet-energy-nosuchprofile", str(tmp_path / "models"), str(REPOSITORY_MODELS),
                   "schnet-energy-quick", code=EXIT_MISSING)
    one_line_error(cli("data", "info", "--dir", tmp_path), "no qm9.npz", code=EXIT_MISSING)


# ------------------------------------------------------------------------------------------ --json
def test_explain_json_terms_sum_to_the_molecule(tmp_path):
    """Σ_i E_i is the atomization energy and Σ_i q_i (r_i − r_COM) the dipole vector, fold by fold, so also for
    the fold means the JSON reports; the fold spread is there for every atom and every molecular output."""
    out = tmp_path / "m.json"
    p = cli("explain", "--smiles", SMILES, "--model", "schnet-energy-quick", "--model", "bp-dipole-quick",
            "--json", out, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"wrote {out}" in p.stdout
    d = json.loads(out.read_text())
    (mol,) = d["molecules"]
    assert [m["label"] for m in d["models"]] == ["schnet-energy-quick", "bp-dipole-quick"]
    assert all(len(m["checkpoints"]) == 3 for m in d["models"])
    energy, dipole = mol["predictions"]
    assert energy["unit"] == "kcal/mol" and dipole["unit"] == "D" and energy["folds"] == 3
    terms = np.array([a["terms"]["schnet-energy-quick"]["atomic_energy_kcal_mol"] for a in mol["atoms"]])
    assert terms.sum() == pytest.approx(energy["energy"], rel=1e-6, abs=1e-4)
    assert energy["energy_std"] > 0 and all(a["terms"]["schnet-energy-quick"]["atomic_energy_kcal_mol_std"] >= 0
                                            for a in mol["atoms"])
    q = np.array([a["terms"]["bp-dipole-quick"]["charge_e"] for a in mol["atoms"]])
    r = np.array([a["position_A"] for a in mol["atoms"]])
    from ase import Atoms

    com = Atoms([a["element"] for a in mol["atoms"]], positions=r).get_center_of_mass()
    assert q.sum() == pytest.approx(0.0, abs=1e-5)  # neutral: μ does not depend on the origin
    np.testing.assert_allclose((q[:, None] * (r - com)).sum(0) / Debye, dipole["dipole_vector"], atol=1e-4)
    assert dipole["dipole_moment"] >= np.linalg.norm(dipole["dipole_vector"]) - 1e-6  # mean |μ| ≥ |mean μ|
    assert mol["n_atoms"] == len(mol["atoms"]) == 12 and mol["outside_qm9"] is False
    assert any("force-field" in w for w in mol["warnings"])  # a SMILES geometry is MMFF's, and it says so
    assert all(f["refuse"] is False for f in mol["applicability"])


def test_explain_json_to_stdout_is_only_json_and_keeps_applicability_findings(tmp_path):
    lone = tmp_path / "c.xyz"
    lone.write_text("1\nlone carbon\nC 0 0 0\n")
    p = cli("explain", lone, "--model", "schnet-energy-quick", "--allow-outside", "--json", "-", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)  # nothing but the JSON on stdout
    (mol,) = d["molecules"]
    assert mol["outside_qm9"] is True and mol["formula"] == "C"
    assert [f["atoms"] for f in mol["applicability"] if f["refuse"]] == [[0]]
    assert any("lone C atom" in w for w in mol["warnings"])


def test_evaluate_json_reproduces_the_recorded_test_errors(tmp_path):
    """The quick checkpoints (QM9 from the embedded sample, crystals from the embedded MP sample) scored
    again give the test MAE and RMSE recorded when their training finished, on the same test split."""
    out = tmp_path / "e.json"
    p = cli("evaluate", "bp-energy-quick-fold0", "schnet-dipole-quick-fold1", "schnet-mp-quick-fold0", "--json", out,
            cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = json.loads(out.read_text())["checkpoints"]
    assert [r["checkpoint"] for r in rows] == ["bp-energy-quick-fold0", "schnet-dipole-quick-fold1",
                                               "schnet-mp-quick-fold0"]
    assert [r["unit"] for r in rows] == ["kcal/mol", "D", "eV/atom"]
    assert [r["target"] for r in rows] == ["energy", "dipole", "crystals"]
    for r in rows:
        rec = store.provenance(REPOSITORY_MODELS / r["checkpoint"])["metrics"]["test"]
        assert r["n_test"] == rec["n"] and r["sample_only"] is False and r["fold"] in (0, 1)
        assert r["mae"] == pytest.approx(rec["mae"], rel=1e-6) and r["rmse"] == pytest.approx(rec["rmse"], rel=1e-6)
        assert r["recorded_mae"] == rec["mae"]


# ------------------------------------------------------------------------------------------ finding models
def test_models_are_found_from_any_working_directory(tmp_path, monkeypatch):
    from atomint_helpers.calculator import AtomintCalculator

    monkeypatch.delenv(MODELS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # no models/ here: the repository's committed checkpoints are found
    calc = AtomintCalculator(models="schnet-energy-cpu")
    assert calc.folders == [REPOSITORY_MODELS / f"schnet-energy-cpu-fold{k}" for k in range(3)]
    with pytest.raises(MissingError) as e:
        store.resolve_folders("schnet-energy-nosuchprofile")
    assert str(tmp_path / "models") in str(e.value) and str(REPOSITORY_MODELS) in str(e.value)


def test_atomint_models_lists_the_search_path_first_match_first(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copytree(REPOSITORY_MODELS / "bp-energy-quick-fold0", mine / "bp-energy-quick-fold0")
    import os
    import subprocess
    import sys

    env = {**os.environ, MODELS_ENV: str(mine)}
    p = subprocess.run([sys.executable, "-m", "atomint_helpers.cli", "models", "--json", "-"], capture_output=True,
                       text=True, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["searched"] == [str(mine), str(tmp_path / "models"), str(REPOSITORY_MODELS)]
    by_name = {r["name"]: r for r in d["checkpoints"]}
    assert len(by_name) == len(d["checkpoints"])  # each name once: the first folder on the path wins
    assert by_name["bp-energy-quick-fold0"]["folder"] == str(mine / "bp-energy-quick-fold0")
    cpu = by_name["schnet-mp-cpu-fold0"]
    assert (cpu["model"], cpu["target"], cpu["profile"], cpu["fold"], cpu["unit"]) == ("schnet", "crystals", "cpu",
                                                                                      0, "eV/atom")
    assert cpu["test_mae"] == store.provenance(REPOSITORY_MODELS / "schnet-mp-cpu-fold0")["metrics"]["test"]["mae"]
    table = cli("models", cwd=tmp_path)
    assert table.returncode == 0 and "schnet-energy-cpu-fold0" in table.stdout and "kcal/mol" in table.stdout
    one_line_error(cli("models", "--models-dir", tmp_path / "empty", cwd=tmp_path), "no checkpoints", "looked in",
                   code=EXIT_MISSING)


def test_atomint_models_adopt_refuses_in_one_line_when_nothing_was_extended(tmp_path):
    """``--adopt`` with no extended run, or an unknown extension: one line, nothing moved (the adoption itself
    is tested in test_training_stage2)."""
    shutil.copytree(REPOSITORY_MODELS / "bp-energy-quick-fold0", tmp_path / "bp-energy-quick-fold0")
    one_line_error(cli("models", "--adopt", "cycle2", "--models-dir", tmp_path, cwd=tmp_path),
                   "no run extended with 'cycle2'", "--extend cycle2", code=EXIT_MISSING)
    assert (tmp_path / "bp-energy-quick-fold0" / store.WEIGHTS).is_file()
    one_line_error(cli("models", "--adopt", "cycle9", "--models-dir", tmp_path, cwd=tmp_path), "cycle9",
                   code=EXIT_USAGE)


# ------------------------------------------------------------------------------------------ data fetch
def test_download_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, capsys):
    from atomint_helpers.data import fetch

    src = tmp_path / "blob.bin"
    src.write_bytes(b"x" * 300_000)
    fetch.download(src.as_uri(), tmp_path / "a" / "blob.bin", chunk=50_000, progress=True)
    shown = capsys.readouterr()
    assert "blob.bin" in shown.err and "293k" in shown.err.lower() and not shown.out  # 300,000 B = 293 KiB
    fetch.download(src.as_uri(), tmp_path / "b" / "blob.bin", chunk=50_000)  # stderr is no terminal here
    assert capsys.readouterr().err == ""
    assert (tmp_path / "b" / "blob.bin").read_bytes() == src.read_bytes()


def test_data_fetch_quiet_turns_the_bar_off(monkeypatch):
    from atomint_helpers.cli import main
    from atomint_helpers.data import fetch

    seen = []
    monkeypatch.setattr(fetch, "fetch_qm9", lambda url, d, sha, progress=None: seen.append(progress) or "qm9.npz")
    assert main(["data", "fetch", "--quiet"]) == 0 and main(["data", "fetch"]) == 0
    assert seen == [False, None]  # None: shown when stderr is a terminal


def test_a_missing_optional_package_is_one_line_naming_the_install(monkeypatch):
    import sys

    from atomint_helpers import MissingError
    from atomint_helpers.data.readers import read_sdf
    from atomint_helpers.data.smiles import smiles_to_atoms
    from atomint_helpers.models import build

    monkeypatch.setitem(sys.modules, "rdkit", None)
    with pytest.raises(MissingError, match=r"^rdkit is needed to turn SMILES into 3D molecules but is not "
                                           r"installed: pip install rdkit$"):
        smiles_to_atoms("CCO")
    with pytest.raises(MissingError, match="rdkit is needed to read SDF"):
        read_sdf("any.sdf")
    monkeypatch.setitem(sys.modules, "schnetpack", None)
    with pytest.raises(MissingError, match=r"schnetpack is needed to build or load a SchNet model .*--no-deps "
                                           r"schnetpack==2\.1\.1"):
        build({"model": "schnet", "target": "energy", "elements": [1, 6],
               "representation": {"n_atom_basis": 8, "n_interactions": 1, "n_rbf": 4, "cutoff": 5.0}})
    assert MissingError("x").code == 4
