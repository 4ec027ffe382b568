"""Nothing lost, nothing silent, on the book side: a failed re-run keeps the last good results; a bad
parameter is one line, before any notebook runs (book) or as the whole error (papermill); a kernel is shut
down without the interrupt that made it log "KeyboardInterrupt caught in kernel"."""
import json
from pathlib import Path

import nbformat
import pytest

from atomint_helpers import book

ROOT = Path(__file__).resolve().parents[1]

#: a chapter whose run fails while a file FAIL exists in the project root, and which writes extra.html
#: only while EXTRA exists (a file a later run stops writing)
FLAKY = """\
import json, pathlib
out = pathlib.Path(out_dir)
(out / "interactive").mkdir(parents=True, exist_ok=True)
run = len(list(pathlib.Path("runs").glob("*"))); pathlib.Path("runs", str(run)).mkdir(parents=True)
if pathlib.Path("FAIL").exists():
    (out / "flaky.json").write_text("half")
    raise RuntimeError("the re-run fails")
(out / "flaky.json").write_text(json.dumps({"chapter": "flaky", "rows": [], "run": run}))
(out / "interactive" / "flaky.html").write_text(f"run {run}")
if pathlib.Path("EXTRA").exists():
    (out / "interactive" / "extra.html").write_text(f"run {run}")
print("wrote", out / "flaky.json")
"""


def _notebook(path: Path, *cells: str) -> book.Entry:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "cpu"\ndata_dir = None\nmodels_dir = "models"\nout_dir = "x"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return book.Entry(path.stem, path)


def test_a_failed_rerun_keeps_the_last_good_results_and_no_kernel_is_interrupted(tmp_path, monkeypatch):
    from jupyter_client.manager import AsyncKernelManager

    signals = []
    real = AsyncKernelManager._async_signal_kernel

    async def record(self, signum):
        signals.append(signum)
        await real(self, signum)

    monkeypatch.setattr(AsyncKernelManager, "_async_signal_kernel", record)
    entry = _notebook(tmp_path / "flaky.ipynb", FLAKY)
    build = tmp_path / "_build"
    results = build / "results" / "quick"
    params = {"profile": "quick", "out_dir": str(results)}

    def files():
        return {str(p.relative_to(build)): p.read_bytes() for p in sorted(build.rglob("*"))
                if p.is_file() and not {".staging", "failed", ".running"} & set(p.parts)}

    (tmp_path / "EXTRA").touch()
    assert book.execute_all([entry], build, results, params, tmp_path) == []
    good = files()
    assert json.loads(good["results/quick/flaky.json"])["run"] == 0
    assert {"notebooks/flaky.ipynb", "results/quick/interactive/flaky.html",
            "results/quick/interactive/extra.html"} <= set(good)
    assert not signals  # the kernel was shut down by request alone: no SIGINT to log

    (tmp_path / "FAIL").touch()
    failed = book.execute_all([entry], build, results, params, tmp_path)
    assert [e for e, _ in failed] == [entry] and "RuntimeError: the re-run fails" in failed[0][1]
    assert files() == good  # results, interactive files and the executed notebook: as the last good run left them
    assert (build / "notebooks" / "failed" / "flaky.ipynb").is_file()
    from atomint_helpers.report import scorecard
    assert [c["chapter"] for c in scorecard.collect(results)] == ["flaky"]  # --skip-execute still finds them

    (tmp_path / "FAIL").unlink()
    (tmp_path / "EXTRA").unlink()
    assert book.execute_all([entry], build, results, params, tmp_path) == []
    now = files()
    assert json.loads(now["results/quick/flaky.json"])["run"] == 2
    assert "results/quick/interactive/extra.html" not in now  # the chapter's own stale file is gone
    # the scratch out_dir a notebook ran with reads as the results folder on the page
    reps = book.path_replacements(tmp_path, None, build, staged=book.staged_out_dirs(results, [entry]))
    nb = book.prepare_for_render(json.loads(now["notebooks/flaky.ipynb"]), reps)
    printed = "".join(o.get("text", "") for c in nb["cells"] for o in c.get("outputs", []))
    assert "wrote _build/results/quick/flaky.json" in printed, printed


def test_a_bad_parameter_is_the_whole_error_under_papermill(tmp_path):
    entry = _notebook(tmp_path / "params.ipynb",
                      "from atomint_helpers.notebook import check_params\n"
                      "p = check_params(profile=profile, data_dir=data_dir, models_dir=models_dir, out_dir=out_dir)")
    out = tmp_path / "out.ipynb"
    ok, _, err = book.execute(entry, out, {"profile": "fast", "out_dir": str(tmp_path)}, ROOT)
    assert not ok and err.startswith("AtomintError: bad parameter profile='fast': accepted values are 'quick'"), err
    (error,) = [o for c in nbformat.read(str(out), 4).cells for o in c.get("outputs", [])
                if o["output_type"] == "error"]
    assert error["traceback"] == [f"AtomintError: {error['evalue']}"]  # one line, no frames of atomint_helpers


def test_the_book_checks_its_parameters_before_running_any_notebook(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ATOMINT_DATA", str(tmp_path / "no-data"))
    monkeypatch.setattr(book.run, "execute", lambda *a, **k: pytest.fail("a notebook ran"))
    assert book.main(["build", "--profile", "quick", "--build-dir", str(tmp_path / "_build")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("atomint book: bad parameter data_dir=") and "does not exist" in err and "\n" not in err


def test_frozen_figures_are_compacted_without_losing_size_or_dpi():
    """A large figure of a committed notebook is stored with a 256-colour palette: same pixels, same dpi,
    smaller file, colours within a few levels of the original; a small one is left as it is."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    from atomint_helpers.book.run import COMPACT_PNG_BYTES, compact_png

    def png(a: np.ndarray) -> str:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "PNG", dpi=(200, 200))
        return base64.b64encode(buf.getvalue()).decode()

    y, x = np.mgrid[0:700, 0:900]
    shade = np.random.default_rng(0).integers(0, 3, (700, 900))  # antialiased shading: hard to compress
    rgb = np.stack([(x * 255 // 900 + shade) % 256, (y * 255 // 700), (x + y) * 255 // 1600], -1).astype(np.uint8)
    big = png(rgb)
    assert len(base64.b64decode(big)) > COMPACT_PNG_BYTES
    out = compact_png(big)
    im = Image.open(io.BytesIO(base64.b64decode(out)))
    assert len(out) < len(big) and im.size == (900, 700) and round(im.info["dpi"][0]) == 200
    assert np.abs(np.asarray(im.convert("RGB"), dtype=int) - rgb.astype(int)).mean() < 8
    small = png(np.full((50, 60, 3), 200, np.uint8))
    assert compact_png(small) == small
