"""The notebook kernel a chapter runs in, prepared for the book's pages (called by
:func:`atomint_helpers.notebook.check_params`): how warnings, figures and tables print, and which names
papermill injected."""
from __future__ import annotations


def format_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as a reader of the book should see it: the message, without the source file and line
    that Python prints by default (a path of the machine that built the book). atomint's own warnings
    start with ``atomint:`` and need no category in front."""
    text = str(message)
    return f"{text}\n" if text.startswith("atomint:") else f"{category.__name__}: {text}\n"


def in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def whole_cells() -> None:
    """Tables show every cell's whole text (pandas cuts cells at 50 characters with "..." by default: a
    rule or a cause cut there reads as something else); the page wraps long cells instead."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)


def sharp_figures() -> None:
    """Inline figures as PNG at twice ``figure.dpi`` (200 dpi), shown at their size in inches: the figure
    standard's >= 150 dpi, with text at its point size on the page (``plots.style``)."""
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # no inline backend (a plain IPython shell): nothing to set
        return
    set_matplotlib_formats("retina")


def assigned_names(source: str) -> list[str] | None:
    """Names a cell of plain assignments sets, in order; None when it holds anything else."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = []
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            return None
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
            if not isinstance(t, ast.Name):
                return None
            names.append(t.id)
    return names


def injected_unknown() -> tuple[list[str], list[str]]:
    """``(unknown, declared)``: the names papermill injected (its ``# Parameters`` cell, run just before the
    current one) that the notebook's parameters cell (run just before that) does not declare, and the names
    it declares; papermill itself only warns about unknown names and runs the chapter with its defaults.
    Nothing is found when the cells ran in another order (by hand in Jupyter)."""
    from IPython import get_ipython

    history = get_ipython().user_ns.get("In") or []  # the cells' sources in the order they ran
    if len(history) < 4 or not str(history[-2]).lstrip().startswith("# Parameters"):
        return [], []
    injected, declared = assigned_names(str(history[-2])), assigned_names(str(history[-3]))
    if not injected or not declared:
        return [], declared or []
    return [n for n in injected if n not in declared], declared


def prepare() -> None:
    """A kernel made ready for the book's pages: warnings print without their source file and line
    (:func:`format_warning`), figures render at 200 dpi (:func:`sharp_figures`), table cells are never cut
    (:func:`whole_cells`)."""
    import warnings

    warnings.formatwarning = format_warning
    sharp_figures()
    whole_cells()
