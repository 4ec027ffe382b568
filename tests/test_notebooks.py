"""The book's notebooks: structure, nbval against the committed quick outputs, and bad parameters.

nbval wiring: ``make test`` runs ``pytest -q tests`` (an explicit path, so ``testpaths`` cannot add
``notebooks/``). :func:`test_nbval` therefore runs ``pytest --nbval-lax notebooks`` in a subprocess:
every notebook is executed as committed — the committed notebooks are papermill's output for
``-p profile quick`` (``python -m atomint_helpers.book freeze``), so their injected-parameters cell selects
the embedded samples — and the outputs of cells marked ``# NBVAL_CHECK_OUTPUT`` must match.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atomint_helpers import AtomintError
from atomint_helpers.book import read_toc
from atomint_helpers.notebook import PROFILES, check_params

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [e.path for e in read_toc(ROOT) if e.is_notebook]
PARAMETERS = ("profile", "data_dir", "models_dir", "folds", "out_dir")


def _env(**extra) -> dict:
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", **extra)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


# ------------------------------------------------------------------------------------------ structure
def test_toc_lists_notebooks():
    assert NOTEBOOKS, "_toc.yml lists no notebook"
    assert all(p.parent.name == "notebooks" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_structure(path):
    nb = _load(path)
    cells = nb["cells"]
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    params = [i for i, t in enumerate(tags) if "parameters" in t]
    assert len(params) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    src = _src(cells[params[0]])
    for name in PARAMETERS:
        assert f"{name} =" in src, f"{path.name}: parameters cell lacks {name}"
    assert 'profile = "cpu"' in src, f"{path.name}: the parameters cell's default profile must be cpu"
    # committed state = papermill -p profile quick: an injected cell right after the parameters
    injected = params[0] + 1
    assert "injected-parameters" in tags[injected], (
        f"{path.name}: not frozen; run `python -m atomint_helpers.book freeze {path.name}`")
    assert 'profile = "quick"' in _src(cells[injected])
    first = next(c for c in cells[injected + 1:] if c["cell_type"] == "code")
    assert "check_params(" in _src(first), f"{path.name}: the first cell after the parameters must call check_params"
    # committed with outputs, no errors, small
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs, f"{path.name}: committed without outputs"
    assert not [o for o in outputs if o.get("output_type") == "error"], f"{path.name}: committed with an error"
    assert any("NBVAL_CHECK_OUTPUT" in _src(c) for c in cells), f"{path.name}: mark the count/table cells"
    assert path.stat().st_size < 1_000_000, f"{path.name}: over 1 MB"
    assert "application/vnd.plotly.v1+json" not in path.read_text(encoding="utf-8") or path.stat().st_size < 500_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_have_alt_text(path):
    """Every figure a notebook draws is described for readers who cannot see it (myst-nb cell metadata
    ``"mystnb": {"image": {"alt": ...}}``, or a figure caption); the browser test checks the page too."""
    missing = []
    for i, c in enumerate(_load(path)["cells"]):
        if c["cell_type"] != "code" or not any("image/png" in o.get("data", {}) for o in c.get("outputs", [])):
            continue
        meta = c.get("metadata", {}).get("mystnb", {})
        if not (meta.get("image", {}).get("alt") or meta.get("figure", {}).get("caption")):
            missing.append(f"cell {i}: {_src(c).strip().splitlines()[-1][:80]}")
    assert not missing, f"{path.name}: figures without an alt text: {missing}"


def _pngs(path):
    """``(cell index, PIL image, width the page shows it at in CSS px)`` of every PNG a notebook shows: the
    output's ``width`` metadata, else the image's own width."""
    import base64
    import io

    from PIL import Image

    for i, c in enumerate(_load(path)["cells"]):
        for o in c.get("outputs", []) if c["cell_type"] == "code" else []:
            png = o.get("data", {}).get("image/png")
            if png:
                im = Image.open(io.BytesIO(base64.b64decode(png)))
                yield i, im, float(o.get("metadata", {}).get("image/png", {}).get("width", im.width))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_are_sharp(path):
    """The figure standard's >= 150 dpi: every figure has at least 1.5 image pixels per CSS pixel at the
    size the page shows it, and a matplotlib figure (its PNG records its dpi) is rendered at >= 150 dpi."""
    blurred = [f"cell {i}: {im.width} px shown at {shown:.0f} px, {im.info.get('dpi', ('no',))[0]} dpi"
               for i, im, shown in _pngs(path)
               if im.width / shown < 1.5 or im.info.get("dpi", (150,))[0] < 150]
    assert not blurred, f"{path.name}: figures below 150 dpi as shown: {blurred}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_fit_the_column(path):
    """No figure is wider than the book's text column at a 1,280-px window (``plots.style.COLUMN_PX``):
    a wider one is scaled down by the page, and its 9-pt text with it."""
    from atomint_helpers.plots.style import COLUMN_PX

    wide = [f"cell {i}: shown {shown:.0f} px wide" for i, _, shown in _pngs(path) if shown > COLUMN_PX]
    assert not wide, f"{path.name}: figures wider than the {COLUMN_PX}-px column: {wide}"


# ------------------------------------------------------------------------------------------ the page
def test_prepare_for_render_hides_plumbing():
    """What the book shows of a notebook: setup hidden, nbval markers and build paths gone, the rest as is."""
    from atomint_helpers.book import path_replacements, prepare_for_render

    nb = _load(ROOT / "notebooks" / "data.ipynb")
    before = json.loads(json.dumps(nb))
    assert any("NBVAL_CHECK_OUTPUT" in _src(c) for c in before["cells"])
    first_md = next(i for i, c in enumerate(nb["cells"]) if i and c["cell_type"] == "markdown")  # after the setup
    out = prepare_for_render(nb, path_replacements(ROOT))
    cells = out["cells"]
    assert len(cells) == len(before["cells"])
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    params = next(i for i, t in enumerate(tags) if "parameters" in t)
    assert "remove-cell" in tags[params] and "remove-cell" in tags[params + 1]  # defaults, injected
    check = next(i for i, c in enumerate(cells) if "check_params(" in _src(c))
    assert "remove-cell" in tags[check]
    setup = range(check + 1, first_md)  # imports and loading: code folded away, printed output kept
    assert setup and all("hide-input" in tags[i] for i in setup)
    assert not any("NBVAL" in _src(c) for c in cells)
    # code otherwise unchanged, outputs kept, the first markdown cell and later code not hidden
    for a, b in zip(before["cells"], cells):
        assert _src(b) == "".join(ln for ln in _src(a).splitlines(keepends=True) if "NBVAL_" not in ln)
        assert len(a.get("outputs", [])) == len(b.get("outputs", []))
    assert first_md > 0 and not tags[first_md]
    # paths of the building machine leave the outputs; a tag set by hand is kept
    cell = {"cell_type": "code", "metadata": {"tags": ["remove-output"]}, "source": "x",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"from {ROOT}/atomint_helpers/a.npz\n"]},
                        {"output_type": "display_data", "data": {"text/markdown": "**What we see.** x"}}]}
    page = prepare_for_render({"cells": [cell]}, path_replacements(ROOT))["cells"][0]
    assert page["metadata"]["tags"] == ["remove-output"]
    assert page["outputs"][0]["text"] == "from atomint_helpers/a.npz\n"
    # and the sources: papermill's injected out_dir (a scratch folder of the build) reaches the download
    injected = {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "outputs": [],
                "source": f'out_dir = "{ROOT}/_build/results/cpu/.staging/data"\n'}
    page = prepare_for_render({"cells": [injected]}, path_replacements(ROOT))["cells"][0]
    assert str(ROOT) not in page["source"] and page["source"] == 'out_dir = "_build/results/cpu/.staging/data"\n'
    # and papermill's record in the notebook's metadata
    nb = {"cells": [], "metadata": {"papermill": {"input_path": f"{ROOT}/notebooks/data.ipynb",
                                                  "parameters": {"out_dir": f"{ROOT}/_build/results/cpu"}}}}
    meta = prepare_for_render(nb, path_replacements(ROOT))["metadata"]["papermill"]
    assert meta == {"input_path": "notebooks/data.ipynb", "parameters": {"out_dir": "_build/results/cpu"}}


# ------------------------------------------------------------------------------------------ nbval
@pytest.mark.parametrize("ref, test, agree", [
    ("SchNet 0.0708 differs", "SchNet 0.0708 differs", True),
    ("SchNet 0.0708 differs", "SchNet 0.0707 differs", True),      # one unit in the last place
    ("fold 2: 8.03e-04 holds", "fold 2: 8.02e-04 holds", True),    # 1e-6 in scientific notation
    ("0.999 holds", "1.00 holds", True),                           # a rounding across the decade
    ("−0.41 eV", "−0.42 eV", True),
    ("SchNet 0.0708 differs", "SchNet 0.0706 differs", False),     # two units
    ("fold 2: 8.03e-04 holds", "fold 2: 8.03e-05 holds", False),   # another exponent
    ("0.0708 differs", "0.0707 holds", False),                     # the verdict word moved
    ("14 rings", "15 rings", False),                               # integers are counts: exact
    ("1.5 kcal/mol", "1.5 kcal/mol, 2", False),                    # another number of numbers
    ('<td style="background:#e0e0e0">0.5</td>', '<td style="background:#e0e0e1">0.5</td>', False),
], ids=lambda v: v if isinstance(v, bool) else None)
def test_nbval_numbers_tolerates_only_the_last_printed_digit(ref, test, agree):
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from nbval_numbers import numbers_agree, reconcile_outputs
    finally:
        sys.path.remove(str(ROOT / "tests"))
    assert numbers_agree(ref, test) is agree
    out = reconcile_outputs([{"output_type": "execute_result", "data": {"text/html": test, "text/plain": [test]}}],
                            [{"output_type": "execute_result", "data": {"text/html": ref, "text/plain": [ref]}}])
    assert (out[0]["data"]["text/html"] == ref) is agree and (out[0]["data"]["text/plain"] == [ref]) is agree


def test_nbval():
    """Every notebook re-executed as committed (profile quick); checked cells must match."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "nbval_numbers", "--nbval-lax",
           "--nbval-cell-timeout", "300", *[str(p.relative_to(ROOT)) for p in NOTEBOOKS]]
    path = os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(PYTHONPATH=path), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=900)
    assert proc.returncode == 0, f"nbval failed ({' '.join(cmd)}):\n{proc.stdout[-6000:]}"


# ------------------------------------------------------------------------------------------ bad parameters
def _papermill_error(tmp_path: Path, *params: str) -> tuple[dict, str]:
    """Run the data notebook with papermill's CLI; return the error output of the failed cell and stderr."""
    out = tmp_path / "out.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "data.ipynb"), str(out),
           "--no-progress-bar", "-p", "out_dir", str(tmp_path / "results"), *params]
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=300)
    assert proc.returncode != 0, f"papermill {' '.join(params)} should fail:\n{proc.stdout[-3000:]}"
    errors = [o for c in _load(out)["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1, errors
    return errors[0], proc.stdout


@pytest.mark.parametrize("params, name, words", [
    (("-p", "profile", "bogus"), "profile", ["'bogus'", "quick", "cpu", "paper"]),
    (("-p", "data_dir", "/nonexistent/atomint-data"), "data_dir", ["/nonexistent/atomint-data", "does not exist"]),
], ids=["profile", "data_dir"])
def test_bad_parameter_papermill(tmp_path, params, name, words):
    err, log = _papermill_error(tmp_path, *params)
    assert err["ename"] == "AtomintError"
    msg = err["evalue"]
    assert "\n" not in msg, f"not one line: {msg!r}"
    assert msg.startswith(f"bad parameter {name}="), msg
    for w in words:
        assert w in msg, (w, msg)
    assert f"AtomintError: {msg}" in log  # what the user sees in the terminal


def test_check_params_messages(tmp_path):
    """The validation itself, without a kernel: one line, naming the parameter and what it accepts."""
    cases = [
        (dict(profile="bogus"), "profile", "'quick'"),
        (dict(profile=None), "profile", "'paper'"),
        (dict(data_dir=str(tmp_path / "missing")), "data_dir", "does not exist"),
        (dict(data_dir=str(tmp_path)), "data_dir", "holds no QM9"),
        (dict(models_dir=str(tmp_path / "no-models")), "models_dir", "does not exist"),
        (dict(folds=[]), "folds", "non-empty list"),
        (dict(folds=[0, 0]), "folds", "distinct"),
        (dict(folds=[-1]), "folds", "non-negative"),
        (dict(folds=3), "folds", "list"),
        (dict(out_dir=""), "out_dir", "folder path"),
    ]
    base = dict(profile="quick", data_dir=None, models_dir=str(tmp_path), folds=[0, 1, 2],
                out_dir=str(tmp_path / "out"))
    for override, name, word in cases:
        with pytest.raises(AtomintError) as ei:
            check_params(**{**base, **override})
        msg = str(ei.value)
        assert "\n" not in msg and msg.startswith(f"bad parameter {name}=") and word in msg, (override, msg)


def test_check_params_ok(tmp_path):
    qm9_dir = tmp_path / "data" / "qm9"
    qm9_dir.mkdir(parents=True)
    (qm9_dir / "qm9.npz").write_bytes(b"")
    for profile in PROFILES:
        p = check_params(profile=profile, data_dir=str(tmp_path / "data"), models_dir=str(tmp_path),
                         folds=[2, 0], out_dir="_build/results-test")
        assert p.profile == profile and p.folds == (2, 0)
        assert p.out_dir.is_absolute() and p.out_dir.parts[-2:] == ("_build", "results-test")
        assert p.data_dir == tmp_path / "data"


def test_the_goals_the_training_appendix_states_are_the_code_s():
    """One set of goals on every page: the sentence in the training appendix names CPU_GOALS' values."""
    from atomint_helpers.properties import CPU_GOALS, goal_text

    intro = _src(_load(ROOT / "notebooks" / "training.ipynb")["cells"][0])
    sentence = next(p for p in intro.split("\n\n") if "goals" in p)
    for (model, target), goal in CPU_GOALS.items():
        unit = "kcal/mol" if target == "energy" else "D"
        assert f"{goal_text(goal)} {unit}" in sentence or f"{goal_text(goal)} kcal/mol" in sentence, (model, target)


# ------------------------------------------------------------------------------------------ chapters on your molecules
FIG5 = ("methane", "benzene", "toluene", "pyrazine", "propane")


def _chapter(**kw):
    from atomint_helpers.notebook import check_chapter

    p = check_params(profile="quick", models_dir=str(ROOT / "models"), out_dir="_build/results-test")
    return check_chapter(p, **{"molecules": list(FIG5), "default": FIG5, "target": "energy", **kw})


@pytest.mark.parametrize("override, name, word", [
    (dict(probe_element="Xx"), "probe_element", "'C'"),
    (dict(probe_element=6), "probe_element", "'F'"),
    (dict(spacing=0), "spacing", "grid spacing in Å"),
    (dict(spacing=-0.1), "spacing", "grid spacing in Å"),
    (dict(spacing=50.0), "spacing", "grid spacing in Å"),
    (dict(fold=7), "fold", "(0, 1, 2)"),
    (dict(fold="0"), "fold", "None"),
    (dict(model="painn"), "model", "'schnet'"),
    (dict(molecules="Xq1"), "molecules", "SMILES"),
    (dict(molecules=[]), "molecules", "non-empty"),
    (dict(molecules="[Na+]"), "molecules", "'[Na+]'"),
], ids=["element", "element-number", "spacing-0", "spacing-negative", "spacing-absurd", "fold-range", "fold-type",
        "model", "molecule-unknown", "molecules-empty", "molecule-charged"])
def test_chapter_parameter_refused_in_one_line(override, name, word):
    """The probe and ESP chapters' own parameters: a value of the wrong kind is one line naming the parameter."""
    with pytest.raises(AtomintError) as ei:
        _chapter(**override)
    msg = str(ei.value)
    assert "\n" not in msg and msg.startswith(f"bad parameter {name}") and word in msg, msg


def test_chapter_parameters_decide_the_claims_on_the_paper_input_only(tmp_path):
    """The defaults are the paper's input (claims decided); other molecules, another probe or one model are
    not: the chapter draws its maps and its report gives no verdict rows for them."""
    from atomint_helpers.report import esp as esp_report, probe as probe_report

    default = _chapter()
    assert default.paper and list(default.molecules) == list(FIG5) and list(default.models) == ["SchNet", "BP"]
    assert default.probe == "C" and default.fold is None and default.spacing is None
    (tmp_path / "mol.xyz").write_text("3\nwater\nO 0 0 0.12\nH 0 0.77 -0.48\nH 0 -0.77 -0.48\n")
    own = _chapter(molecules=f"CCO, benzene, {tmp_path / 'mol.xyz'}", probe_element="o", model="schnet", fold=1,
                   spacing=0.1)
    assert not own.paper and list(own.molecules) == ["CCO", "benzene", "mol"] and own.models == {"SchNet": "schnet"}
    assert own.probe == "O" and own.fold == 1 and own.spacing == 0.1
    assert own.molecules["mol"].get_chemical_formula() == "H2O"
    assert not _chapter(molecules=FIG5[:4]).paper and not _chapter(probe_element="N").paper
    assert not _chapter(model="bp").paper
    assert probe_report.rows({"SchNet": {"symmetry": {"CCO": (0.0, 1)}}}, None, quick=True) == []
    assert esp_report.rows({"CCO": {}}, {}, {}, None, {}, quick=True) == []


def test_unknown_parameter_name_refused_in_one_line(tmp_path, capsys):
    """A parameter the chapter does not declare (papermill only warns): refused by the check and by the book
    builder, before any notebook runs."""
    from atomint_helpers.book import main
    from atomint_helpers.notebook import check_names

    probe = ROOT / "notebooks" / "probe.ipynb"
    check_names(probe, ["molecules", "probe_element", "model", "fold", "spacing", "profile"])
    with pytest.raises(AtomintError) as ei:
        check_names(probe, ["probe_elemnt"])
    msg = str(ei.value)
    assert "\n" not in msg and "'probe_elemnt'" in msg and "probe_element" in msg, msg
    build = tmp_path / "_build"
    assert main(["build", "--profile", "quick", "--only", "probe", "--build-dir", str(build),
                 "-p", "probe_elemnt", "O"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown parameter 'probe_elemnt' for probe.ipynb" in err, err
    assert main(["build", "--profile", "quick", "--only", "data", "--build-dir", str(build),
                 "-p", "probe_element", "O"]) == 2  # the data chapter takes no probe
    assert "for data.ipynb" in capsys.readouterr().err
    assert not (build / "notebooks").exists()


def test_unknown_parameter_name_papermill(tmp_path):
    """papermill's own CLI with a name the chapter does not declare: the chapter stops in its first cell with
    one line (papermill alone would warn and run the defaults)."""
    err, log = _papermill_error(tmp_path, "-p", "probe_element", "O")
    assert err["ename"] == "AtomintError"
    msg = err["evalue"]
    assert "\n" not in msg and msg.startswith("unknown parameter 'probe_element'") and "out_dir" in msg, msg
