"""Executing the chapters with papermill: the kernel, one notebook, all of them with their results staged until
a run succeeds, and freezing the committed notebooks (the quick profile's outputs)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path

from .toc import Entry

#: the kernel's own log only says things like "running over TCP without encryption": keep errors only
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
_KERNEL_MANAGER = []


def kernel_manager_class():
    """jupyter_client's ``AsyncKernelManager`` without the interrupt before shutdown.

    ``shutdown_kernel`` (jupyter_client ≥ 7) first interrupts the kernel with SIGINT, then asks it to shut
    down. ipykernel handles each message with Python's default SIGINT handler installed, so a signal that
    lands while the kernel is still finishing a message (likely on a loaded machine) becomes a
    KeyboardInterrupt that ipykernel logs at ERROR level — above the ``log_level=ERROR`` of
    :data:`KERNEL_ARGS` — as ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel`` at the end of a
    notebook. Papermill shuts a kernel down only after its last cell has replied, so there is nothing to
    interrupt: this manager sends the shutdown request alone (a kernel that does not answer it is still
    killed after the usual wait)."""
    if not _KERNEL_MANAGER:
        from jupyter_client.manager import AsyncKernelManager

        class QuietShutdownKernelManager(AsyncKernelManager):
            async def _async_interrupt_kernel(self) -> None:
                if self.shutting_down:
                    return
                await super()._async_interrupt_kernel()

            async def _async_launch_kernel(self, kernel_cmd, **kw) -> None:
                # the kernel's own stderr (its log; a cell's errors are in the notebook) goes to KERNEL_LOG, so
                # a Ctrl-C, which tears the kernel down mid-message, ends in the command's one line
                if "stderr" in kw:
                    return await super()._async_launch_kernel(kernel_cmd, **kw)
                with open(kernel_log(), "ab") as log:
                    return await super()._async_launch_kernel(kernel_cmd, stderr=log, **kw)

        _KERNEL_MANAGER.append(QuietShutdownKernelManager)
    return _KERNEL_MANAGER[0]


def kernel_log() -> Path:
    """Where the kernels' own stderr goes: ``atomint-kernel-<uid>.log`` in the temporary folder (outside the
    build folder, whose files are the book's)."""
    import tempfile

    return Path(tempfile.gettempdir()) / f"atomint-kernel-{os.getuid() if hasattr(os, 'getuid') else 0}.log"


def _quiet_teardown() -> None:
    """After Ctrl-C, the kernel client's unfinished asyncio tasks fail as the kernel goes away (DeadKernelError,
    a closed ZMQ socket) and asyncio logs each with its traceback; the interrupt is reported in one line by
    the command, so those logs are silenced."""
    import logging

    for name in ("asyncio", "nbclient", "papermill", "traitlets", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def declared_parameters(path: Path) -> set[str]:
    import papermill as pm

    return set(pm.inspect_notebook(str(path)).keys())


def execute(entry: Entry, out: Path, params: dict, root: Path) -> tuple[bool, float, str]:
    """Run one notebook with papermill; (ok, seconds, error summary)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    declared = declared_parameters(entry.path)
    passed = {k: v for k, v in params.items() if k in declared}
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(entry.path), str(out), parameters=passed, cwd=str(root), kernel_name="python3",
                            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                            extra_arguments=KERNEL_ARGS, kernel_manager_class=kernel_manager_class())
    except KeyboardInterrupt:
        _quiet_teardown()
        raise
    except PapermillExecutionError as e:
        return False, time.perf_counter() - t0, f"{e.ename}: {' '.join(str(e.evalue).split())}"
    except Exception as e:  # kernel died, bad notebook JSON, ...
        return False, time.perf_counter() - t0, (f"{type(e).__name__}: {' '.join(str(e).split())} (the kernel's "
                                                  f"log: {kernel_log()})")
    return True, time.perf_counter() - t0, ""


STAGING = ".staging"
MANIFEST = ".manifest"


def staged_out_dirs(results: Path, notebooks: list[Entry]) -> dict[Path, Path]:
    """Each notebook's own ``out_dir`` during its run (``results/.staging/<stem>``) -> ``results``."""
    return {results / STAGING / e.stem: results for e in notebooks}


def _atomic_text(path: Path, text: str) -> None:
    from ..io import atomic_write_text

    atomic_write_text(path, text)


def promote_results(staging: Path, results: Path, stem: str) -> list[str]:
    """After a successful run: move what the notebook wrote into ``staging`` to ``results`` (file by file,
    each an atomic rename) and remove the files its previous run wrote that this one did not (listed in
    ``results/.manifest/<stem>.json``; before any manifest, its scorecard ``<stem>.json``). Returns the
    files written, relative to ``results``."""
    new = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    manifest = results / MANIFEST / f"{stem}.json"
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = [f"{stem}.json"]
    for rel in new:
        (results / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, results / rel)
    for rel in sorted(set(old) - set(new)):
        (results / rel).unlink(missing_ok=True)
    _atomic_text(manifest, json.dumps(new, indent=1) + "\n")
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()  # results/.staging, once no notebook runs
    return new


def execute_all(chosen: list[Entry], build: Path, results: Path, params: dict, root: Path) -> list[tuple]:
    """Run the chosen notebooks, each into scratch places: its executed copy into ``notebooks/.running/`` and
    its results (``out_dir``) into ``results/.staging/<stem>/``. Only a run that succeeds replaces the last
    good executed notebook, scorecard rows and interactive files (:func:`promote_results`); a failed run
    leaves them as they were and keeps its executed cells in ``notebooks/failed/``. Returns the failures."""
    failed = []
    for i, e in enumerate(chosen, 1):
        out = build / "notebooks" / e.path.name
        running = build / "notebooks" / ".running" / e.path.name
        staging = results / STAGING / e.stem
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        print(f"[{i}/{len(chosen)}] {e.rel(root)} ... ", end="", flush=True)
        ok, secs, err = execute(e, running, {**params, "out_dir": str(staging)}, root)
        if ok:
            promote_results(staging, results, e.stem)
            os.replace(running, out)
            print(f"ok in {secs:.1f} s", flush=True)
        else:
            failed_copy = build / "notebooks" / "failed" / e.path.name
            failed_copy.parent.mkdir(parents=True, exist_ok=True)
            if running.exists():
                os.replace(running, failed_copy)
            kept = " (the last good results are kept)" if out.exists() else ""
            print(f"FAILED after {secs:.1f} s{kept}\n      {err}\n      executed cells: {failed_copy}", flush=True)
            failed.append((e, err))
    return failed


def executed_profile(path: Path) -> str | None:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    params = (nb.get("metadata", {}).get("papermill") or {}).get("parameters") or {}
    return params.get("profile")


VOLATILE_NB = ("start_time", "end_time", "duration", "input_path", "output_path", "environment_variables",
               "exception")


#: a committed figure whose PNG is larger than this (bytes) is stored with an adaptive 256-colour palette
COMPACT_PNG_BYTES = 200_000


def compact_png(data: str) -> str:
    """A frozen figure (base64 PNG) re-encoded with an adaptive 256-colour palette when its PNG is larger than
    :data:`COMPACT_PNG_BYTES`; its size in pixels and its dpi are kept, so it is shown as sharp as before.
    Only the committed notebooks are compacted (a shaded 3D surface at 200 dpi takes ~1 MB otherwise);
    ``make book`` executes the chapters afresh and shows the full-colour figures."""
    import base64
    import io

    from PIL import Image

    raw = base64.b64decode(data)
    if len(raw) <= COMPACT_PNG_BYTES:
        return data
    im = Image.open(io.BytesIO(raw))
    opaque = im.mode != "RGBA" or im.getchannel("A").getextrema()[0] == 255
    pal = im.convert("RGB").quantize(256) if opaque else im.quantize(256, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    pal.save(buf, "PNG", optimize=True, **({"dpi": im.info["dpi"]} if "dpi" in im.info else {}))
    out = buf.getvalue()
    return base64.b64encode(out).decode("ascii") if len(out) < len(raw) else data


def freeze_notebook(path: Path, root: Path) -> float:
    """Run ``path`` with the quick profile and write it back with outputs, minus volatile metadata, its large
    figures compacted (:func:`compact_png`)."""
    import tempfile

    import nbformat
    import papermill as pm

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        t0 = time.perf_counter()
        pm.execute_notebook(str(path), str(out), parameters={"profile": "quick"}, cwd=str(root),
                            kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
                            extra_arguments=KERNEL_ARGS, kernel_manager_class=kernel_manager_class())
        secs = time.perf_counter() - t0
        nb = nbformat.read(str(out), as_version=4)
    pmeta = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {k: v for k, v in pmeta.items() if k not in VOLATILE_NB}
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "papermill-injected-parameters"  # stable id: re-freezing gives no spurious diff
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for o in cell.get("outputs", []):
            o.get("metadata", {}).pop("execution", None)
            if "image/png" in o.get("data", {}):
                o["data"]["image/png"] = compact_png(o["data"]["image/png"])
    nbformat.write(nb, str(path))
    return secs
