"""Bad inputs through the ``atomint`` command, many at once: none may end in a traceback, and none may end in
exit status 0 with a non-finite number or an unflagged result for a structure the models cannot judge.

    python bench/sweep_inputs.py [--subprocess] [--models-dir models] [-k WORD]

Every case is a command line built on files written into a temporary folder. A case passes when either

* it exits with one of the error statuses (2 usage, 3 bad input, 4 missing data or model, 130 Ctrl-C;
  ``atomint_helpers.EXIT_*``) and stderr is one line ``atomint: error: …`` without "Traceback", or
* it exits with 0, prints no ``nan``/``inf``, and — for a structure outside what the models can judge, run
  with ``--allow-outside`` — at least one molecule's header carries the mark ``[outside QM9``, and every
  prediction line under a marked header does too.

By default the command runs in this process (``atomint_helpers.cli.main``, what ``python -m atomint_helpers.cli``
calls), so a case takes a fraction of a second; ``--subprocess`` runs each as its own process.
Exit status: 0 when every case passed, 1 otherwise (the failures are listed).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

from atomint_helpers import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_MISSING, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[1]
NONFINITE = re.compile(r"(?<![A-Za-z_])(nan|inf|-inf)(?![A-Za-z_])", re.IGNORECASE)

METHANE = [("C", 0, 0, 0), ("H", 0.63, 0.63, 0.63), ("H", -0.63, -0.63, 0.63), ("H", -0.63, 0.63, -0.63),
           ("H", 0.63, -0.63, -0.63)]
BENZENE_C = [(1.395 * c, 1.395 * s) for c, s in ((1, 0), (0.5, 0.866), (-0.5, 0.866), (-1, 0), (-0.5, -0.866),
                                                  (0.5, -0.866))]
BENZENE = [("C", x, y, 0.0) for x, y in BENZENE_C] + [("H", 1.78 * x, 1.78 * y, 0.0) for x, y in BENZENE_C]


def xyz(atoms, scale: float = 1.0, comment: str = "sweep") -> str:
    return f"{len(atoms)}\n{comment}\n" + "".join(f"{s} {x * scale} {y * scale} {z * scale}\n" for s, x, y, z in atoms)


def sdf_record(name: str, atoms, charge_line: str = "", dim: str = "3D", star: bool = True) -> str:
    """One mol block; ``star``: single bonds from the first atom to every other (methane, ammonium)."""
    lines = [name, f"     sweep          {dim}", ""]
    bonds = [(1, k) for k in range(2, len(atoms) + 1)] if star else []
    lines.append(f"{len(atoms):3d}{len(bonds):3d}  0  0  0  0  0  0  0  0999 V2000")
    for s, x, y, z in atoms:
        lines.append(f"{x:10.4f}{y:10.4f}{z:10.4f} {s:<3} 0  0  0  0  0  0  0  0  0  0  0  0")
    lines += [f"{a:3d}{b:3d}  1  0" for a, b in bonds]
    return "\n".join(lines) + "\n" + charge_line + "M  END\n$$$$\n"


@dataclass
class Case:
    name: str
    files: dict  # file name -> text or bytes
    argv: list  # command line; "{d}" is the case folder, "{m}" the models folder
    outside: bool = False  # a structure the models cannot judge: exit 0 only flagged


def cases() -> list[Case]:
    m = ["--model", "{m}/schnet-energy-quick-fold0", "--model", "{m}/schnet-dipole-quick-fold0"]
    ex = ["explain"]
    out = []

    def add(name, files, argv, outside=False):
        out.append(Case(name, files, argv, outside))
        if outside:  # the same input, allowed: must be flagged
            out.append(Case(name + " --allow-outside", files, argv + ["--allow-outside"], outside))

    add("lone C atom", {"c.xyz": xyz([("C", 0, 0, 0)])}, ex + ["{d}/c.xyz"] + m, True)
    add("H at 1e30 Å", {"h.xyz": xyz([("H", 0, 0, 0), ("H", 1e30, 0, 0)])}, ex + ["{d}/h.xyz"] + m, True)
    add("benzene in pm", {"b.xyz": xyz(BENZENE, 100.0)}, ex + ["{d}/b.xyz"] + m, True)
    add("benzene in bohr", {"b.xyz": xyz(BENZENE, 1.8897261)}, ex + ["{d}/b.xyz"] + m, True)
    add("benzene", {"b.xyz": xyz(BENZENE)}, ex + ["{d}/b.xyz"] + m)
    add("CH radical", {"ch.xyz": xyz([("C", 0, 0, 0), ("H", 1.12, 0, 0)])}, ex + ["{d}/ch.xyz"] + m, True)
    add("OH radical", {"oh.xyz": xyz([("O", 0, 0, 0), ("H", 0.97, 0, 0)])}, ex + ["{d}/oh.xyz"] + m, True)
    add("CH3 radical", {"ch3.xyz": xyz(METHANE[:4])}, ex + ["{d}/ch3.xyz"] + m, True)
    add("SMILES [CH3]", {}, ex + ["--smiles", "[CH3]"] + m, True)
    add("SMILES [NH4+]", {}, ex + ["--smiles", "[NH4+]"] + m, True)
    add("SMILES C.C", {}, ex + ["--smiles", "C.C"] + m)
    add("SMILES garbage", {}, ex + ["--smiles", "C1CC(=O"] + m)
    add("SDF M CHG +1", {"q.sdf": sdf_record("ammonium", [("N",) + a[1:] for a in METHANE[:1]] + METHANE[1:],
                                             "M  CHG  1   1   1\n")}, ex + ["{d}/q.sdf"] + m, True)
    add("SDF two records", {"two.sdf": sdf_record("methane", METHANE) + sdf_record("methane2", METHANE)},
        ex + ["{d}/two.sdf"] + m)
    add("SDF 2D", {"flat.sdf": sdf_record("flat", [(s, x, y, 0.0) for s, x, y, _ in METHANE], dim="2D")},
        ex + ["{d}/flat.sdf"] + m)
    add("mol implicit H", {"c.mol": sdf_record("c", [("C", 0, 0, 0), ("O", 1.2, 0, 0.3)], star=False)
                           .replace("$$$$\n", "")},
        ex + ["{d}/c.mol"] + m)
    cell = 'Lattice="1.5 0 0 0 1.5 0 0 0 1.5" Properties=species:S:1:pos:R:3 pbc="T T T"'
    add("CH4 in a 1.5 Å cell (.extxyz)", {"c.extxyz": xyz(METHANE, comment=cell)}, ex + ["{d}/c.extxyz"] + m, True)
    add("lattice in .xyz", {"c.xyz": xyz(METHANE, comment=cell)}, ex + ["{d}/c.xyz"] + m)
    add("NaN in .xyz", {"n.xyz": xyz(METHANE).replace("0.63 0.63 0.63", "nan 0.63 0.63")}, ex + ["{d}/n.xyz"] + m)
    add("NaN in .extxyz", {"n.extxyz": xyz(METHANE, comment="Properties=species:S:1:pos:R:3")
                           .replace("0.63 0.63 0.63", "nan 0.63 0.63")}, ex + ["{d}/n.extxyz"] + m, True)
    add("inf in .xyz", {"i.xyz": xyz(METHANE).replace("0.63 0.63 0.63", "inf 0.63 0.63")}, ex + ["{d}/i.xyz"] + m)
    add("coincident atoms", {"z.xyz": xyz([("C", 0, 0, 0), ("C", 0, 0, 0)] + METHANE[1:])},
        ex + ["{d}/z.xyz"] + m, True)
    add("C–H at 0.5 Å", {"s.xyz": xyz([("C", 0, 0, 0), ("H", 0.29, 0.29, 0.29)] + METHANE[2:])},
        ex + ["{d}/s.xyz"] + m, True)
    add("two far methanes", {"f.xyz": xyz(METHANE + [(s, x + 8, y, z) for s, x, y, z in METHANE])},
        ex + ["{d}/f.xyz"] + m, True)
    add("Si", {"si.xyz": xyz([("Si", 0, 0, 0)] + [(s, 1.5 * x, 1.5 * y, 1.5 * z) for s, x, y, z in METHANE[1:]])},
        ex + ["{d}/si.xyz"] + m, True)
    add("unknown element", {"x.xyz": xyz([("Xx", 0, 0, 0)])}, ex + ["{d}/x.xyz"] + m)
    add("empty file", {"e.xyz": ""}, ex + ["{d}/e.xyz"] + m)
    add("binary file", {"b.xyz": bytes(range(256)) * 4}, ex + ["{d}/b.xyz"] + m)
    add("binary .sdf", {"b.sdf": bytes(range(256)) * 4}, ex + ["{d}/b.sdf"] + m)
    add("negative atom count", {"n.xyz": "-3\nx\nC 0 0 0\n"}, ex + ["{d}/n.xyz"] + m)
    add("truncated xyz", {"t.xyz": "5\nx\nC 0 0 0\n"}, ex + ["{d}/t.xyz"] + m)
    add("missing file", {}, ex + ["{d}/nothing.xyz"] + m)
    add("folder as file", {"sub/a.txt": "x"}, ex + ["{d}/sub"] + m)
    big = "".join(f"C {i % 100 * 1.5} {i // 100 % 100 * 1.5} {i // 10000 * 1.5}\n" for i in range(20_000))
    add("20k atoms", {"big.xyz": f"20000\nbig\n{big}"}, ex + ["{d}/big.xyz"] + m, True)
    add("--png into a file", {"m.xyz": xyz(METHANE), "file": "x"}, ex + ["{d}/m.xyz", "--png", "{d}/file/m.png"] + m)
    add("--csv into a missing folder", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--csv", "{d}/no/m.csv"] + m)
    add("--spacing 1e-300", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--esp", "--spacing", "1e-300"] + m)
    add("--probe Qq", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--probe", "Qq", "--cube", "{d}/cube"] + m)
    add("no such model", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--model", "{d}/nomodel"])
    add("train --fold huge", {}, ["train", "--model", "bp", "--target", "energy", "--fold", "99999999999999999999",
                                  "--models-dir", "{d}/models"])
    add("train --name .", {}, ["train", "--model", "bp", "--target", "energy", "--name", ".", "--models-dir",
                               "{d}/models"])
    add("train --name ../x", {}, ["train", "--model", "bp", "--target", "energy", "--name", "../x", "--models-dir",
                                  "{d}/models"])
    add("train quick --data-dir missing", {}, ["train", "--model", "bp", "--target", "energy", "--data-dir",
                                               "{d}/nodata", "--models-dir", "{d}/models"])
    # more structures: molecules that QM9 could hold must pass, everything else refused or marked
    add("H2 (0.74 Å)", {"h2.xyz": xyz([("H", 0, 0, 0), ("H", 0.74, 0, 0)])}, ex + ["{d}/h2.xyz"] + m, True)
    add("O2 (1.21 Å)", {"o2.xyz": xyz([("O", 0, 0, 0), ("O", 1.21, 0, 0)])}, ex + ["{d}/o2.xyz"] + m, True)
    add("methane", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz"] + m)
    add("methane + csv + png", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--csv", "{d}/m.csv", "--png",
                                                              "{d}/m.png"] + m)
    add("methane in nm", {"m.xyz": xyz(METHANE, 0.1)}, ex + ["{d}/m.xyz"] + m, True)
    add("methane 1e-6 scale", {"m.xyz": xyz(METHANE, 1e-6)}, ex + ["{d}/m.xyz"] + m, True)
    add("methane 1e300 scale", {"m.xyz": xyz(METHANE, 1e300)}, ex + ["{d}/m.xyz"] + m, True)
    add("methane, 3 frames", {"m.xyz": xyz(METHANE) * 3}, ex + ["{d}/m.xyz"] + m)
    add("methane then lone C", {"m.xyz": xyz(METHANE) + xyz([("C", 0, 0, 0)])}, ex + ["{d}/m.xyz"] + m, True)
    add("atomic numbers for symbols", {"m.xyz": xyz([(str({"C": 6, "H": 1}[a[0]]),) + a[1:] for a in METHANE])},
        ex + ["{d}/m.xyz"] + m)
    add("element 0", {"z.xyz": xyz([("0", 0, 0, 0)] + METHANE[1:])}, ex + ["{d}/z.xyz"] + m)
    add("element 200", {"z.xyz": xyz([("200", 0, 0, 0)] + METHANE[1:])}, ex + ["{d}/z.xyz"] + m)
    add("xyz with 3 columns", {"c.xyz": "1\nx\nC 0 0\n"}, ex + ["{d}/c.xyz"] + m)
    add("xyz with words", {"c.xyz": "1\nx\nC a b c\n"}, ex + ["{d}/c.xyz"] + m)
    add("pdb of methane", {"m.pdb": "".join(f"HETATM{i + 1:5d}  {s:<3} MOL A   1    {x:8.3f}{y:8.3f}{z:8.3f}  1.00"
                                            f"  0.00          {s:>2}\n" for i, (s, x, y, z) in enumerate(METHANE))
                           + "END\n"}, ex + ["{d}/m.pdb"] + m)
    add("unknown extension", {"m.qqq": xyz(METHANE)}, ex + ["{d}/m.qqq"] + m)
    add("SMILES CCO", {}, ex + ["--smiles", "CCO"] + m)
    add("SMILES [Na+].[Cl-]", {}, ex + ["--smiles", "[Na+].[Cl-]"] + m)
    add("SMILES [CH2] (carbene)", {}, ex + ["--smiles", "[CH2]"] + m, True)
    add("SMILES C[N+](=O)[O-]", {}, ex + ["--smiles", "C[N+](=O)[O-]"] + m)
    add("SMILES empty", {}, ex + ["--smiles", " "] + m)
    add("SMILES S", {}, ex + ["--smiles", "S"] + m, True)
    add("file and SMILES", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--smiles", "C"] + m)
    add("no input", {}, ex + m)
    add("--spacing nan", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--esp", "--spacing", "nan"] + m)
    add("--probe on a dipole model only", {"m.xyz": xyz(METHANE)},
        ex + ["{d}/m.xyz", "--probe", "C", "--cube", "{d}/cube", "--model", "{m}/schnet-dipole-quick-fold0"])
    add("--esp, lone C allowed", {"c.xyz": xyz([("C", 0, 0, 0)])},
        ex + ["{d}/c.xyz", "--esp", "--spacing", "0.5", "--cube", "{d}/cube"] + m, True)
    add("crystal model", {"m.xyz": xyz(METHANE)}, ex + ["{d}/m.xyz", "--model", "{m}/schnet-mp-quick-fold0"])
    add("evaluate a missing folder", {}, ["evaluate", "{d}/nothing"])
    add("evaluate a file", {"f": "x"}, ["evaluate", "{d}/f"])
    add("train --max-epochs 1e9", {}, ["train", "--model", "bp", "--target", "energy", "--max-epochs", "1e9",
                                       "--models-dir", "{d}/models"])
    add("train --max-minutes inf", {}, ["train", "--model", "bp", "--target", "energy", "--max-minutes", "inf",
                                        "--models-dir", "{d}/models"])
    add("train --models-dir is a file", {"f": "x"}, ["train", "--model", "bp", "--target", "energy",
                                                     "--models-dir", "{d}/f"])
    return out


def _write(folder: Path, files: dict) -> None:
    for name, data in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        (p.write_bytes if isinstance(data, bytes) else p.write_text)(data)


def run_case(case: Case, folder: Path, models: Path, in_process: bool) -> tuple[int, str, str]:
    argv = [a.replace("{d}", str(folder)).replace("{m}", str(models)) for a in case.argv]
    if not in_process:
        p = subprocess.run([sys.executable, "-m", "atomint_helpers.cli", *argv], capture_output=True, text=True,
                           cwd=folder)
        return p.returncode, p.stdout, p.stderr
    from atomint_helpers.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse
            rc = e.code if isinstance(e.code, int) else 2
        except BaseException:  # what would have been a traceback
            err.write(traceback.format_exc())
            rc = 1
    return rc, out.getvalue(), err.getvalue()


#: the exit statuses of an error that was handled: usage, bad input, missing data or model, Ctrl-C
ERROR_EXITS = (EXIT_USAGE, EXIT_INPUT, EXIT_MISSING, EXIT_INTERRUPTED)


def judge(case: Case, rc: int, out: str, err: str) -> str | None:
    """None when the case ended well, else what went wrong."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if "Traceback" in err or "Traceback" in out:
        return "traceback"
    if rc != 0:
        bad = [ln for ln in lines if not ln.startswith("atomint: warning: ")]
        if rc not in ERROR_EXITS or len(bad) != 1 or not bad[0].startswith("atomint: error: "):
            return f"exit {rc} without one error line: {err.strip()[:300]!r}"
        return None
    if NONFINITE.search(out):
        return f"exit 0 with a non-finite number: {NONFINITE.search(out).group(0)!r}"
    if case.outside:
        if "--allow-outside" not in case.argv:
            return "exit 0 for a structure the models cannot judge, without --allow-outside"
        blocks, marked = [], 0  # one block per molecule: its header, then its prediction lines
        for ln in out.splitlines():
            if not ln.startswith(" ") and " atoms" in ln and ":" in ln:
                blocks.append([ln])
            elif blocks and ("atomization energy" in ln or "dipole moment |μ|" in ln):
                blocks[-1].append(ln)
        for b in blocks:
            if "[outside QM9" in b[0]:
                marked += 1
                if len(b) < 2 or not all("[outside QM9" in ln for ln in b[1:]):
                    return "exit 0 with --allow-outside: a marked molecule has an unmarked prediction"
        if not marked:
            return "exit 0 with --allow-outside but a result without the mark [outside QM9"
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subprocess", action="store_true", help="run every case as its own process")
    ap.add_argument("--models-dir", default=str(ROOT / "models"))
    ap.add_argument("-v", "--verbose", action="store_true", help="print each case's last line of stderr")
    ap.add_argument("-k", default=None, help="only cases whose name contains this")
    args = ap.parse_args(argv)
    chosen = [c for c in cases() if args.k is None or args.k in c.name]
    failures = []
    with tempfile.TemporaryDirectory(prefix="atomint-sweep-") as tmp:
        for i, case in enumerate(chosen):
            folder = Path(tmp) / f"case{i}"
            folder.mkdir()
            _write(folder, case.files)
            rc, out, err = run_case(case, folder, Path(args.models_dir).resolve(), not args.subprocess)
            verdict = judge(case, rc, out, err)
            print(f"{'ok  ' if verdict is None else 'FAIL'} exit {rc:3d}  {case.name}"
                  + (f": {verdict}" if verdict else ""), flush=True)
            if args.verbose:
                print("      " + (err.strip().splitlines() or [""])[-1][:400], flush=True)
            if verdict:
                failures.append((case.name, verdict))
    print(f"{len(chosen) - len(failures)} of {len(chosen)} cases ended well"
          + (f"; failed: {', '.join(n for n, _ in failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
