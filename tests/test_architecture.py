"""The layering of ARCHITECTURE.md, read from the code's own imports (module level and inside functions),
so a later change cannot quietly make analysis train, drawing analyse, or the models depend on a checkpoint
store. Also: no module of the package, test or notebook points at files outside the repository."""
import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "atomint_helpers"

#: room -> rooms it must never import (a room is a top-level module or subpackage of atomint_helpers)
FORBIDDEN = {
    "properties": {"data", "descriptors", "models", "store", "training", "interpret", "report", "plots", "cli",
                   "calculator", "exports", "depict", "book", "notebook"},
    "io": {"data", "descriptors", "models", "store", "training", "interpret", "report", "plots", "cli",
           "calculator", "exports", "depict", "book", "notebook"},
    "data": {"descriptors", "models", "store", "training", "interpret", "report", "plots", "cli", "calculator",
             "exports", "depict", "book", "notebook"},
    "descriptors": {"models", "store", "training", "interpret", "report", "plots", "cli", "calculator", "exports"},
    "models": {"store", "training", "interpret", "report", "plots", "cli", "calculator", "exports", "book"},
    "store": {"training", "interpret", "report", "plots", "cli", "calculator", "exports", "book", "notebook"},
    "training": {"interpret", "report", "plots", "cli", "calculator", "exports", "book", "notebook"},
    "interpret": {"training", "report", "plots", "cli", "calculator", "exports", "book", "notebook", "depict"},
    "calculator": {"training", "interpret", "report", "plots", "cli", "exports", "book"},
    "plots": {"interpret", "training", "report", "store", "models", "cli", "calculator", "exports"},
    "depict": {"interpret", "training", "report", "store", "cli", "exports"},
    "report": {"training", "cli", "exports", "book"},
    "exports": {"training", "report", "cli", "book"},
}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    """Every atomint_helpers module ``path`` imports, resolved from relative imports."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = list(rel if path.name == "__init__.py" else rel[:-1])
    if package and package[-1] == "__init__":
        package = package[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                out |= {target} if node.module else {f"{target}.{a.name}" for a in node.names}
            elif node.module:
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m == "atomint_helpers" or m.startswith("atomint_helpers.")}


def test_resolver_reads_relative_imports(tmp_path):
    assert "atomint_helpers.store" in imports_of(PKG / "training" / "run.py")
    assert "atomint_helpers.data.batch" in imports_of(PKG / "interpret" / "atom_terms.py")


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_layers(path):
    mod = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    room = _room(mod)
    bad = sorted(m for m in imports_of(path) if _room(m) in FORBIDDEN.get(room, set()))
    assert not bad, f"{path.relative_to(ROOT)} ({room}) imports {bad}: against ARCHITECTURE.md's layers"


def private_imports_of(path: Path, root: Path = ROOT) -> list[str]:
    """``module: name`` for every ``from X import _name`` in ``path`` (a file under ``root``) where X is another
    atomint_helpers module; dunder names such as ``__version__`` are public."""
    rel = path.relative_to(root).with_suffix("").parts
    me = ".".join(rel[:-1] if path.name == "__init__.py" else rel)
    package = list(rel[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            target = ".".join(package[: len(package) - (node.level - 1)] + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if not target.startswith("atomint_helpers") or target == me:
            continue
        out += [f"{target}: {a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    return out


def test_private_import_rule_reads_relative_imports(tmp_path):
    mod = tmp_path / "atomint_helpers" / "plots" / "panel.py"
    mod.parent.mkdir(parents=True)
    mod.write_text("from .style import _hidden, figure\nfrom ..io import __doc__\nfrom .panel import _own\n"
                   "from atomint_helpers.data.batch import _pairs\n")
    assert private_imports_of(mod, tmp_path) == ["atomint_helpers.plots.style: _hidden",
                                                 "atomint_helpers.data.batch: _pairs"]
    init = mod.parent / "__init__.py"
    init.write_text("from .style import _figure\nfrom . import _own\n")
    assert private_imports_of(init, tmp_path) == ["atomint_helpers.plots.style: _figure"]


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_no_private_names_across_modules(path):
    """A name with a leading underscore belongs to its module: a helper other modules use is made public."""
    bad = private_imports_of(path)
    assert not bad, f"{path.relative_to(ROOT)} imports private names of other modules {bad}: make them public"


def unused_package_imports(path: Path) -> list[str]:
    """Names ``path`` imports from another atomint_helpers module and never uses: a re-export. A package's
    ``__init__`` may re-export (that is its job); a module imports what it uses. A name used only in a
    string (a quoted annotation, ``__all__``) counts as used."""
    tree = ast.parse(path.read_text())
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("atomint_helpers")):
            for a in node.names:
                imported[a.asname or a.name] = node.lineno
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    words = {w for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             for w in n.value.replace(".", " ").replace("[", " ").replace("]", " ").replace(",", " ").split()}
    return [f"{name} (line {line})" for name, line in imported.items() if name not in used | words]


def test_unused_import_rule_finds_a_re_export(tmp_path):
    mod = tmp_path / "panel.py"
    mod.write_text("from .style import figure, colour\nfrom ..io import writing\n\ndef f(x: 'writing'):\n"
                   "    return figure(x)\n")
    assert unused_package_imports(mod) == ["colour (line 1)"]


@pytest.mark.parametrize("path", [p for p in sorted(PKG.rglob("*.py")) if p.name != "__init__.py"],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_re_exports_what_it_imports(path):
    unused = unused_package_imports(path)
    assert not unused, (f"{path.relative_to(ROOT)} imports {unused} without using them: callers should import "
                        "from the module that defines them")


def test_only_the_entry_point_imports_the_cli():
    users = [p for p in PKG.rglob("*.py") if "cli" not in p.relative_to(PKG).parts
             and any(_room(m) == "cli" for m in imports_of(p))]
    assert not users, users


def test_nothing_points_outside_the_repository():
    hits = []
    files = [*PKG.rglob("*.py"), *(ROOT / "tests").glob("*.py"), *(ROOT / "notebooks").glob("*.ipynb"),
             *(ROOT / "book").glob("*.md"), ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
    for p in files:
        text = p.read_text()
        if p.suffix == ".ipynb":
            text = "".join("".join(c.get("source", "")) for c in json.loads(text)["cells"])
        if p == Path(__file__):
            continue
        if "../shared" in text or "/work/" in text:
            hits.append(str(p.relative_to(ROOT)))
    assert not hits, f"references to files outside the repository in {hits}"


def test_no_module_is_longer_than_the_limit():
    """One concept per module: none of the package's modules past ~400 lines (420 with some slack)."""
    long_ = {str(p.relative_to(PKG)) for p in PKG.rglob("*.py") if len(p.read_text().splitlines()) > 420}
    assert not long_, f"modules over 420 lines (split them into cohesive modules): {sorted(long_)}"
