"""The book's table of contents: the chapters listed in ``_toc.yml``, in order; choosing some of them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import AtomintError

#: where a build goes by default (jupyter-book needs the folder to be named _build)
DEFAULT_BUILD = "_build"


@dataclass(frozen=True)
class Entry:
    """One ``file:`` of ``_toc.yml``: its toc name and the source file in the repository."""

    name: str          # as written in the toc, e.g. "notebooks/data"
    path: Path         # absolute source path, e.g. <root>/notebooks/data.ipynb

    @property
    def is_notebook(self) -> bool:
        return self.path.suffix == ".ipynb"

    @property
    def stem(self) -> str:
        return self.path.stem

    def rel(self, root: Path) -> Path:
        return self.path.relative_to(root)


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                out.append(node[key])
        for key in ("parts", "chapters", "sections", "subtrees", "entries"):
            for child in node.get(key) or []:
                out.extend(_toc_files(child))
    elif isinstance(node, list):
        for child in node:
            out.extend(_toc_files(child))
    return out


def read_toc(root: Path) -> list[Entry]:
    """The toc's files in reading order, each resolved to an existing ``.ipynb`` or ``.md``."""
    import yaml

    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise AtomintError(f"no _toc.yml in {root}: run this from the atomint repository")
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    entries = []
    for name in _toc_files(toc):
        base = root / name
        cands = [base] if base.suffix in (".ipynb", ".md") else [base.with_suffix(".ipynb"), base.with_suffix(".md")]
        found = [c for c in cands if c.is_file()]
        if not found:
            raise AtomintError(f"_toc.yml lists {name!r} but none of {[str(c.relative_to(root)) for c in cands]} "
                               f"exists")
        entries.append(Entry(name, found[0]))
    return entries


def select(notebooks: list[Entry], only: list[str] | None, root: Path) -> list[Entry]:
    if not only:
        return notebooks
    chosen = []
    for want in only:
        w = want.strip().rstrip("/")
        hits = [e for e in notebooks
                if w in (e.stem, e.path.name, e.name, str(e.rel(root))) or Path(w).resolve() == e.path]
        if not hits:
            raise AtomintError(f"--only {want!r}: no such notebook in _toc.yml; accepted values: "
                               + ", ".join(e.stem for e in notebooks))
        chosen += [h for h in hits if h not in chosen]
    return chosen


